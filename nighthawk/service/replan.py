"""Re-planning all unstarted work with the optimizer, and the watchdog between re-plans.

The solve runs outside any lock on a snapshot read in one transaction. Applying it takes the
plan lock and touches only studies that are unchanged since the snapshot (same version) and
that no other transaction holds (`SKIP LOCKED`): a study started or handed back meanwhile
keeps what its own request decided, and arrivals during the solve keep their fast-path place.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, update
from sqlalchemy.engine import Connection

from models.snapshot import SnapshotRadiologist
from models.tables import STUDY, StudyStatus
from nighthawk.optimizer import SolveOptions, optimize, render_plan
from nighthawk.service import audit
from nighthawk.service.assignment import AssignmentService, lock_free_studies, lock_unchanged
from nighthawk.service.db import bump_epoch, lock_plan, read_transaction, write_transaction
from nighthawk.service.practice import OpenStudy, PracticeView, load_view

log = logging.getLogger(__name__)

REPLAN_ACTOR = "engine/re-plan"
WATCHDOG_ACTOR = "engine/watchdog"
# A prediction that moved by less than this is not worth a write.
PREDICTION_TOLERANCE = timedelta(seconds=30)


@dataclass(frozen=True)
class ReplanResult:
    studies: int
    moved: int
    applied: int
    skipped: int
    status: str
    seconds: float
    solve_seconds: float


def replan(service: AssignmentService, *, time_limit: float = 1.0, seed: int = 0) -> ReplanResult:
    """Re-optimize every unstarted, unpinned study; keep churn low (moves cost in the objective)."""
    started = time.perf_counter()
    now = service.clock.now()
    with read_transaction(service.engine) as connection:
        view = load_view(connection, now)
    snapshot = _optimizer_snapshot(view)
    options = SolveOptions(time_limit=time_limit, seed=seed, explain=False, keep_current=True)
    solved = optimize(snapshot, options)
    solve_seconds = time.perf_counter() - started
    plan = render_plan(solved, explain=False)
    decided: dict[str, dict[str, Any]] = {}
    pinned_ranks = _pinned_ranks(view)
    for position, assignment in enumerate(sorted(plan.assignments, key=lambda a: a.start)):
        late = assignment.late_minutes > 0
        decided[assignment.study] = {
            "assigned_to": assignment.radiologist,
            "status": (StudyStatus.AT_RISK if late else StudyStatus.ASSIGNED).value,
            "queue_rank": pinned_ranks.get(assignment.radiologist, 0.0) + 1.0 + position,
            "predicted_start": assignment.start,
            "predicted_finish": assignment.finish,
            "uncovered_reason": None,
        }
    for unassigned in plan.unassigned:
        decided[unassigned.study] = {
            "assigned_to": None,
            "status": StudyStatus.UNCOVERED.value,
            "queue_rank": 0.0,
            "predicted_start": None,
            "predicted_finish": None,
            "uncovered_reason": unassigned.reason,
        }
    applied, moved, skipped = _apply(service, view, decided, now)
    return ReplanResult(
        studies=len(decided),
        moved=moved,
        applied=applied,
        skipped=skipped,
        status=solved.info.status,
        seconds=round(time.perf_counter() - started, 3),
        solve_seconds=round(solve_seconds, 3),
    )


def _optimizer_snapshot(view: PracticeView) -> Any:
    """Pinned work (manual overrides) is not the optimizer's to move: it counts as backlog."""
    pinned_minutes: dict[str, float] = {}
    speed = {r.id: r.speed for r in view.on_board}
    position = {
        study_id: index
        for queue in view.queues(include_pinned=False).values()
        for index, study_id in enumerate(queue)
    }
    movable = []
    for item in view.studies.values():
        if item.status is StudyStatus.READING:
            continue
        reader = item.study.assigned_to
        if item.pinned and reader in speed:
            pinned_minutes[reader] = (
                pinned_minutes.get(reader, 0.0) + item.study.expected_minutes / speed[reader]
            )
        else:
            # The live order is the search's starting point, so an unchanged plan stays put.
            movable.append(
                item.study.model_copy(update={"queue_position": position.get(item.study.id)})
            )
    on_board = [
        SnapshotRadiologist.model_construct(
            **{
                **dict(reader),
                "backlog_minutes": min(
                    reader.backlog_minutes + pinned_minutes.get(reader.id, 0.0), 1440.0
                ),
            }
        )
        for reader in view.on_board
    ]
    view = PracticeView(view.now, view.facilities, view.radiologists, on_board, view.studies)
    return view.snapshot(studies=movable)


def _pinned_ranks(view: PracticeView) -> dict[str, float]:
    ranks: dict[str, float] = {}
    for item in view.studies.values():
        reader = item.study.assigned_to
        if item.pinned and reader is not None:
            ranks[reader] = max(ranks.get(reader, 0.0), item.rank)
    return ranks


def _apply(
    service: AssignmentService,
    view: PracticeView,
    decided: dict[str, dict[str, Any]],
    now: datetime,
) -> tuple[int, int, int]:
    changed = {
        study_id: values
        for study_id, values in decided.items()
        if _changes(view.studies[study_id], values)
    }
    with write_transaction(service.engine) as connection, service.cache.lock:
        epoch = lock_plan(connection)
        # Only rows unchanged since the snapshot and free right now: those that were started,
        # handed back or overridden during the solve keep what their own request decided.
        current = lock_unchanged(
            connection, {study_id: view.studies[study_id].version for study_id in changed}
        )
        updates, entries = [], []
        for study_id in current:
            item, values = view.studies[study_id], changed[study_id]
            updates.append({"b_id": study_id, "b_version": item.version, **values})
            if values["assigned_to"] != item.study.assigned_to:
                entries.append(_move_entry(now, item, values))
        applied = _write(connection, updates)
        audit.record_many(connection, entries)
        if applied:
            # Other processes rebuild their live plans from what was just written; a re-plan
            # that changed nothing leaves them (and their latency) alone.
            bump_epoch(connection, epoch)
            service.cache.invalidate()
    return applied, len(entries), len(changed) - applied


def _changes(item: OpenStudy, values: dict[str, Any]) -> bool:
    if values["assigned_to"] != item.study.assigned_to or values["status"] != item.status.value:
        return True
    return values["queue_rank"] != item.rank


def _write(
    connection: Connection, updates: list[dict[str, Any]], *, new_version: bool = True
) -> int:
    """Apply updates guarded by version; refreshed predictions are derived data and keep it."""
    if not updates:
        return 0
    columns = [key for key in updates[0] if not key.startswith("b_")]
    result = connection.execute(
        update(STUDY)
        .where(
            and_(
                STUDY.c.id == bindparam("b_id"),
                STUDY.c.version == bindparam("b_version"),
                # Literal comparisons: an IN list cannot be used with executemany.
                STUDY.c.status != StudyStatus.READING.value,
                STUDY.c.status != StudyStatus.REPORTED.value,
            )
        )
        .values(
            {key: bindparam(key) for key in columns}
            | ({"version": STUDY.c.version + 1} if new_version else {})
        ),
        updates,
    )
    return int(result.rowcount) if result.rowcount is not None and result.rowcount >= 0 else 0


def _move_entry(now: datetime, item: OpenStudy, values: dict[str, Any]) -> dict[str, Any]:
    after: dict[str, Any] = {"assigned_to": values["assigned_to"], "status": values["status"]}
    if values["uncovered_reason"]:
        after["uncovered_reason"] = values["uncovered_reason"]
    return {
        "at": now,
        "actor": REPLAN_ACTOR,
        "action": "study.assigned" if values["assigned_to"] else "study.uncovered",
        "study_id": item.study.id,
        "entity": None,
        "before": {"assigned_to": item.study.assigned_to, "status": item.status.value},
        "after": after,
        "reason": "re-plan",
    }


@dataclass(frozen=True)
class WatchdogResult:
    handed_off: int
    at_risk: int
    refreshed: int


def watchdog(service: AssignmentService) -> WatchdogResult:
    """Between re-plans: move work off readers who left, refresh predictions, flag at-risk work.

    Handing off reuses the roster path (readers off the board lose their unstarted work);
    predictions are recomputed by walking each queue from now, and written only where they
    moved, so a quiet practice costs no writes.
    """
    now = service.clock.now()
    with write_transaction(service.engine) as connection, service.cache.lock:
        epoch = lock_plan(connection)
        handed_off = service.reconsider(
            connection,
            epoch,
            now,
            actor=WATCHDOG_ACTOR,
            reason="reader left or shift ending",
            roster_changed=False,
        )
        epoch = lock_plan(connection)
        live = service.cache.get(connection, epoch, now)
        refreshed, at_risk = _refresh_predictions(connection, live.view, now)
    return WatchdogResult(handed_off, at_risk, refreshed)


def _refresh_predictions(
    connection: Connection, view: PracticeView, now: datetime
) -> tuple[int, int]:
    from nighthawk.service.queries import walk_queue

    readers = {r.id: r for r in view.on_board}
    updates: list[dict[str, Any]] = []
    at_risk = 0
    for reader_id, queue in view.queues().items():
        reader = readers[reader_id]
        items = [view.studies[s] for s in queue]
        for item, (start, finish) in zip(items, walk_queue(reader, items, now), strict=True):
            due = item.study.due_at
            late = due is not None and finish > due
            at_risk += late
            status = (StudyStatus.AT_RISK if late else StudyStatus.ASSIGNED).value
            if status == item.status.value and not _moved(item, start, finish):
                continue
            updates.append(
                {
                    "b_id": item.study.id,
                    "b_version": item.version,
                    "status": status,
                    "predicted_start": start,
                    "predicted_finish": finish,
                }
            )
    lockable = lock_free_studies(connection, [u["b_id"] for u in updates])
    fresh = [u for u in updates if u["b_id"] in lockable]
    return _write(connection, fresh, new_version=False), at_risk


def _moved(item: OpenStudy, start: datetime, finish: datetime) -> bool:
    previous = item.predicted_finish
    return previous is None or abs(previous - finish) > PREDICTION_TOLERANCE
