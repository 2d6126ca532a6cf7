"""The REST contract v1: request bodies (unknown fields refused) and response bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.domain import CredentialItem, LicenseItem, Shift, SlaMinutes, Strict
from models.plan import Explanation
from models.priority import Modality, Priority
from models.scenario import (
    ArrivalStream,
    PlanningRules,
    Preferences,
    ShiftPattern,
    ShiftTemplate,
    Window,
)
from models.snapshot import require_unique_ids
from models.tables import Role, StudyStatus
from models.types import (
    Identifier,
    ReadMinutes,
    SpeedFactor,
    StateCode,
    StrictBool,
    Subspecialty,
    TimeZoneName,
    UniqueList,
    UtcDateTime,
)

ShortText = Annotated[str, Field(min_length=1, max_length=500)]
# An opaque key: letters, digits and - _ . : only, so a patient's name cannot be pasted in.
OpaqueRef = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Accession = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-/]+$")]
BodyPart = Annotated[str, Field(min_length=1, max_length=64)]


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- requests -------------------------------------------------------------------------------


class FacilityIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    state: StateCode
    timezone: TimeZoneName
    sla_minutes: SlaMinutes | None = None


class RadiologistIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    licenses: list[LicenseItem] = Field(default_factory=list, max_length=60)
    credentials: list[CredentialItem] = Field(default_factory=list, max_length=5000)
    subspecialties: Annotated[list[Subspecialty], UniqueList, Field(max_length=40)] = Field(
        default_factory=list
    )
    modalities: Annotated[list[Modality], UniqueList] = Field(
        default_factory=list, description="Modalities read; empty means all."
    )
    speed: SpeedFactor = 1.0


class ShiftIn(Shift):
    """A shift as the roster endpoint takes it: the domain's rules, in one place."""


class AvailabilityIn(Strict):
    available: StrictBool
    reason: ShortText | None = None


class StudyIn(Strict):
    facility: Identifier
    accession: Accession
    modality: Modality
    priority: Priority
    subspecialty: Subspecialty | None = None
    subspecialty_required: StrictBool = False
    body_part: BodyPart | None = None
    patient_ref: OpaqueRef | None = Field(
        default=None,
        description="Opaque key grouping one patient's studies; never a name or MRN.",
    )
    expected_minutes: ReadMinutes | None = None
    received_at: UtcDateTime | None = None

    @model_validator(mode="after")
    def _required_needs_subspecialty(self) -> StudyIn:
        if self.subspecialty_required and not self.subspecialty:
            raise ValueError("subspecialty: required when subspecialty_required is true")
        return self


class TokenIn(Strict):
    """A named token: its role, a site's facilities, or the one radiologist it acts as."""

    name: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@\-]+$")]
    role: Role
    facilities: Annotated[list[Identifier], UniqueList, Field(default_factory=list, max_length=500)]
    radiologist: Identifier | None = None


class TokenOut(Public):
    name: str
    role: Role
    facilities: list[str]
    radiologist: str | None
    token: str = Field(description="The secret, shown this once; only its hash is stored.")


class ReaderAction(Strict):
    radiologist: Identifier


class StartIn(ReaderAction):
    pass


class CompleteIn(ReaderAction):
    report: Literal["prelim", "final"]


class ReleaseIn(ReaderAction):
    reason: ShortText


class AssignIn(ReaderAction):
    reason: ShortText


# --- responses ------------------------------------------------------------------------------


class FieldError(Public):
    field: str
    message: str


class ProblemOut(Public):
    """Every error: a one-line `detail`, and for bad input the fields at fault."""

    detail: str
    errors: list[FieldError] = Field(
        default_factory=list, description="The first 20 fields at fault."
    )
    more_errors: int = Field(default=0, description="How many more there were (not listed).")
    reasons: list[str] = Field(default_factory=list)


class FacilityOut(Public):
    id: str
    name: str | None
    state: str
    timezone: str
    sla_minutes: dict[str, float]


class RadiologistOut(Public):
    id: str
    name: str | None
    licenses: list[dict[str, str | None]]
    credentials: list[dict[str, str | None]]
    subspecialties: list[str]
    modalities: list[str]
    speed: float
    available: bool
    availability_reason: str | None


class ShiftOut(Public):
    id: str
    radiologist: str
    start: UtcDateTime
    end: UtcDateTime


class AvailabilityOut(Public):
    radiologist: str
    available: bool
    reason: str | None
    reassigned: int = Field(description="Unstarted studies handed to other readers.")


class StudyCreated(Public):
    id: str
    status: StudyStatus
    due_at: UtcDateTime
    assigned_to: str | None
    predicted_start: UtcDateTime | None
    predicted_finish: UtcDateTime | None


class StudyOut(StudyCreated):
    facility: str
    accession: str
    state: str
    modality: Modality
    priority: Priority
    subspecialty: str | None
    subspecialty_required: bool
    body_part: str | None
    patient_ref: str | None
    expected_minutes: float
    received_at: UtcDateTime
    assigned_at: UtcDateTime | None
    started_at: UtcDateTime | None
    reported_at: UtcDateTime | None
    report: str | None
    uncovered_reason: str | None
    pinned: bool
    version: int
    why: Explanation | None = None


class NextOut(Public):
    """What a free reader should start now (`study`, with its `why`), or why nothing."""

    radiologist: str
    now: UtcDateTime
    study: StudyOut | None = Field(
        description="The study to start now; it is theirs while they stay free."
    )
    reading: str | None = Field(
        default=None, description="The study this reader is reading now, if any."
    )
    reason: str | None = Field(
        default=None, description="Why there is nothing to start, when `study` is null."
    )


class StudyPage(Public):
    items: list[StudyOut]
    next_cursor: str | None


class WorklistItem(Public):
    position: int
    study: str
    facility: str
    modality: Modality
    priority: Priority
    status: StudyStatus
    due_at: UtcDateTime
    predicted_start: UtcDateTime
    predicted_finish: UtcDateTime
    predicted_late_minutes: float


class WorklistOut(Public):
    radiologist: str
    now: UtcDateTime
    on_shift: bool
    available: bool
    items: list[WorklistItem]


class SlaRow(Public):
    priority: Priority
    facility: str | None = None
    studies: int
    reported: int
    met: int
    breached: int
    open_overdue: int
    compliance: float | None = Field(description="Share of decided studies read within SLA.")
    tat_p50_minutes: float | None
    tat_p90_minutes: float | None
    tat_p99_minutes: float | None


class SlaOut(Public):
    from_: UtcDateTime = Field(alias="from", serialization_alias="from")
    to: UtcDateTime
    by_priority: list[SlaRow]
    by_facility: list[SlaRow]

    model_config = ConfigDict(frozen=True, populate_by_name=True)


class CoverageHour(Public):
    start: UtcDateTime
    eligible_radiologists: list[str] = Field(
        description="Available readers on duty for some part of the hour who may read some of "
        "the facility's work then."
    )
    gap: bool = Field(description="Some kind of work it sends has nobody for part of the hour.")
    uncovered: list[str] = Field(
        default_factory=list,
        description="The kinds of work (modality, a required subspecialty) left uncovered.",
    )


class CoverageFacility(Public):
    facility: str
    state: str
    gap_hours: int
    hours: list[CoverageHour]


class CoverageOut(Public):
    from_: UtcDateTime = Field(alias="from", serialization_alias="from")
    to: UtcDateTime
    facilities: list[CoverageFacility]
    gap_hours: int

    model_config = ConfigDict(frozen=True, populate_by_name=True)


class AuditEntry(Public):
    seq: int
    at: UtcDateTime
    actor: str
    action: str
    study: str | None
    entity: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None
    reason: str | None
    on_behalf_of: str | None = Field(
        default=None, description="The person the token acted for (the reader, for workflow)."
    )


class AuditPage(Public):
    items: list[AuditEntry]
    next_cursor: str | None


class Health(Public):
    status: Literal["ok"]
    database: str
    epoch: int
    scheduler: bool


class TokenInfo(Public):
    name: str
    role: Role
    facilities: list[str]


# --- coverage plans -------------------------------------------------------------------------


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
    coverage_summary: list[PlanCoverageHour] | None = None


class PlanPublishedOut(Public):
    plan: PlanOut
    shifts_created: int
    shift_ids: list[str]
