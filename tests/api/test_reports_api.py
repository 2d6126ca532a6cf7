"""SLA, coverage and audit through the API, and what a site token may see."""

from __future__ import annotations

import pytest

from models.tables import Role
from nighthawk.service.auth import create_token
from tests.api.conftest import NOW, Api


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.facility("fac-2", state="CO")
    api.radiologist("rad-1", licenses=["WY", "CO"], credentials=["fac-1", "fac-2"])
    return api


def _read(api: Api, study: dict, minutes: float) -> None:
    reader = study["assigned_to"]
    api.call("POST", f"/v1/studies/{study['id']}/start", {"radiologist": reader}, 200)
    api.clock.advance(minutes=minutes)
    body = {"radiologist": reader, "report": "final"}
    api.call("POST", f"/v1/studies/{study['id']}/complete", body, 200)


def test_sla_counts_met_and_breached_with_tat(practice: Api) -> None:
    _read(practice, practice.study("A1", priority="STAT"), 20)  # due +30, reported +20: met
    _read(practice, practice.study("A2", priority="STAT"), 40)  # due +50, reported +60: late
    _read(practice, practice.study("A3", priority="STAT"), 25)  # due +90, reported +85: met
    report = practice.call("GET", "/v1/sla", status=200)
    stat = next(row for row in report["by_priority"] if row["priority"] == "STAT")
    assert (stat["studies"], stat["met"], stat["breached"]) == (3, 2, 1)
    assert stat["tat_p50_minutes"] == 25.0


def test_sla_window_must_run_forward(practice: Api) -> None:
    query = "/v1/sla?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z"
    assert practice.call("GET", query, status=422)["detail"].startswith("to:")
    assert practice.call("GET", "/v1/sla?from=yesterday", status=422)["detail"].startswith("from")


def test_coverage_marks_hours_nobody_eligible_is_on_shift(practice: Api) -> None:
    report = practice.call("GET", "/v1/coverage", status=200)
    hours = {f["facility"]: f["gap_hours"] for f in report["facilities"]}
    assert hours == {"fac-1": 16, "fac-2": 16}  # rad-1's shift ends 8 h from now
    first = report["facilities"][0]["hours"][0]
    assert first == {
        "start": "2026-12-01T06:00:00Z",
        "eligible_radiologists": ["rad-1"],
        "gap": False,
        "uncovered": [],
    }


def test_site_token_sees_only_its_own_facilities(practice: Api) -> None:
    own = practice.study("A1")
    other = practice.study("B1", facility="fac-2")
    token = create_token(
        practice.runtime.engine, name="mercy", role=Role.SITE, facilities=["fac-1"], now=NOW
    )
    site = {"Authorization": f"Bearer {token}"}
    client = practice.client
    assert client.get(f"/v1/studies/{own['id']}", headers=site).status_code == 200
    assert client.get(f"/v1/studies/{other['id']}", headers=site).status_code == 404
    listed = client.get("/v1/studies", headers=site).json()["items"]
    assert [s["id"] for s in listed] == [own["id"]]
    body = {"facility": "fac-2", "accession": "X", "modality": "CT", "priority": "STAT"}
    refused = client.post("/v1/studies", json=body, headers=site)
    assert (refused.status_code, refused.json()["detail"]) == (
        422,
        "facility: unknown facility 'fac-2'",
    )
    sla = client.get("/v1/sla", headers=site).json()
    assert {row["facility"] for row in sla["by_facility"]} == {"fac-1"}
    assert client.get("/v1/coverage", headers=site).status_code == 403
    assert client.get("/v1/audit", headers=site).status_code == 403
