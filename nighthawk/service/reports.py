"""Read-only reports for the REST API: SLA compliance and the audit log (coverage: coverage.py).

Each function takes a Core `Connection` from `read_transaction`, so a report sees one consistent
snapshot while writers carry on. Aggregation happens in Python over one narrow query per table:
the windows are bounded (coverage is capped at a week) and numpy keeps the inner loops out of
the interpreter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.engine import Connection

from models.api import (
    AuditEntry,
    AuditPage,
    SlaOut,
    SlaRow,
)
from models.priority import Priority
from models.tables import AuditRow, FacilityRow, RadiologistRow, ShiftRow, StudyRow, StudyStatus
from nighthawk.clock import minutes_between
from nighthawk.service.coverage import coverage_report
from nighthawk.service.errors import Unprocessable

__all__ = ["audit_page", "coverage_report", "sla_report"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOUR = timedelta(hours=1)
MAX_COVERAGE_HOURS = 168
PRIORITIES: tuple[Priority, ...] = tuple(sorted(Priority, key=lambda p: p.rank))
PERCENTILES = (50.0, 90.0, 99.0)
_CURSOR = re.compile(r"^[0-9]{1,18}$")  # ASCII digits only; 18 digits stay inside int64

_studies = StudyRow.__table__.c  # type: ignore[attr-defined]
_facilities = FacilityRow.__table__.c  # type: ignore[attr-defined]
_radiologists = RadiologistRow.__table__.c  # type: ignore[attr-defined]
_shifts = ShiftRow.__table__.c  # type: ignore[attr-defined]
_audit = AuditRow.__table__  # type: ignore[attr-defined]


# --- SLA ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcomes:
    """One entry per study: how its SLA turned out, as parallel arrays for grouped sums."""

    facility: list[str]
    rank: IntArray  # Priority.rank
    tat_minutes: FloatArray  # NaN while unreported
    met: BoolArray
    breached: BoolArray
    open_overdue: BoolArray


def sla_report(
    connection: Connection,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    facilities: frozenset[str] | None = None,
) -> SlaOut:
    """SLA compliance and turnaround for studies received in [start, end).

    Open studies already past due count against compliance now rather than waiting for their
    report, so a backlog shows up in the numbers while it is still a backlog.
    """
    outcomes = _study_outcomes(connection, start, end, now, facilities)
    everything = np.arange(len(outcomes.facility))
    by_priority = [
        _sla_row(outcomes, everything[outcomes.rank == priority.rank], priority, None)
        for priority in PRIORITIES
    ]
    # "from" is a Python keyword: pass it by its alias rather than the from_ field name.
    return SlaOut.model_validate(
        {
            "from": start,
            "to": end,
            "by_priority": by_priority,
            "by_facility": _rows_by_facility(outcomes),
        }
    )


def _study_outcomes(
    connection: Connection,
    start: datetime,
    end: datetime,
    now: datetime,
    facilities: frozenset[str] | None,
) -> _Outcomes:
    """Fetch the window's studies in one query and classify each against its due time.

    Comparisons use the datetimes themselves, not float seconds, so a report filed exactly at
    the due time is "met" without rounding doubt.
    """
    query = select(
        _studies.facility,
        _studies.priority,
        _studies.received_at,
        _studies.due_at,
        _studies.reported_at,
        _studies.status,
    ).where(
        _studies.received_at >= start,
        _studies.received_at < end,
        # Only the three contract classes have a row to land in.
        _studies.priority.in_([p.value for p in PRIORITIES]),
        # A cancelled order was never owed a report.
        _studies.status != StudyStatus.CANCELLED.value,
        _in_scope(_studies.facility, facilities),
    )
    rows = connection.execute(query).all()
    tat = np.full(len(rows), np.nan)
    met = np.zeros(len(rows), dtype=bool)
    breached = np.zeros(len(rows), dtype=bool)
    overdue = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        if row.status == StudyStatus.REPORTED and row.reported_at is not None:
            tat[i] = minutes_between(row.received_at, row.reported_at)
            met[i] = row.reported_at <= row.due_at
            breached[i] = not met[i]
        else:
            overdue[i] = row.due_at < now
    return _Outcomes(
        facility=[row.facility for row in rows],
        rank=np.array([Priority(row.priority).rank for row in rows], dtype=np.int64),
        tat_minutes=tat,
        met=met,
        breached=breached,
        open_overdue=overdue,
    )


def _rows_by_facility(outcomes: _Outcomes) -> list[SlaRow]:
    """One row per (facility, priority) that has studies, facility first then priority rank.

    A stable sort on a combined key puts each group's studies next to each other, so the groups
    fall out of one split instead of one full scan per facility.
    """
    if not outcomes.facility:
        return []
    names, inverse = np.unique(np.array(outcomes.facility), return_inverse=True)
    facility_code = inverse.reshape(-1)  # numpy 2.0.x returned the input's shape here
    key = facility_code * len(PRIORITIES) + outcomes.rank
    order = np.argsort(key, kind="stable")
    boundaries = np.flatnonzero(np.diff(key[order])) + 1
    rows = []
    for group in np.split(order, boundaries):
        first = int(group[0])
        priority = PRIORITIES[int(outcomes.rank[first])]
        facility = str(names[facility_code[first]])
        rows.append(_sla_row(outcomes, group, priority, facility))
    return rows


def _sla_row(
    outcomes: _Outcomes, members: IntArray, priority: Priority, facility: str | None
) -> SlaRow:
    met = int(outcomes.met[members].sum())
    breached = int(outcomes.breached[members].sum())
    overdue = int(outcomes.open_overdue[members].sum())
    decided = met + breached + overdue
    tats = outcomes.tat_minutes[members]
    tats = tats[~np.isnan(tats)]
    p50, p90, p99 = _tat_percentiles(tats)
    return SlaRow(
        priority=priority,
        facility=facility,
        studies=len(members),
        reported=len(tats),
        met=met,
        breached=breached,
        open_overdue=overdue,
        compliance=met / decided if decided else None,
        tat_p50_minutes=p50,
        tat_p90_minutes=p90,
        tat_p99_minutes=p99,
    )


def _tat_percentiles(tats: FloatArray) -> tuple[float | None, float | None, float | None]:
    """Linear-interpolated percentiles to 0.1 min; None rather than 0 when nothing was read."""
    if len(tats) == 0:
        return None, None, None
    p50, p90, p99 = (round(float(v), 1) for v in np.percentile(tats, PERCENTILES))
    return p50, p90, p99


# --- coverage: nighthawk/service/coverage.py ----------------------------------------------

# --- audit ----------------------------------------------------------------------------------


def audit_page(
    connection: Connection, *, study: str | None, limit: int, cursor: str | None
) -> AuditPage:
    """One page of the audit log in `seq` order, optionally for one study.

    The cursor is the last `seq` returned: keyset paging stays correct while entries are
    appended between requests, where an offset would skip or repeat them.
    """
    after = _parse_cursor(cursor)
    if limit < 1:
        raise Unprocessable("limit", "must be at least 1")
    query = select(_audit).where(_audit.c.seq > after).order_by(_audit.c.seq).limit(limit + 1)
    if study is not None:
        query = query.where(_audit.c.study_id == study)
    rows = connection.execute(query).all()
    items = [_audit_entry(row) for row in rows[:limit]]
    # Fetching one extra row says whether another page exists without a second query.
    next_cursor = str(items[-1].seq) if len(rows) > limit else None
    return AuditPage(items=items, next_cursor=next_cursor)


def _parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not _CURSOR.fullmatch(cursor):
        raise Unprocessable("cursor", "not a valid cursor")
    return int(cursor)


def _audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        study=row.study_id,
        entity=row.entity,
        before=row.before,
        after=row.after,
        reason=row.reason,
        on_behalf_of=getattr(row, "on_behalf_of", None),
    )


# --- shared ---------------------------------------------------------------------------------


def _in_scope(column: Any, facilities: frozenset[str] | None) -> ColumnElement[bool]:
    """`facilities=None` is the whole practice; a set (a site token's scope) restricts to it."""
    if facilities is None:
        return true()
    return column.in_(sorted(facilities))
