"""Coverage-planning jobs through the API: queued at once, solved in the background, published
into the live roster once; bad input named by field; plans a stopped server left are failed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from api.app import create_app
from models.tables import AUDIT, JOB_LEASE, PLAN, SHIFT, Role
from nighthawk.service import plans as plans_module
from nighthawk.service.auth import create_token
from nighthawk.service.clock import ManualClock
from nighthawk.service.db import make_engine, migrate, read_transaction, write_transaction
from nighthawk.service.plans import INTERRUPTED, NO_DEMAND
from nighthawk.service.settings import ServiceSettings
from tests.api.conftest import ADMIN_TOKEN, NOW, Api, iso

# NOW is 23:00 on Monday 30 November in Denver; the plan starts at 17:00 that Monday.
PLAN_START = "2026-12-01T00:00:00Z"
PLAN_END = "2026-12-08T00:00:00Z"
TEMPLATES = [
    {"id": "day", "start": "06:00", "end": "18:00", "timezone": "America/Denver"},
    {"id": "night", "start": "18:00", "end": "06:00", "timezone": "America/Denver"},
]
ARRIVALS = [
    {"facility": "fac-1", "modality": "CT", "priority": "ROUTINE", "per_hour": 2},
    {"facility": "fac-2", "modality": "CT", "priority": "STAT", "per_hour": 1},
]
DONE = ("done", "failed")


def plan_body(**extra: Any) -> dict[str, Any]:
    body = {
        "start": PLAN_START,
        "shift_templates": TEMPLATES,
        "arrivals": ARRIVALS,
        "time_limit": 2,
        "recommendations": 0,
    }
    return {**body, **extra}


@pytest.fixture
def practice(api: Api) -> Api:
    """Two facilities in two states; nobody on shift until a plan is published."""
    api.facility("fac-1")
    api.facility("fac-2", state="CO")
    for reader in ("rad-1", "rad-3"):
        api.radiologist(
            reader, licenses=["WY", "CO"], credentials=["fac-1", "fac-2"], shift_hours=None
        )
    api.radiologist("rad-2", licenses=["WY"], credentials=["fac-1"], shift_hours=None)
    return api


def start(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.client.post("/v1/plans", json=body or plan_body(), headers=api.headers)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/plans/{created['id']}"
    return created


def wait(api: Api, plan_id: str, until: tuple[str, ...] = DONE, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = api.call("GET", f"/v1/plans/{plan_id}", status=200)
        if found["status"] in until:
            return found
        assert time.monotonic() < deadline, f"plan still {found['status']} after {timeout}s"
        time.sleep(0.1)


def planned(api: Api, body: dict[str, Any] | None = None) -> Any:
    done = wait(api, start(api, body)["id"])
    assert done["status"] == "done", done
    return done


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold every solve until the test opens the gate (the real planner runs after)."""
    opened = threading.Event()
    real = plans_module.plan

    def held(*args: Any, **kwargs: Any) -> Any:
        assert opened.wait(60), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(plans_module, "plan", held)
    yield opened
    opened.set()  # never leave the worker blocked


def _token(api: Api, role: Role) -> dict[str, str]:
    token = create_token(api.runtime.engine, name=f"t-{role.value}", role=role, now=NOW)
    return {"Authorization": f"Bearer {token}"}


# --- the job ----------------------------------------------------------------------------------


def test_plan_is_queued_at_once_and_solved_in_the_background(practice: Api) -> None:
    created = start(practice, plan_body(recommendations=2))
    assert created["status"] in ("queued", "running")
    assert created["created_by"] == "admin"
    assert created["request"]["start"] == PLAN_START
    assert created["request"]["weeks"] == 1
    assert created["metrics"] is None and created["shifts"] is None

    done = wait(practice, created["id"])
    assert done["status"] == "done", done
    assert done["error"] is None and done["published_at"] is None
    assert done["started_at"] and done["finished_at"]
    metrics = done["metrics"]
    assert metrics["status"] in ("OPTIMAL", "FEASIBLE")
    assert metrics["weeks"] == 1 and metrics["shifts"] == len(done["shifts"]) > 0
    assert metrics["demand_minutes"] > 0
    shift = done["shifts"][0]
    assert set(shift) == {"radiologist", "template", "start", "end", "start_local", "end_local"}
    assert shift["template"] in ("day", "night")
    assert shift["start"].endswith("Z") and shift["start_local"].endswith("-07:00")
    assert {s["radiologist"] for s in done["shifts"]} <= {"rad-1", "rad-2", "rad-3"}
    # Shifts overlap the week (the first may have begun before it, to cover its first hour).
    assert all(s["end"] > PLAN_START and s["start"] < PLAN_END for s in done["shifts"])
    assert isinstance(done["gaps"], list)
    for gap in done["gaps"]:
        assert gap["kind"] in ("structural", "competing") and gap["reason"]
    assert isinstance(done["recommendations"], list)
    # One row per reader on the roster, as readers.csv has them, adding up to the roster.
    loads = {load["radiologist"]: load for load in done["readers"]}
    for reader in {s["radiologist"] for s in done["shifts"]}:
        assert loads[reader]["shifts"] == sum(s["radiologist"] == reader for s in done["shifts"])
    assert sum(load["shifts"] for load in loads.values()) == len(done["shifts"])
    for recommendation in done["recommendations"]:
        assert isinstance(recommendation["alternatives"], list)
    hours = done["coverage_summary"]
    assert hours and [h["hour"] for h in hours] == sorted(h["hour"] for h in hours)
    assert set(hours[0]) == {
        "hour",
        "demand_minutes",
        "served_minutes",
        "unmet_minutes",
        "uncovered_facilities",
    }
    total = sum(h["demand_minutes"] for h in hours)
    assert total == pytest.approx(metrics["demand_minutes"], rel=1e-3)


def test_a_request_never_waits_for_the_solve(practice: Api, gate: threading.Event) -> None:
    first = start(practice)
    running = wait(practice, first["id"], until=("running",))
    assert running["started_at"] is not None
    second = start(practice)  # one solve at a time: this one waits its turn
    assert practice.call("GET", f"/v1/plans/{second['id']}", status=200)["status"] == "queued"
    gate.set()
    assert wait(practice, first["id"])["status"] == "done"
    assert wait(practice, second["id"])["status"] == "done"


def test_planning_facts_of_a_radiologist_are_honoured(practice: Api) -> None:
    body = plan_body(
        radiologists={
            "rad-2": {"max_shifts_per_week": 0},
            "rad-3": {"unavailable": [{"from": PLAN_START, "to": "2026-12-04T00:00:00Z"}]},
            "rad-1": {"prefers": ["night"]},
        }
    )
    done = planned(practice, body)
    assert not [s for s in done["shifts"] if s["radiologist"] == "rad-2"]
    assert not [
        s
        for s in done["shifts"]
        if s["radiologist"] == "rad-3" and s["start"] < "2026-12-04T00:00:00Z"
    ]
    assert done["request"]["radiologists"]["rad-3"]["unavailable"][0]["from"] == PLAN_START


def test_without_arrivals_or_studies_the_plan_fails_with_no_demand(practice: Api) -> None:
    body = plan_body()
    del body["arrivals"]
    failed = wait(practice, start(practice, body)["id"])
    assert (failed["status"], failed["error"]) == ("failed", NO_DEMAND)
    assert failed["metrics"] is None and failed["finished_at"] is not None
    empty = wait(practice, start(practice, plan_body(arrivals=[]))["id"])
    assert (empty["status"], empty["error"]) == ("failed", NO_DEMAND)


def test_demand_is_forecast_from_the_practices_own_studies(practice: Api) -> None:
    for hour in range(1, 13):
        received = iso(NOW - timedelta(hours=hour, minutes=5))
        facility = "fac-1" if hour % 3 else "fac-2"
        practice.study(f"H{hour}", facility=facility, received_at=received, expected_minutes=12.0)
    body = plan_body(start=iso(NOW), history_days=7)
    del body["arrivals"]
    done = planned(practice, body)
    assert done["metrics"]["demand_minutes"] > 0
    assert done["shifts"]
    # The studies lie before the plan's start; a plan a week later sees none of them.
    later = plan_body(start=iso(NOW + timedelta(days=8)), history_days=7)
    del later["arrivals"]
    failed = wait(practice, start(practice, later)["id"])
    assert (failed["status"], failed["error"]) == ("failed", NO_DEMAND)


def test_a_solver_error_fails_the_plan_with_one_line(
    practice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("solver exploded\nwith a second line")

    monkeypatch.setattr(plans_module, "plan", broken)
    failed = wait(practice, start(practice)["id"])
    assert (failed["status"], failed["error"]) == ("failed", "RuntimeError: solver exploded")
    monkeypatch.undo()
    assert planned(practice)["status"] == "done"  # the worker lives on


# --- publishing -------------------------------------------------------------------------------


def test_publish_turns_the_roster_into_live_shifts(practice: Api) -> None:
    waiting = practice.study("W1")  # nobody on shift yet: nobody can take it
    assert waiting["status"] == "uncovered"
    done = planned(practice)
    night = [s for s in done["shifts"] if s["start"] <= iso(NOW) < s["end"]]
    assert night, "the plan staffs the night that is under way"

    published = practice.call("POST", f"/v1/plans/{done['id']}/publish", status=200)
    assert published["shifts_created"] == len(done["shifts"]) == len(published["shift_ids"])
    assert published["plan"]["published_by"] == "admin"
    assert published["plan"]["published_at"] == iso(NOW)
    with read_transaction(practice.runtime.engine) as connection:
        rows = connection.execute(select(SHIFT).where(SHIFT.c.id.in_(published["shift_ids"]))).all()
        entries = connection.execute(select(AUDIT).where(AUDIT.c.action == "plan.published")).all()
    assert sorted((r.radiologist_id, iso(r.start), iso(r.end)) for r in rows) == sorted(
        (s["radiologist"], s["start"], s["end"]) for s in done["shifts"]
    )
    assert len(entries) == 1
    assert entries[0].entity == f"plan:{done['id']}" and entries[0].actor == "admin"
    assert entries[0].after["shifts"] == len(done["shifts"])

    # Live assignment uses the new roster at once: the waiting study has a reader on shift.
    study = practice.get_study(waiting["id"])
    assert study["status"] == "assigned"
    assert study["assigned_to"] in {s["radiologist"] for s in night}
    coverage = practice.call("GET", "/v1/coverage", status=200)
    fac1 = next(f for f in coverage["facilities"] if f["facility"] == "fac-1")
    assert fac1["hours"][0]["eligible_radiologists"]

    again = practice.call("POST", f"/v1/plans/{done['id']}/publish", status=409)
    assert again["detail"].startswith(f"plan {done['id']} already published at ")
    with read_transaction(practice.runtime.engine) as connection:
        count = len(connection.execute(select(SHIFT.c.id)).all())
    assert count == len(done["shifts"])  # nothing published twice


def test_only_a_done_plan_can_be_published(practice: Api, gate: threading.Event) -> None:
    body = plan_body()
    del body["arrivals"]
    failed = wait(practice, start(practice, body)["id"])
    problem = practice.call("POST", f"/v1/plans/{failed['id']}/publish", status=409)
    assert problem["detail"] == f"plan {failed['id']} is failed; only a done plan can be published"

    running = start(practice)
    wait(practice, running["id"], until=("running",))
    queued = start(practice)
    for plan_id, status in ((running["id"], "running"), (queued["id"], "queued")):
        problem = practice.call("POST", f"/v1/plans/{plan_id}/publish", status=409)
        assert f"is {status}" in problem["detail"]
    gate.set()
    wait(practice, queued["id"])
    practice.call("POST", "/v1/plans/no-such-plan/publish", status=404)


def test_unknown_plan_is_404(practice: Api) -> None:
    problem = practice.call("GET", "/v1/plans/no-such-plan", status=404)
    assert problem["detail"] == "plan no-such-plan not found"


# --- bad input and roles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"radiologists": {"rad-9": {"max_shifts_per_week": 2}}}, "radiologists.rad-9"),
        ({"weeks": 0}, "weeks"),
        ({"weeks": 13}, "weeks"),
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": 601}, "time_limit"),
        ({"recommendations": 51}, "recommendations"),
        ({"history_days": 0}, "history_days"),
        ({"radiologists": {"rad-1": {"prefers": ["late"]}}}, "radiologists.rad-1.prefers[0]"),
        (
            {"radiologists": {"rad-1": {"preferences": {"avoids": ["day", "late"]}}}},
            "radiologists.rad-1.preferences.avoids[1]",
        ),
        ({"shift_templates": []}, "shift_templates"),
        ({"shift_templates": [TEMPLATES[0], TEMPLATES[0]]}, "shift_templates[1].id"),
        ({"shift_templates": [{**TEMPLATES[0], "start": "25:00"}]}, "shift_templates[0].start"),
        (
            {"arrivals": [ARRIVALS[0], {**ARRIVALS[1], "facility": "nowhere"}]},
            "arrivals[1].facility",
        ),
        ({"start": "2026-12-01T00:00:00"}, "start"),
        ({"solver": "fast"}, "solver"),
    ],
)
def test_bad_plan_is_422_naming_the_field(
    practice: Api, change: dict[str, Any], field: str
) -> None:
    problem = practice.call("POST", "/v1/plans", plan_body(**change), status=422)
    assert problem["detail"].startswith(f"{field}:"), problem
    assert problem["errors"][0]["field"] == field
    with read_transaction(practice.runtime.engine) as connection:
        assert connection.execute(select(PLAN.c.id)).all() == []  # nothing queued


def test_roles_planning_is_for_coverage_managers(practice: Api) -> None:
    done = planned(practice)
    client = practice.client
    worklist = _token(practice, Role.WORKLIST)
    analyst = _token(practice, Role.ANALYST)
    manager = _token(practice, Role.COVERAGE_MANAGER)
    site = {"Authorization": f"Bearer {_site_token(practice)}"}
    for headers in (worklist, analyst, site):
        assert client.post("/v1/plans", json=plan_body(), headers=headers).status_code == 403
        publish = client.post(f"/v1/plans/{done['id']}/publish", headers=headers)
        assert publish.status_code == 403, publish.text
    assert client.get(f"/v1/plans/{done['id']}", headers=worklist).status_code == 403
    assert client.get(f"/v1/plans/{done['id']}", headers=site).status_code == 403
    assert client.get(f"/v1/plans/{done['id']}", headers=analyst).status_code == 200
    assert client.get(f"/v1/plans/{done['id']}").status_code == 401

    response = client.post("/v1/plans", json=plan_body(), headers=manager)
    assert response.status_code == 202, response.text
    assert response.json()["created_by"] == "t-coverage_manager"
    wait(practice, response.json()["id"])
    published = client.post(f"/v1/plans/{done['id']}/publish", headers=manager)
    assert published.status_code == 200, published.text
    assert published.json()["plan"]["published_by"] == "t-coverage_manager"


def _site_token(api: Api) -> str:
    return create_token(
        api.runtime.engine, name="t-site", role=Role.SITE, facilities=["fac-1"], now=NOW
    )


# --- plans a stopped server left behind -------------------------------------------------------


def _seed_plans(database_url: str, rows: list[dict[str, Any]], leases: list[Any]) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with write_transaction(engine) as connection:
        for lease in leases:
            connection.execute(insert(JOB_LEASE).values(**lease))
        for row in rows:
            base = {"created_at": NOW, "created_by": "admin", "request": plan_body()}
            connection.execute(insert(PLAN).values(**{**base, **row}))
    engine.dispose()


def test_plans_of_a_dead_server_are_failed_and_a_live_ones_are_not(database_url: str) -> None:
    _seed_plans(
        database_url,
        [
            {"id": "dead-queued", "status": "queued", "runner": "plans:dead"},
            {"id": "dead-running", "status": "running", "runner": "plans:dead", "started_at": NOW},
            {"id": "alive", "status": "running", "runner": "plans:alive", "started_at": NOW},
            {"id": "finished", "status": "done", "runner": "plans:dead", "result": None},
        ],
        [{"name": "plans:alive", "holder": "elsewhere", "expires_at": NOW + timedelta(seconds=30)}],
    )
    clock = ManualClock(NOW)
    settings = ServiceSettings(db=database_url, admin_token=ADMIN_TOKEN, jobs=False)
    with TestClient(create_app(settings, clock=clock)) as client:
        api = Api(client, clock)
        for plan_id in ("dead-queued", "dead-running"):
            found = api.call("GET", f"/v1/plans/{plan_id}", status=200)
            assert (found["status"], found["error"]) == ("failed", INTERRUPTED)
        assert api.call("GET", "/v1/plans/alive", status=200)["status"] == "running"
        assert api.call("GET", "/v1/plans/finished", status=200)["status"] == "done"
        # The other server stops renewing its lease: its plan is failed when next read.
        clock.advance(seconds=31)
        found = api.call("GET", "/v1/plans/alive", status=200)
        assert (found["status"], found["error"]) == ("failed", INTERRUPTED)


def test_a_stopping_server_fails_its_queued_plans_and_finishes_the_running_one(
    practice: Api, gate: threading.Event
) -> None:
    running = start(practice)
    wait(practice, running["id"], until=("running",))
    queued = start(practice)
    stopping = threading.Thread(target=practice.runtime.plans.shutdown)
    stopping.start()
    found = wait(practice, queued["id"], timeout=10)
    assert (found["status"], found["error"]) == ("failed", INTERRUPTED)
    gate.set()
    stopping.join(60)
    assert not stopping.is_alive()
    assert practice.call("GET", f"/v1/plans/{running['id']}", status=200)["status"] == "done"
