"""HL7 v2 orders into the assignment service: one message in, one ACK out.

ORC-1 `NW` receives the study (`AssignmentService.ingest`, the REST arrival's path), `XO`
corrects what is still unstarted (`correct`), `CA`/`OC`/`DC` cancel it (`cancel`), `SC` is
audited. Every order of a message is checked before any is applied, so a content error stores
nothing. The ACK is built only after the service's transactions have committed. The listener
acts as one principal, role `worklist`, named `hl7`: the audit names it.

Never logged or stored: the message text, or any patient fact (PID-3 is passed on only to be
hashed by the service, as a REST `patient_ref` is).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hl7.containers import Message
from pydantic import ValidationError
from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from models.api import StudyIn, StudyPatch
from models.priority import Priority
from models.tables import FACILITY, HL7_MESSAGE, STUDY, Role
from nighthawk.service import audit, procedures
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import Principal
from nighthawk.service.db import read_transaction, write_transaction
from nighthawk.service.errors import ServiceError, Unprocessable
from nighthawk.service.hl7.ack import (
    ACCEPTED,
    APPLICATION_ERROR,
    ERROR,
    REJECTED,
    ack,
)
from nighthawk.service.hl7.orders import (
    CANCEL,
    CHANGE,
    CREATE,
    DEFAULT_ACCESSION_FIELDS,
    DEFAULT_PRIORITIES,
    ContentError,
    Header,
    Order,
    OrderMessage,
    Rejected,
    parse_header,
    read_orders,
)

log = logging.getLogger("nighthawk.hl7")

PRINCIPAL = Principal(name="hl7", role=Role.WORKLIST)
_SEEN = select(HL7_MESSAGE.c.ack_code).where(
    HL7_MESSAGE.c.sender == bindparam("sender"),
    HL7_MESSAGE.c.control_id == bindparam("control_id"),
)
_STUDY = select(STUDY.c.id).where(
    STUDY.c.facility == bindparam("facility"), STUDY.c.accession == bindparam("accession")
)


@dataclass(frozen=True)
class Answer:
    ack: bytes
    code: str


@dataclass(frozen=True)
class _Step:
    """One order, checked and ready to apply."""

    order: Order
    apply: Callable[[], None]


class Hl7Intake:
    def __init__(
        self,
        service: AssignmentService,
        *,
        priorities: Mapping[str, Priority] = DEFAULT_PRIORITIES,
        accession_fields: Sequence[str] = DEFAULT_ACCESSION_FIELDS,
    ) -> None:
        self.service = service
        self.priorities = dict(priorities)
        self.accession_fields = tuple(accession_fields)

    def handle(self, block: bytes) -> Answer:
        """The ACK for one MLLP block (the message without its framing)."""
        now = self.service.clock.now()
        control_id = uuid.uuid4().hex[:20]
        header: Header | None = None

        def refuse(code: str, text: str, field: str | None, error_code: str) -> Answer:
            body = ack(
                header,
                code,
                now=now,
                control_id=control_id,
                text=text,
                field=field,
                error_code=error_code,
            )
            return self._answer(header, code, body)

        try:
            message, header = parse_header(_decode(block))
            code = self._take(message, header)
            return self._answer(header, code, ack(header, code, now=now, control_id=control_id))
        except Rejected as error:
            if header is None:
                return refuse(REJECTED, str(error), None, "100")
            return refuse(REJECTED, str(error), error.field, error.code)
        except ContentError as error:
            return refuse(ERROR, error.message, error.field, error.code)
        except Exception as error:
            # Named by type only: an exception's text may quote the message.
            log.error("hl7: internal error on a message: %s", type(error).__name__)
            return refuse(ERROR, "internal error; resend", None, APPLICATION_ERROR)

    def _take(self, message: Message, header: Header) -> str:
        """Check every order, then apply them; the ACK code (a resend gets the first's)."""
        # One read transaction for "seen before?" and every check; each service call that
        # follows commits its own, and the message is remembered only once they all have.
        with read_transaction(self.service.engine) as connection:
            seen = _seen(connection, header)
            if seen is not None:
                return seen
            order_message = read_orders(
                message,
                header,
                priorities=self.priorities,
                accession_fields=self.accession_fields,
            )
            steps = self._check(connection, order_message)
        for step in steps:
            step.apply()
        self._remember(header, ACCEPTED)
        return ACCEPTED

    def _answer(self, header: Header | None, code: str, body: bytes) -> Answer:
        if header is None:
            log.info("hl7: unreadable message -> %s", code)
        else:
            log.info(
                "hl7: %s %s from %s -> %s",
                header.message_type,
                header.control_id,
                header.sender,
                code,
            )
        return Answer(body, code)

    # --- checking every order before any is applied -------------------------------------

    def _check(self, connection: Connection, message: OrderMessage) -> list[_Step]:
        facility = _facility(connection, message)
        steps = []
        for order in message.orders:
            if order.accession is None:
                raise ContentError(order.accession_field, "no accession number")
            study = connection.execute(
                _STUDY, {"facility": facility, "accession": order.accession}
            ).scalar()
            coded = (
                procedures.lookup(connection, order.procedure_code)
                if order.procedure_code
                else None
            )
            steps.append(self._step(message, facility, order, study, coded))
        return steps

    def _step(
        self, message: OrderMessage, facility: str, order: Order, study: str | None, coded: Any
    ) -> _Step:
        if order.control == CREATE:
            body = _study_in(message, facility, order, coded)
            return _Step(order, lambda: self._run(order, self.service.ingest, PRINCIPAL, body))
        if study is None:
            raise ContentError(
                order.accession_field, f"no order {order.accession} at {facility} to change", "103"
            )
        if order.control == CHANGE:
            patch = _patch(order, coded)
            if patch is None:
                return _Step(order, lambda: None)  # nothing we keep was changed
            return _Step(
                order, lambda: self._run(order, self.service.correct, PRINCIPAL, study, patch)
            )
        if order.control in CANCEL:
            reason = f"HL7 ORC-1 {order.control}"
            return _Step(
                order, lambda: self._run(order, self.service.cancel, PRINCIPAL, study, reason)
            )
        return _Step(order, lambda: self._status(study, order))

    def _run(self, order: Order, call: Callable[..., Any], *args: Any) -> None:
        try:
            call(*args)
        except Unprocessable as error:
            raise ContentError(_hl7_field(order, error.field), error.message) from None
        except ServiceError as error:
            raise ContentError(order.accession_field, error.detail, "207") from None

    def _status(self, study: str, order: Order) -> None:
        """SC: the hospital's order status changed; recorded, nothing else moves."""
        with write_transaction(self.service.engine) as connection:
            audit.record(
                connection,
                at=self.service.clock.now(),
                actor=PRINCIPAL.name,
                action="hl7.status_changed",
                study_id=study,
                after={"order_control": order.control},
            )

    # --- messages already taken ----------------------------------------------------------

    def _remember(self, header: Header, code: str) -> None:
        try:
            with write_transaction(self.service.engine) as connection:
                connection.execute(
                    insert(HL7_MESSAGE),
                    {
                        "sender": header.sender[:200],
                        "control_id": header.control_id[:200],
                        "ack_code": code,
                        "received_at": self.service.clock.now(),
                    },
                )
        except IntegrityError:
            pass  # the same message on another connection, taken at the same moment


def _seen(connection: Connection, header: Header) -> str | None:
    """The ACK code a message with this sender and MSH-10 already got, if any."""
    found = connection.execute(
        _SEEN, {"sender": header.sender[:200], "control_id": header.control_id[:200]}
    ).scalar()
    return None if found is None else str(found)


def _decode(block: bytes) -> str:
    # HL7's default character set is ASCII; senders that go beyond it mostly use UTF-8 or,
    # in older systems, Latin-1 (which decodes any byte).
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")


def _facility(connection: Connection, message: OrderMessage) -> str:
    """MSH-4 against the facilities' aliases, else PV1-3.4 against their ids and aliases."""
    rows = connection.execute(select(FACILITY.c.id, FACILITY.c.aliases)).all()
    by_alias = {alias: row.id for row in rows for alias in row.aliases}
    sender = message.header.sending_facility
    if sender in by_alias:
        return by_alias[sender]
    location = message.orders[0].location
    if location:
        ids = {row.id for row in rows}
        if location in ids:
            return location
        if location in by_alias:
            return by_alias[location]
    raise ContentError(
        "MSH-4",
        f"unknown facility {sender[:60]!r} (MSH-4), location {(location or '')[:60]!r} (PV1-3.4)",
        "103",
    )


def _study_in(message: OrderMessage, facility: str, order: Order, coded: Any) -> StudyIn:
    if order.modality is None:
        raise ContentError("OBR-24", "no modality (OBR-24 or IPC-5)")
    patient = message.patient
    fields: dict[str, Any] = {
        "facility": facility,
        "accession": order.accession,
        "modality": order.modality,
        "priority": order.priority or Priority.ROUTINE,
        "procedure": order.procedure,
        # Scoped by the assigning authority, else by the facility: an MRN is unique only there.
        "patient_ref": None if patient is None else f"{patient[0] or facility}:{patient[1]}",
    }
    if coded is not None:
        fields["subspecialty"] = coded.subspecialty
        fields["subspecialty_required"] = coded.subspecialty_required
    try:
        return StudyIn.model_validate(fields)
    except ValidationError as error:
        raise _content_error(order, error) from None


def _patch(order: Order, coded: Any) -> StudyPatch | None:
    fields: dict[str, Any] = {"reason": "HL7 ORC-1 XO"}
    if order.priority is not None:
        fields["priority"] = order.priority
    if order.modality is not None:
        fields["modality"] = order.modality
    if coded is not None:
        fields["subspecialty"] = coded.subspecialty
        fields["subspecialty_required"] = coded.subspecialty_required
    if len(fields) == 1:
        return None
    try:
        return StudyPatch.model_validate(fields)
    except ValidationError as error:
        raise _content_error(order, error) from None


def _content_error(order: Order, error: ValidationError) -> ContentError:
    # The message (never the input value, which pydantic keeps apart) of the first error.
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    return ContentError(_hl7_field(order, name), str(first["msg"]), "102")


def _hl7_field(order: Order, name: str) -> str:
    """Where in the message a StudyIn / StudyPatch field came from."""
    return {
        "facility": "MSH-4",
        "accession": order.accession_field,
        "modality": "OBR-24",
        "priority": "TQ1-9",
        "subspecialty": "OBR-4",
        "subspecialty_required": "OBR-4",
        "procedure": "OBR-4",
        "patient_ref": "PID-3",
    }.get(name, order.accession_field)
