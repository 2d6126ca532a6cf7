"""The scenario contract: a practice described in YAML or JSON, validated with clear errors.

Shared vocabulary: the simulator runs a scenario, the coverage planner fills in its shifts.

A scenario names the facilities, the arrival streams (or a trace of recorded studies), how long
reads take, who reads with which licenses, credentials and weekly shifts, and the disruptions
to play out. Every error names the field: `radiologists[2].shifts[0].start: expected HH:MM`.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from models.domain import Facility, RadiologistProfile, SlaMinutes, Strict
from models.errors import FieldErrors
from models.priority import DEFAULT_READ_MINUTES, Modality, Priority
from models.snapshot import duplicate_ids
from models.types import (
    MAX_READ_MINUTES,
    Identifier,
    IsoDate,
    StrictBool,
    Subspecialty,
    TimeZoneName,
    UniqueList,
    UtcDateTime,
)
from models.validation import InvalidDocument, format_problems, validate_document

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 366
TRACE_COLUMNS = ("arrived_at", "facility", "modality", "priority", "subspecialty", "read_minutes")

Rate = Annotated[float, Field(strict=False, ge=0, le=10_000, allow_inf_nan=False)]
Mean = Annotated[float, Field(strict=False, gt=0, le=MAX_READ_MINUTES, allow_inf_nan=False)]
Spread = Annotated[float, Field(strict=False, ge=0, le=MAX_READ_MINUTES, allow_inf_nan=False)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ScenarioError(ValueError):
    """A scenario (or its trace) that cannot be simulated; the message names the field."""


def parse_clock(text: str, *, allow_midnight_end: bool = False) -> int:
    """'22:00' -> minutes after midnight; '24:00' only where a shift may end at midnight."""
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"expected HH:MM, got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 24 * 60 or (value == 24 * 60 and not allow_midnight_end):
        raise ValueError(f"not a time of day: {text!r}")
    return value


class LocalSpan(Strict):
    """Local wall-clock hours on some weekdays; one that ends at or before its start crosses
    midnight, and "24:00" ends at midnight."""

    start: str
    end: str
    timezone: TimeZoneName
    days: Annotated[list[Weekday], UniqueList, Field(default_factory=lambda: list(WEEKDAYS))]

    @field_validator("start")
    @classmethod
    def _start_is_clock(cls, value: str) -> str:
        parse_clock(value)
        return value

    @field_validator("end")
    @classmethod
    def _end_is_clock(cls, value: str) -> str:
        parse_clock(value, allow_midnight_end=True)
        return value

    @property
    def start_minute(self) -> int:
        return parse_clock(self.start)

    @property
    def length_minutes(self) -> int:
        """Minutes on duty; an end at or before the start is the next day's."""
        end = parse_clock(self.end, allow_midnight_end=True)
        return (end - self.start_minute) % (24 * 60) or 24 * 60


class ShiftPattern(LocalSpan):
    """A weekly shift in local time (or, with `dates`, a shift on those local dates)."""

    dates: Annotated[list[IsoDate], UniqueList] | None = Field(
        default=None,
        description="Local dates the shift starts on (a planned roster); replaces `days`.",
    )

    def runs_on(self, day: date) -> bool:
        """Whether the shift starts on this local date."""
        if self.dates is not None:
            return day in self.dates
        return WEEKDAYS[day.weekday()] in self.days


class Window(Strict):
    """An event's time window; `from` and `to` are UTC instants."""

    from_: UtcDateTime = Field(alias="from")
    to: UtcDateTime

    @model_validator(mode="after")
    def _to_after_from(self) -> Self:
        if self.to <= self.from_:
            raise ValueError("to: must be after from")
        return self


class Preferences(Strict):
    """Shift templates a radiologist would rather work, or rather not."""

    prefers: Annotated[list[Identifier], UniqueList] = Field(default_factory=list)
    avoids: Annotated[list[Identifier], UniqueList] = Field(default_factory=list)


class RadiologistSpec(RadiologistProfile):
    """A reader in a scenario: fixed weekly `shifts` for the simulator, or, for the coverage
    planner, when they can work (`availability`, `unavailable`) and what they prefer."""

    shifts: list[ShiftPattern] = Field(default_factory=list)
    availability: list[ShiftPattern] | None = Field(
        default=None, description="Weekly windows a planned shift must lie within; none: any time."
    )
    unavailable: list[Window] = Field(
        default_factory=list, description="UTC windows no planned shift may touch (leave, CME)."
    )
    max_shifts_per_week: Annotated[int, Field(strict=True, ge=0, le=14)] | None = None
    prefers: Annotated[list[Identifier], UniqueList, Field(default_factory=list)]
    preferences: Preferences = Field(default_factory=Preferences)

    @property
    def preferred_templates(self) -> frozenset[str]:
        return frozenset(self.prefers) | frozenset(self.preferences.prefers)

    @property
    def avoided_templates(self) -> frozenset[str]:
        return frozenset(self.preferences.avoids)


class ReadDistribution(Strict):
    """How long one read takes at speed 1.0: exponential (mean), lognormal (mean, sd) or fixed."""

    distribution: Literal["exponential", "lognormal", "fixed"]
    mean: Mean
    sd: Spread | None = None

    @model_validator(mode="after")
    def _lognormal_needs_sd(self) -> Self:
        if self.distribution == "lognormal" and self.sd is None:
            raise ValueError("sd: required for a lognormal distribution")
        if self.distribution != "lognormal" and self.sd is not None:
            raise ValueError(f"sd: only a lognormal distribution takes sd, not {self.distribution}")
        return self

    def lognormal_parameters(self) -> tuple[float, float]:
        """(mu, sigma) of the underlying normal with this mean and standard deviation."""
        sd = self.sd or 0.0
        sigma2 = math.log1p((sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)


class ArrivalStream(Strict):
    """A Poisson stream of studies; the rate may follow the facility's local hour of day."""

    facility: Identifier
    modality: Modality
    priority: Priority
    subspecialty: Subspecialty | None = None
    subspecialty_required: StrictBool = False
    per_hour: Rate
    hourly_profile: Annotated[list[Rate], Field(min_length=24, max_length=24)] | None = None

    @model_validator(mode="after")
    def _required_names_subspecialty(self) -> Self:
        if self.subspecialty_required and not self.subspecialty:
            raise ValueError("subspecialty: required when subspecialty_required is true")
        return self

    def multiplier(self, local_hour: int) -> float:
        return 1.0 if self.hourly_profile is None else self.hourly_profile[local_hour]


class Absence(Window):
    """A reader off sick or called away: no new reads in the window; unstarted work goes back."""

    type: Literal["absence"]
    radiologist: Identifier


class Surge(Window):
    """Arrival rates multiplied by `factor` in the window, at one facility or everywhere."""

    type: Literal["surge"]
    factor: Annotated[float, Field(strict=False, ge=0, le=100, allow_inf_nan=False)]
    facility: Identifier | None = None


Event = Annotated[Absence | Surge, Field(discriminator="type")]


class PolicySettings(Strict):
    """Knobs the former `optimizer` policy had (a CP-SAT re-plan every few minutes). The
    policy is now the service's live dispatcher, which decides at every event and has no
    knobs: these are still accepted, so older scenarios load, and change nothing."""

    replan_minutes: Annotated[float, Field(strict=False, gt=0, le=1440)] = Field(
        default=15.0, description="No effect (was: re-plan every unstarted study this often)."
    )
    solver_budget: Annotated[float, Field(strict=False, gt=0, le=60)] = Field(
        default=0.05, description="No effect (was: CP-SAT deterministic time per re-plan)."
    )
    rebind_when_idle: StrictBool = Field(
        default=True,
        description="No effect: a free reader always binds late (takes the most pressing work "
        "they may start, whoever it was forecast for).",
    )


class ShiftTemplate(LocalSpan):
    """A shift the coverage planner may staff, each day it runs, in its own time zone."""

    id: Identifier
    cost: Annotated[float, Field(strict=False, ge=0, le=1000, allow_inf_nan=False)] = Field(
        default=1.0, description="Cost per hour on duty (a rate: 1.3 is time and three tenths)."
    )
    night: StrictBool | None = Field(
        default=None,
        description="Counts toward consecutive nights; unset: it covers 3+ hours of 00:00-06:00.",
    )

    @property
    def pattern(self) -> ShiftPattern:
        return ShiftPattern(start=self.start, end=self.end, timezone=self.timezone, days=self.days)

    @property
    def is_night(self) -> bool:
        if self.night is not None:
            return self.night
        start, length = self.start_minute, self.length_minutes
        # minutes of local 00:00-06:00 (today's or tomorrow's) inside [start, start + length)
        overlap = sum(
            max(0, min(start + length, midnight + 360) - max(start, midnight))
            for midnight in (0, 24 * 60)
        )
        return overlap >= 180


class PlanningRules(Strict):
    """Labour rules and the staffing margin the coverage planner holds every roster to."""

    min_rest_hours: Annotated[float, Field(strict=False, ge=0, le=72)] = 10.0
    max_consecutive_nights: Annotated[int, Field(strict=True, ge=0, le=14)] = 5
    max_shifts_per_week: Annotated[int, Field(strict=True, ge=0, le=14)] = 5
    target_utilization: Annotated[float, Field(strict=False, gt=0, le=1, allow_inf_nan=False)] = (
        Field(default=0.8, description="Plan readers this busy at most: the queueing margin.")
    )


class Scenario(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    start: UtcDateTime
    days: Annotated[float, Field(strict=False, gt=0, le=MAX_DAYS)]
    warmup_hours: Annotated[float, Field(strict=False, ge=0)] = 0.0
    sla_minutes: SlaMinutes = Field(
        default_factory=SlaMinutes, description="Practice defaults; a facility may override."
    )
    facilities: Annotated[list[Facility], Field(min_length=1)]
    arrivals: list[ArrivalStream] | None = None
    trace: str | None = Field(
        default=None, description="CSV of recorded studies replayed instead of `arrivals`."
    )
    read_minutes: dict[Modality, ReadDistribution] = Field(default_factory=dict)
    radiologists: Annotated[list[RadiologistSpec], Field(min_length=1)]
    events: list[Event] = Field(default_factory=list)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    drain_hours: Annotated[float, Field(strict=False, ge=0, le=24 * 30)] = Field(
        default=72.0,
        description="After the last arrival, keep reading this long before calling a study unread.",
    )
    shift_templates: list[ShiftTemplate] = Field(
        default_factory=list, description="Shifts the coverage planner may staff."
    )
    rules: PlanningRules = Field(default_factory=PlanningRules)
    history: str | None = Field(
        default=None, description="CSV of past studies the planner forecasts demand from."
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        problems = [*self._source_problems(), *self._id_problems(), *self._reference_problems()]
        if problems:
            raise FieldErrors(problems)
        return self

    def _source_problems(self) -> list[tuple[str, str]]:
        problems = []
        if self.arrivals is not None and self.trace is not None:
            problems.append(("arrivals", "give either arrivals or trace, not both"))
        if self.arrivals is None and self.trace is None and self.history is None:
            problems.append(("arrivals", "give arrivals, a trace or a history of studies"))
        if self.warmup_hours >= self.days * 24:
            problems.append(
                (
                    "warmup_hours",
                    f"{self.warmup_hours:g} h must be shorter than the simulated "
                    f"{self.days:g} day{'' if self.days == 1 else 's'} ({self.days * 24:g} h)",
                )
            )
        return problems

    def _id_problems(self) -> list[tuple[str, str]]:
        return [
            *duplicate_ids("facilities", [f.id for f in self.facilities]),
            *duplicate_ids("radiologists", [r.id for r in self.radiologists]),
            *duplicate_ids("shift_templates", [t.id for t in self.shift_templates]),
        ]

    def _reference_problems(self) -> list[tuple[str, str]]:
        facilities = {f.id for f in self.facilities}
        readers = {r.id for r in self.radiologists}
        templates = {t.id for t in self.shift_templates}
        problems = []
        for i, stream in enumerate(self.arrivals or []):
            if stream.facility not in facilities:
                problems.append(
                    (f"arrivals[{i}].facility", f"unknown facility {stream.facility!r}")
                )
        for i, reader in enumerate(self.radiologists):
            for j, credential in enumerate(reader.credentials):
                if credential.facility not in facilities:
                    problems.append(
                        (
                            f"radiologists[{i}].credentials[{j}]",
                            f"unknown facility {credential.facility!r}",
                        )
                    )
            named = [
                ("prefers", reader.prefers),
                ("preferences.prefers", reader.preferences.prefers),
                ("preferences.avoids", reader.preferences.avoids),
            ]
            for field_name, ids in named:
                problems += [
                    (
                        f"radiologists[{i}].{field_name}[{j}]",
                        f"unknown shift template {template!r}",
                    )
                    for j, template in enumerate(ids)
                    if template not in templates
                ]
        for i, event in enumerate(self.events):
            if isinstance(event, Absence) and event.radiologist not in readers:
                problems.append(
                    (f"events[{i}].radiologist", f"unknown radiologist {event.radiologist!r}")
                )
            if isinstance(event, Surge) and event.facility and event.facility not in facilities:
                problems.append((f"events[{i}].facility", f"unknown facility {event.facility!r}"))
        return problems

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def measured_from(self) -> datetime:
        return self.start + timedelta(hours=self.warmup_hours)

    def read_distribution(self, modality: Modality) -> ReadDistribution:
        """The scenario's distribution, else exponential around the engine's default mean."""
        given = self.read_minutes.get(modality)
        if given is not None:
            return given
        return ReadDistribution(distribution="exponential", mean=DEFAULT_READ_MINUTES[modality])


def parse_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    """Validate already-parsed YAML/JSON data; raises ScenarioError naming every problem (up
    to 20, then how many more), one a line, each with its field."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: must be a mapping of fields, got {type(data).__name__}")
    try:
        return validate_document(Scenario, _yaml_times_as_text(data))
    except InvalidDocument as error:
        raise ScenarioError(format_problems(source, error.problems)) from None


def _yaml_times_as_text(value: Any) -> Any:
    """YAML reads 2026-12-01T00:00:00Z as a datetime; hand it over as ISO text so the one
    parser (and its error messages) applies to JSON and YAML alike."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _yaml_times_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_times_as_text(v) for v in value]
    return value
