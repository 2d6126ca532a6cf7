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
ProcedureText = Annotated[str, Field(min_length=1, max_length=200)]
# A sender's procedure code (HL7 OBR-4.1), e.g. CTHEAD or 70450.
ProcedureCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- requests -------------------------------------------------------------------------------


class FacilityIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    state: StateCode
    timezone: TimeZoneName
    sla_minutes: SlaMinutes | None = None
    aliases: Annotated[list[Identifier], UniqueList, Field(max_length=50)] = Field(
        default_factory=list,
        description="Other names it goes by in HL7 (MSH-4, PV1-3.4); unique across facilities.",
    )


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
    """`available: false` alone takes the reader off now, until `available: true`. With a
    window (`to`, and `from`, default now) it books an absence ahead instead: their shifts
    are cut by it, and the flag is left alone. `available: true` ends the absence under way."""

    available: StrictBool
    reason: ShortText | None = None
    from_: UtcDateTime | None = Field(default=None, alias="from")
    to: UtcDateTime | None = None

    @model_validator(mode="after")
    def _window(self) -> AvailabilityIn:
        if self.from_ is None and self.to is None:
            return self
        if self.available:
            raise ValueError("to: only an absence (available: false) takes a window")
        if self.to is None:
            raise ValueError("to: required when from is given (the absence's end)")
        if self.from_ is not None and self.to <= self.from_:
            raise ValueError("to: must be after from")
        return self


class StudyIn(Strict):
    facility: Identifier
    accession: Accession
    modality: Modality
    priority: Priority
    subspecialty: Subspecialty | None = None
    subspecialty_required: StrictBool = False
    body_part: BodyPart | None = None
    procedure: ProcedureText | None = Field(
        default=None, description="The procedure as ordered (HL7 OBR-4), e.g. CT head."
    )
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


class StudyPatch(Strict):
    """A correction to an unstarted study: only the fields sent change."""

    priority: Priority | None = None
    modality: Modality | None = None
    subspecialty: Subspecialty | None = None
    subspecialty_required: StrictBool | None = None
    body_part: BodyPart | None = None
    expected_minutes: ReadMinutes | None = None
    reason: ShortText | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> StudyPatch:
        if not self.model_fields_set - {"reason"}:
            raise ValueError(
                "body: send at least one of priority, modality, subspecialty, "
                "subspecialty_required, body_part, expected_minutes"
            )
        for name in ("priority", "modality", "subspecialty_required", "expected_minutes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name}: may not be null")
        return self


class CancelIn(Strict):
    reason: ShortText | None = None


class ProcedureCodeIn(Strict):
    subspecialty: Subspecialty
    subspecialty_required: StrictBool = False


class ProcedureCodesIn(Strict):
    """The whole map of procedure codes to the subspecialty their studies need (replaced)."""

    codes: dict[ProcedureCode, ProcedureCodeIn] = Field(max_length=5000)


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
    study: str | None = Field(
        default=None,
        description="The study the request conflicts with (a 409 on a re-posted accession).",
    )


class FacilityOut(Public):
    id: str
    name: str | None
    state: str
    timezone: str
    sla_minutes: dict[str, float]
    aliases: list[str] = Field(default_factory=list)


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


class AbsenceOut(Public):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    radiologist: str
    from_: UtcDateTime = Field(alias="from", serialization_alias="from")
    to: UtcDateTime
    reason: str | None


class FacilityList(Public):
    items: list[FacilityOut]


class RadiologistList(Public):
    items: list[RadiologistOut]


class ShiftList(Public):
    items: list[ShiftOut]


class AbsenceList(Public):
    items: list[AbsenceOut]


class AvailabilityOut(Public):
    radiologist: str
    available: bool
    reason: str | None
    reassigned: int = Field(description="Unstarted studies handed to other readers.")
    absence: AbsenceOut | None = Field(
        default=None, description="The absence booked, when the request gave a window."
    )


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
    procedure: str | None = None
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


class ProcedureCodeOut(Public):
    subspecialty: str
    subspecialty_required: bool


class ProcedureCodesOut(Public):
    codes: dict[str, ProcedureCodeOut]


class TokenInfo(Public):
    name: str
    role: Role
    facilities: list[str]
