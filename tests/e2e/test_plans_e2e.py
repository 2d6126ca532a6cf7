"""Coverage planning against a real server: queue a plan over HTTP, poll it, publish it, and
find its shifts in the live roster (and the plan itself after a restart)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import (
    check,
    facility_body,
    iso,
    own_database,
    radiologist_body,
    running_server,
    study_body,
)

pytestmark = pytest.mark.slow

READERS = ("rad-1", "rad-2", "rad-3")


def _wait(client: httpx.Client, location: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, Any] = check(client.get(location), 200)
        if found["status"] in ("done", "failed"):
            return found
        assert time.monotonic() < deadline, f"plan still {found['status']} after {timeout}s"
        time.sleep(0.1)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_plan_poll_publish_over_http(kind: str, tmp_path: Path) -> None:
    with (
        own_database(kind, tmp_path / "db") as url,
        running_server(url, tmp_path / "logs", jobs=False) as server,
    ):
        with server.client() as admin:
            check(admin.put("/v1/facilities/fac-1", json=facility_body("fac-1")), 200)
            for reader in READERS:
                body = radiologist_body(reader, ("WY",), ("fac-1",))
                check(admin.put(f"/v1/radiologists/{reader}", json=body), 200)
            waiting = check(admin.post("/v1/studies", json=study_body("E2E-PLAN-1")), 201)
            assert waiting["status"] == "uncovered"  # nobody is on shift yet

            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            plan = {
                "start": iso(start),
                "shift_templates": [
                    {"id": "am", "start": "00:00", "end": "12:00", "timezone": "UTC"},
                    {"id": "pm", "start": "12:00", "end": "24:00", "timezone": "UTC"},
                ],
                "arrivals": [
                    {"facility": "fac-1", "modality": "CT", "priority": "STAT", "per_hour": 2}
                ],
                "rules": {"max_shifts_per_week": 7},  # three readers can staff every slot
                "time_limit": 2,
                "recommendations": 0,
            }
            response = admin.post("/v1/plans", json=plan)
            created = check(response, 202)
            assert created["status"] in ("queued", "running")
            location = response.headers["location"]
            assert location == f"/v1/plans/{created['id']}"

            done = _wait(admin, location)
            assert done["status"] == "done", done
            assert done["shifts"] and done["metrics"]["shifts"] == len(done["shifts"])
            assert isinstance(done["gaps"], list) and done["coverage_summary"]

            published = check(admin.post(f"{location}/publish"), 200)
            assert published["shifts_created"] == len(done["shifts"])
            assert published["plan"]["published_by"] == "admin"
            again = check(admin.post(f"{location}/publish"), 409)
            assert "already published" in again["detail"]

            # The live roster has the shifts: the waiting study found a reader at once.
            study = check(admin.get(f"/v1/studies/{waiting['id']}"), 200)
            assert study["assigned_to"] in READERS, study
            to = iso(start + timedelta(hours=24))
            coverage = check(admin.get("/v1/coverage", params={"from": iso(start), "to": to}), 200)
            assert coverage["gap_hours"] < 24, coverage
            entries = check(admin.get("/v1/audit", params={"limit": 1000}), 200)["items"]
            assert [e["entity"] for e in entries if e["action"] == "plan.published"] == [
                f"plan:{created['id']}"
            ]

        server.stop()
        server.start()
        with server.client() as admin:
            after = check(admin.get(location), 200)
            assert after["status"] == "done" and after["published_by"] == "admin"
            assert after["shifts"] == done["shifts"]
