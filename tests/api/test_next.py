"""`GET /v1/radiologists/{id}/next`: the live dispatcher's choice for a free reader, with its
why; `start` accepts it from them; their worklist agrees. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.facility("fac-2", state="CO")
    api.radiologist("rad-1")
    api.radiologist("rad-2")
    return api


def _next(api: Api, reader: str) -> dict:
    return api.call("GET", f"/v1/radiologists/{reader}/next", status=200)


def _start(api: Api, study: str, reader: str, status: int = 200) -> dict:
    return api.call("POST", f"/v1/studies/{study}/start", {"radiologist": reader}, status)


def _worklist(api: Api, reader: str) -> list[str]:
    items = api.call("GET", f"/v1/radiologists/{reader}/worklist", status=200)["items"]
    return [item["study"] for item in items if item["status"] != "reading"]


def test_next_hands_a_free_reader_their_study_with_why(practice: Api) -> None:
    study = practice.study("S1", priority="STAT")
    reader = study["assigned_to"]
    offer = _next(practice, reader)
    assert offer["study"]["id"] == study["id"]
    assert offer["reading"] is None and offer["reason"] is None
    why = offer["study"]["why"]
    assert "most urgent study they may start (STAT)" in why["summary"]
    assert why["eligible_radiologists"] == 2
    assert _worklist(practice, reader)[0] == study["id"]
    assert _start(practice, study["id"], reader)["status"] == "reading"


def test_a_busy_reader_gets_nothing_and_is_told_what_they_are_reading(practice: Api) -> None:
    study = practice.study("S1", priority="STAT")
    reader = study["assigned_to"]
    _start(practice, study["id"], reader)
    offer = _next(practice, reader)
    assert (offer["study"], offer["reading"], offer["reason"]) == (None, study["id"], "reading")


def test_a_reader_binds_late_to_work_planned_for_someone_still_busy(practice: Api) -> None:
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    first = practice.study("S1", priority="STAT")
    _start(practice, first["id"], "rad-1")
    waiting = practice.study("S2", priority="STAT")
    assert waiting["assigned_to"] == "rad-1"  # planned behind rad-1's read
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": True}, 200)
    offer = _next(practice, "rad-2")
    assert offer["study"]["id"] == waiting["id"]
    assert offer["study"]["assigned_to"] == "rad-2"
    assert _worklist(practice, "rad-2")[0] == waiting["id"]
    _start(practice, waiting["id"], "rad-2")
    audit = practice.call("GET", f"/v1/audit?study={waiting['id']}", status=200)["items"]
    assert [e["actor"] for e in audit][-1] == "admin"  # the start
    assert any((e["after"] or {}).get("assigned_to") == "rad-2" for e in audit)


def test_another_reader_may_not_take_a_free_readers_next(practice: Api) -> None:
    study = practice.study("S1", priority="STAT")
    owner = study["assigned_to"]
    other = "rad-2" if owner == "rad-1" else "rad-1"
    assert _next(practice, other)["study"] is None  # it is the free owner's, not theirs
    problem = _start(practice, study["id"], other, 409)
    assert "only the assigned reader may start it" in problem["detail"]


def test_next_reads_stat_that_can_still_make_it_before_one_already_lost(practice: Api) -> None:
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    busy = practice.study("R1", priority="ROUTINE", modality="MR")
    _start(practice, busy["id"], "rad-1")
    lost = practice.study("S1", priority="STAT")
    practice.clock.advance(minutes=25)
    saveable = practice.study("S2", priority="STAT")
    practice.call(
        "POST", f"/v1/studies/{busy['id']}/complete", {"radiologist": "rad-1", "report": "final"}
    )
    offer = _next(practice, "rad-1")
    assert offer["study"]["id"] == saveable["id"]  # a shared worklist would take the older
    assert lost["id"] in _worklist(practice, "rad-1")


def test_nothing_to_start_says_why(practice: Api) -> None:
    practice.call("POST", "/v1/radiologists/rad-1/availability", {"available": False}, 200)
    assert _next(practice, "rad-1")["reason"] == "not available"
    offer = _next(practice, "rad-2")
    assert offer["study"] is None
    assert offer["reason"].startswith("nothing waiting")
    practice.call("GET", "/v1/radiologists/rad-9/next", status=422)


def test_one_read_at_a_time(practice: Api) -> None:
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    first = practice.study("S1", priority="STAT")
    _start(practice, first["id"], "rad-1")
    second = practice.study("S2", priority="STAT")
    assert second["assigned_to"] == "rad-1"
    problem = _start(practice, second["id"], "rad-1", 409)
    assert "rad-1 is already reading study" in problem["detail"]
