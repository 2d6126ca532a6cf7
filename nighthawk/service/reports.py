"""Read-only reports for the REST API: SLA compliance, hourly coverage and the audit log.

Each function takes a Core `Connection` from `read_transaction`, so a report sees one consistent
snapshot while writers carry on. Aggregation happens in Python over one narrow query per table:
the windows are bounded (coverage is capped at a week) and numpy keeps the inner loops out of
the interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.engine import Connection

from models.api import (
    AuditEntry,
    AuditPage,
    CoverageFacility,
    CoverageHour,
    CoverageOut,
    SlaOut,
    SlaRow,
)
from models.priority import Priority
from models.tables import AuditRow, FacilityRow, RadiologistRow, ShiftRow, StudyRow, StudyStatus
from nighthawk.clock import end_of_day_utc, minutes_between, state_time_zone
from nighthawk.service.errors import Unprocessable

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


# --- coverage -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facility:
    id: str
    state: str
    timezone: str


def coverage_report(
    connection: Connection,
    *,
    start: datetime,
    end: datetime,
    facilities: frozenset[str] | None = None,
) -> CoverageOut:
    """Who could read each facility's studies in each UTC hour of [start, end), and the gaps.

    A radiologist counts for an hour when available, on shift at any moment of it, and holding
    a license in the facility's state and a credential at the facility both still valid when
    the hour begins. The work is three boolean arrays (on shift: reader x hour; valid: reader x
    facility x hour) combined with numpy, so a week for a large practice stays cheap.
    """
    hours = _hour_starts(start, end)
    sites = _load_facilities(connection, facilities)
    readers = _load_available_readers(connection)
    reader_ids = [str(row.id) for row in readers]
    on_shift = _on_shift_matrix(connection, reader_ids, hours)
    valid_hours = _valid_hour_counts(readers, sites, hours[0], len(hours))
    # eligible[r, f, h]: on shift in hour h and still licensed and credentialed for facility f.
    eligible = on_shift[:, None, :] & (np.arange(len(hours)) < valid_hours[:, :, None])
    names = _eligible_names(eligible, reader_ids)
    rows = [_coverage_facility(site, hours, names[f]) for f, site in enumerate(sites)]
    return CoverageOut.model_validate(
        {
            "from": start,
            "to": end,
            "facilities": rows,
            "gap_hours": sum(row.gap_hours for row in rows),
        }
    )


def _hour_starts(start: datetime, end: datetime) -> list[datetime]:
    """Whole UTC hours from `start` floored to the hour, up to `end` (exclusive)."""
    if end <= start:
        raise Unprocessable("to", "must be after from")
    if end - start > MAX_COVERAGE_HOURS * HOUR:
        raise Unprocessable("to", f"coverage window longer than {MAX_COVERAGE_HOURS} hours")
    first = start.replace(minute=0, second=0, microsecond=0)
    count = -((first - end) // HOUR)  # ceil: an hour that begins before `end` is reported
    return [first + k * HOUR for k in range(count)]


def _load_facilities(connection: Connection, scope: frozenset[str] | None) -> list[_Facility]:
    query = (
        select(_facilities.id, _facilities.state, _facilities.timezone)
        .where(_in_scope(_facilities.id, scope))
        .order_by(_facilities.id)
    )
    return [_Facility(row.id, row.state, row.timezone) for row in connection.execute(query)]


def _load_available_readers(connection: Connection) -> Sequence[Any]:
    """Available radiologists sorted by id, so each hour's eligible list comes out sorted."""
    query = (
        select(_radiologists.id, _radiologists.licenses, _radiologists.credentials)
        .where(_radiologists.available.is_(True))
        .order_by(_radiologists.id)
    )
    return connection.execute(query).all()


def _on_shift_matrix(
    connection: Connection, reader_ids: list[str], hours: list[datetime]
) -> BoolArray:
    """readers x hours: on shift at any moment of the hour (start < hour end, end > hour start)."""
    first, stop = hours[0], hours[-1] + HOUR
    matrix = np.zeros((len(reader_ids), len(hours)), dtype=bool)
    if not reader_ids:
        return matrix
    index = {reader_id: i for i, reader_id in enumerate(reader_ids)}
    query = select(_shifts.radiologist_id, _shifts.start, _shifts.end).where(
        _shifts.start < stop, _shifts.end > first
    )
    for shift in connection.execute(query):
        reader = index.get(shift.radiologist_id)
        if reader is None:  # unavailable radiologists were not loaded
            continue
        # Hour k overlaps the shift iff floor((start-first)/1h) <= k < ceil((end-first)/1h).
        lo = max(0, (shift.start - first) // HOUR)
        hi = min(len(hours), -((first - shift.end) // HOUR))
        matrix[reader, lo:hi] = True
    return matrix


def _valid_hour_counts(
    readers: Sequence[Any], sites: list[_Facility], first: datetime, horizon: int
) -> IntArray:
    """readers x facilities: how many hours from `first` the reader may read for the facility.

    License and credential both only ever run out, so validity over the window is a prefix of
    hours; storing its length instead of a per-hour array keeps this step O(readers x sites).
    0 means not licensed or not credentialed at all.
    """
    counts = np.zeros((len(readers), len(sites)), dtype=np.int64)
    zones = {site.id: site.timezone for site in sites}
    for r, reader in enumerate(readers):
        licensed = _hours_valid_by_key(
            (
                (item["state"], item.get("expires_on"), state_time_zone(item["state"]))
                for item in reader.licenses
            ),
            first,
            horizon,
        )
        credentialed = _hours_valid_by_key(
            (
                (item["facility"], item.get("expires_on"), zones[item["facility"]])
                for item in reader.credentials
                if item["facility"] in zones
            ),
            first,
            horizon,
        )
        for f, site in enumerate(sites):
            counts[r, f] = min(licensed.get(site.state, 0), credentialed.get(site.id, 0))
    return counts


def _hours_valid_by_key(
    items: Iterable[tuple[str, str | None, str]], first: datetime, horizon: int
) -> dict[str, int]:
    """For each state or facility, the hours from `first` its best document still covers.

    Two documents for one key (a renewal on file) mean the later expiry counts. A document is
    valid for an hour when its end of day (local midnight after `expires_on`) is after the
    hour's start, i.e. for hours k < ceil((end_of_day - first) / 1h).
    """
    best: dict[str, int] = {}
    for key, expires_on, zone in items:
        if expires_on is None:
            hours = horizon  # never expires
        else:
            until = end_of_day_utc(date.fromisoformat(expires_on), zone)
            hours = max(0, min(horizon, -((first - until) // HOUR)))
        best[key] = max(hours, best.get(key, 0))
    return best


def _eligible_names(eligible: BoolArray, reader_ids: list[str]) -> list[list[list[str]]]:
    """[facility][hour] -> eligible reader ids, in id order.

    One `nonzero` over the whole facility x hour x reader cube, then plain list slicing: a
    numpy call per cell would cost more than the cell's work for a week of 100+ facilities.
    """
    readers, sites, hours = eligible.shape
    cube = np.ascontiguousarray(eligible.transpose(1, 2, 0)).reshape(sites * hours, readers)
    _, reader_index = np.nonzero(cube)  # row-major: grouped by cell, readers ascending
    ids = [reader_ids[r] for r in reader_index.tolist()]
    ends = np.cumsum(cube.sum(axis=1)).tolist()
    starts = [0, *ends][:-1]
    cells = [ids[lo:hi] for lo, hi in zip(starts, ends, strict=True)]
    return [cells[f * hours : (f + 1) * hours] for f in range(sites)]


def _coverage_facility(
    site: _Facility, hours: list[datetime], names: list[list[str]]
) -> CoverageFacility:
    """One facility's hours; `names[h]` are the readers eligible in hour h."""
    rows = [
        CoverageHour(start=hour_start, eligible_radiologists=eligible, gap=not eligible)
        for hour_start, eligible in zip(hours, names, strict=True)
    ]
    gaps = sum(1 for row in rows if row.gap)
    return CoverageFacility(facility=site.id, state=site.state, gap_hours=gaps, hours=rows)


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
    )


# --- shared ---------------------------------------------------------------------------------


def _in_scope(column: Any, facilities: frozenset[str] | None) -> ColumnElement[bool]:
    """`facilities=None` is the whole practice; a set (a site token's scope) restricts to it."""
    if facilities is None:
        return true()
    return column.in_(sorted(facilities))
