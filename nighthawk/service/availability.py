"""A reader's availability: off now (until they say they are back), or away for a window
booked ahead (a break from 02:00 to 02:30).

Either way the plan is re-decided at once: work the reader can no longer finish before they
go is handed to someone else, and uncovered studies are retried. A booked absence cuts the
reader's shifts (`practice.cut`), so the planner sees them leave at its start and come back at
its end, like the end and start of a shift.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from models.api import AbsenceList, AbsenceOut, AvailabilityIn, AvailabilityOut
from models.tables import ABSENCE, RADIOLOGIST
from nighthawk.service import audit
from nighthawk.service.auth import Principal
from nighthawk.service.db import lock_plan, read_transaction, write_transaction
from nighthawk.service.errors import NotFound, Unprocessable

if TYPE_CHECKING:
    from nighthawk.service.assignment import AssignmentService

# A booked window may start a little in the past (the sender's clock); further is history.
MAX_PAST_START = timedelta(minutes=5)
MAX_BOOKING_AHEAD = timedelta(days=31)
# A booked absence is a break or a meeting inside shifts; longer time away is time off.
MAX_ABSENCE = timedelta(hours=24)


def set_availability(
    service: AssignmentService, principal: Principal, radiologist_id: str, body: AvailabilityIn
) -> AvailabilityOut:
    principal.act_as(radiologist_id)
    now = service.clock.now()
    if body.to is not None:
        _check_window(body.from_ or now, body.to, now)
    with write_transaction(service.engine) as connection, service.cache.lock:
        epoch = lock_plan(connection)
        before = connection.execute(
            select(RADIOLOGIST).where(RADIOLOGIST.c.id == radiologist_id)
        ).first()
        if before is None:
            raise NotFound(f"radiologist {radiologist_id} not found")
        absence = None
        if body.to is not None:
            start = body.from_ or now
            absence = _book(connection, radiologist_id, start, body.to, body.reason, now)
            change = f"{radiologist_id} away {_span(absence)}"
            after: dict[str, Any] = {"absence": _absence_dict(absence)}
            previous: dict[str, Any] | None = None
        else:
            ended = _end_current_absence(connection, radiologist_id, now) if body.available else 0
            connection.execute(
                update(RADIOLOGIST)
                .where(RADIOLOGIST.c.id == radiologist_id)
                .values(available=body.available, availability_reason=body.reason, updated_at=now)
            )
            change = (
                f"{radiologist_id} available again"
                if body.available
                else f"{radiologist_id} unavailable: {body.reason or 'no reason given'}"
            )
            previous = {"available": before.available, "reason": before.availability_reason}
            after = {"available": body.available, "reason": body.reason, "absences_ended": ended}
        audit.record(
            connection,
            at=now,
            actor=principal.name,
            action="radiologist.availability",
            entity=f"radiologist:{radiologist_id}",
            before=previous,
            after=after,
            reason=body.reason,
            on_behalf_of=radiologist_id,
        )
        moved = service.reconsider(connection, epoch, now, actor=principal.name, reason=change)
        available = before.available if absence is not None else body.available
    return AvailabilityOut(
        radiologist=radiologist_id,
        available=available,
        reason=before.availability_reason if absence is not None else body.reason,
        reassigned=moved,
        absence=absence,
    )


def cancel_absence(
    service: AssignmentService, principal: Principal, radiologist_id: str, absence_id: str
) -> None:
    """Call off a booked absence (or end the one under way now)."""
    principal.act_as(radiologist_id)
    now = service.clock.now()
    with write_transaction(service.engine) as connection, service.cache.lock:
        epoch = lock_plan(connection)
        row = connection.execute(
            select(ABSENCE).where(
                ABSENCE.c.id == absence_id, ABSENCE.c.radiologist_id == radiologist_id
            )
        ).first()
        if row is None or row.end <= now:
            raise NotFound(f"absence {absence_id} of {radiologist_id} not found (or over)")
        if row.start > now:
            connection.execute(delete(ABSENCE).where(ABSENCE.c.id == absence_id))
        else:
            connection.execute(update(ABSENCE).where(ABSENCE.c.id == absence_id).values(end=now))
        audit.record(
            connection,
            at=now,
            actor=principal.name,
            action="radiologist.absence_cancelled",
            entity=f"radiologist:{radiologist_id}",
            before={"absence": _absence_dict(absence_out(row))},
            after=None,
            on_behalf_of=radiologist_id,
        )
        service.reconsider(
            connection, epoch, now, actor=principal.name, reason=f"{radiologist_id} back"
        )


def list_absences(engine: Any, radiologist_id: str, now: datetime) -> AbsenceList:
    """The reader's absences not yet over, in time order."""
    with read_transaction(engine) as connection:
        if (
            connection.execute(
                select(RADIOLOGIST.c.id).where(RADIOLOGIST.c.id == radiologist_id)
            ).first()
            is None
        ):
            raise NotFound(f"radiologist {radiologist_id} not found")
        rows = connection.execute(
            select(ABSENCE)
            .where(ABSENCE.c.radiologist_id == radiologist_id, ABSENCE.c.end > now)
            .order_by(ABSENCE.c.start)
        ).all()
    return AbsenceList(items=[absence_out(row) for row in rows])


def absence_out(row: Any) -> AbsenceOut:
    return _absence(row.id, row.radiologist_id, row.start, row.end, row.reason)


def _absence(
    absence_id: str, radiologist: str, start: datetime, end: datetime, reason: str | None
) -> AbsenceOut:
    return AbsenceOut.model_validate(
        {"id": absence_id, "radiologist": radiologist, "from": start, "to": end, "reason": reason}
    )


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise Unprocessable("to", "must be after from")
    if start < now - MAX_PAST_START:
        raise Unprocessable("from", "is in the past; book what is ahead")
    if end - start > MAX_ABSENCE:
        raise Unprocessable(
            "to",
            f"an absence is at most {MAX_ABSENCE.total_seconds() / 3600:.0f} hours; longer is "
            "time off (remove the shifts)",
        )
    if start > now + MAX_BOOKING_AHEAD:
        raise Unprocessable("from", f"more than {MAX_BOOKING_AHEAD.days} days ahead")


def _book(
    connection: Connection,
    radiologist_id: str,
    start: datetime,
    end: datetime,
    reason: str | None,
    now: datetime,
) -> AbsenceOut:
    absence_id = uuid.uuid4().hex
    connection.execute(
        insert(ABSENCE).values(
            id=absence_id,
            radiologist_id=radiologist_id,
            start=max(start, now),
            end=end,
            reason=reason,
            created_at=now,
        )
    )
    return _absence(absence_id, radiologist_id, max(start, now), end, reason)


def _end_current_absence(connection: Connection, radiologist_id: str, now: datetime) -> int:
    """Back early: the absence under way ends now (bookings ahead stay)."""
    result = connection.execute(
        update(ABSENCE)
        .where(
            ABSENCE.c.radiologist_id == radiologist_id,
            ABSENCE.c.start <= now,
            ABSENCE.c.end > now,
        )
        .values(end=now)
    )
    return int(result.rowcount or 0)


def _span(absence: AbsenceOut) -> str:
    return f"{absence.from_:%Y-%m-%d %H:%M}-{absence.to:%H:%M} UTC" + (
        f": {absence.reason}" if absence.reason else ""
    )


def _absence_dict(absence: AbsenceOut) -> dict[str, Any]:
    return absence.model_dump(mode="json", by_alias=True)
