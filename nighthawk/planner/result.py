"""What the coverage planner returns: the roster, its coverage, its gaps and recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import pandas as pd

# coverage.csv, one row per UTC hour and facility with demand
COVERAGE_COLUMNS = [
    "hour",  # ISO 8601 UTC start of the hour, 2026-01-05T00:00:00Z (as roster.csv's start)
    "hour_local",  # the same instant in the facility's time zone, 2026-01-04T18:00:00-06:00
    "hour_of_week",  # local: 0 = Monday 00:00
    "facility",
    "state",
    "demand_studies",
    "demand_minutes",  # forecast reading minutes at speed 1.0
    "eligible_on_shift",  # readers on shift (some of the hour) eligible for some of its work:
    # the readers whose minutes `capacity_minutes` counts, so one is 0 only when both are
    "capacity_minutes",  # their target-utilization minutes while on shift in the hour
    # (shared with other facilities: a reader's minutes count at each they may read for)
    "served_minutes",  # of the demand, what a best split of their time covers
    "unmet_minutes",  # the rest, in hundredths as the solver counts them: sums to the report's
    "uncovered",  # some kind of its work has nobody eligible on shift (a facility-hour)
    "uncovered_work",  # which kinds: "MR; MR needing neuro"
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
    # Interchangeable: other readers (and their papers) whose addition makes exactly the same
    # structural gaps coverable; the figures above are this one's. "rad-03 + license in WY"
    alternatives: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.radiologist} + {' + '.join(self.additions)}"

    def alternatives_text(self, show: int | None = None) -> str:
        """ "rad-02, rad-04 and 6 more": an alternative with the same papers by its reader
        alone, one with other papers in full ("rad-05 + credential at co-3")."""
        own = f" + {' + '.join(self.additions)}"
        names = [alternative.removesuffix(own) for alternative in self.alternatives]
        shown = names if show is None else names[:show]
        more = len(names) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more else "")

    def label_with_alternatives(self, show: int | None = None) -> str:
        if not self.alternatives:
            return self.label
        return f"{self.label} (interchangeable: {self.alternatives_text(show)})"


@dataclass(frozen=True)
class CombinedRecommendation:
    """A small set of additions that together close every structural gap papers can close,
    verified as each single recommendation is: re-solved from the same reference roster."""

    additions: tuple[tuple[str, tuple[str, ...]], ...]  # (radiologist, their additions)
    closes_uncovered_hours: float
    closes_uncovered_hours_per_week: float
    reduces_unmet_minutes: float
    uncovered_hours_after: float
    structural_hours_before: float  # structural facility-hours without the additions
    structural_hours_after: float  # those still uncovered with them (papers cannot close)

    @property
    def papers(self) -> int:
        return sum(len(papers) for _, papers in self.additions)

    @property
    def label(self) -> str:
        return "; ".join(f"{r} + {' + '.join(papers)}" for r, papers in self.additions)


@dataclass(frozen=True)
class ReaderLoad:
    """One radiologist's share of the roster (see `readers`)."""

    radiologist: str
    shifts: int
    hours: float  # on duty, whole shifts (as roster.csv's start and end give them)
    nights: int
    weekend_shifts: int  # starting on a local Saturday or Sunday, in the template's zone
    busiest_week_shifts: int  # the most shifts in one planning week
    max_shifts_per_week: int  # the lower of the practice's rule and the reader's own
    avoided_shifts: int  # shifts of a template they avoid
    unpreferred_shifts: int  # shifts of a template outside those they prefer
    broken_preferences: str  # "avoids swing: 2 shifts; prefers night: 3 day shifts"

    @property
    def preference_misses(self) -> int:
        """Shifts against a preference (the objective's count; `PlanMetrics` sums them)."""
        return self.avoided_shifts + self.unpreferred_shifts


@dataclass
class PlanMetrics:
    status: str  # OPTIMAL, FEASIBLE (a time limit stopped the search), or NO_SOLUTION
    weeks: int
    shifts: int
    cost: float
    uncovered_hours: float  # facility-hours with some demand nobody eligible is on shift for
    unmet_minutes: float  # forecast reading minutes beyond eligible capacity (hundredths)
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
    readers: list[ReaderLoad] = field(default_factory=list)
    combined: CombinedRecommendation | None = None
    # Uncovered facility-hours of the roster recommendations are measured against (the
    # problem re-solved deterministically from the greedy roster); None without any.
    reference_uncovered_hours: float | None = None
