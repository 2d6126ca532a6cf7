"""The live dispatcher of one server process, kept in step with the database.

The service is the dispatcher's persistence adapter: `build` reads the practice once into a
`nighthawk.live.Dispatcher` (readers with their kernel rights and current stretch, waiting,
held and in-hand studies, who handed what back), and every request then applies its change
as a delta to both the database row and the live dispatcher, under the plan lock. The
dispatcher's forecast is what the database's `assigned_to`, `queue_rank` and predictions say.

The cache is valid for one *epoch* of the practice-state row. Every plan change bumps the
epoch under the plan lock, so a process that sees an epoch it did not write (another API
process changed the plan) rebuilds from the database before deciding anything, and it is
rebuilt every few minutes anyway to shed any drift.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from models.plan import Explanation
from models.priority import Priority
from models.snapshot import Snapshot, SnapshotStudy
from models.tables import StudyStatus
from nighthawk.clock import at_minutes, minutes_between
from nighthawk.eligibility import Eligibility
from nighthawk.kernel import facility_zone_of, rights_from
from nighthawk.live import NOBODY, Dispatcher, StudyFacts
from nighthawk.live.forecast import Forecast, forecast
from nighthawk.live.repair import repair
from nighthawk.problem import build_problem
from nighthawk.service.db import bump_epoch
from nighthawk.service.practice import OpenStudy, PracticeView, load_view

REBUILD_SECONDS = 300.0
# The forecast is replayed in full this often and repaired in between (see live/repair.py):
# a full replay is the accurate prediction, a repair keeps worklists from churning.
FULL_FORECAST_SECONDS = 60.0
RANK_STEP = 1.0


@dataclass
class Live:
    """The dispatcher of one epoch, its axis (minutes after `origin`) and the last forecast."""

    epoch: int
    built_at: float
    origin: datetime
    view: PracticeView
    dispatcher: Dispatcher
    forecast: Forecast
    ranks: dict[str, float]
    # The first shift end ahead: then the reader's next stretch must be read from the roster.
    next_shift_end: float = math.inf
    replayed_at: float = field(default_factory=time.monotonic)

    @property
    def now(self) -> datetime:
        return self.view.now

    def minutes(self, at: datetime) -> float:
        return minutes_between(self.origin, at)

    def at(self, minutes: float) -> datetime:
        return at_minutes(self.origin, minutes)

    def refresh(self, now: datetime) -> Forecast:
        """Bring the forecast up to `now`: repaired where something changed or is at risk,
        replayed in full every few minutes (nothing is re-read from the database)."""
        if time.monotonic() - self.replayed_at > FULL_FORECAST_SECONDS:
            self.forecast = forecast(self.dispatcher, self.minutes(now))
            self.replayed_at = time.monotonic()
        return repair(self.forecast, self.minutes(now))

    def rank_at(self, reader: str, study_id: str) -> float:
        """A rank between the study's neighbours in the reader's forecast worklist (fractional
        indexing), so one insert does not renumber the queue in the database."""
        queue = [p.study for p in self.forecast.worklist(self.dispatcher.readers.index[reader])]
        position = queue.index(study_id)
        before = self.ranks.get(str(queue[position - 1])) if position > 0 else None
        after = self.ranks.get(str(queue[position + 1])) if position + 1 < len(queue) else None
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


def build(view: PracticeView, epoch: int) -> Live:
    """The dispatcher for the practice as the database holds it now."""
    now = view.now
    origin = now
    zones = {f.id: f.timezone for f in view.facilities.values()}
    dispatcher = Dispatcher()
    board = {r.id: r for r in view.on_board}
    for reader_id, row in view.radiologists.items():
        rights = rights_from(
            [(item["state"], _date(item.get("expires_on"))) for item in row.licenses],
            [(item["facility"], _date(item.get("expires_on"))) for item in row.credentials],
            row.modalities,
            row.subspecialties,
            origin,
            lambda facility: facility_zone_of(facility, zones),
        )
        dispatcher.add_reader(reader_id, speed=float(row.speed), rights=rights)
        on_board = board.get(reader_id)
        if on_board is not None:
            dispatcher.set_shift(
                reader_id,
                minutes_between(origin, on_board.shift_start),
                minutes_between(origin, on_board.shift_end),
            )
        dispatcher.set_available(reader_id, bool(row.available))
    for item in sorted(view.studies.values(), key=lambda i: i.study.arrived_at):
        _register(dispatcher, view, item, origin)
    _offer_heads(dispatcher, view, origin)
    ends = dispatcher.readers.shift_end[: len(dispatcher.readers)]
    return Live(
        epoch=epoch,
        built_at=time.monotonic(),
        origin=origin,
        view=view,
        dispatcher=dispatcher,
        forecast=forecast(dispatcher, 0.0),
        ranks={study_id: item.rank for study_id, item in view.studies.items()},
        next_shift_end=float(ends[np.isfinite(ends)].min())
        if np.isfinite(ends).any()
        else math.inf,
    )


def study_facts(study: SnapshotStudy, origin: datetime, patient: str | None = None) -> StudyFacts:
    """The dispatcher's view of one study (its due time was fixed when it arrived)."""
    assert study.due_at is not None  # every stored study has one
    return StudyFacts(
        id=study.id,
        klass=(
            study.state,
            study.facility,
            study.modality,
            study.subspecialty if study.subspecialty_required else None,
        ),
        rank=Priority(study.priority).rank,
        arrival=minutes_between(origin, study.arrived_at),
        due=minutes_between(origin, study.due_at),
        expected_minutes=study.expected_minutes,
        subspecialty=study.subspecialty,
        patient=patient,
    )


def _register(
    dispatcher: Dispatcher, view: PracticeView, item: OpenStudy, origin: datetime
) -> None:
    study = item.study
    dispatcher.arrive(study_facts(study, origin, item.patient_ref), 0.0)
    for released_by in item.released_by:
        if released_by in dispatcher.readers.index:
            dispatcher.exclude(study.id, released_by)
    holder = study.assigned_to
    if holder is None or holder not in dispatcher.readers.index:
        return
    if item.status is StudyStatus.READING:
        started = item.started_at or view.now
        dispatcher.start(study.id, holder, minutes_between(origin, started))
    elif item.pinned:
        dispatcher.pin(study.id, holder)


def _offer_heads(dispatcher: Dispatcher, view: PracticeView, origin: datetime) -> None:
    """A free reader's first study in the database order was their next: keep it theirs."""
    now = minutes_between(origin, view.now)
    for reader_id, queue in view.queues().items():
        reader = dispatcher.readers.index[reader_id]
        if dispatcher.readers.reading[reader] != NOBODY or not queue:
            continue
        head = queue[0]
        if view.studies[head].pinned:
            continue
        dispatcher.offer(head, reader_id)
        choice = dispatcher.choose(reader_id, now)
        if choice is None or dispatcher.studies.ids[choice.study] != head:
            dispatcher.withdraw_offers(reader_id)  # no longer theirs to take now


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


@dataclass
class PlanChange:
    """Set `changed = False` inside `LiveCache.changing` when the plan turned out unchanged."""

    changed: bool = True


class LiveCache:
    """Holds at most one `Live`; callers hold the database plan lock while using it."""

    def __init__(self) -> None:
        self._live: Live | None = None
        self.lock = threading.RLock()

    def get(self, connection: Connection, epoch: int, now: datetime) -> Live:
        live = self._live
        if live is None or live.epoch != epoch:
            return self.rebuild(connection, epoch, now)
        if time.monotonic() - live.built_at > REBUILD_SECONDS:
            return self.rebuild(connection, epoch, now)  # shed any drift now and then
        if live.minutes(now) >= live.next_shift_end:
            return self.rebuild(connection, epoch, now)  # a stretch ended: read the next one
        live.view.now = now
        return live

    def rebuild(self, connection: Connection, epoch: int, now: datetime) -> Live:
        self._live = build(load_view(connection, now), epoch)
        return self._live

    def advance(self, epoch: int) -> None:
        """This process wrote the new epoch; its cache already reflects the change."""
        if self._live is not None:
            self._live.epoch = epoch

    @contextmanager
    def changing(self, connection: Connection, epoch: int) -> Iterator[PlanChange]:
        """A change to the live plan inside the caller's transaction: on success the epoch moves
        (unless the body says nothing changed), on any failure the cache is dropped, since the
        live dispatcher may hold what the database is about to roll back."""
        change = PlanChange()
        try:
            yield change
            if change.changed:
                self.advance(bump_epoch(connection, epoch))
        except BaseException:
            self.invalidate()
            raise

    def invalidate(self) -> None:
        self._live = None


def uncovered_why(live: Live, study: int, reason: str, now: datetime) -> dict[str, Any]:
    """The explanation an uncovered study keeps: why nobody can take it, and the time left."""
    dispatcher = live.dispatcher
    due = float(dispatcher.studies.due[study])
    klass = int(dispatcher.studies.klass[study])
    return Explanation(
        summary=reason,
        eligible_radiologists=len(dispatcher.classes.readers[klass]),
        due_at=live.at(due),
        slack_minutes=round(due - live.minutes(now), 3),
    ).model_dump(mode="json")


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
    back = _eligible_when_back(view, snapshot, study)
    if not back:
        return reason.code, reason.text
    return reason.code, f"{reason.text}; on shift but away: {'; '.join(back)}"


def _eligible_when_back(view: PracticeView, snapshot: Snapshot, study: SnapshotStudy) -> list[str]:
    """Readers on shift now but away who could read the study: "nobody on shift is licensed
    in WY" must not be all it says while the one reader licensed there is on a break."""
    if not view.away:
        return []
    readers = [reader for reader, _ in view.away]
    probe = snapshot.model_copy(update={"radiologists": readers, "studies": [study]})
    eligible = Eligibility(build_problem(probe)).matrix[0]
    return [
        f"{reader.id} ({words})"
        for (reader, words), ok in zip(view.away, eligible, strict=True)
        if ok
    ]


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
