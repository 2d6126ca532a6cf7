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


def with_additions(scenario: Scenario, reader_id: str, additions: tuple[str, ...]) -> Scenario:
    """The scenario with a recommendation's additions ("license in WY", "credential at wy-1",
    "subspecialty neuro") written into the reader's record, as a credentialing office would."""
    data = scenario.model_dump(mode="json", by_alias=True)
    spec = next(r for r in data["radiologists"] if r["id"] == reader_id)
    for addition in additions:
        if addition.startswith("license in "):
            state = addition.removeprefix("license in ")
            spec["licenses"] = [x for x in spec["licenses"] if x["state"] != state]
            spec["licenses"].append({"state": state})
        elif addition.startswith("credential at "):
            facility = addition.removeprefix("credential at ")
            spec["credentials"] = [x for x in spec["credentials"] if x["facility"] != facility]
            spec["credentials"].append({"facility": facility})
        else:
            spec["subspecialties"].append(addition.removeprefix("subspecialty "))
    return parse_scenario(data)


def candidate(reader: int, additions: tuple[str, ...]) -> tuple[int, tuple[tuple[str, str], ...]]:
    """A recommendation's additions in words back as `recommend.Candidate`."""
    parsed = []
    for addition in additions:
        kind, _, value = addition.partition(" ")
        value = value.removeprefix("in ").removeprefix("at ")
        parsed.append((kind, value))
    return reader, tuple(parsed)
