"""The REST contract v1: request bodies (unknown fields refused) and response bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.domain import CredentialItem, LicenseItem, Shift, SlaMinutes, Strict
from models.plan import Explanation
from models.priority import Modality, Priority
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
    errors: list[FieldError] = Field(default_factory=list)
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
    eligible_radiologists: list[str]
    gap: bool


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
