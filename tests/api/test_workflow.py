"""Reading a study: start, complete, release, manual override, breaks and shift changes."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.radiologist("rad-1")
    api.radiologist("rad-2")
    return api


def _action(api: Api, study: str, verb: str, status: int, **body: object) -> dict:
    return api.call("POST", f"/v1/studies/{study}/{verb}", body, status)


def test_assigned_reader_starts_and_completes(practice: Api) -> None:
    study = practice.study("A1")
    reader = study["assigned_to"]
    assert _action(practice, study["id"], "start", 200, radiologist=reader)["status"] == "reading"
    practice.clock.advance(minutes=12)
    done = _action(practice, study["id"], "complete", 200, radiologist=reader, report="prelim")
    assert (done["status"], done["report"]) == ("reported", "prelim")
    assert done["reported_at"] == "2026-12-01T06:12:00Z"
    final = _action(practice, study["id"], "complete", 200, radiologist=reader, report="final")
    assert final["reported_at"] == "2026-12-01T06:12:00Z"  # TAT runs to the first report
    _action(practice, study["id"], "complete", 409, radiologist=reader, report="final")


def test_only_the_assigned_reader_may_start(practice: Api) -> None:
    study = practice.study("A1")
    other = "rad-2" if study["assigned_to"] == "rad-1" else "rad-1"
    problem = _action(practice, study["id"], "start", 409, radiologist=other)
    assert "only the assigned reader" in problem["detail"]
    _action(practice, study["id"], "start", 200, radiologist=study["assigned_to"])
    _action(practice, study["id"], "start", 409, radiologist=study["assigned_to"])


def test_unknown_reader_in_a_body_is_422(practice: Api) -> None:
    study = practice.study("A1")
    problem = _action(practice, study["id"], "start", 422, radiologist="rad-99")
    assert problem["detail"].startswith("radiologist:")


def test_release_hands_the_study_to_someone_else(practice: Api) -> None:
    study = practice.study("A1")
    reader = study["assigned_to"]
    released = _action(practice, study["id"], "release", 200, radiologist=reader, reason="conflict")
    assert released["assigned_to"] not in (None, reader)
    audit = practice.call("GET", f"/v1/audit?study={study['id']}", status=200)["items"]
    assert [e["action"] for e in audit][-2:] == ["study.released", "study.assigned"]
    assert audit[-2]["reason"] == "conflict"


def test_manual_override_pins_the_study_and_is_audited(practice: Api) -> None:
    study = practice.study("A1")
    target = "rad-2" if study["assigned_to"] == "rad-1" else "rad-1"
    moved = _action(practice, study["id"], "assign", 200, radiologist=target, reason="knows pt")
    assert (moved["assigned_to"], moved["pinned"]) == (target, True)
    entry = practice.call("GET", f"/v1/audit?study={study['id']}", status=200)["items"][-1]
    assert entry["actor"] == "admin"
    assert entry["reason"] == "knows pt"
    assert entry["before"] == {"assigned_to": study["assigned_to"]}


def test_manual_override_to_an_ineligible_reader_lists_the_reasons(practice: Api) -> None:
    practice.radiologist("rad-3", licenses=["CO"], credentials=[])
    study = practice.study("A1")
    problem = _action(practice, study["id"], "assign", 422, radiologist="rad-3", reason="x")
    assert problem["detail"].startswith("radiologist:")
    assert set(problem["reasons"]) == {"not licensed in WY", "not credentialed at fac-1"}
    assert practice.get_study(study["id"])["assigned_to"] == study["assigned_to"]


def test_break_hands_unstarted_work_to_others(practice: Api) -> None:
    studies = [practice.study(f"A{i}") for i in range(4)]
    on_rad1 = [s["id"] for s in studies if s["assigned_to"] == "rad-1"]
    assert on_rad1
    result = practice.call(
        "POST", "/v1/radiologists/rad-1/availability", {"available": False, "reason": "break"}, 200
    )
    assert result["reassigned"] == len(on_rad1)
    assert {practice.get_study(s)["assigned_to"] for s in on_rad1} == {"rad-2"}
    worklist = practice.call("GET", "/v1/radiologists/rad-1/worklist", status=200)
    assert (worklist["available"], worklist["items"]) == (False, [])


def test_started_work_stays_with_its_reader_through_a_break(practice: Api) -> None:
    study = practice.study("A1")
    reader = study["assigned_to"]
    _action(practice, study["id"], "start", 200, radiologist=reader)
    practice.call(
        "POST",
        f"/v1/radiologists/{reader}/availability",
        {"available": False, "reason": "call"},
        200,
    )
    assert practice.get_study(study["id"])["assigned_to"] == reader


def test_deleting_a_shift_moves_its_work(practice: Api) -> None:
    practice.radiologist("rad-3", shift_hours=None)
    shift = practice.shift("rad-3", -1, 8)
    practice.call("POST", "/v1/radiologists/rad-1/availability", {"available": False}, 200)
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    study = practice.study("A1")
    assert study["assigned_to"] == "rad-3"
    practice.call("DELETE", f"/v1/shifts/{shift['id']}", status=204)
    assert practice.get_study(study["id"])["status"] == "uncovered"
    practice.call("DELETE", f"/v1/shifts/{shift['id']}", status=404)


def test_losing_a_license_moves_work_off_the_reader(practice: Api) -> None:
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    study = practice.study("A1")
    assert study["assigned_to"] == "rad-1"
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": True}, 200)
    practice.call(
        "PUT",
        "/v1/radiologists/rad-1",
        {"name": "Dr 1", "licenses": ["CO"], "credentials": []},
        200,
    )
    assert practice.get_study(study["id"])["assigned_to"] == "rad-2"


def test_worklist_is_in_reading_order_from_now(practice: Api) -> None:
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    routine = practice.study("R1", priority="ROUTINE")
    stat = practice.study("S1", priority="STAT")
    worklist = practice.call("GET", "/v1/radiologists/rad-1/worklist", status=200)
    assert [i["study"] for i in worklist["items"]] == [stat["id"], routine["id"]]
    first, second = worklist["items"]
    assert first["predicted_start"] == "2026-12-01T06:00:00Z"
    assert second["predicted_start"] == first["predicted_finish"]
    practice.clock.advance(minutes=30)
    later = practice.call("GET", "/v1/radiologists/rad-1/worklist", status=200)
    assert later["items"][0]["predicted_start"] == "2026-12-01T06:30:00Z"  # never in the past


def test_facility_cannot_move_state(practice: Api) -> None:
    body = {"name": "Moved", "state": "CO", "timezone": "America/Denver"}
    problem = practice.call("PUT", "/v1/facilities/fac-1", body, 422)
    assert problem["detail"].startswith("state:")


def test_shift_that_ends_before_it_starts_is_422(practice: Api) -> None:
    body = {"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T07:00:00Z"}
    problem = practice.call("POST", "/v1/radiologists/rad-1/shifts", body, 422)
    assert problem["detail"].startswith("end:")
    body = {"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T09:00:00Z"}
    assert practice.call("POST", "/v1/radiologists/nobody/shifts", body, 404)


def test_credential_at_an_unknown_facility_is_422(practice: Api) -> None:
    body = {"name": "Dr 9", "licenses": ["WY"], "credentials": ["fac-1", "fac-typo"]}
    problem = practice.call("PUT", "/v1/radiologists/rad-9", body, 422)
    assert problem["detail"] == "credentials[1].facility: unknown facility 'fac-typo'"
    assert practice.call("GET", "/v1/radiologists/rad-9", status=404)


def test_a_released_study_never_goes_back_to_its_reader(practice: Api) -> None:
    from nighthawk.service.replan import replan, watchdog

    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    study = practice.study("A1")
    assert study["assigned_to"] == "rad-1"
    released = _action(practice, study["id"], "release", 200, radiologist="rad-1", reason="coi")
    assert released["assigned_to"] is None
    assert "handed back by rad-1" in released["uncovered_reason"]
    for _ in range(2):
        watchdog(practice.runtime.assignments)
        replan(practice.runtime.assignments)
        practice.clock.advance(minutes=1)
    assert practice.get_study(study["id"])["assigned_to"] is None
    practice.runtime.assignments.cache.invalidate()  # a process restart rebuilds from the rows
    replan(practice.runtime.assignments)
    assert practice.get_study(study["id"])["assigned_to"] is None
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": True}, 200)
    assert practice.get_study(study["id"])["assigned_to"] == "rad-2"
    moved = _action(practice, study["id"], "assign", 200, radiologist="rad-1", reason="by hand")
    assert moved["assigned_to"] == "rad-1"  # only a coverage manager gives it back
