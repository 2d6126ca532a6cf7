"""Where each fact of an HL7 order is read from, message by message (no database)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.priority import Modality, Priority
from nighthawk.service.hl7.ack import ack
from nighthawk.service.hl7.orders import (
    ContentError,
    OrderMessage,
    Rejected,
    parse_header,
    read_orders,
)
from tests.api.conftest import NOW
from tests.mllp import msh, omi, orm, segment


def read(text: str, **options: object) -> OrderMessage:
    message, header = parse_header(text)
    return read_orders(message, header, **options)  # type: ignore[arg-type]


def test_orm_reads_obr18_obr24_orc7_and_obr4() -> None:
    order = read(orm("M-1")).orders[0]
    assert (order.control, order.accession, order.accession_field) == ("NW", "ACC-1", "OBR-18")
    assert (order.modality, order.priority) == (Modality.CT, Priority.STAT)
    assert (order.procedure_code, order.procedure) == ("CTHEAD", "CT head without contrast")


def test_omi_reads_ipc1_ipc5_and_tq1() -> None:
    order = read(omi("M-2", priority="T")).orders[0]
    assert (order.accession, order.accession_field) == ("ACC-2", "IPC-1")
    assert (order.modality, order.priority) == (Modality.MR, Priority.URGENT)


def test_priority_falls_back_from_orc_to_obr27_and_is_absent_otherwise() -> None:
    base = [msh("M-3"), segment("ORC", {1: "NW", 3: "FILLER-7"})]
    obr27 = segment("OBR", {1: "1", 24: "DX", 27: "^^^^^A"})
    order = read("\r".join([*base, obr27])).orders[0]
    assert order.priority is Priority.URGENT and order.modality is Modality.XR
    assert (order.accession, order.accession_field) == ("FILLER-7", "ORC-3")
    bare = read("\r".join([*base, segment("OBR", {1: "1", 24: "CT"})])).orders[0]
    assert bare.priority is None


def test_the_priority_map_and_accession_fields_are_configurable() -> None:
    text = orm("M-4", priority="P")
    assert read(text, priorities={"P": Priority.URGENT}).orders[0].priority is Priority.URGENT
    order = read(text, accession_fields=("ORC-2",)).orders[0]
    assert (order.accession, order.accession_field) == ("P-ACC-1", "ORC-2")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (orm("E-1", modality="ZZ"), "OBR-24"),
        (orm("E-2", priority="Q"), "ORC-7.6"),
        (orm("E-3", control="RE"), "ORC-1"),
        (msh("E-4"), "ORC-1"),
    ],
)
def test_content_errors_name_their_field(text: str, field: str) -> None:
    with pytest.raises(ContentError) as raised:
        read(text)
    assert raised.value.field == field


def test_other_types_and_non_hl7_are_rejected() -> None:
    with pytest.raises(Rejected):
        read(orm("R-1", kind="ORU^R01"))
    with pytest.raises(Rejected):
        parse_header("PID|1||123")


def test_pid3_is_kept_only_when_it_looks_like_an_id() -> None:
    assert read(orm("P-1")).patient == ("HOSPA", "MRN4711")
    named = orm("P-2").replace("MRN4711^^^HOSPA^MR", "DOE, JOHN")
    assert read(named).patient is None


def test_an_ack_never_carries_a_separator_from_the_text() -> None:
    _, header = parse_header(orm("A-1"))
    text = ack(header, "AE", now=NOW, control_id="X", text="bad|field^here", field="OBR-18")
    lines = text.decode().split("\r")
    assert lines[1].split("|") == ["MSA", "AE", "A-1", "bad field here"]
    assert lines[2].split("|")[2] == "OBR^1^18"


_FIELD_TEXT = st.text(alphabet="AB1^&~\\ |", max_size=12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    fields=st.dictionaries(st.integers(1, 30), _FIELD_TEXT, max_size=8),
    name=st.sampled_from(["PID", "PV1", "ORC", "OBR", "TQ1", "IPC"]),
)
def test_any_field_content_is_read_or_refused_never_a_crash(
    fields: dict[int, str], name: str
) -> None:
    """Whatever a segment holds, the reader answers with an order or a named refusal."""
    text = orm("H-1") + "\r" + segment(name, fields)
    with contextlib.suppress(ContentError, Rejected):
        assert read(text).orders
