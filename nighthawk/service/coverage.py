"""`GET /v1/coverage`: who could read each facility's work in each UTC hour, and the gaps.

The same rule as the coverage planner's, from the kernel: each hour is cut wherever a shift
starts or ends, and a class of work (modality, and a required subspecialty) is covered in a
piece when some available reader is on duty for all of it (`on_duty_throughout`) with the
rights to read it holding to its end (`holds_through` of the kernel's `Rights.until`: license
in the state, privileges at the facility, the modality, the subspecialty). An hour is a gap
when any class the facility sends is uncovered in any piece of it. The classes a facility
sends are those of its studies over the 30 days before the window (with none on record:
any study, so license and privileges alone decide).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.engine import Connection

from models.api import CoverageFacility, CoverageHour, CoverageOut
from models.priority import Modality
from models.tables import FacilityRow, RadiologistRow, ShiftRow, StudyRow
from nighthawk.clock import minutes_between
from nighthawk.kernel import (
    NEVER,
    Rights,
    facility_zone_of,
    holds_through,
    on_duty_throughout,
    rights_from,
)
from nighthawk.service.errors import Unprocessable

HOUR = timedelta(hours=1)
MAX_COVERAGE_HOURS = 168
HISTORY = timedelta(days=30)

_studies = StudyRow.__table__.c  # type: ignore[attr-defined]
_facilities = FacilityRow.__table__.c  # type: ignore[attr-defined]
_radiologists = RadiologistRow.__table__.c  # type: ignore[attr-defined]
_shifts = ShiftRow.__table__.c  # type: ignore[attr-defined]

WorkClass = tuple[Modality | None, str | None]  # None modality: any study
ANY_STUDY: WorkClass = (None, None)


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
    hours = _hour_starts(start, end)
    origin = hours[0]
    sites = _load_facilities(connection, facilities)
    zones = {site.id: site.timezone for site in sites}
    readers = _load_available_readers(connection)
    reader_ids = [str(row.id) for row in readers]
    rights = [_rights(row, origin, zones) for row in readers]
    shifts = _shifts_in(connection, reader_ids, origin, hours[-1] + HOUR)
    classes = _classes_sent(connection, [s.id for s in sites], origin)
    pieces = [_pieces(shifts, 60.0 * h, 60.0 * (h + 1)) for h in range(len(hours))]
    rows = [
        _facility_hours(
            site, classes.get(site.id, [(None, None)]), rights, pieces, reader_ids, origin
        )
        for site in sites
    ]
    return CoverageOut.model_validate(
        {"from": start, "to": end, "facilities": rows, "gap_hours": sum(r.gap_hours for r in rows)}
    )


Piece = tuple[float, float, np.ndarray]  # start, end, who is on duty throughout


def _facility_hours(
    site: _Facility,
    classes: list[WorkClass],
    rights: list[Rights],
    pieces: list[list[Piece]],
    reader_ids: list[str],
    origin: datetime,
) -> CoverageFacility:
    until = np.array(
        [[_until(r, site, work) for r in rights] for work in classes], dtype=float
    ).reshape(len(classes), len(rights))
    rows = []
    for h, hour_pieces in enumerate(pieces):
        eligible: set[int] = set()
        uncovered: set[int] = set()
        for _, b, on_duty in hour_pieces:
            able = holds_through(until, b) & on_duty[None, :]  # (classes, readers)
            uncovered |= set(np.flatnonzero(~able.any(axis=1)).tolist())
            eligible |= set(np.flatnonzero(able.any(axis=0)).tolist())
        rows.append(
            CoverageHour(
                start=origin + h * HOUR,
                eligible_radiologists=[reader_ids[r] for r in sorted(eligible)],
                gap=bool(uncovered),
                uncovered=[_name(classes[k]) for k in sorted(uncovered)],
            )
        )
    gaps = sum(1 for row in rows if row.gap)
    return CoverageFacility(facility=site.id, state=site.state, gap_hours=gaps, hours=rows)


def _until(rights: Rights, site: _Facility, work: WorkClass) -> float:
    modality, subspecialty = work
    if modality is None:  # any study: license in the state and privileges at the facility
        return min(rights.licenses.get(site.state, NEVER), rights.credentials.get(site.id, NEVER))
    return rights.until(site.state, site.id, modality, subspecialty)


def _name(work: WorkClass) -> str:
    modality, subspecialty = work
    text = "any study" if modality is None else modality.value
    return f"{text} ({subspecialty} required)" if subspecialty else text


def _pieces(shifts: list[list[tuple[float, float]]], begin: float, finish: float) -> list[Piece]:
    """The hour cut wherever a shift starts or ends inside it, with who is on duty for all of
    each piece."""
    cuts = {begin, finish}
    for reader_shifts in shifts:
        for a, b in reader_shifts:
            if begin < a < finish:
                cuts.add(a)
            if begin < b < finish:
                cuts.add(b)
    edges = sorted(cuts)
    return [(a, b, _on_duty(shifts, a, b)) for a, b in pairwise(edges)]


def _on_duty(shifts: list[list[tuple[float, float]]], a: float, b: float) -> np.ndarray:
    return np.array(
        [any(on_duty_throughout(s, e, a, b) for s, e in reader_shifts) for reader_shifts in shifts],
        dtype=bool,
    )


def _rights(row: Any, origin: datetime, zones: dict[str, str]) -> Rights:
    return rights_from(
        [(item["state"], _date(item.get("expires_on"))) for item in row.licenses],
        [(item["facility"], _date(item.get("expires_on"))) for item in row.credentials],
        row.modalities,
        row.subspecialties,
        origin,
        lambda facility: facility_zone_of(facility, zones),
    )


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


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


def _load_available_readers(connection: Connection) -> list[Any]:
    """Available radiologists sorted by id, so each hour's eligible list comes out sorted."""
    query = (
        select(
            _radiologists.id,
            _radiologists.licenses,
            _radiologists.credentials,
            _radiologists.modalities,
            _radiologists.subspecialties,
        )
        .where(_radiologists.available.is_(True))
        .order_by(_radiologists.id)
    )
    return list(connection.execute(query).all())


def _shifts_in(
    connection: Connection, reader_ids: list[str], origin: datetime, stop: datetime
) -> list[list[tuple[float, float]]]:
    """Per reader, their shifts touching the window as minutes after `origin`, joined where
    they touch (back-to-back shifts are one stretch on duty)."""
    index = {reader_id: i for i, reader_id in enumerate(reader_ids)}
    pieces: list[list[tuple[float, float]]] = [[] for _ in reader_ids]
    query = select(_shifts.radiologist_id, _shifts.start, _shifts.end).where(
        _shifts.start < stop, _shifts.end > origin
    )
    for shift in connection.execute(query):
        reader = index.get(shift.radiologist_id)
        if reader is not None:  # unavailable radiologists were not loaded
            pieces[reader].append(
                (minutes_between(origin, shift.start), minutes_between(origin, shift.end))
            )
    return [_joined(p) for p in pieces]


def _joined(pieces: list[tuple[float, float]]) -> list[tuple[float, float]]:
    joined: list[tuple[float, float]] = []
    for a, b in sorted(pieces):
        if joined and a <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], b))
        else:
            joined.append((a, b))
    return joined


def _classes_sent(
    connection: Connection, facility_ids: list[str], origin: datetime
) -> dict[str, list[WorkClass]]:
    """Per facility, the kinds of work it sent in the 30 days before `origin`."""
    if not facility_ids:
        return {}
    query = (
        select(
            _studies.facility,
            _studies.modality,
            _studies.subspecialty,
            _studies.subspecialty_required,
        )
        .where(
            _studies.facility.in_(facility_ids),
            _studies.received_at >= origin - HISTORY,
            _studies.received_at < origin,
        )
        .distinct()
    )
    found: dict[str, set[WorkClass]] = {}
    for row in connection.execute(query):
        work = (Modality(row.modality), row.subspecialty if row.subspecialty_required else None)
        found.setdefault(row.facility, set()).add(work)
    return {
        facility: sorted(works, key=lambda w: (w[0].value if w[0] else "", w[1] or ""))
        for facility, works in found.items()
    }


def _in_scope(column: Any, facilities: frozenset[str] | None) -> ColumnElement[bool]:
    return column.in_(sorted(facilities)) if facilities is not None else true()
