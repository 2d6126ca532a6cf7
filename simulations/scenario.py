"""The scenario contract: a practice described in YAML or JSON, validated with clear errors.

A scenario names the facilities, the arrival streams (or a trace of recorded studies), how long
reads take, who reads with which licenses, credentials and weekly shifts, and the disruptions
to play out. Every error names the field: `radiologists[2].shifts[0].start: expected HH:MM`.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import pandas as pd
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from models.domain import Facility, RadiologistProfile, SlaMinutes, Strict
from models.errors import describe_first_error
from models.priority import DEFAULT_READ_MINUTES, Modality, Priority
from models.snapshot import require_unique_ids
from models.types import (
    MAX_READ_MINUTES,
    Identifier,
    StrictBool,
    Subspecialty,
    TimeZoneName,
    UniqueList,
    UtcDateTime,
)

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


class ShiftPattern(Strict):
    """A weekly shift in local time; one that ends at or before its start crosses midnight."""

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


class RadiologistSpec(RadiologistProfile):
    shifts: list[ShiftPattern] = Field(default_factory=list)


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


class Window(Strict):
    """An event's time window; `from` and `to` are UTC instants."""

    from_: UtcDateTime = Field(alias="from")
    to: UtcDateTime

    @model_validator(mode="after")
    def _to_after_from(self) -> Self:
        if self.to <= self.from_:
            raise ValueError("to: must be after from")
        return self


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
    """Knobs of the `optimizer` policy (the others have none)."""

    replan_minutes: Annotated[float, Field(strict=False, gt=0, le=1440)] = Field(
        default=15.0, description="Re-plan every unstarted study this often (simulated minutes)."
    )
    solver_budget: Annotated[float, Field(strict=False, gt=0, le=60)] = Field(
        default=0.05,
        description="CP-SAT deterministic time per re-plan; deterministic, so runs reproduce.",
    )
    rebind_when_idle: StrictBool = Field(
        default=True,
        description="A reader who frees up takes eligible work waiting in others' queues.",
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

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        if (self.arrivals is None) == (self.trace is None):
            raise ValueError("arrivals: give either arrivals or trace, not both or neither")
        if self.warmup_hours >= self.days * 24:
            raise ValueError("warmup_hours: must be shorter than the simulated days")
        require_unique_ids("facilities", [f.id for f in self.facilities])
        require_unique_ids("radiologists", [r.id for r in self.radiologists])
        facilities = {f.id for f in self.facilities}
        readers = {r.id for r in self.radiologists}
        for i, stream in enumerate(self.arrivals or []):
            if stream.facility not in facilities:
                raise ValueError(f"arrivals[{i}].facility: unknown facility {stream.facility!r}")
        for i, reader in enumerate(self.radiologists):
            for j, credential in enumerate(reader.credentials):
                if credential.facility not in facilities:
                    raise ValueError(
                        f"radiologists[{i}].credentials[{j}]: "
                        f"unknown facility {credential.facility!r}"
                    )
        for i, event in enumerate(self.events):
            if isinstance(event, Absence) and event.radiologist not in readers:
                raise ValueError(
                    f"events[{i}].radiologist: unknown radiologist {event.radiologist!r}"
                )
            if isinstance(event, Surge) and event.facility and event.facility not in facilities:
                raise ValueError(f"events[{i}].facility: unknown facility {event.facility!r}")
        return self

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
    """Validate already-parsed YAML/JSON data; raises ScenarioError naming the field."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: must be a mapping of fields, got {type(data).__name__}")
    try:
        return Scenario.model_validate(_yaml_times_as_text(data))
    except ValidationError as error:
        raise ScenarioError(f"{source}: {describe_first_error(error)}") from None


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


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from YAML or JSON (by extension; YAML otherwise)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, _Loader)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        problem = _first_line(error)
        raise ScenarioError(f"{path}: not valid {_format_name(path)} ({problem})") from None
    scenario = parse_scenario(data, source=str(path))
    if scenario.trace is not None and not Path(scenario.trace).is_absolute():
        # A trace is named relative to the scenario that uses it, wherever the CLI runs.
        scenario = scenario.model_copy(update={"trace": str(path.parent / scenario.trace)})
    return scenario


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML (libyaml's parser where installed: a national scenario loads 5x faster)
    without 1.1's base-60 integers, so `start: 22:00` stays the text "22:00" (the safe
    loader would read it as 1320, while `08:00` stays text)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rule) for tag, rule in rules if tag != "tag:yaml.org,2002:int"]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _format_name(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "YAML"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def load_trace(scenario: Scenario) -> pd.DataFrame:
    """The trace's studies as a frame: arrived_at (UTC), facility, modality, priority,
    subspecialty, read_minutes; rows outside the simulated days are dropped."""
    assert scenario.trace is not None
    try:
        frame = pd.read_csv(scenario.trace, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ScenarioError(f"trace: cannot read {scenario.trace} ({_first_line(error)})") from None
    missing = [c for c in TRACE_COLUMNS if c not in frame.columns]
    if missing:
        raise ScenarioError(f"trace: missing column {missing[0]!r}")
    return _validated_trace(frame, scenario)


def _validated_trace(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    facilities = {f.id for f in scenario.facilities}
    row_of = {i: i + 2 for i in range(len(frame))}  # line numbers as a spreadsheet shows them

    def fail(i: int, column: str, problem: str) -> ScenarioError:
        return ScenarioError(f"trace line {row_of[i]}: {column}: {problem}")

    arrived = pd.to_datetime(frame["arrived_at"], utc=True, errors="coerce", format="ISO8601")
    for i in _bad_rows(arrived.isna()):
        raise fail(i, "arrived_at", f"not an ISO-8601 time: {frame['arrived_at'].iat[i]!r}")
    # A time without an offset could be anyone's local time: refuse to guess, as the API does.
    has_offset = frame["arrived_at"].str.strip().str.contains(r"(?:Z|[+-]\d\d:?\d\d)$")
    for i in _bad_rows(~has_offset):
        raise fail(i, "arrived_at", "needs a UTC offset (e.g. 2026-12-01T03:00:00Z)")
    for i in _bad_rows(~frame["facility"].isin(facilities)):
        raise fail(i, "facility", f"unknown facility {frame['facility'].iat[i]!r}")
    modality = frame["modality"].str.strip().str.upper()
    for i in _bad_rows(~modality.isin([m.value for m in Modality])):
        raise fail(i, "modality", f"must be one of {', '.join(m.value for m in Modality)}")
    priority = frame["priority"].str.strip().str.upper()
    for i in _bad_rows(~priority.isin([p.value for p in Priority])):
        raise fail(i, "priority", f"must be one of {', '.join(p.value for p in Priority)}")
    minutes = pd.to_numeric(frame["read_minutes"], errors="coerce")
    bad = minutes.isna() | (minutes <= 0) | (minutes > MAX_READ_MINUTES)
    for i in _bad_rows(bad):
        raise fail(i, "read_minutes", f"must be a number in (0, {MAX_READ_MINUTES:g}]")
    required = (
        frame["subspecialty_required"].str.strip().str.lower().isin(["true", "1", "yes"])
        if "subspecialty_required" in frame.columns
        else pd.Series(False, index=frame.index)
    )
    subspecialty = frame["subspecialty"].str.strip().str.lower()
    for i in _bad_rows(required & (subspecialty == "")):
        raise fail(i, "subspecialty", "required when subspecialty_required is true")
    clean = pd.DataFrame(
        {
            "arrived_at": arrived,
            "facility": frame["facility"],
            "modality": modality,
            "priority": priority,
            # object dtype: a blank is None, never NaN (a NaN would read as a subspecialty)
            "subspecialty": pd.Series(
                [value or None for value in subspecialty.tolist()], index=frame.index, dtype=object
            ),
            "subspecialty_required": required.astype(bool),
            "read_minutes": minutes.astype(float),
        }
    )
    inside = (clean["arrived_at"] >= scenario.start) & (clean["arrived_at"] < scenario.end)
    return clean.loc[inside].sort_values("arrived_at", kind="stable").reset_index(drop=True)


def _bad_rows(mask: pd.Series) -> list[int]:
    """Positions of the first offending row (one error at a time, the earliest)."""
    positions = mask.to_numpy().nonzero()[0]
    return [int(positions[0])] if len(positions) else []
