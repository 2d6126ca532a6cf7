"""Receiving studies: placement at once, idempotency, and bad input named by field."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1", sla_minutes={"STAT": 20})
    api.radiologist("rad-1")
    return api


def test_arrival_is_assigned_at_once_with_predictions(practice: Api) -> None:
    study = practice.study("A1", priority="STAT")
    assert study["status"] == "assigned"
    assert study["assigned_to"] == "rad-1"
    assert study["due_at"] == "2026-12-01T06:20:00Z"  # the facility's 20-minute STAT contract
    assert study["predicted_start"] == "2026-12-01T06:00:00Z"
    assert study["predicted_finish"] == "2026-12-01T06:16:00Z"  # CT defaults to 16 minutes


def test_same_accession_same_content_is_the_same_study(practice: Api) -> None:
    first = practice.study("A1")
    again = practice.study("A1", status=200)
    assert again["id"] == first["id"]
    listed = practice.call("GET", "/v1/studies?facility=fac-1", status=200)
    assert [s["id"] for s in listed["items"]] == [first["id"]]


def test_same_accession_different_content_is_a_conflict(practice: Api) -> None:
    practice.study("A1")
    problem = practice.study("A1", status=409, modality="MR")
    assert "different content" in problem["detail"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"priority": "LOW"}, "priority"),
        ({"modality": "XYZ"}, "modality"),
        ({"facility": "nowhere"}, "facility"),
        ({"patient_ref": "Jane Doe"}, "patient_ref"),
        ({"expected_minutes": -3}, "expected_minutes"),
        ({"expected_minutes": 1e300}, "expected_minutes"),
        ({"received_at": "2026-12-01T06:00:00"}, "received_at"),
        ({"received_at": "2030-01-01T00:00:00Z"}, "received_at"),
        ({"received_at": "2000-01-01T00:00:00Z"}, "received_at"),
        ({"subspecialty_required": True}, "subspecialty"),
        ({"patient_name": "Jane Doe"}, "patient_name"),
    ],
)
def test_bad_input_is_422_naming_the_field(practice: Api, fields: dict, field: str) -> None:
    problem = practice.study("A1", status=422, **fields)
    assert problem["detail"].startswith(f"{field}:"), problem
    listed = practice.call("GET", "/v1/studies", status=200)
    assert listed["items"] == []  # nothing half-stored


def test_body_over_the_cap_is_413(practice: Api) -> None:
    response = practice.client.post(
        "/v1/studies",
        content=b'{"facility": "' + b"x" * 2_000_000 + b'"}',
        headers={**practice.headers, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("body:")


def test_unknown_study_is_404(practice: Api) -> None:
    assert practice.call("GET", "/v1/studies/nope")["detail"] == "study nope not found"


def test_nobody_eligible_leaves_the_study_uncovered_with_the_reason(practice: Api) -> None:
    practice.facility("fac-2", state="CO")
    study = practice.study("B1", facility="fac-2")
    assert study["status"] == "uncovered"
    assert study["assigned_to"] is None
    assert "CO" in study["uncovered_reason"]


def test_uncovered_study_is_retried_when_the_roster_changes(practice: Api) -> None:
    practice.facility("fac-2", state="CO")
    study = practice.study("B1", facility="fac-2")
    practice.radiologist("rad-2", licenses=["CO"], credentials=["fac-2"])
    assert practice.get_study(study["id"])["assigned_to"] == "rad-2"


def test_work_predicted_to_breach_is_at_risk(practice: Api) -> None:
    studies = [practice.study(f"S{i}", priority="STAT") for i in range(3)]
    assert [s["status"] for s in studies] == ["assigned", "at_risk", "at_risk"]


def test_one_patients_studies_stay_with_one_reader(practice: Api) -> None:
    practice.radiologist("rad-2")
    first = practice.study("P1", patient_ref="pt-42")
    second = practice.study("P2", patient_ref="pt-42")
    assert second["assigned_to"] == first["assigned_to"]
    other = practice.study("Q1", patient_ref="pt-7")
    assert other["assigned_to"] != first["assigned_to"]  # balance still spreads other patients


def test_study_shows_why_it_went_where_it_did(practice: Api) -> None:
    practice.radiologist("rad-2", licenses=["CO"])
    study = practice.study("A1", priority="STAT")
    why = practice.get_study(study["id"])["why"]
    assert why["eligible_radiologists"] == 1
    assert "rad-1" in why["summary"]
    barred = {a["radiologist"]: a["reasons"] for a in why["alternatives"] if not a["eligible"]}
    assert "not licensed in WY" in barred["rad-2"]


def test_pages_follow_the_cursor(practice: Api) -> None:
    ids = [practice.study(f"A{i}")["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        query = "/v1/studies?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = practice.call("GET", query, status=200)
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert practice.call("GET", "/v1/studies?cursor=abc", status=422)["detail"].startswith("cursor")


def test_list_filters_by_status_and_priority(practice: Api) -> None:
    practice.study("A1", priority="STAT")
    practice.study("A2", priority="ROUTINE")
    stat = practice.call("GET", "/v1/studies?priority=STAT", status=200)["items"]
    assert [s["accession"] for s in stat] == ["A1"]
    bad = practice.call("GET", "/v1/studies?status=lost", status=422)
    assert bad["detail"].startswith("status:")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/studies", {"received_at": "0001-01-01T00:00:00+01:00"}, "received_at"),
        ("POST", "/v1/radiologists/rad-1/shifts", {"end": "9999-12-31T23:59:59-01:00"}, "end"),
        (
            "PUT",
            "/v1/radiologists/rad-1",
            {"licenses": [{"state": "WY", "expires_on": "9999-12-31"}]},
            "licenses[0].expires_on",
        ),
        ("GET", "/v1/sla?from=9999-12-31T23:00:00Z", None, "from"),
        ("GET", "/v1/studies?cursor=%C2%B3", None, "cursor"),
    ],
)
def test_edge_values_are_refused_by_field_not_crashing(
    practice: Api, method: str, path: str, body: dict | None, field: str
) -> None:
    """Found by schemathesis: far-off years overflowed date arithmetic; '³' passed isdigit."""
    defaults = {
        "/v1/studies": {
            "facility": "fac-1",
            "accession": "E1",
            "modality": "CT",
            "priority": "STAT",
        },
        "/v1/radiologists/rad-1/shifts": {"start": "2026-12-01T00:00:00Z"},
        "/v1/radiologists/rad-1": {"name": "Dr 1"},
    }
    payload = None if body is None else {**defaults[path], **body}
    problem = practice.call(method, path, payload, 422)
    assert problem["detail"].startswith(f"{field}:"), problem


def test_body_that_is_not_utf8_is_422(practice: Api) -> None:
    response = practice.client.post(
        "/v1/studies",
        content=b"\xff\x80",
        headers={**practice.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body:")


def test_an_unexpected_failure_is_a_500_problem_without_a_trace(
    practice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(practice.runtime.assignments, "ingest", broken)
    problem = practice.study("A1", status=500)
    assert problem == {
        "detail": "internal error; the request was not applied",
        "errors": [],
        "more_errors": 0,
        "reasons": [],
    }
    assert "disk on fire" not in str(problem)
    assert practice.call("GET", "/v1/studies", status=200)["items"] == []  # still serving
