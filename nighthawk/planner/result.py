"""What the coverage planner returns: the roster, its coverage, its gaps and recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import pandas as pd

# coverage.csv, one row per UTC hour and facility with demand
COVERAGE_COLUMNS = [
    "hour",  # ISO-8601 UTC start of the hour
    "hour_local",  # the same instant in the facility's time zone
    "hour_of_week",  # local: 0 = Monday 00:00
    "facility",
    "state",
    "demand_studies",
    "demand_minutes",  # forecast reading minutes at speed 1.0
    "eligible_on_shift",  # on shift the whole hour, eligible for its hardest-to-staff class
    "capacity_minutes",  # target-utilization minutes of those eligible for any of its work
    # (shared with other facilities: a reader's minutes count at each they may read for)
    "served_minutes",  # of the demand, what a best split of their time covers
    "unmet_minutes",
    "uncovered",  # some class of its demand has nobody eligible on shift
]


@dataclass(frozen=True)
class RosterShift:
    radiologist: str
    template: str
    start: datetime  # UTC
    end: datetime
    timezone: str  # the template's, for local times

    @property
    def start_local(self) -> datetime:
        from zoneinfo import ZoneInfo

        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def end_local(self) -> datetime:
        from zoneinfo import ZoneInfo

        return self.end.astimezone(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Gap:
    """A stretch of consecutive hours in which a facility's demand of one kind is uncovered."""

    facility: str
    state: str
    need: str  # the kind of work: "all studies", "MR", "MR needing neuro"
    start: datetime  # UTC
    end: datetime
    timezone: str  # the facility's
    hours: float
    kind: Literal["structural", "competing"]
    reason: str


@dataclass(frozen=True)
class Recommendation:
    """A license, credential or subspecialty for one radiologist, verified by re-solving."""

    radiologist: str
    additions: tuple[str, ...]  # "license in WY", "credential at wy-1", "subspecialty neuro"
    closes_uncovered_hours: float  # facility-hours over the whole horizon
    closes_uncovered_hours_per_week: float
    reduces_unmet_minutes: float
    predicted_hours: float  # what the quick estimate promised before re-solving
    uncovered_hours_after: float  # of the re-solved roster with the addition

    @property
    def label(self) -> str:
        return f"{self.radiologist} + {' + '.join(self.additions)}"


@dataclass
class PlanMetrics:
    status: str  # OPTIMAL, FEASIBLE (a time limit stopped the search), or NO_SOLUTION
    weeks: int
    shifts: int
    cost: float
    uncovered_hours: float  # facility-hours with some demand nobody eligible is on shift for
    unmet_minutes: float  # forecast reading minutes beyond eligible capacity
    demand_minutes: float
    max_nights: int
    max_weekend_shifts: int
    preference_misses: int
    structural_uncovered_hours: float
    first_solution_seconds: float
    seconds: float
    stages: dict[str, str] = field(default_factory=dict)


@dataclass
class PlanResult:
    shifts: list[RosterShift]
    coverage: pd.DataFrame  # COVERAGE_COLUMNS
    gaps: list[Gap]
    recommendations: list[Recommendation]
    metrics: PlanMetrics
    forecast: pd.DataFrame
