"""The IANA time zones in use in each US state, DC and the territories: where a facility's
clock may legitimately be (tz database `zone1970.tab` and its links, as of 2024).

Used to warn about a facility whose time zone is none of its state's, which is legal but almost
surely a slip (a Wyoming facility on New York time). A zone that is not listed but keeps the
same clock as a listed one (a link such as US/Mountain) fits as well.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["STATE_TIME_ZONES", "zone_fits_state"]

_EASTERN = ("America/New_York",)
_CENTRAL = ("America/Chicago",)
_MOUNTAIN = ("America/Denver",)
_PACIFIC = ("America/Los_Angeles",)
_INDIANA = (
    "America/Indiana/Indianapolis",
    "America/Indiana/Knox",
    "America/Indiana/Marengo",
    "America/Indiana/Petersburg",
    "America/Indiana/Tell_City",
    "America/Indiana/Vevay",
    "America/Indiana/Vincennes",
    "America/Indiana/Winamac",
)

STATE_TIME_ZONES: dict[str, tuple[str, ...]] = {
    "AL": _CENTRAL,
    "AK": (
        "America/Anchorage",
        "America/Juneau",
        "America/Sitka",
        "America/Metlakatla",
        "America/Yakutat",
        "America/Nome",
        "America/Adak",
    ),
    "AZ": ("America/Phoenix", *_MOUNTAIN),  # the Navajo Nation keeps daylight saving time
    "AR": _CENTRAL,
    "CA": _PACIFIC,
    "CO": _MOUNTAIN,
    "CT": _EASTERN,
    "DE": _EASTERN,
    "DC": _EASTERN,
    "FL": (*_EASTERN, *_CENTRAL),
    "GA": _EASTERN,
    "HI": ("Pacific/Honolulu",),
    "ID": ("America/Boise", *_PACIFIC),
    "IL": _CENTRAL,
    "IN": (*_INDIANA, *_EASTERN, *_CENTRAL),
    "IA": _CENTRAL,
    "KS": (*_CENTRAL, *_MOUNTAIN),
    "KY": ("America/Kentucky/Louisville", "America/Kentucky/Monticello", *_EASTERN, *_CENTRAL),
    "LA": _CENTRAL,
    "ME": _EASTERN,
    "MD": _EASTERN,
    "MA": _EASTERN,
    "MI": ("America/Detroit", "America/Menominee", *_EASTERN, *_CENTRAL),
    "MN": _CENTRAL,
    "MS": _CENTRAL,
    "MO": _CENTRAL,
    "MT": _MOUNTAIN,
    "NE": (*_CENTRAL, *_MOUNTAIN),
    "NV": (*_PACIFIC, *_MOUNTAIN),
    "NH": _EASTERN,
    "NJ": _EASTERN,
    "NM": _MOUNTAIN,
    "NY": _EASTERN,
    "NC": _EASTERN,
    "ND": (
        *_CENTRAL,
        *_MOUNTAIN,
        "America/North_Dakota/Center",
        "America/North_Dakota/New_Salem",
        "America/North_Dakota/Beulah",
    ),
    "OH": _EASTERN,
    "OK": _CENTRAL,
    "OR": (*_PACIFIC, "America/Boise"),
    "PA": _EASTERN,
    "RI": _EASTERN,
    "SC": _EASTERN,
    "SD": (*_CENTRAL, *_MOUNTAIN),
    "TN": (*_CENTRAL, *_EASTERN),
    "TX": (*_CENTRAL, *_MOUNTAIN),
    "UT": _MOUNTAIN,
    "VT": _EASTERN,
    "VA": _EASTERN,
    "WA": _PACIFIC,
    "WV": _EASTERN,
    "WI": _CENTRAL,
    "WY": _MOUNTAIN,
    "AS": ("Pacific/Pago_Pago",),
    "GU": ("Pacific/Guam",),
    "MP": ("Pacific/Guam", "Pacific/Saipan"),
    "PR": ("America/Puerto_Rico",),
    "VI": ("America/Puerto_Rico", "America/St_Thomas"),
}


def zone_fits_state(zone: str, state: str, year: int) -> bool:
    """Whether `zone` is one of `state`'s, or keeps the same clock as one of them throughout
    `year` and the next (a state missing from the table fits any zone: nothing to say)."""
    zones = STATE_TIME_ZONES.get(state)
    if zones is None or zone in zones:
        return True
    return any(_same_clock(zone, known, year) for known in zones)


@functools.cache
def _same_clock(zone: str, other: str, year: int) -> bool:
    first, second = ZoneInfo(zone), ZoneInfo(other)
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 2, 1, 1, tzinfo=UTC)
    while moment < end:
        if moment.astimezone(first).utcoffset() != moment.astimezone(second).utcoffset():
            return False
        moment += timedelta(hours=1)
    return True
