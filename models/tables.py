"""Database tables of the assignment service (SQLModel), shared by SQLite and PostgreSQL.

Times are stored as naive UTC (`UtcTimestamp`) so both databases compare them the same way and
no local time ever reaches the store; they come back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Table, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcTimestamp(TypeDecorator[datetime]):
    """Aware UTC datetime in Python, naive UTC in the database."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime; times must be UTC-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcTimestamp(), nullable=nullable, index=index))


def _json_column(default: Any = None) -> Any:
    factory = list if default is None else dict
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


class StudyStatus(StrEnum):
    """received -> assigned -> reading -> reported, plus uncovered and at_risk; an unstarted
    study the sender withdraws is cancelled."""

    RECEIVED = "received"
    ASSIGNED = "assigned"
    AT_RISK = "at_risk"
    UNCOVERED = "uncovered"
    READING = "reading"
    REPORTED = "reported"
    CANCELLED = "cancelled"


# Unread and not started: the optimizer may still move these.
UNSTARTED = (
    StudyStatus.RECEIVED,
    StudyStatus.ASSIGNED,
    StudyStatus.AT_RISK,
    StudyStatus.UNCOVERED,
)
OPEN = (*UNSTARTED, StudyStatus.READING)


class Role(StrEnum):
    ADMIN = "admin"
    COVERAGE_MANAGER = "coverage_manager"
    WORKLIST = "worklist"
    SITE = "site"
    ANALYST = "analyst"
    RADIOLOGIST = "radiologist"  # a token bound to one reader: it acts only as them


class FacilityRow(SQLModel, table=True):
    __tablename__ = "facility"

    id: str = Field(primary_key=True, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    state: str = Field(max_length=2)
    timezone: str = Field(max_length=64)
    sla_stat: float | None = None
    sla_urgent: float | None = None
    sla_routine: float | None = None
    updated_at: datetime | None = _utc_column()
    # Other names the facility goes by in what hospitals send (HL7 MSH-4, PV1-3.4; DICOM's
    # InstitutionName): unique across facilities, checked when a facility is put.
    aliases: list[str] = _json_column()


class RadiologistRow(SQLModel, table=True):
    __tablename__ = "radiologist"

    id: str = Field(primary_key=True, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    licenses: list[dict[str, Any]] = _json_column()
    credentials: list[dict[str, Any]] = _json_column()
    subspecialties: list[str] = _json_column()
    modalities: list[str] = _json_column()
    speed: float = 1.0
    available: bool = True
    availability_reason: str | None = Field(default=None, max_length=500)
    updated_at: datetime | None = _utc_column()


class ShiftRow(SQLModel, table=True):
    __tablename__ = "shift"
    __table_args__ = (Index("ix_shift_window", "start", "end"),)

    id: str = Field(primary_key=True, max_length=64)
    radiologist_id: str = Field(foreign_key="radiologist.id", index=True, max_length=128)
    start: datetime = _utc_column(nullable=False)
    end: datetime = _utc_column(nullable=False)


class AbsenceRow(SQLModel, table=True):
    """A time a reader is away inside their shifts (a break booked ahead, a meeting): the
    planner treats their shifts as cut by it."""

    __tablename__ = "absence"
    __table_args__ = (Index("ix_absence_window", "radiologist_id", "end"),)

    id: str = Field(primary_key=True, max_length=64)
    radiologist_id: str = Field(foreign_key="radiologist.id", max_length=128)
    start: datetime = _utc_column(nullable=False)
    end: datetime = _utc_column(nullable=False)
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc_column(nullable=False)


class StudyRow(SQLModel, table=True):
    """One imaging study; `version` rises on every change so stale writers are refused."""

    __tablename__ = "study"
    __table_args__ = (
        UniqueConstraint("facility", "accession", name="uq_study_facility_accession"),
        Index("ix_study_status_assigned", "status", "assigned_to"),
        Index("ix_study_received", "received_at"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=64)
    facility: str = Field(foreign_key="facility.id", max_length=128)
    accession: str = Field(max_length=128)
    state: str = Field(max_length=2)
    modality: str = Field(max_length=8)
    priority: str = Field(max_length=16)
    subspecialty: str | None = Field(default=None, max_length=64)
    subspecialty_required: bool = False
    body_part: str | None = Field(default=None, max_length=64)
    # The ordered procedure as the sender described it (HL7 OBR-4); no patient data.
    procedure: str | None = Field(default=None, max_length=200)
    patient_ref: str | None = Field(default=None, max_length=128, index=True)
    expected_minutes: float
    received_at: datetime = _utc_column(nullable=False)
    due_at: datetime = _utc_column(nullable=False)
    status: str = Field(max_length=16)
    assigned_to: str | None = Field(default=None, max_length=128)
    queue_rank: float = 0.0
    pinned: bool = False
    assigned_at: datetime | None = _utc_column()
    predicted_start: datetime | None = _utc_column()
    predicted_finish: datetime | None = _utc_column()
    started_at: datetime | None = _utc_column()
    reported_at: datetime | None = _utc_column()
    report: str | None = Field(default=None, max_length=16)
    uncovered_reason: str | None = Field(default=None, max_length=500)
    content_hash: str = Field(max_length=64)
    version: int = 1
    # Readers who handed the study back: the dispatcher never offers it to them again (only a
    # coverage manager's manual assignment can give it back to one of them).
    released_by: list[str] = _json_column()
    # The explanation of the decision that last placed it (arrival, `next`, a re-plan, a
    # manual assignment), kept so a study being read or reported still says why it went there.
    why: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class AuditRow(SQLModel, table=True):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc_column(nullable=False, index=True)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    study_id: str | None = Field(default=None, max_length=64, index=True)
    entity: str | None = Field(default=None, max_length=200)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: str | None = Field(default=None, max_length=500)
    # The person the token acted for (a reader-bound token's reader, or the radiologist a
    # worklist system named): the audit says who read, not only which integration called.
    on_behalf_of: str | None = Field(default=None, max_length=128)


class TokenRow(SQLModel, table=True):
    """A named bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=128)
    token_hash: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=32)
    facilities: list[str] = _json_column()
    radiologist: str | None = Field(default=None, max_length=128)
    created_at: datetime = _utc_column(nullable=False)
    revoked: bool = False


class PracticeStateRow(SQLModel, table=True):
    """One row whose lock serializes plan changes and whose epoch says when a cache is stale."""

    __tablename__ = "practice_state"

    id: int = Field(default=1, primary_key=True)
    epoch: int = 0
    # Hex HMAC key grouping a patient's studies (nighthawk.service.patients), unless the
    # settings name one.
    patient_key: str | None = Field(default=None, max_length=128)


class JobLeaseRow(SQLModel, table=True):
    """Which server process runs the scheduled jobs, until when."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime = _utc_column(nullable=False)


class ProcedureCodeRow(SQLModel, table=True):
    """A sender's procedure code (HL7 OBR-4.1) and the subspecialty its studies need."""

    __tablename__ = "procedure_code"

    code: str = Field(primary_key=True, max_length=64)
    subspecialty: str = Field(max_length=64)
    subspecialty_required: bool = False


class Hl7MessageRow(SQLModel, table=True):
    """An HL7 message already taken (sender, MSH-10) and the ACK it got: a resend is
    acknowledged the same way and stores nothing twice."""

    __tablename__ = "hl7_message"

    sender: str = Field(primary_key=True, max_length=200)
    control_id: str = Field(primary_key=True, max_length=200)
    ack_code: str = Field(max_length=2)
    received_at: datetime = _utc_column(nullable=False)


class PlanStatus(StrEnum):
    """queued -> running -> done, or failed (with a one-line error)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PlanRow(SQLModel, table=True):
    """A coverage-planning job: the request, and once solved the roster and its coverage.

    `runner` names the job lease of the process that owns the job; a queued or running plan
    whose runner's lease has lapsed was left behind by a process that died.
    """

    __tablename__ = "plan"
    __table_args__ = (Index("ix_plan_status", "status"),)

    id: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=16)
    created_at: datetime = _utc_column(nullable=False)
    created_by: str = Field(max_length=128)
    runner: str | None = Field(default=None, max_length=64)
    started_at: datetime | None = _utc_column()
    finished_at: datetime | None = _utc_column()
    error: str | None = Field(default=None, max_length=1000)
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    published_at: datetime | None = _utc_column()
    published_by: str | None = Field(default=None, max_length=128)


# Core handles on the tables, typed as SQLAlchemy columns: service code writes
# `STUDY.c.status.in_(...)` and type-checks, where `StudyRow.status` is typed as a str.
FACILITY: Table = FacilityRow.__table__  # type: ignore[attr-defined]
RADIOLOGIST: Table = RadiologistRow.__table__  # type: ignore[attr-defined]
SHIFT: Table = ShiftRow.__table__  # type: ignore[attr-defined]
ABSENCE: Table = AbsenceRow.__table__  # type: ignore[attr-defined]
STUDY: Table = StudyRow.__table__  # type: ignore[attr-defined]
AUDIT: Table = AuditRow.__table__  # type: ignore[attr-defined]
TOKEN: Table = TokenRow.__table__  # type: ignore[attr-defined]
PRACTICE_STATE: Table = PracticeStateRow.__table__  # type: ignore[attr-defined]
JOB_LEASE: Table = JobLeaseRow.__table__  # type: ignore[attr-defined]
PLAN: Table = PlanRow.__table__  # type: ignore[attr-defined]
PROCEDURE_CODE: Table = ProcedureCodeRow.__table__  # type: ignore[attr-defined]
HL7_MESSAGE: Table = Hl7MessageRow.__table__  # type: ignore[attr-defined]
