"""The practice's roster: facilities, radiologists, shifts and availability.

Each change runs under the plan lock and then re-considers the plan at once: work a reader can
no longer do is handed to someone else, and uncovered studies are retried.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from models.api import (
    AvailabilityIn,
    AvailabilityOut,
    FacilityIn,
    FacilityOut,
    RadiologistIn,
    RadiologistOut,
    ShiftIn,
    ShiftOut,
)
from models.tables import FACILITY, RADIOLOGIST, SHIFT
from nighthawk.service import audit, availability
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import Principal
from nighthawk.service.db import lock_plan, read_transaction, write_transaction
from nighthawk.service.errors import NotFound, Unprocessable
from nighthawk.service.views import facility_out, radiologist_out


class RosterService:
    def __init__(self, assignments: AssignmentService) -> None:
        self.assignments = assignments
        self.engine = assignments.engine
        self.clock = assignments.clock

    def put_facility(self, principal: Principal, facility_id: str, body: FacilityIn) -> FacilityOut:
        now = self.clock.now()
        sla = body.sla_minutes
        values = {
            "name": body.name,
            "state": body.state,
            "timezone": body.timezone,
            "sla_stat": sla.STAT if sla else None,
            "sla_urgent": sla.URGENT if sla else None,
            "sla_routine": sla.ROUTINE if sla else None,
            "updated_at": now,
            "aliases": list(body.aliases),
        }
        with write_transaction(self.engine) as connection, self.assignments.cache.lock:
            epoch = lock_plan(connection)
            _require_unique_aliases(connection, facility_id, body.aliases)
            before = _facility(connection, facility_id)
            if before is not None and before.state != body.state:
                # Studies carry the state the patient was in; moving a facility would rewrite
                # history that licenses were checked against.
                raise Unprocessable(
                    "state", f"facility {facility_id} is in {before.state}; states do not move"
                )
            if before is None:
                connection.execute(insert(FACILITY).values(id=facility_id, **values))
            else:
                connection.execute(
                    update(FACILITY).where(FACILITY.c.id == facility_id).values(**values)
                )
            self._audit(
                connection,
                now,
                principal,
                "facility.put",
                f"facility:{facility_id}",
                _facility_dict(before),
                values,
            )
            self.assignments.reconsider(
                connection, epoch, now, actor=principal.name, reason="facility contract changed"
            )
            return facility_out(_facility(connection, facility_id))

    def get_facility(self, facility_id: str) -> FacilityOut:
        with read_transaction(self.engine) as connection:
            row = _facility(connection, facility_id)
        if row is None:
            raise NotFound(f"facility {facility_id} not found")
        return facility_out(row)

    def put_radiologist(
        self, principal: Principal, radiologist_id: str, body: RadiologistIn
    ) -> RadiologistOut:
        now = self.clock.now()
        values = {
            "name": body.name,
            "licenses": [_dated(item.state, "state", item.expires_on) for item in body.licenses],
            "credentials": [
                _dated(item.facility, "facility", item.expires_on) for item in body.credentials
            ],
            "subspecialties": list(body.subspecialties),
            "modalities": [m.value for m in body.modalities],
            "speed": body.speed,
            "updated_at": now,
        }
        with write_transaction(self.engine) as connection, self.assignments.cache.lock:
            epoch = lock_plan(connection)
            require_known_facilities(connection, [c.facility for c in body.credentials])
            before = _radiologist(connection, radiologist_id)
            if before is None:
                connection.execute(
                    insert(RADIOLOGIST).values(id=radiologist_id, available=True, **values)
                )
            else:
                connection.execute(
                    update(RADIOLOGIST).where(RADIOLOGIST.c.id == radiologist_id).values(**values)
                )
            self._audit(
                connection,
                now,
                principal,
                "radiologist.put",
                f"radiologist:{radiologist_id}",
                _row_dict(before),
                values,
            )
            self.assignments.reconsider(
                connection,
                epoch,
                now,
                actor=principal.name,
                reason=f"{radiologist_id}'s licenses, credentials or skills changed",
                readers={radiologist_id},
            )
            return radiologist_out(_radiologist(connection, radiologist_id))

    def get_radiologist(self, radiologist_id: str) -> RadiologistOut:
        with read_transaction(self.engine) as connection:
            row = _radiologist(connection, radiologist_id)
        if row is None:
            raise NotFound(f"radiologist {radiologist_id} not found")
        return radiologist_out(row)

    def add_shift(self, principal: Principal, radiologist_id: str, body: ShiftIn) -> ShiftOut:
        now = self.clock.now()
        shift_id = uuid.uuid4().hex
        with write_transaction(self.engine) as connection, self.assignments.cache.lock:
            epoch = lock_plan(connection)
            if _radiologist(connection, radiologist_id) is None:
                raise NotFound(f"radiologist {radiologist_id} not found")
            connection.execute(
                insert(SHIFT).values(
                    id=shift_id, radiologist_id=radiologist_id, start=body.start, end=body.end
                )
            )
            after = {"start": body.start.isoformat(), "end": body.end.isoformat()}
            self._audit(
                connection,
                now,
                principal,
                "shift.created",
                f"shift:{shift_id}",
                None,
                {"radiologist": radiologist_id, **after},
            )
            self.assignments.reconsider(
                connection, epoch, now, actor=principal.name, reason="roster changed"
            )
        return ShiftOut(id=shift_id, radiologist=radiologist_id, start=body.start, end=body.end)

    def delete_shift(self, principal: Principal, shift_id: str) -> None:
        now = self.clock.now()
        with write_transaction(self.engine) as connection, self.assignments.cache.lock:
            epoch = lock_plan(connection)
            row = connection.execute(select(SHIFT).where(SHIFT.c.id == shift_id)).first()
            if row is None:
                raise NotFound(f"shift {shift_id} not found")
            connection.execute(delete(SHIFT).where(SHIFT.c.id == shift_id))
            before = {
                "radiologist": row.radiologist_id,
                "start": row.start.isoformat(),
                "end": row.end.isoformat(),
            }
            self._audit(
                connection, now, principal, "shift.deleted", f"shift:{shift_id}", before, None
            )
            self.assignments.reconsider(
                connection,
                epoch,
                now,
                actor=principal.name,
                reason=f"shift of {row.radiologist_id} removed",
            )

    def set_availability(
        self, principal: Principal, radiologist_id: str, body: AvailabilityIn
    ) -> AvailabilityOut:
        return availability.set_availability(self.assignments, principal, radiologist_id, body)

    def _audit(
        self,
        connection: Connection,
        now: datetime,
        principal: Principal,
        action: str,
        entity: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        audit.record(
            connection,
            at=now,
            actor=principal.name,
            action=action,
            entity=entity,
            before=_jsonable(before),
            after=_jsonable(after),
            reason=reason,
            on_behalf_of=on_behalf_of or principal.radiologist,
        )


def require_known_facilities(
    connection: Connection, facilities: list[str], *, field: str = "credentials"
) -> None:
    """Each of `facilities` (the `field` list's items) names a contracted facility; a typo
    would silently credential (or forecast) nothing."""
    known = set(
        connection.execute(select(FACILITY.c.id).where(FACILITY.c.id.in_(set(facilities))))
        .scalars()
        .all()
    )
    for index, facility in enumerate(facilities):
        if facility not in known:
            raise Unprocessable(f"{field}[{index}].facility", f"unknown facility {facility!r}")


def _require_unique_aliases(connection: Connection, facility_id: str, aliases: list[str]) -> None:
    """An alias names one facility: an order matched by it must not be able to land at two.
    It may not be another facility's id either, since a location is matched against both."""
    rows = connection.execute(
        select(FACILITY.c.id, FACILITY.c.aliases).where(FACILITY.c.id != facility_id)
    ).all()
    taken = {name: row.id for row in rows for name in [row.id, *row.aliases]}
    for index, alias in enumerate(aliases):
        if alias in taken:
            raise Unprocessable(
                f"aliases[{index}]", f"{alias!r} already names facility {taken[alias]}"
            )


def _facility(connection: Connection, facility_id: str) -> Any:
    return connection.execute(select(FACILITY).where(FACILITY.c.id == facility_id)).first()


def _radiologist(connection: Connection, radiologist_id: str) -> Any:
    return connection.execute(select(RADIOLOGIST).where(RADIOLOGIST.c.id == radiologist_id)).first()


def _dated(key: str, name: str, expires_on: Any) -> dict[str, str | None]:
    return {name: key, "expires_on": expires_on.isoformat() if expires_on else None}


def _facility_dict(row: Any) -> dict[str, Any] | None:
    return None if row is None else _jsonable(dict(row._mapping))


def _row_dict(row: Any) -> dict[str, Any] | None:
    return None if row is None else _jsonable(dict(row._mapping))


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
