"""The one way the planner's files write times: ISO 8601, UTC with a `Z`, local times with
their offset (`-06:00`), so roster.csv and coverage.csv can be joined on their text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(moment: datetime) -> str:
    """2026-01-05T00:00:00Z"""
    return moment.astimezone(ZoneInfo("UTC")).strftime(UTC_FORMAT)


def local_text(moment: datetime, zone: str) -> str:
    """2026-01-04T18:00:00-06:00: the same instant on the zone's clock."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()


def utc_texts(moments: pd.Series) -> pd.Series:
    """`utc_text` of a series of tz-aware timestamps."""
    return _each_once(moments, lambda unique: unique.tz_convert("UTC").strftime(UTC_FORMAT))


def local_texts(moments: pd.Series, zone: str) -> pd.Series:
    """`local_text` of a series of tz-aware timestamps; strftime's %z has no colon, so it is
    put in (ISO 8601's extended form, as `isoformat` writes it)."""

    def texts(unique: pd.DatetimeIndex) -> pd.Index:
        plain = unique.tz_convert(zone).strftime("%Y-%m-%dT%H:%M:%S%z")
        return plain.str[:-2] + ":" + plain.str[-2:]

    return _each_once(moments, texts)


def _each_once(moments: pd.Series, texts: Callable[[pd.DatetimeIndex], pd.Index]) -> pd.Series:
    """Format each distinct moment once: strftime is slow, and coverage.csv repeats every
    hour once per facility."""
    codes, unique = pd.factorize(moments)
    return pd.Series(np.asarray(texts(pd.DatetimeIndex(unique)))[codes], index=moments.index)
