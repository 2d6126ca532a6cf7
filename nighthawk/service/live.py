"""The live plan of one server process: the engine's fast path over the database's state.

The cache is valid for one *epoch* of the practice-state row. Every plan change bumps the
epoch under the plan lock, so a process that sees an epoch it did not write (another API
process changed the plan) rebuilds from the database before placing anything. It is also
caught up every `MAX_AGE_SECONDS` (an idle reader's "ready" time is fixed when the plan is
built, and the clock moves on) and rebuilt every few minutes to shed any drift.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from models.snapshot import Snapshot, SnapshotStudy
from nighthawk.clock import minutes_between
from nighthawk.eligibility import Eligibility
from nighthawk.fastpath import LivePlan, Placement
from nighthawk.problem import build_problem
from nighthawk.service.practice import PracticeView, load_view

MAX_AGE_SECONDS = 10.0  # idle readers' "free from" moves on at least this often
REBUILD_SECONDS = 300.0
RANK_STEP = 1.0


@dataclass
class Live:
    epoch: int
    built_at: float
    view: PracticeView
    plan: LivePlan
    ranks: dict[str, float]
    caught_up_at: float = 0.0

    @property
    def now(self) -> datetime:
        return self.view.now

    def rank_at(self, reader: str, study_id: str) -> float:
        """A rank between the study's neighbours in the reader's queue (fractional indexing)."""
        queue = self.plan.queue(reader)
        position = queue.index(study_id)
        before = self.ranks.get(queue[position - 1]) if position > 0 else None
        after = self.ranks.get(queue[position + 1]) if position + 1 < len(queue) else None
        if before is None and after is None:
            rank = 0.0
        elif before is None:
            rank = after - RANK_STEP  # type: ignore[operator]
        elif after is None:
            rank = before + RANK_STEP
        else:
            rank = (before + after) / 2.0
        self.ranks[study_id] = rank
        return rank


class LiveCache:
    """Holds at most one `Live`; callers hold the database plan lock while using it."""

    def __init__(self) -> None:
        self._live: Live | None = None
        self.lock = threading.RLock()

    def get(self, connection: Connection, epoch: int, now: datetime) -> Live:
        live = self._live
        if live is None or live.epoch != epoch:
            return self.rebuild(connection, epoch, now)
        age = time.monotonic() - live.built_at
        if age > REBUILD_SECONDS:
            return self.rebuild(connection, epoch, now)  # shed any drift now and then
        if time.monotonic() - live.caught_up_at > MAX_AGE_SECONDS:
            live.plan.catch_up(minutes_between(live.now, now))
            live.caught_up_at = time.monotonic()
        return live

    def rebuild(self, connection: Connection, epoch: int, now: datetime) -> Live:
        view = load_view(connection, now)
        plan = LivePlan(view.snapshot(), view.queues())
        ranks = {study_id: item.rank for study_id, item in view.studies.items()}
        built = time.monotonic()
        self._live = Live(epoch, built, view, plan, ranks, built)
        return self._live

    def advance(self, epoch: int) -> None:
        """This process wrote the new epoch; its cache already reflects the change."""
        if self._live is not None:
            self._live.epoch = epoch

    def invalidate(self) -> None:
        self._live = None


def place_study(live: Live, study: SnapshotStudy, *, prefer: str | None = None) -> Placement:
    """Fast-path placement; with `prefer` (a sibling study's reader) tried first if on time."""
    if prefer is not None and live.plan.has_reader(prefer):
        placement = live.plan.place(study, prefer)
        if placement is not None and placement.late_minutes <= 0.0:
            return placement
        if placement is not None:
            live.plan.remove(study.id)
    return live.plan.assign_one(study)


def why_nobody(view: PracticeView, study: SnapshotStudy) -> tuple[str, str]:
    """(code, sentence) for a study no reader on the board can take."""
    snapshot = Snapshot.model_construct(
        now=view.now,
        radiologists=view.on_board,
        studies=[study],
        facilities=list(view.facilities.values()),
        settings=view.snapshot(studies=[]).settings,
    )
    reason = Eligibility(build_problem(snapshot)).why_nobody(0)
    return reason.code, reason.text


def ineligibility(view: PracticeView, study: SnapshotStudy, reader: str) -> list[str]:
    """Why `reader` may not read `study` now ("" list: eligible); a reader off the board fails."""
    on_board = [r for r in view.on_board if r.id == reader]
    if not on_board:
        row = view.radiologists.get(reader)
        if row is not None and not row.available:
            return [f"{reader} is not available ({row.availability_reason or 'logged out'})"]
        return [f"{reader} is not on shift now or within the next 24 hours"]
    snapshot = Snapshot.model_construct(
        now=view.now,
        radiologists=on_board,
        studies=[study],
        facilities=list(view.facilities.values()),
        settings=view.snapshot(studies=[]).settings,
    )
    return [reason.text for reason in Eligibility(build_problem(snapshot)).reasons(0, 0)]
