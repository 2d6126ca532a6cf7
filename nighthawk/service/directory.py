"""Listing the practice: its facilities, radiologists and shifts (read-only)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from models.api import FacilityList, RadiologistList, ShiftList, ShiftOut
from models.tables import FACILITY, RADIOLOGIST, SHIFT
from nighthawk.service.db import read_transaction
from nighthawk.service.views import facility_out, radiologist_out

# A shift listing covers at most this much of the roster at once.
MAX_SHIFT_WINDOW = timedelta(days=92)
DEFAULT_SHIFT_WINDOW = timedelta(days=7)


def list_facilities(engine: Engine) -> FacilityList:
    with read_transaction(engine) as connection:
        rows = connection.execute(select(FACILITY).order_by(FACILITY.c.id)).all()
    return FacilityList(items=[facility_out(row) for row in rows])


def list_radiologists(engine: Engine) -> RadiologistList:
    with read_transaction(engine) as connection:
        rows = connection.execute(select(RADIOLOGIST).order_by(RADIOLOGIST.c.id)).all()
    return RadiologistList(items=[radiologist_out(row) for row in rows])


def list_shifts(
    engine: Engine, *, start: datetime, end: datetime, radiologist: str | None
) -> ShiftList:
    """Shifts overlapping [start, end), by start."""
    query = (
        select(SHIFT)
        .where(SHIFT.c.end > start, SHIFT.c.start < end)
        .order_by(SHIFT.c.start, SHIFT.c.radiologist_id, SHIFT.c.id)
    )
    if radiologist is not None:
        query = query.where(SHIFT.c.radiologist_id == radiologist)
    with read_transaction(engine) as connection:
        rows = connection.execute(query).all()
    return ShiftList(
        items=[
            ShiftOut(id=row.id, radiologist=row.radiologist_id, start=row.start, end=row.end)
            for row in rows
        ]
    )
