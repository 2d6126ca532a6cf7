"""Domain vocabulary: facilities, radiologists with licenses and credentials, shifts, studies."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from models.priority import DEFAULT_SLA_MINUTES, Modality, Priority
from models.text import screen, screen_keys
from models.types import (
    MAX_SHIFT_HOURS,
    Identifier,
    IsoDate,
    PositiveMinutes,
    ReadMinutes,
    SpeedFactor,
    StateCode,
    StrictBool,
    Subspecialty,
    TimeZoneName,
    UniqueList,
    UtcDateTime,
)

# Fields whose text may hold tabs and line breaks; everywhere else they are refused too.
FREE_TEXT_FIELDS = frozenset({"name", "reason", "note", "description"})


class Strict(BaseModel):
    """Base for every input model: unknown fields are an error, never silently dropped, and
    every string is screened before any field reads it (`models.text`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _screen_input(cls, data: Any) -> Any:
        if isinstance(data, dict):
            screen_keys(_accepted_keys(cls), data)
            for key, value in data.items():
                screen(value, str(key), free_text=key in FREE_TEXT_FIELDS)
        return data


_ACCEPTED: dict[type[BaseModel], frozenset[str]] = {}


def _accepted_keys(model: type[BaseModel]) -> frozenset[str]:
    """Field names and their aliases: what a body may spell."""
    found = _ACCEPTED.get(model)
    if found is None:
        names = set(model.model_fields)
        names |= {f.alias for f in model.model_fields.values() if f.alias}
        found = _ACCEPTED[model] = frozenset(names)
    return found


def _license_shorthand(value: Any) -> Any:
    # "CA" is shorthand for a license in CA with no recorded expiry.
    return {"state": value} if isinstance(value, str) else value


def _credential_shorthand(value: Any) -> Any:
    return {"facility": value} if isinstance(value, str) else value


class License(Strict):
    """A state medical license; medicine is practised where the patient is."""

    state: StateCode
    expires_on: IsoDate | None = Field(
        default=None, description="Last day the license is valid, in the state's own time zone."
    )


class Credential(Strict):
    """Privileges granted by one facility; re-appointed periodically, so they expire."""

    facility: Identifier
    expires_on: IsoDate | None = Field(
        default=None, description="Last day the privileges are valid, in the facility's time zone."
    )


LicenseItem = Annotated[License, BeforeValidator(_license_shorthand)]
CredentialItem = Annotated[Credential, BeforeValidator(_credential_shorthand)]


class SlaMinutes(Strict):
    """Turnaround guarantees by priority, in minutes; unset classes use the practice default."""

    STAT: PositiveMinutes | None = None
    URGENT: PositiveMinutes | None = None
    ROUTINE: PositiveMinutes | None = None

    def minutes(self, priority: Priority, defaults: dict[Priority, float] | None = None) -> float:
        value = getattr(self, priority.value)
        if value is not None:
            return float(value)
        return (defaults or DEFAULT_SLA_MINUTES)[priority]


class Facility(Strict):
    """A hospital or imaging centre that sends studies under a contract."""

    id: Identifier
    name: str | None = None
    state: StateCode
    timezone: TimeZoneName
    sla_minutes: SlaMinutes = Field(default_factory=SlaMinutes)


class RadiologistProfile(Strict):
    """Who a radiologist is allowed and able to read for, independent of any shift."""

    id: Identifier
    name: str | None = None
    licenses: Annotated[list[LicenseItem], Field(default_factory=list)]
    credentials: Annotated[list[CredentialItem], Field(default_factory=list)]
    subspecialties: Annotated[list[Subspecialty], UniqueList, Field(default_factory=list)]
    modalities: Annotated[
        list[Modality],
        Field(default_factory=list, description="Modalities read; empty means all."),
    ]
    speed: SpeedFactor = Field(default=1.0, description="Reading speed; 2.0 reads twice as fast.")


class Shift(Strict):
    """A stretch of time a radiologist is on duty."""

    start: UtcDateTime
    end: UtcDateTime

    @model_validator(mode="after")
    def _end_after_start(self) -> Shift:
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        if self.end - self.start > timedelta(hours=MAX_SHIFT_HOURS):
            raise ValueError(f"end: shift longer than {MAX_SHIFT_HOURS} hours")
        return self


class StudyBase(Strict):
    """What the engine needs of an imaging study: no patient name, no image."""

    id: Identifier
    facility: Identifier
    state: StateCode
    modality: Modality
    subspecialty: Subspecialty | None = None
    subspecialty_required: StrictBool = False
    priority: Priority
    arrived_at: UtcDateTime
    due_at: UtcDateTime | None = None
    expected_minutes: ReadMinutes


class Radiologist(RadiologistProfile):
    """A radiologist with the shifts they are rostered for."""

    shifts: list[Shift] = Field(default_factory=list)


Study = StudyBase
