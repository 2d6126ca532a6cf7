"""Reading HL7 v2 order messages (ORM^O01 v2.3.1, OMI^O23 v2.5.1) into orders we act on.

Parsing is python-hl7's; this module only says where each fact lives and maps the hospital's
codes to ours. Nothing here touches the database, and nothing here keeps or logs a patient's
name, birth date or address: of PID only PID-3 is read, and only to be hashed downstream.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import hl7
from hl7.containers import Message, Segment

from models.priority import Modality, Priority

# Message types taken: ORM^O01 (IHE RAD-4/13, v2.3.1) and OMI^O23 (v2.5.1).
ACCEPTED_TYPES = {("ORM", "O01"), ("OMI", "O23")}
CREATE, CHANGE, STATUS = "NW", "XO", "SC"
CANCEL = frozenset({"CA", "OC", "DC"})
ORDER_CONTROLS = frozenset({CREATE, CHANGE, STATUS, *CANCEL})

# HL7 table 0027 (priority) to ours; a server setting may replace it.
DEFAULT_PRIORITIES: dict[str, Priority] = {
    "S": Priority.STAT,
    "A": Priority.URGENT,
    "T": Priority.URGENT,
    "R": Priority.ROUTINE,
    "P": Priority.ROUTINE,
}
# Where the accession is looked for, first found wins; a server setting may reorder it (some
# RIS put the accession only in ORC-3, the filler order number).
DEFAULT_ACCESSION_FIELDS = ("OBR-18", "IPC-1", "ORC-3")
# OBR-24 (HL7 table 0074, diagnostic service section) and IPC-5 (DICOM modality) to ours.
MODALITIES: dict[str, Modality] = {
    "CT": Modality.CT,
    "MR": Modality.MR,
    "MRI": Modality.MR,
    "NMR": Modality.MR,
    "US": Modality.US,
    "NM": Modality.NM,
    "NMS": Modality.NM,
    "PT": Modality.PET,
    "PET": Modality.PET,
    "XR": Modality.XR,
    "CR": Modality.XR,
    "DX": Modality.XR,
    "RX": Modality.XR,
    "MG": Modality.MG,
    "MAM": Modality.MG,
    "RF": Modality.FL,
    "FL": Modality.FL,
}
# A patient id is kept (hashed) only if it looks like an id: never a name pasted into PID-3.
_PATIENT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")


class Rejected(Exception):
    """The message as a whole is not one we take (AR): unparseable, or another type.
    `field` is where the fault is, when the message had a header to point into."""

    def __init__(self, message: str, field: str = "MSH-9", code: str = "200") -> None:
        super().__init__(message)
        self.field = field
        self.code = code  # HL7 table 0357: 200 unsupported message type


class ContentError(Exception):
    """A message we take, with a fact we cannot use (AE): `field` is where, e.g. OBR-18."""

    def __init__(self, field: str, message: str, code: str = "101") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code  # HL7 table 0357: 101 required field missing, 103 value not found


@dataclass(frozen=True)
class Header:
    """The MSH facts an ACK needs, and who sent the message."""

    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    control_id: str
    processing_id: str
    version: str
    message_type: str

    @property
    def sender(self) -> str:
        return f"{self.sending_application}^{self.sending_facility}"


@dataclass(frozen=True)
class Order:
    """One ORC group, as found: codes still the hospital's, except those mapped here."""

    control: str
    accession: str | None
    accession_field: str
    modality: Modality | None
    priority: Priority | None
    procedure_code: str | None
    procedure: str | None
    location: str | None


@dataclass(frozen=True)
class OrderMessage:
    header: Header
    # PID-3: (assigning authority or None, id), screened; hashed downstream, never logged.
    patient: tuple[str | None, str] | None
    orders: list[Order] = field(default_factory=list)


def parse_header(text: str) -> tuple[Message, Header]:
    """Parse the text and read its MSH; Rejected if it is not HL7 at all."""
    try:
        message = hl7.parse(_segments(text))
        msh = message.segment("MSH")
        header = Header(
            sending_application=component(msh, 3),
            sending_facility=component(msh, 4),
            receiving_application=component(msh, 5),
            receiving_facility=component(msh, 6),
            control_id=component(msh, 10),
            processing_id=component(msh, 11) or "P",
            version=component(msh, 12) or "2.5.1",
            message_type="^".join(
                part for part in (component(msh, 9, 1), component(msh, 9, 2)) if part
            ),
        )
    except Exception as error:  # python-hl7 raises several kinds on text that is not HL7
        raise Rejected("not an HL7 v2 message") from error
    return message, header


def read_orders(
    message: Message,
    header: Header,
    *,
    priorities: Mapping[str, Priority] = DEFAULT_PRIORITIES,
    accession_fields: Sequence[str] = DEFAULT_ACCESSION_FIELDS,
) -> OrderMessage:
    """The orders of an ORM^O01 or OMI^O23; Rejected for any other type."""
    kind = tuple(header.message_type.split("^")[:2])
    if kind not in ACCEPTED_TYPES:
        raise Rejected(f"message type {header.message_type or '(none)'} is not taken here")
    if not header.control_id:
        raise Rejected("MSH-10 (message control id) is empty", "MSH-10", "101")
    groups = _order_groups(message)
    if not groups:
        raise ContentError("ORC-1", "no ORC segment: nothing to order")
    pv1 = _first(message, "PV1")
    location = component(pv1, 3, 4) if pv1 is not None else ""
    orders = [_order(group, location or None, priorities, accession_fields) for group in groups]
    return OrderMessage(header, _patient(_first(message, "PID")), orders)


def component(segment: Segment, number: int, part: int = 1) -> str:
    """Field `number`'s first repetition's component `part` (first subcomponent), or "".

    python-hl7 raises IndexError for a component past a field's last one (`CT` asked for
    its 4th component): an absent component is empty here, as HL7 means it.
    """
    try:
        return str(segment.extract_field(1, number, 1, part)).strip()
    except IndexError:
        return ""


def _segments(text: str) -> str:
    # Segments end in CR; senders on some platforms write LF or CRLF instead.
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")


def _first(message: Message, name: str) -> Segment | None:
    return next((segment for segment in message if str(segment[0]) == name), None)


def _order_groups(message: Message) -> list[dict[str, Segment]]:
    """Each ORC with the first OBR, TQ1 and IPC that follow it (before the next ORC)."""
    groups: list[dict[str, Segment]] = []
    for segment in message:
        name = str(segment[0])
        if name == "ORC":
            groups.append({"ORC": segment})
        elif groups and name in ("OBR", "TQ1", "IPC"):
            groups[-1].setdefault(name, segment)
    return groups


def _value(group: dict[str, Segment], ref: str, part: int = 1) -> str:
    """`ref` like "OBR-18": that field's first repetition's component, or ""."""
    name, number = ref.split("-")
    segment = group.get(name)
    if segment is None:
        return ""
    return component(segment, int(number), part)


def _order(
    group: dict[str, Segment],
    location: str | None,
    priorities: Mapping[str, Priority],
    accession_fields: Sequence[str],
) -> Order:
    control = _value(group, "ORC-1").upper()
    if control not in ORDER_CONTROLS:
        raise ContentError("ORC-1", f"order control {control or '(empty)'!r} is not taken", "103")
    accession_field, accession = next(
        ((ref, _value(group, ref)) for ref in accession_fields if _value(group, ref)),
        (accession_fields[0], None),
    )
    code = _value(group, "OBR-4") or None
    text = _value(group, "OBR-4", 2) or code
    return Order(
        control=control,
        accession=accession,
        accession_field=accession_field,
        modality=_modality(group),
        priority=_priority(group, priorities),
        procedure_code=code,
        procedure=text[:200] if text else None,
        location=location,
    )


def _modality(group: dict[str, Segment]) -> Modality | None:
    for ref in ("OBR-24", "IPC-5"):
        code = _value(group, ref).upper()
        if not code:
            continue
        if code not in MODALITIES:
            raise ContentError(ref, f"modality {code[:16]!r} is not one we read", "103")
        return MODALITIES[code]
    return None


def _priority(group: dict[str, Segment], priorities: Mapping[str, Priority]) -> Priority | None:
    # TQ1-9 (v2.5) first; ORC-7.6 and OBR-27.6 are the v2.3.1 quantity/timing's priority.
    for ref, part in (("TQ1-9", 1), ("ORC-7", 6), ("OBR-27", 6)):
        code = _value(group, ref, part).upper()
        if not code:
            continue
        if code not in priorities:
            where = ref if part == 1 else f"{ref}.{part}"
            raise ContentError(where, f"priority {code[:16]!r} is not in the mapping", "103")
        return priorities[code]
    return None


def _patient(pid: Segment | None) -> tuple[str | None, str] | None:
    """PID-3.1 with its assigning authority PID-3.4 (an MRN is unique only within one); None
    unless both look like identifiers. Hashed downstream; never stored or logged as is."""
    if pid is None:
        return None
    number = component(pid, 3)
    authority = component(pid, 3, 4) or None
    if not _PATIENT_ID.match(number) or (authority and not _PATIENT_ID.match(authority)):
        return None
    return authority, number
