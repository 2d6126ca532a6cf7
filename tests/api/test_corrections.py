"""Finding, correcting and cancelling a study; listing the practice; why a study went where.

Each test is a finding of an integrator's first week (issue 13), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, iso
from tests.api.test_hardening import site_token


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.radiologist("rad-1")
    api.radiologist("rad-2")
    return api


def _action(api: Api, study: str, verb: str, status: int, **body: object) -> Any:
    return api.call("POST", f"/v1/studies/{study}/{verb}", body, status)


def _as(api: Api, token: str, method: str, path: str, body: Any = None) -> Any:
    return api.client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


# ----- a re-post that differs names what differs and the study -----------------------------
def test_a_repost_with_a_priority_upgrade_names_the_field_and_the_study(practice: Api) -> None:
    first = practice.study("WY-1", priority="ROUTINE", body_part="head")
    problem = practice.study("WY-1", status=409, priority="STAT", body_part="head")
    assert problem["study"] == first["id"]
    assert problem["errors"] == [
        {"field": "priority", "message": 'sent "STAT"; already received with "ROUTINE"'}
    ]
    assert f"PATCH /v1/studies/{first['id']}" in problem["detail"]


def test_a_repost_never_echoes_the_patient_reference(practice: Api) -> None:
    practice.study("WY-1", patient_ref="pt-1")
    problem = practice.study("WY-1", status=409, patient_ref="pt-2")
    assert problem["errors"] == [
        {"field": "patient_ref", "message": "differs from the study already received"}
    ]
    assert "pt-" not in str(problem)


def test_the_same_study_again_is_a_retry(practice: Api) -> None:
    first = practice.study("WY-1", expected_minutes=20)
    again = practice.study("WY-1", status=200, expected_minutes=20)
    assert again["id"] == first["id"]
    # Leaving out what the service fills in is no difference.
    assert practice.study("WY-1", status=200)["id"] == first["id"]


# ----- correcting an unstarted study ------------------------------------------------------
def test_a_priority_correction_moves_the_due_time_and_is_audited(practice: Api) -> None:
    study = practice.study("WY-1", priority="ROUTINE")
    body = {"priority": "STAT", "reason": "ED called: trauma"}
    corrected = practice.call("PATCH", f"/v1/studies/{study['id']}", body, 200)
    assert corrected["priority"] == "STAT"
    assert corrected["due_at"] < study["due_at"]
    assert corrected["version"] > study["version"]
    assert corrected["assigned_to"] in ("rad-1", "rad-2")
    entries = practice.call("GET", f"/v1/audit?study={study['id']}", status=200)["items"]
    change = next(e for e in entries if e["action"] == "study.corrected")
    assert change["before"]["priority"] == "ROUTINE"
    assert change["after"]["priority"] == "STAT"
    assert change["reason"] == "ED called: trauma"
    # The corrected study is what a re-post is compared with now.
    assert practice.study("WY-1", status=200, priority="STAT")["id"] == study["id"]


def test_a_modality_correction_takes_the_new_modalitys_read_time(practice: Api) -> None:
    study = practice.study("WY-1", modality="XR")
    corrected = practice.call("PATCH", f"/v1/studies/{study['id']}", {"modality": "MR"}, 200)
    assert corrected["modality"] == "MR"
    assert corrected["expected_minutes"] > study["expected_minutes"]


def test_a_correction_is_refused_once_the_study_is_started(practice: Api) -> None:
    study = practice.study("WY-1")
    _action(practice, study["id"], "start", 200, radiologist=study["assigned_to"])
    problem = practice.call("PATCH", f"/v1/studies/{study['id']}", {"priority": "STAT"}, 409)
    assert "being read" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"reason": "only a reason"}, "body"),
        ({"priority": None}, "priority"),
        ({"subspecialty_required": True}, "subspecialty"),
        ({"priority": "SOON"}, "priority"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_correction_names_the_field_and_changes_nothing(
    practice: Api, body: dict[str, Any], field: str
) -> None:
    study = practice.study("WY-1")
    problem = practice.call("PATCH", f"/v1/studies/{study['id']}", body, 422)
    assert problem["errors"][0]["field"] == field
    assert practice.get_study(study["id"])["version"] == study["version"]


# ----- cancelling --------------------------------------------------------------------------
def test_a_cancelled_study_leaves_every_queue_and_every_report(practice: Api) -> None:
    study = practice.study("WY-1", priority="STAT")
    reader = study["assigned_to"]
    cancelled = _action(practice, study["id"], "cancel", 200, reason="ordered in error")
    assert (cancelled["status"], cancelled["assigned_to"]) == ("cancelled", None)
    worklist = practice.call("GET", f"/v1/radiologists/{reader}/worklist", status=200)
    assert study["id"] not in [item["study"] for item in worklist["items"]]
    practice.clock.advance(hours=2)  # long past its due time: still not a breach
    sla = practice.call("GET", "/v1/sla", status=200)
    assert all(row["studies"] == 0 for row in sla["by_priority"])
    again = _action(practice, study["id"], "cancel", 200)
    assert again["version"] == cancelled["version"]  # cancelling twice changes nothing
    _action(practice, study["id"], "start", 409, radiologist=reader)
    entries = practice.call("GET", f"/v1/audit?study={study['id']}", status=200)["items"]
    assert [e["reason"] for e in entries if e["action"] == "study.cancelled"] == [
        "ordered in error"
    ]


def test_a_study_being_read_cannot_be_cancelled(practice: Api) -> None:
    study = practice.study("WY-1")
    _action(practice, study["id"], "start", 200, radiologist=study["assigned_to"])
    assert "being read" in _action(practice, study["id"], "cancel", 409)["detail"]


# ----- finding a study, and refusing filters that do not exist -----------------------------
def test_studies_are_found_by_accession(practice: Api) -> None:
    wanted = practice.study("WY-1")
    practice.study("WY-2")
    page = practice.call("GET", "/v1/studies?accession=WY-1", status=200)
    assert [item["id"] for item in page["items"]] == [wanted["id"]]
    mine = practice.call("GET", f"/v1/studies?assigned_to={wanted['assigned_to']}", status=200)
    assert wanted["id"] in [item["id"] for item in mine["items"]]


@pytest.mark.parametrize(
    "path", ["/v1/studies?acession=WY-1", "/v1/sla?form=2026-12-01T00:00:00Z", "/v1/facilities?x=1"]
)
def test_an_unknown_query_parameter_is_a_422_naming_it(practice: Api, path: str) -> None:
    problem = practice.call("GET", path, status=422)
    assert problem["errors"][0]["message"] == "unknown query parameter"
    assert problem["errors"][0]["field"] == path.split("?")[1].split("=")[0]


def test_an_unknown_query_parameter_from_a_stranger_is_still_a_401(practice: Api) -> None:
    response = practice.client.get("/v1/studies?acession=WY-1")
    assert response.status_code == 401


# ----- listing the practice ---------------------------------------------------------------
def test_facilities_radiologists_and_shifts_are_listed(practice: Api) -> None:
    practice.facility("fac-0", state="CO")
    facilities = practice.call("GET", "/v1/facilities", status=200)["items"]
    assert [f["id"] for f in facilities] == ["fac-0", "fac-1"]
    readers = practice.call("GET", "/v1/radiologists", status=200)["items"]
    assert [r["id"] for r in readers] == ["rad-1", "rad-2"]
    added = practice.shift("rad-1", 30, 38)  # tomorrow night
    shifts = practice.call("GET", "/v1/shifts?radiologist=rad-1", status=200)["items"]
    assert added["id"] in [s["id"] for s in shifts]
    assert all(s["radiologist"] == "rad-1" for s in shifts)
    later = practice.clock.now().replace(hour=0)
    window = f"/v1/shifts?from={iso(later)}&to={iso(later.replace(day=2))}"
    assert added["id"] not in [s["id"] for s in practice.call("GET", window, status=200)["items"]]
    too_long = f"/v1/shifts?from={iso(later)}&to={iso(later.replace(year=2027, month=6))}"
    assert practice.call("GET", too_long, status=422)["errors"][0]["field"] == "to"


# ----- why a study went where it did, kept -------------------------------------------------
def test_why_is_given_on_arrival_and_kept_through_reading_and_report(practice: Api) -> None:
    study = practice.study("WY-1", priority="STAT")
    assert study["why"] is not None
    assert study["assigned_to"] in study["why"]["summary"]
    assert study["why"]["eligible_radiologists"] == 2
    reader = study["assigned_to"]
    _action(practice, study["id"], "start", 200, radiologist=reader)
    assert practice.get_study(study["id"])["why"]["summary"] == study["why"]["summary"]
    _action(practice, study["id"], "complete", 200, radiologist=reader, report="final")
    assert practice.get_study(study["id"])["why"]["summary"] == study["why"]["summary"]


def test_next_keeps_the_rule_that_handed_the_study_over(practice: Api) -> None:
    practice.study("WY-1")
    handed = practice.call("GET", "/v1/radiologists/rad-1/next", status=200)["study"]
    if handed is None:
        handed = practice.call("GET", "/v1/radiologists/rad-2/next", status=200)["study"]
    reader = handed["assigned_to"]
    _action(practice, handed["id"], "start", 200, radiologist=reader)
    assert practice.get_study(handed["id"])["why"]["summary"] == handed["why"]["summary"]


def test_an_uncovered_study_says_why_in_its_why(practice: Api) -> None:
    practice.facility("fac-tx", state="TX")
    study = practice.study("TX-1", facility="fac-tx")
    assert study["status"] == "uncovered"
    assert study["why"]["summary"] == study["uncovered_reason"]
    assert "licensed in TX" in study["why"]["summary"]


def test_a_manual_assignment_keeps_who_did_it_and_why(practice: Api) -> None:
    study = practice.study("WY-1")
    other = "rad-2" if study["assigned_to"] == "rad-1" else "rad-1"
    moved = _action(practice, study["id"], "assign", 200, radiologist=other, reason="knows case")
    assert "by hand" in moved["why"]["summary"] and "knows case" in moved["why"]["summary"]


def test_a_sites_why_names_no_reader(practice: Api) -> None:
    token = site_token(practice, "fac-1")
    body = {"facility": "fac-1", "accession": "S-1", "modality": "CT", "priority": "STAT"}
    made = _as(practice, token, "POST", "/v1/studies", body).json()
    assert made["why"] is not None
    assert "rad-" not in str(made["why"])
    _action(practice, made["id"], "start", 200, radiologist=made["assigned_to"])
    seen = _as(practice, token, "GET", f"/v1/studies/{made['id']}").json()
    assert seen["why"] is not None and "rad-" not in str(seen["why"])
    listed = _as(practice, token, "GET", "/v1/studies").json()["items"]
    assert "rad-" not in str([item["why"] for item in listed])
