"""Correcting and cancelling a study the sender got wrong, before anyone starts it.

A correction (`PATCH /v1/studies/{id}`) changes what the sender said about an unstarted study
(priority, modality, subspecialty, ...): its due time follows its new priority and the live
plan is re-decided, since the study may now belong in another queue. A cancellation takes an
unstarted study out of every queue for good (state `cancelled`, kept for the record and left
out of every report). Both are audited with the fields before and after. A study being read
or already reported is refused with 409: its reader has it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.api import StudyIn, StudyOut, StudyPatch
from models.priority import DEFAULT_READ_MINUTES, Modality, Priority
from models.tables import FACILITY, STUDY, UNSTARTED, Role, StudyStatus
from nighthawk.kernel import due_at
from nighthawk.service import audit
from nighthawk.service.auth import Principal
from nighthawk.service.db import lock_plan, write_transaction
from nighthawk.service.errors import Conflict, Unprocessable
from nighthawk.service.practice import facility_model
from nighthawk.service.views import study_out

if TYPE_CHECKING:
    from nighthawk.service.assignment import AssignmentService

# What a re-post is compared on, field by field: the row stores what the sender said.
_SENT_FIELDS = (
    "modality",
    "priority",
    "subspecialty",
    "subspecialty_required",
    "body_part",
    "procedure",
    "patient_ref",
    "expected_minutes",
    "received_at",
)
# Left out of a post, these are the service's to fill in, so leaving them out is no difference.
_FILLED_IN = {"expected_minutes", "received_at"}


def differences(existing: Any, body: StudyIn) -> list[tuple[str, str]]:
    """(field, message) for each field a re-post says differently from the study as it stands
    (after any correction). A patient reference is said to differ, never echoed."""
    found = []
    sent = body.model_dump(mode="json")
    stored = study_out(existing).model_dump(mode="json")
    for name in _SENT_FIELDS:
        now, before = sent[name], stored[name]
        if now == before or (now is None and name in _FILLED_IN):
            continue
        if name == "patient_ref":
            found.append((name, "differs from the study already received"))
        else:
            found.append((name, f"sent {_said(now)}; already received with {_said(before)}"))
    return found


def _said(value: Any) -> str:
    return "nothing" if value is None else json.dumps(value)


def correct(
    service: AssignmentService, principal: Principal, study_id: str, body: StudyPatch
) -> StudyOut:
    now = service.clock.now()
    with write_transaction(service.engine) as connection, service.cache.lock:
        row = service.lock_study(connection, principal, study_id)
        _require_unstarted(row, "corrected")
        values = _corrected(connection, row, body)
        if not values:
            return study_out(row, site=principal.role is Role.SITE)
        epoch = lock_plan(connection)
        service.update_study(connection, row, values)
        audit.record(
            connection,
            at=now,
            actor=principal.name,
            action="study.corrected",
            study_id=study_id,
            before={name: _jsonable(getattr(row, name)) for name in values},
            after={name: _jsonable(value) for name, value in values.items()},
            reason=body.reason,
        )
        # The study may now belong in another queue (or none): re-decide the live plan.
        service.reconsider(
            connection, epoch, now, actor=audit.ENGINE_ACTOR, reason=f"study {study_id} corrected"
        )
        written = connection.execute(select(STUDY).where(STUDY.c.id == study_id)).one()
    return study_out(written, site=principal.role is Role.SITE)


def _corrected(connection: Connection, row: Any, body: StudyPatch) -> dict[str, Any]:
    """The row's new values: only the fields that change, and what follows from them."""
    sent = {name: getattr(body, name) for name in body.model_fields_set - {"reason"}}
    values: dict[str, Any] = {}
    for name, value in sent.items():
        stored = getattr(row, name)
        if isinstance(value, Priority | Modality):
            value = value.value
        if value != stored:
            values[name] = value
    required = values.get("subspecialty_required", row.subspecialty_required)
    if required and not values.get("subspecialty", row.subspecialty):
        raise Unprocessable("subspecialty", "required when subspecialty_required is true")
    # A read time the service filled in from the old modality follows the new one.
    if (
        "modality" in values
        and "expected_minutes" not in sent
        and row.expected_minutes == DEFAULT_READ_MINUTES[Modality(row.modality)]
    ):
        values["expected_minutes"] = DEFAULT_READ_MINUTES[Modality(values["modality"])]
    if "priority" in values:
        facility = connection.execute(select(FACILITY).where(FACILITY.c.id == row.facility)).one()
        values["due_at"] = due_at(
            row.received_at, Priority(values["priority"]), facility_model(facility).sla_minutes
        )
    return values


def cancel(
    service: AssignmentService, principal: Principal, study_id: str, reason: str | None
) -> StudyOut:
    """Withdraw an unstarted study; cancelling a cancelled study again changes nothing."""
    now = service.clock.now()
    with write_transaction(service.engine) as connection, service.cache.lock:
        row = service.lock_study(connection, principal, study_id)
        if row.status == StudyStatus.CANCELLED.value:
            return study_out(row, site=principal.role is Role.SITE)
        _require_unstarted(row, "cancelled")
        epoch = lock_plan(connection)
        live = service.live(connection, epoch, now)
        with service.cache.changing(connection, epoch):
            live.dispatcher.cancel(study_id)
            live.forecast.remove(live.dispatcher.studies.index[study_id])
            live.view.studies.pop(study_id, None)
            values = {
                "status": StudyStatus.CANCELLED.value,
                "assigned_to": None,
                "predicted_start": None,
                "predicted_finish": None,
                "queue_rank": 0.0,
                "pinned": False,
                "uncovered_reason": None,
            }
            written = service.update_study(connection, row, values)
            audit.record(
                connection,
                at=now,
                actor=principal.name,
                action="study.cancelled",
                study_id=study_id,
                before={"status": row.status, "assigned_to": row.assigned_to},
                after={"status": StudyStatus.CANCELLED.value},
                reason=reason,
            )
    service.changed.set()
    return study_out(written, site=principal.role is Role.SITE)


def _require_unstarted(row: Any, doing: str) -> None:
    status = StudyStatus(row.status)
    if status in UNSTARTED:
        return
    if status is StudyStatus.READING:
        raise Conflict(
            f"study {row.id} is being read by {row.assigned_to}; only an unstarted study can "
            f"be {doing}"
        )
    raise Conflict(f"study {row.id} is {row.status}; only an unstarted study can be {doing}")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
