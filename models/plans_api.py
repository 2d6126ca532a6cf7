"""The REST contract v1 for coverage plans: the job's request body and its results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from models.api import Public
from models.domain import Strict
from models.scenario import (
    ArrivalStream,
    PlanningRules,
    Preferences,
    ShiftPattern,
    ShiftTemplate,
    Window,
)
from models.snapshot import require_unique_ids
from models.types import Identifier, UniqueList, UtcDateTime


class RadiologistPlanning(Strict):
    """What the coverage planner needs to know of one reader beyond the roster's records:
    when they can work and which shifts they would rather have."""

    availability: list[ShiftPattern] | None = Field(
        default=None,
        max_length=100,
        description="Weekly windows a planned shift must lie within; none: any time.",
    )
    unavailable: list[Window] = Field(
        default_factory=list,
        max_length=500,
        description="UTC windows no planned shift may touch (leave, CME).",
    )
    max_shifts_per_week: Annotated[int, Field(strict=True, ge=0, le=14)] | None = None
    prefers: Annotated[list[Identifier], UniqueList, Field(default_factory=list, max_length=200)]
    preferences: Preferences = Field(default_factory=Preferences)


class PlanIn(Strict):
    """A coverage-planning job: staff the shift templates over `weeks` from `start`."""

    start: UtcDateTime = Field(description="First instant of the plan (ISO-8601 with offset).")
    weeks: Annotated[int, Field(strict=True, ge=1, le=12)] = 1
    shift_templates: Annotated[list[ShiftTemplate], Field(min_length=1, max_length=200)]
    rules: PlanningRules = Field(default_factory=PlanningRules)
    radiologists: dict[Identifier, RadiologistPlanning] = Field(
        default_factory=dict,
        max_length=5000,
        description="Planning facts by radiologist id; readers not named have no limits.",
    )
    arrivals: Annotated[list[ArrivalStream], Field(max_length=5000)] | None = Field(
        default=None,
        description="Forecast arrival streams; none: forecast from the practice's own studies.",
    )
    history_days: Annotated[int, Field(strict=True, ge=1, le=365)] = Field(
        default=28, description="Without arrivals: forecast from the studies this many days back."
    )
    time_limit: Annotated[float, Field(strict=True, gt=0, le=600, allow_inf_nan=False)] = Field(
        default=30.0, description="Seconds the solver may search for the roster."
    )
    recommendations: Annotated[int, Field(strict=True, ge=0, le=50)] = 5

    @model_validator(mode="after")
    def _templates_resolve(self) -> PlanIn:
        require_unique_ids("shift_templates", [t.id for t in self.shift_templates])
        templates = {t.id for t in self.shift_templates}
        for reader, planning in self.radiologists.items():
            named = [
                ("prefers", planning.prefers),
                ("preferences.prefers", planning.preferences.prefers),
                ("preferences.avoids", planning.preferences.avoids),
            ]
            for field_name, ids in named:
                for j, template in enumerate(ids):
                    if template not in templates:
                        raise ValueError(
                            f"radiologists.{reader}.{field_name}[{j}]: "
                            f"unknown shift template {template!r}"
                        )
        return self


PlanState = Literal["queued", "running", "done", "failed"]


class PlanMetricsOut(Public):
    status: str = Field(description="OPTIMAL, FEASIBLE (stopped by the time limit) or NO_SOLUTION.")
    weeks: int
    shifts: int
    cost: float
    uncovered_hours: float = Field(description="Facility-hours with demand nobody eligible works.")
    unmet_minutes: float = Field(description="Forecast reading minutes beyond eligible capacity.")
    demand_minutes: float
    max_nights: int
    max_weekend_shifts: int
    preference_misses: int
    structural_uncovered_hours: float
    first_solution_seconds: float | None
    seconds: float
    stages: dict[str, str]


class PlannedShift(Public):
    radiologist: str
    template: str
    start: UtcDateTime
    end: UtcDateTime
    start_local: str = Field(description="The start in the template's time zone, with offset.")
    end_local: str


class PlanGap(Public):
    facility: str
    state: str
    need: str = Field(description='The kind of work: "all studies", "MR", "MR needing neuro".')
    start: UtcDateTime
    end: UtcDateTime
    hours: float
    kind: Literal["structural", "competing"]
    reason: str


class PlanRecommendation(Public):
    radiologist: str
    additions: list[str]
    label: str
    closes_uncovered_hours: float
    closes_uncovered_hours_per_week: float
    reduces_unmet_minutes: float
    alternatives: list[str] = Field(
        default_factory=list,
        description="Readers whose same additions would close the same gaps instead.",
    )


class PlanAddition(Public):
    radiologist: str
    additions: list[str]


class PlanCombined(Public):
    """A small set of additions that together close every structural gap papers can close
    (chosen greedily, so small but not proven smallest), verified by re-solving."""

    additions: list[PlanAddition]
    label: str
    closes_uncovered_hours: float
    closes_uncovered_hours_per_week: float
    reduces_unmet_minutes: float
    uncovered_hours_after: float
    structural_hours_before: float
    structural_hours_after: float


class PlanReaderLoad(Public):
    """One reader's share of the roster: what `readers.csv` says of them."""

    radiologist: str
    shifts: int
    hours: float
    nights: int
    weekend_shifts: int
    busiest_week_shifts: int
    max_shifts_per_week: int
    avoided_shifts: int
    unpreferred_shifts: int
    broken_preferences: str


class PlanCoverageHour(Public):
    """One UTC hour with demand, over every facility."""

    hour: UtcDateTime
    demand_minutes: float
    served_minutes: float
    unmet_minutes: float
    uncovered_facilities: list[str]


class PlanOut(Public):
    id: str
    status: PlanState
    created_at: UtcDateTime
    created_by: str
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    error: str | None
    published_at: UtcDateTime | None
    published_by: str | None
    request: dict[str, Any] = Field(description="The plan's request as it was accepted.")
    metrics: PlanMetricsOut | None = None
    shifts: list[PlannedShift] | None = None
    gaps: list[PlanGap] | None = None
    recommendations: list[PlanRecommendation] | None = None
    combined: PlanCombined | None = None
    readers: list[PlanReaderLoad] | None = None
    coverage_summary: list[PlanCoverageHour] | None = None


class PlanPublishedOut(Public):
    plan: PlanOut
    shifts_created: int
    shift_ids: list[str]
