"""An HL7 order through a real `nighthawk serve --hl7-port` process, over a real socket."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import (
    check,
    facility_body,
    free_port,
    own_database,
    running_server,
    seed_practice,
)
from tests.mllp import PATIENT_ID, PATIENT_NAME, MllpClient, ack_fields, orm

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_serve_takes_hl7_orders_beside_the_api(tmp_path: Path, kind: str) -> None:
    hl7_port = free_port()
    with (
        own_database(kind, tmp_path / "db") as url,
        running_server(url, tmp_path, jobs=False, args=["--hl7-port", str(hl7_port)]) as server,
        server.client() as client,
    ):
        seed_practice(client)
        body = {**facility_body("fac-1"), "aliases": ["HOSP-A"]}
        check(client.put("/v1/facilities/fac-1", json=body), 200)
        with MllpClient(hl7_port) as mllp:
            accepted = ack_fields(mllp.send(orm("E2E-1")))
            refused = ack_fields(mllp.send(orm("E2E-2", modality="ZZ", accession="ACC-9")))
        assert accepted["MSA"][1:3] == ["AA", "E2E-1"]
        assert refused["MSA"][1:3] == ["AE", "E2E-2"]
        studies = check(client.get("/v1/studies?accession=ACC-1"), 200)["items"]
        assert len(studies) == 1 and studies[0]["assigned_to"] in {"rad-1", "rad-2"}
        assert check(client.get("/v1/studies?accession=ACC-9"), 200)["items"] == []
    log = server.log_text()
    assert f"HL7 v2 orders (MLLP) on 127.0.0.1:{hl7_port}" in log
    assert "hl7: ORM^O01 E2E-1 from RIS^HOSP-A -> AA" in log
    assert PATIENT_ID not in log and PATIENT_NAME not in log
