"""The snapshot contract: one moment of a practice, handed to `nighthawk solve`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Self

from pydantic import Field, model_validator

from models.domain import (
    Facility,
    RadiologistProfile,
    SlaMinutes,
    Strict,
    StudyBase,
)
from models.priority import DEFAULT_PRIORITY_WEIGHTS, DEFAULT_SLA_MINUTES, Priority
from models.types import MAX_SHIFT_HOURS, Identifier, NonNegativeMinutes, UtcDateTime

NonNegativeWeight = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]


class PriorityWeights(Strict):
    """How much one unread or late minute of each class weighs (defaults 100 / 10 / 1)."""

    STAT: NonNegativeWeight = DEFAULT_PRIORITY_WEIGHTS[Priority.STAT]
    URGENT: NonNegativeWeight = DEFAULT_PRIORITY_WEIGHTS[Priority.URGENT]
    ROUTINE: NonNegativeWeight = DEFAULT_PRIORITY_WEIGHTS[Priority.ROUTINE]

    def weight(self, priority: Priority) -> float:
        return float(getattr(self, priority.value))


class PreferenceWeights(Strict):
    """Weights of the soft terms ranked after lateness; configuration, not literals."""

    workload_balance: NonNegativeWeight = Field(
        default=1.0, description="Per squared hour of each reader's queue (backlog + assigned)."
    )
    subspecialty_mismatch: NonNegativeWeight = Field(
        default=2.0, description="Per study read outside its (preferred) subspecialty."
    )
    moved_study: NonNegativeWeight = Field(
        default=1.0, description="Per study taken from the reader it was already assigned to."
    )


class Settings(Strict):
    priority_weights: PriorityWeights = Field(default_factory=PriorityWeights)
    sla_minutes: SlaMinutes = Field(default_factory=SlaMinutes)
    preference_weights: PreferenceWeights = Field(default_factory=PreferenceWeights)

    def sla_defaults(self) -> dict[Priority, float]:
        return {p: self.sla_minutes.minutes(p, DEFAULT_SLA_MINUTES) for p in Priority}


class SnapshotRadiologist(RadiologistProfile):
    shift_start: UtcDateTime
    shift_end: UtcDateTime
    backlog_minutes: NonNegativeMinutes = Field(
        default=0.0, description="Work already in hand (a study being read) before new work starts."
    )

    @model_validator(mode="after")
    def _shift_ends_after_start(self) -> Self:
        if self.shift_end <= self.shift_start:
            raise ValueError("shift_end: must be after shift_start")
        if self.shift_end - self.shift_start > timedelta(hours=MAX_SHIFT_HOURS):
            raise ValueError(f"shift_end: shift longer than {MAX_SHIFT_HOURS} hours")
        return self


class SnapshotStudy(StudyBase):
    assigned_to: Identifier | None = Field(
        default=None, description="The reader it is assigned to now; moving it costs a little."
    )
    queue_position: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        default=None,
        description="Its place in that reader's current queue; a re-plan starts from this order.",
    )


class Snapshot(Strict):
    """Everything the optimizer sees: the time, the readers on duty and the unread studies."""

    now: UtcDateTime
    radiologists: list[SnapshotRadiologist]
    studies: list[SnapshotStudy]
    facilities: list[Facility] = Field(
        default_factory=list, description="Optional contracts; SLA minutes and time zones."
    )
    settings: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _references_hold(self) -> Self:
        require_unique_ids("radiologists", [r.id for r in self.radiologists])
        require_unique_ids("studies", [s.id for s in self.studies])
        require_unique_ids("facilities", [f.id for f in self.facilities])
        known_radiologists = {r.id for r in self.radiologists}
        facility_states = {f.id: f.state for f in self.facilities}
        for index, study in enumerate(self.studies):
            where = f"studies[{index}]"
            if study.assigned_to is not None and study.assigned_to not in known_radiologists:
                raise ValueError(f"{where}.assigned_to: unknown radiologist {study.assigned_to!r}")
            if study.arrived_at > self.now:
                raise ValueError(f"{where}.arrived_at: after now ({self.now.isoformat()})")
            if study.due_at is not None and study.due_at < study.arrived_at:
                raise ValueError(f"{where}.due_at: before arrived_at")
            expected_state = facility_states.get(study.facility)
            if expected_state is not None and expected_state != study.state:
                raise ValueError(
                    f"{where}.state: facility {study.facility} is in {expected_state}, "
                    f"not {study.state}"
                )
        return self

    def due_at(self, study: SnapshotStudy) -> UtcDateTime:
        """The study's due time: as given, else arrival plus the contract's SLA minutes."""
        if study.due_at is not None:
            return study.due_at
        defaults = self.settings.sla_defaults()
        facility = next((f for f in self.facilities if f.id == study.facility), None)
        minutes = (
            facility.sla_minutes.minutes(study.priority, defaults)
            if facility is not None
            else defaults[study.priority]
        )
        return study.arrived_at + timedelta(minutes=minutes)


def duplicate_ids(collection: str, ids: list[str]) -> list[tuple[str, str]]:
    """(field path, message) for every id that repeats an earlier one."""
    seen: set[str] = set()
    problems = []
    for index, identifier in enumerate(ids):
        if identifier in seen:
            problems.append((f"{collection}[{index}].id", f"duplicate id {identifier!r}"))
        seen.add(identifier)
    return problems


def require_unique_ids(collection: str, ids: list[str]) -> None:
    problems = duplicate_ids(collection, ids)
    if problems:
        path, message = problems[0]
        raise ValueError(f"{path}: {message}")
