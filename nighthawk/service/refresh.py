"""Writing the live dispatcher's forecast into the database: only what moved, audited.

The caller holds the plan lock. Rows another transaction holds, or changed since they were
read, are skipped (they keep what their own request decided); a change of reader is audited
and bumps the row's version, a refreshed prediction or place in the queue does not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.engine import Connection

from models.plan import Explanation
from models.tables import STUDY, UNSTARTED, StudyStatus
from nighthawk.kernel import is_late
from nighthawk.service import audit
from nighthawk.service.live import Live, uncovered_why, why_nobody
from nighthawk.service.locks import lock_unchanged

# A prediction that moved by less than this is not worth a write.
PREDICTION_TOLERANCE = timedelta(seconds=30)
_UNSTARTED = [s.value for s in UNSTARTED]


@dataclass(frozen=True)
class Applied:
    studies: int  # unstarted studies the forecast decided
    moved: int  # of them, how many changed reader (each audited)
    applied: int  # rows written
    skipped: int  # rows held or changed by another transaction meanwhile
    at_risk: int  # predicted to breach
    forecast_seconds: float


def apply_forecast(
    connection: Connection, live: Live, now: datetime, *, actor: str, reason: str
) -> Applied:
    """Forecast from `now` and write what moved; the caller holds the plan lock."""
    began = time.perf_counter()
    unpinned = live.dispatcher.release_unworkable_holds(live.minutes(now))
    plan = live.refresh(now)
    forecast_seconds = time.perf_counter() - began
    rows = _open_rows(connection)
    decided = _decisions(live, rows, {str(s) for s in unpinned})
    changed = {sid: values for sid, values in decided.items() if _differs(rows[sid], values)}
    current = lock_unchanged(connection, {sid: rows[sid].version for sid in changed})
    updates, entries = [], []
    for study_id in current:
        row, values = rows[study_id], changed[study_id]
        moves = values["assigned_to"] != row.assigned_to or values["status"] != row.status
        updates.append({"b_id": study_id, "b_version": row.version, "bump": int(moves), **values})
        if values["assigned_to"] != row.assigned_to:
            entries.append(_move_entry(now, actor, reason, row, values))
    applied = _write(connection, updates)
    audit.record_many(connection, entries)
    _keep_whys(connection, live, now, reason, [changed[e["study_id"]] | e for e in entries])
    for study_id in current:
        live.ranks[study_id] = changed[study_id]["queue_rank"]
    return Applied(
        studies=len(decided),
        moved=len(entries),
        applied=applied,
        skipped=len(changed) - len(current),
        at_risk=sum(1 for p in plan.all() if p.late),
        forecast_seconds=forecast_seconds,
    )


_OPEN_ROWS = select(
    STUDY.c.id,
    STUDY.c.version,
    STUDY.c.status,
    STUDY.c.assigned_to,
    STUDY.c.queue_rank,
    STUDY.c.pinned,
    STUDY.c.predicted_start,
    STUDY.c.predicted_finish,
    STUDY.c.uncovered_reason,
    STUDY.c.released_by,
).where(STUDY.c.status.in_(_UNSTARTED))


def _open_rows(connection: Connection) -> dict[str, Any]:
    return {row.id: row for row in connection.execute(_OPEN_ROWS)}


def _decisions(live: Live, rows: dict[str, Any], unpinned: set[str]) -> dict[str, dict[str, Any]]:
    """What each unstarted study's row should say, from the forecast."""
    plan, dispatcher = live.forecast, live.dispatcher
    decided: dict[str, dict[str, Any]] = {}
    for reader, queue in plan.queues.items():
        reader_id = str(dispatcher.readers.ids[reader])
        for position, study in enumerate(queue.studies):
            study_id = str(dispatcher.studies.ids[study])
            if study_id not in rows:
                continue
            late = is_late(queue.finishes[position], float(dispatcher.studies.due[study]))
            decided[study_id] = {
                "assigned_to": reader_id,
                "status": (StudyStatus.AT_RISK if late else StudyStatus.ASSIGNED).value,
                "queue_rank": float(position),
                "predicted_start": live.at(queue.starts[position]),
                "predicted_finish": live.at(queue.finishes[position]),
                "uncovered_reason": None,
                "pinned": rows[study_id].pinned and study_id not in unpinned,
            }
    reasons: dict[tuple[Any, ...], str] = {}
    for study in plan.unplaced:
        study_id = str(dispatcher.studies.ids[study])
        if study_id not in rows:
            continue
        decided[study_id] = {
            "assigned_to": None,
            "status": StudyStatus.UNCOVERED.value,
            "queue_rank": 0.0,
            "predicted_start": None,
            "predicted_finish": None,
            "uncovered_reason": _uncovered_reason(live, rows[study_id], study, reasons),
            "pinned": False,
        }
    return decided


def _uncovered_reason(live: Live, row: Any, study: int, reasons: dict[tuple[Any, ...], str]) -> str:
    """Why nobody can take it now, from the kernel's rules on the readers on the board (the
    same for every study of a class and length, so worked out once per refresh)."""
    released = list(row.released_by or [])
    if released:
        return (
            f"handed back by {', '.join(released)}; no other eligible radiologist on shift "
            "can take it"
        )
    studies = live.dispatcher.studies
    key = (int(studies.klass[study]), float(studies.expected[study]))
    if key not in reasons:
        item = live.view.studies.get(str(studies.ids[study]))
        reasons[key] = (
            why_nobody(live.view, item.study)[1]
            if item is not None
            else "no radiologist on shift can take it"
        )
    return reasons[key]


def _keep_whys(
    connection: Connection, live: Live, now: datetime, reason: str, moves: list[dict[str, Any]]
) -> None:
    """A study the re-plan moved keeps why it moved (read or reported later, it still says)."""
    if not moves:
        return
    dispatcher = live.dispatcher
    whys = []
    for move in moves:
        study = dispatcher.studies.index[move["study_id"]]
        if move["assigned_to"] is None:
            why = uncovered_why(live, study, move["uncovered_reason"], now)
        else:
            due = float(dispatcher.studies.due[study])
            finish = live.minutes(move["predicted_finish"])
            klass = int(dispatcher.studies.klass[study])
            why = Explanation(
                summary=f"re-planned to {move['assigned_to']}: {reason}",
                eligible_radiologists=len(dispatcher.classes.readers[klass]),
                due_at=live.at(due),
                slack_minutes=round(due - finish, 3),
            ).model_dump(mode="json")
        whys.append({"b_id": move["study_id"], "why": why})
    connection.execute(
        update(STUDY).where(STUDY.c.id == bindparam("b_id")).values(why=bindparam("why")), whys
    )


def _differs(row: Any, values: dict[str, Any]) -> bool:
    if (
        values["assigned_to"] != row.assigned_to
        or values["status"] != row.status
        or values["pinned"] != row.pinned
        or values["queue_rank"] != row.queue_rank
    ):
        return True
    return _moved(row.predicted_finish, values["predicted_finish"]) or _moved(
        row.predicted_start, values["predicted_start"]
    )


def _moved(before: datetime | None, after: datetime | None) -> bool:
    if before is None or after is None:
        return before is not after
    return abs(before - after) > PREDICTION_TOLERANCE


def _write(connection: Connection, updates: list[dict[str, Any]]) -> int:
    """Apply updates guarded by version (a reassignment bumps it; a prediction does not)."""
    if not updates:
        return 0
    columns = [key for key in updates[0] if not key.startswith("b_") and key != "bump"]
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
            | {"version": STUDY.c.version + bindparam("bump")}
        ),
        updates,
    )
    return int(result.rowcount) if result.rowcount is not None and result.rowcount >= 0 else 0


def _move_entry(
    now: datetime, actor: str, reason: str, row: Any, values: dict[str, Any]
) -> dict[str, Any]:
    after: dict[str, Any] = {"assigned_to": values["assigned_to"], "status": values["status"]}
    if values["uncovered_reason"]:
        after["uncovered_reason"] = values["uncovered_reason"]
    return {
        "at": now,
        "actor": actor,
        "action": "study.assigned" if values["assigned_to"] else "study.uncovered",
        "study_id": row.id,
        "entity": None,
        "before": {"assigned_to": row.assigned_to, "status": row.status},
        "after": after,
        "reason": reason,
    }
