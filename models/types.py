"""Annotated field types shared by every model: times, states, identifiers."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

import us
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer

from models.text import clean_identifier, shown

# Times and dates the practice can mean: anything else is refused at the door.
MIN_YEAR = 1900
MAX_YEAR = 2200
_TIME_RANGE_MESSAGE = f"time outside {MIN_YEAR}-{MAX_YEAR}"


def parse_utc_time(value: object) -> datetime:
    """Parse an ISO-8601 time with an offset ('Z' or '+hh:mm') into an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not an ISO-8601 time") from None
    else:
        raise ValueError("not an ISO-8601 time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        # A time without an offset is ambiguous across facility time zones; refuse to guess.
        raise ValueError("time has no UTC offset (write it as 2026-12-05T07:30:00Z)")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(_TIME_RANGE_MESSAGE) from None
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        # Far-off years are typos or probes, and they overflow date arithmetic downstream.
        raise ValueError(_TIME_RANGE_MESSAGE)
    return utc


def format_utc_time(value: datetime) -> str:
    """ISO-8601 in UTC with a 'Z' suffix, millisecond precision at most."""
    value = value.astimezone(UTC)
    if value.microsecond:
        text = value.isoformat(timespec="milliseconds")
    else:
        text = value.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not an ISO-8601 date (YYYY-MM-DD)") from None
    else:
        raise ValueError("not an ISO-8601 date (YYYY-MM-DD)")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"date outside {MIN_YEAR}-{MAX_YEAR}")
    return parsed


def _state_code(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a two-letter US state code")
    code = value.strip().upper()
    state = us.states.lookup(code, field="abbr") if len(code) == 2 else None
    if state is None:
        raise ValueError(f"{value!r} is not a US state code")
    return str(state.abbr)


@functools.cache
def _time_zones() -> frozenset[str]:
    # Looked up in the list, not by opening files: a name such as "America" (a directory) or
    # 300 characters would reach the file system. The list's odd entries are no place's zone.
    return frozenset(available_timezones()) - {"Factory", "posixrules", "localtime"}


def _time_zone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("must be an IANA time zone name such as America/Chicago")
    if value not in _time_zones():
        raise ValueError(f"'{shown(value)}' is not an IANA time zone")
    ZoneInfo(value)  # loads (and caches) it now, not in the middle of a solve
    return value


def _identifier(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    text = clean_identifier(value.strip())
    if not text:
        raise ValueError("must not be empty")
    if len(text) > 128:
        raise ValueError("longer than 128 characters")
    return text


def _subspecialty(value: object) -> str:
    return _identifier(value).lower()


UtcDateTime = Annotated[
    datetime,
    BeforeValidator(parse_utc_time),
    PlainSerializer(format_utc_time, return_type=str, when_used="json"),
]
IsoDate = Annotated[date, BeforeValidator(parse_date)]
StateCode = Annotated[str, BeforeValidator(_state_code)]
TimeZoneName = Annotated[str, BeforeValidator(_time_zone)]
Identifier = Annotated[str, BeforeValidator(_identifier)]
Subspecialty = Annotated[str, BeforeValidator(_subspecialty)]
# Upper bounds keep nonsense (a 10^300-minute read) out, and the solver's integers in range.
MAX_READ_MINUTES = 1440.0  # no single read takes a day (polytrauma CT is about 39 minutes)
MAX_SLA_MINUTES = 43200.0  # 30 days; the longest contracts seen are 72 hours
MAX_SHIFT_HOURS = 168  # a week; real shifts are 8-12 hours
PositiveMinutes = Annotated[
    float, Field(strict=True, gt=0, le=MAX_SLA_MINUTES, allow_inf_nan=False)
]
ReadMinutes = Annotated[float, Field(strict=True, gt=0, le=MAX_READ_MINUTES, allow_inf_nan=False)]
NonNegativeMinutes = Annotated[
    float, Field(strict=True, ge=0, le=MAX_READ_MINUTES, allow_inf_nan=False)
]
SpeedFactor = Annotated[float, Field(strict=True, ge=0.1, le=10, allow_inf_nan=False)]
StrictBool = Annotated[bool, Field(strict=True)]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


UniqueList = AfterValidator(_unique)
