"""Continuous assignment: the re-plan, the watchdog, the job lease; and the store's guarantees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from models.api import StudyIn
from models.tables import Role
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import Principal
from nighthawk.service.clock import ManualClock
from nighthawk.service.db import make_engine
from nighthawk.service.jobs import Jobs, JobSettings, Lease
from nighthawk.service.replan import replan, watchdog
from tests.api.conftest import NOW, Api


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.radiologist("rad-1")
    api.radiologist("rad-2")
    return api


def _statuses(api: Api, ids: list[str]) -> list[tuple[str, str | None]]:
    return [(api.get_study(s)["status"], api.get_study(s)["assigned_to"]) for s in ids]


def test_replan_keeps_started_and_pinned_work(practice: Api) -> None:
    ids = [practice.study(f"A{i}")["id"] for i in range(6)]
    started = practice.get_study(ids[0])
    practice.call(
        "POST", f"/v1/studies/{ids[0]}/start", {"radiologist": started["assigned_to"]}, 200
    )
    pinned = practice.get_study(ids[1])
    target = "rad-2" if pinned["assigned_to"] == "rad-1" else "rad-1"
    practice.call(
        "POST", f"/v1/studies/{ids[1]}/assign", {"radiologist": target, "reason": "x"}, 200
    )
    before = _statuses(practice, ids[:2])
    replan(practice.runtime.assignments, time_limit=0.5)
    assert _statuses(practice, ids[:2]) == before


def test_replan_of_a_settled_plan_moves_nothing(practice: Api) -> None:
    for i in range(8):
        practice.study(f"A{i}", priority=["STAT", "URGENT", "ROUTINE"][i % 3])
    replan(practice.runtime.assignments, time_limit=0.5)
    again = replan(practice.runtime.assignments, time_limit=0.5)
    assert again.moved == 0
    assert again.studies == 8


def test_replan_places_every_study_with_an_eligible_reader(practice: Api) -> None:
    practice.facility("fac-2", state="CO")
    practice.radiologist("rad-3", licenses=["CO"], credentials=["fac-2"])
    ids = [practice.study(f"A{i}", facility=f"fac-{1 + i % 2}")["id"] for i in range(10)]
    replan(practice.runtime.assignments, time_limit=0.5)
    for study_id in ids:
        study = practice.get_study(study_id)
        expected = {"rad-3"} if study["facility"] == "fac-2" else {"rad-1", "rad-2"}
        assert study["assigned_to"] in expected


def test_watchdog_flags_work_that_will_now_breach(practice: Api) -> None:
    study = practice.study("S1", priority="STAT")
    assert study["status"] == "assigned"
    practice.clock.advance(minutes=25)  # nobody started it; 16 minutes of reading remain
    watchdog(practice.runtime.assignments)
    assert practice.get_study(study["id"])["status"] == "at_risk"


def test_watchdog_moves_work_off_a_reader_whose_shift_ended(practice: Api) -> None:
    practice.radiologist("rad-3", shift_hours=None)
    practice.shift("rad-3", -1, 0.5)
    practice.call("POST", "/v1/radiologists/rad-1/availability", {"available": False}, 200)
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    study = practice.study("R1", priority="ROUTINE")
    assert study["assigned_to"] == "rad-3"
    practice.call("POST", "/v1/radiologists/rad-1/availability", {"available": True}, 200)
    practice.call(
        "POST", f"/v1/studies/{study['id']}/assign", {"radiologist": "rad-3", "reason": "x"}, 200
    )
    practice.clock.advance(minutes=45)
    result = watchdog(practice.runtime.assignments)
    assert result.handed_off == 1
    assert practice.get_study(study["id"])["assigned_to"] == "rad-1"


def test_scheduled_tick_replans_and_clears_the_change_flag(practice: Api) -> None:
    practice.study("A1")
    service = practice.runtime.assignments
    assert service.changed.is_set()
    jobs = Jobs(service, Lease(service.engine, practice.clock), JobSettings())
    jobs.tick()
    assert not service.changed.is_set()
    audit = practice.call("GET", "/v1/audit", status=200)["items"]
    assert any(e["action"] == "study.assigned" for e in audit)


def test_only_one_process_holds_the_job_lease(database_url: str) -> None:
    engine = make_engine(database_url)
    from nighthawk.service.db import migrate

    migrate(engine)
    clock = ManualClock(NOW)
    first, second = Lease(engine, clock), Lease(engine, clock)
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewal
    clock.advance(seconds=31)  # the first holder stopped renewing
    assert second.acquire()
    assert not first.acquire()
    second.release()
    assert first.acquire()
    engine.dispose()


def test_audit_log_refuses_updates_and_deletes(practice: Api) -> None:
    practice.study("A1")
    engine = practice.runtime.engine
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    entries = practice.call("GET", "/v1/audit", status=200)["items"]
    assert {e["actor"] for e in entries} >= {"admin", "engine"}


def test_migrations_build_exactly_the_models_schema(practice: Api) -> None:
    with practice.runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_times_are_stored_in_utc_whatever_offset_was_sent(practice: Api) -> None:
    study = practice.study("A1", received_at="2026-11-30T22:50:00-07:00")
    assert study["received_at"] == "2026-12-01T05:50:00Z"
    assert study["due_at"] == (NOW - timedelta(minutes=10) + timedelta(hours=24)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_watchdog_moves_work_a_reader_can_no_longer_finish_before_shift_end(
    practice: Api,
) -> None:
    practice.radiologist("rad-3", shift_hours=None)
    practice.shift("rad-3", -1, 20 / 60)  # ends in 20 minutes
    for reader in ("rad-1", "rad-2"):
        practice.call("POST", f"/v1/radiologists/{reader}/availability", {"available": False}, 200)
    study = practice.study("C1", modality="CT")  # 16 minutes: fits now
    assert study["assigned_to"] == "rad-3"
    practice.call("POST", "/v1/radiologists/rad-1/availability", {"available": True}, 200)
    assert practice.get_study(study["id"])["assigned_to"] == "rad-3"  # no gain in moving yet
    practice.clock.advance(minutes=10)  # not started: it would now end 6 minutes past the shift
    assert watchdog(practice.runtime.assignments).handed_off == 1
    assert practice.get_study(study["id"])["assigned_to"] == "rad-1"


def test_two_processes_share_one_plan_through_the_epoch(practice: Api) -> None:
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    first = practice.study("S1", priority="STAT")
    # A second API process: its own live plan, the same database.
    other = AssignmentService(practice.runtime.engine, practice.clock)
    admin = Principal("admin", Role.ADMIN)
    body = StudyIn(facility="fac-1", accession="S2", modality="CT", priority="STAT")
    _ = other.ingest(admin, body)  # builds its plan from the database, seeing S1
    third = practice.study("S3", priority="STAT")  # the first process must see S2 in turn
    worklist = practice.call("GET", "/v1/radiologists/rad-1/worklist", status=200)["items"]
    assert worklist[0]["study"] == first["id"]
    finishes = [item["predicted_finish"] for item in worklist]
    assert third["predicted_start"] == finishes[1]  # after S1 and S2, not on top of S2


def test_every_move_a_replan_applies_is_in_the_audit(practice: Api) -> None:
    practice.radiologist("rad-3")
    ids = [practice.study(f"A{i}", priority=["STAT", "ROUTINE"][i % 2])["id"] for i in range(24)]
    practice.call("POST", "/v1/radiologists/rad-3/availability", {"available": False}, 200)
    practice.call("POST", "/v1/radiologists/rad-3/availability", {"available": True}, 200)
    replan(practice.runtime.assignments, time_limit=0.5)
    _assert_audit_matches_assignments(practice, ids)


def test_a_study_changed_meanwhile_keeps_its_change_and_the_rest_are_audited(
    practice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row another request changed after the refresh read it (its version moved) keeps what
    that request decided; every move the refresh did write is in the audit."""
    import nighthawk.service.refresh as refresh_module

    practice.radiologist("rad-3")
    ids = [practice.study(f"A{i}", priority=["STAT", "ROUTINE"][i % 2])["id"] for i in range(24)]
    practice.call("POST", "/v1/radiologists/rad-3/availability", {"available": False}, 200)
    practice.call("POST", "/v1/radiologists/rad-3/availability", {"available": True}, 200)
    lock = refresh_module.lock_unchanged
    raced = ids[0]

    def changed_by_someone_else(connection: Any, expected: dict[str, int]) -> set[str]:
        connection.execute(
            text("UPDATE study SET version = version + 1, queue_rank = -99 WHERE id = :id"),
            {"id": raced},
        )
        return lock(connection, expected)

    monkeypatch.setattr(refresh_module, "lock_unchanged", changed_by_someone_else)
    practice.runtime.assignments.cache.invalidate()  # the next refresh re-reads everything
    before = practice.get_study(raced)
    replan(practice.runtime.assignments, time_limit=0.5)
    after = practice.get_study(raced)
    assert after["assigned_to"] == before["assigned_to"]
    _assert_audit_matches_assignments(practice, ids)


def _assert_audit_matches_assignments(api: Api, ids: list[str]) -> None:
    """Each study's last audited assignment is where it is now: no move went unrecorded."""
    audit = api.call("GET", "/v1/audit?limit=1000", status=200)["items"]
    last_assigned = {}
    for entry in audit:
        if entry["action"] in ("study.assigned", "study.uncovered"):
            last_assigned[entry["study"]] = entry["after"]["assigned_to"]
    for study_id in ids:
        assert last_assigned[study_id] == api.get_study(study_id)["assigned_to"]
