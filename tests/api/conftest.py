"""The API through FastAPI's in-process client, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from nighthawk.service.clock import ManualClock
from nighthawk.service.settings import ServiceSettings

ADMIN_TOKEN = "nh_test_admin_token_0123456789"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 23:00 in Denver: the night shift


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Api:
    """A client with the admin token, the manual clock and seeding helpers."""

    client: TestClient
    clock: ManualClock

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    @property
    def runtime(self) -> Any:
        return self.client.app.state.runtime  # type: ignore[attr-defined]

    def call(self, method: str, path: str, body: Any = None, status: int | None = None) -> Any:
        response = self.client.request(method, path, json=body, headers=self.headers)
        if status is not None:
            assert response.status_code == status, response.text
        return response.json() if response.content else None

    def facility(self, facility_id: str = "fac-1", state: str = "WY", **extra: Any) -> Any:
        body = {"name": f"Hospital {facility_id}", "state": state, "timezone": "America/Denver"}
        return self.call("PUT", f"/v1/facilities/{facility_id}", {**body, **extra}, 200)

    def radiologist(
        self,
        radiologist_id: str,
        *,
        licenses: list[Any] | None = None,
        credentials: list[Any] | None = None,
        shift_hours: tuple[float, float] | None = (-1, 8),
        **extra: Any,
    ) -> Any:
        body = {
            "name": f"Dr {radiologist_id}",
            "licenses": licenses if licenses is not None else ["WY"],
            "credentials": credentials if credentials is not None else ["fac-1"],
            **extra,
        }
        self.call("PUT", f"/v1/radiologists/{radiologist_id}", body, 200)
        if shift_hours is not None:
            return self.shift(radiologist_id, *shift_hours)
        return None

    def shift(self, radiologist_id: str, start_hours: float, end_hours: float) -> Any:
        now = self.clock.now()
        body = {
            "start": iso(now + timedelta(hours=start_hours)),
            "end": iso(now + timedelta(hours=end_hours)),
        }
        return self.call("POST", f"/v1/radiologists/{radiologist_id}/shifts", body, 201)

    def study(self, accession: str, status: int = 201, **fields: Any) -> Any:
        body = {
            "facility": "fac-1",
            "accession": accession,
            "modality": "CT",
            "priority": "ROUTINE",
            **fields,
        }
        return self.call("POST", "/v1/studies", body, status)

    def get_study(self, study_id: str) -> Any:
        return self.call("GET", f"/v1/studies/{study_id}", status=200)


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    clock = ManualClock(NOW)
    settings = ServiceSettings(db=database_url, admin_token=ADMIN_TOKEN, jobs=False)
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Api(client, clock)
