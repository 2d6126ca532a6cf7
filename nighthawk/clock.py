"""Time arithmetic on the engine's axis: float minutes relative to the snapshot's `now`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import us

NEVER = float("inf")


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def at_minutes(origin: datetime, minutes: float) -> datetime:
    return origin + timedelta(minutes=minutes)


@lru_cache(maxsize=256)
def state_time_zone(state: str) -> str:
    """The IANA zone a state's documents are dated in: its capital's (DC has none in `us`)."""
    found = us.states.lookup(state, field="abbr")
    zone = getattr(found, "capital_tz", None) if found is not None else None
    return str(zone) if zone else "America/New_York"


@lru_cache(maxsize=4096)
def end_of_day_utc(day: date, zone: str) -> datetime:
    """A license or privilege dated `day` is valid until local midnight that ends the day."""
    local_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return local_midnight.astimezone(UTC)


def valid_until_minutes(now: datetime, expires_on: date | None, zone: str) -> float:
    if expires_on is None:
        return NEVER
    return minutes_between(now, end_of_day_utc(expires_on, zone))
