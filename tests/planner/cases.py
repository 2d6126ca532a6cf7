"""Hand-built planning scenarios for the planner's tests: one Wyoming facility unless told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.scenario import Scenario, parse_scenario
from nighthawk.planner.planner import PlanOptions, PlanResult, plan

START = "2026-12-07T00:00:00Z"  # a Monday
START_AT = datetime(2026, 12, 7, tzinfo=UTC)
FAST = PlanOptions(time_limit=2.0, deterministic=True, recommendations=0)


def at(day: int, hour: float = 0) -> datetime:
    """UTC time `day` days and `hour` hours after the plan's start."""
    return START_AT + timedelta(days=day, hours=hour)


def template(tid: str, start: str, end: str, **fields: Any) -> dict[str, Any]:
    return {"id": tid, "start": start, "end": end, "timezone": "UTC", **fields}


def reader(rid: str, **fields: Any) -> dict[str, Any]:
    return {"id": rid, "licenses": ["WY"], "credentials": ["f1"], **fields}


def hours_profile(*hours: int) -> list[float]:
    """An hourly profile with work only in the given local hours."""
    return [1.0 if h in hours else 0.0 for h in range(24)]


def planning(**fields: Any) -> Scenario:
    """One week, one Wyoming facility on UTC clocks sending CT all day; override any field.
    Rules default loose (no rest, 14 shifts a week, 7 nights) so each test binds one."""
    data: dict[str, Any] = {
        "name": "planning test",
        "start": START,
        "days": 7,
        "facilities": [{"id": "f1", "state": "WY", "timezone": "UTC"}],
        "arrivals": [{"facility": "f1", "modality": "CT", "priority": "STAT", "per_hour": 1}],
        "read_minutes": {
            "CT": {"distribution": "fixed", "mean": 10},
            "MR": {"distribution": "fixed", "mean": 10},
        },
        "radiologists": [reader("r1")],
        "shift_templates": [template("day", "08:00", "16:00")],
        "rules": {
            "min_rest_hours": 0,
            "max_shifts_per_week": 14,
            "max_consecutive_nights": 7,
            "target_utilization": 1.0,
        },
    }
    data.update(fields)
    return parse_scenario(data)


def run_plan(scenario: Scenario, options: PlanOptions = FAST) -> PlanResult:
    return plan(scenario, options)
