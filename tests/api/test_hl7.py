"""HL7 v2 orders over MLLP, on real loopback sockets, on SQLite and PostgreSQL.

The listener runs inside the app (its lifespan), on the test client's event loop, so it shares
the service and its live plan exactly as under `nighthawk serve --hl7-port`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from nighthawk.service.clock import ManualClock
from nighthawk.service.settings import ServiceSettings
from tests.api.conftest import ADMIN_TOKEN, NOW, Api
from tests.dump import DatabaseDump, difference
from tests.e2e.server import free_port
from tests.mllp import (
    BIRTH_DATE,
    END,
    PATIENT_ID,
    PATIENT_NAME,
    START,
    MllpClient,
    ack_fields,
    omi,
    orm,
    segment,
)


@dataclass
class Hl7:
    api: Api
    port: int
    database_url: str

    def client(self) -> MllpClient:
        return MllpClient(self.port)

    def study(self, accession: str) -> Any:
        items = self.api.call("GET", f"/v1/studies?accession={accession}", status=200)["items"]
        return items[0] if items else None

    def dump(self) -> list[str]:
        dump = DatabaseDump(self.database_url)
        try:
            return dump.take()
        finally:
            dump.close()


@pytest.fixture
def hl7(database_url: str) -> Iterator[Hl7]:
    clock = ManualClock(NOW)
    port = free_port()
    settings = ServiceSettings(db=database_url, admin_token=ADMIN_TOKEN, jobs=False, hl7_port=port)
    with TestClient(create_app(settings, clock=clock)) as client:
        api = Api(client, clock)
        api.facility("fac-1", aliases=["HOSP-A"])
        api.facility("fac-2", state="CO")
        api.radiologist("rad-1", subspecialties=["neuro"])
        api.call(
            "PUT",
            "/v1/procedure-codes",
            {"codes": {"CTHEAD": {"subspecialty": "neuro", "subspecialty_required": True}}},
            200,
        )
        yield Hl7(api, port, database_url)


def msa(ack: str) -> list[str]:
    return ack_fields(ack)["MSA"]


def test_a_new_orm_order_is_received_and_assigned(hl7: Hl7) -> None:
    with hl7.client() as mllp:
        ack = mllp.send(orm("CTRL-1"))
    assert msa(ack)[1:3] == ["AA", "CTRL-1"]
    assert ack_fields(ack)["MSH"][8] == "ACK^O01"
    study = hl7.study("ACC-1")
    assert study["facility"] == "fac-1"  # MSH-4 HOSP-A is fac-1's alias
    assert (study["modality"], study["priority"]) == ("CT", "STAT")
    assert study["procedure"] == "CT head without contrast"
    assert (study["subspecialty"], study["subspecialty_required"]) == ("neuro", True)
    assert study["state"] == "WY"  # the facility's state: licensing follows the facility
    assert study["patient_ref"].startswith("ph_")
    assert study["assigned_to"] == "rad-1"  # placed on arrival, the fast path
    audit = hl7.api.call("GET", f"/v1/audit?study={study['id']}", status=200)["items"]
    assert any(e["action"] == "study.received" and e["actor"] == "hl7" for e in audit)


def test_a_new_omi_order_reads_ipc_tq1_and_the_location(hl7: Hl7) -> None:
    # MSH-4 is nobody's alias; PV1-3.4 names the facility by its id.
    with hl7.client() as mllp:
        ack = mllp.send(omi("OMI-1", facility="UNKNOWN-RIS", location="fac-2"))
    assert msa(ack)[1:3] == ["AA", "OMI-1"]
    study = hl7.study("ACC-2")
    assert (study["facility"], study["modality"], study["priority"]) == ("fac-2", "MR", "URGENT")
    assert study["procedure"] == "MR brain"
    assert study["subspecialty"] is None  # MRBRAIN is not in the procedure-code map


def test_xo_corrects_and_ca_oc_dc_cancel_an_unstarted_order(hl7: Hl7) -> None:
    with hl7.client() as mllp:
        assert msa(mllp.send(orm("C-1")))[1] == "AA"
        before = hl7.study("ACC-1")
        ack = mllp.send(orm("C-2", control="XO", priority="R", modality="MR"))
        assert msa(ack)[1] == "AA"
        after = hl7.study("ACC-1")
        assert (after["priority"], after["modality"]) == ("ROUTINE", "MR")
        assert after["due_at"] > before["due_at"]
        for index, control in enumerate(("CA", "OC", "DC")):
            # The first cancels; cancelling a cancelled study again changes nothing.
            ack = mllp.send(orm(f"C-3{index}", control=control))
            assert msa(ack)[1] == "AA", ack
            assert hl7.study("ACC-1")["status"] == "cancelled"
    audit = hl7.api.call("GET", f"/v1/audit?study={after['id']}", status=200)["items"]
    actions = {(e["action"], e["actor"]) for e in audit}
    assert {("study.corrected", "hl7"), ("study.cancelled", "hl7")} <= actions


def test_sc_is_recorded_and_changes_nothing(hl7: Hl7) -> None:
    with hl7.client() as mllp:
        mllp.send(orm("S-1"))
        before = hl7.study("ACC-1")
        assert msa(mllp.send(orm("S-2", control="SC", priority="R")))[1] == "AA"
    after = hl7.study("ACC-1")
    assert after == before
    audit = hl7.api.call("GET", f"/v1/audit?study={after['id']}", status=200)["items"]
    assert any(e["action"] == "hl7.status_changed" and e["actor"] == "hl7" for e in audit)


BAD = {
    "unknown facility": (orm("B-1", facility="NOWHERE", location="nowhere"), "AE", "MSH^1^4"),
    "no accession": (orm("B-2", accession=""), "AE", "OBR^1^18"),
    "unknown modality": (orm("B-3", modality="ZZ"), "AE", "OBR^1^24"),
    "unknown order control": (orm("B-4", control="ZZ"), "AE", "ORC^1^1"),
    "change to an unknown order": (orm("B-5", control="XO", accession="NONE"), "AE", "OBR^1^18"),
    "unsupported message type": (orm("B-6", kind="ADT^A01"), "AR", "MSH^1^9"),
    "garbage": ("this is not HL7 at all", "AR", ""),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_its_ack_and_stores_nothing(hl7: Hl7, case: str) -> None:
    message, code, location = BAD[case]
    before = hl7.dump()
    with hl7.client() as mllp:
        ack = mllp.send(message)
        fields = ack_fields(ack)
        assert fields["MSA"][1] == code, ack
        assert fields["ERR"][2] == location, ack
        if case != "garbage":
            assert fields["MSA"][2] == message.split("|")[9]  # MSA-2 is the MSH-10 sent
        assert hl7.dump() == before, difference(before, hl7.dump())
        # The connection survives: the next message on it is taken.
        assert msa(mllp.send(orm("GOOD-1")))[1] == "AA"
    assert hl7.study("ACC-1") is not None


def test_an_unknown_facility_names_both_places_looked(hl7: Hl7) -> None:
    with hl7.client() as mllp:
        ack = mllp.send(orm("F-1", facility="NOWHERE", location="nowhere"))
    err = ack_fields(ack)["ERR"]
    assert "MSH-4" in err[8] and "PV1-3.4" in err[8]


def test_a_message_over_one_mib_is_refused(hl7: Hl7) -> None:
    before = hl7.dump()
    huge = orm("HUGE-1") + "\r" + segment("NTE", {1: "1", 3: "x" * (1_048_576 + 10)})
    with hl7.client() as mllp:
        ack = mllp.send(huge)
        assert msa(ack)[1] == "AR"
    assert hl7.dump() == before
    with hl7.client() as mllp:  # the listener goes on for everyone else
        assert msa(mllp.send(orm("AFTER-HUGE")))[1] == "AA"


def test_an_unframed_block_is_refused_and_the_connection_goes_on(hl7: Hl7) -> None:
    with hl7.client() as mllp:
        assert msa(mllp.send_raw(orm("NOSTART").encode() + END))[1] == "AR"
        assert msa(mllp.send_raw(START + orm("FRAMED").encode() + END))[1] == "AA"


def test_a_resent_message_or_order_is_acknowledged_and_stored_once(hl7: Hl7) -> None:
    with hl7.client() as mllp:
        assert msa(mllp.send(orm("DUP-1")))[1:3] == ["AA", "DUP-1"]
        after_first = hl7.dump()
        assert msa(mllp.send(orm("DUP-1")))[1:3] == ["AA", "DUP-1"]  # the same MSH-10
        assert msa(mllp.send(orm("DUP-2")))[1:3] == ["AA", "DUP-2"]  # the same order again
    studies = hl7.api.call("GET", "/v1/studies?accession=ACC-1", status=200)["items"]
    assert len(studies) == 1
    # Only the second control id is new; no study, no audit entry twice.
    added = sorted(set(hl7.dump()) - set(after_first))
    assert len(added) == 1 and "DUP-2" in added[0], added


def test_a_resent_order_with_other_content_is_an_error(hl7: Hl7) -> None:
    with hl7.client() as mllp:
        mllp.send(orm("DIFF-1"))
        ack = mllp.send(orm("DIFF-2", modality="MR"))
    assert msa(ack)[1] == "AE" and "XO" not in ack  # a change is an XO; this is a new order
    assert hl7.study("ACC-1")["modality"] == "CT"


def test_no_patient_fact_is_stored_or_logged(hl7: Hl7, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with hl7.client() as mllp:
        mllp.send(orm("P-1"))
        mllp.send(omi("P-2"))
        mllp.send(orm("P-3", modality="ZZ", accession="ACC-9"))  # refused ones too
    stored = "\n".join(hl7.dump())
    logged = caplog.text
    for secret in (PATIENT_ID, PATIENT_NAME, BIRTH_DATE, "Cheyenne", "1 Main St"):
        assert secret not in stored, secret
        assert secret not in logged, secret
    assert "hl7: ORM^O01 P-1 from RIS^HOSP-A -> AA" in logged  # what is logged instead
    first, second = hl7.study("ACC-1"), hl7.study("ACC-2")
    assert first["patient_ref"] == second["patient_ref"]  # still one patient


def test_facility_aliases_are_unique_across_facilities(hl7: Hl7) -> None:
    api = hl7.api
    taken = api.call(
        "PUT",
        "/v1/facilities/fac-2",
        {"name": "B", "state": "CO", "timezone": "America/Denver", "aliases": ["HOSP-A"]},
        422,
    )
    assert taken["errors"][0]["field"] == "aliases[0]"
    assert "fac-1" in taken["detail"]
    assert api.call("GET", "/v1/facilities/fac-1", status=200)["aliases"] == ["HOSP-A"]


def test_procedure_codes_are_replaced_whole(hl7: Hl7) -> None:
    api = hl7.api
    body = {"codes": {"MRBRAIN": {"subspecialty": "Neuro"}}}
    assert api.call("PUT", "/v1/procedure-codes", body, 200) == {
        "codes": {"MRBRAIN": {"subspecialty": "neuro", "subspecialty_required": False}}
    }
    assert "CTHEAD" not in api.call("GET", "/v1/procedure-codes", status=200)["codes"]
    api.call("PUT", "/v1/procedure-codes", {"codes": {"bad code": {"subspecialty": "x"}}}, 422)
