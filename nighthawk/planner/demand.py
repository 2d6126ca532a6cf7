"""Forecast demand: expected studies and reading minutes per facility, class and hour.

Demand follows the facility's local clock, so the forecast is an hour-of-week profile in local
time (0 = Monday 00:00-01:00) per facility, modality, priority and required subspecialty. It
comes from the scenario's arrival streams (their expected rates) or, when the scenario names
a `history` of past studies, from counting those studies by local hour of week with pandas.
The profile is then laid over the planning horizon hour by hour (UTC), with surges applied.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from models.priority import Modality
from models.scenario import Scenario, ScenarioError, Surge
from nighthawk.clock import minutes_between

HOURS_PER_WEEK = 168
KEY_COLUMNS = ["facility", "modality", "priority", "subspecialty"]
FORECAST_COLUMNS = [*KEY_COLUMNS, "hour_of_week", "studies_per_hour", "read_minutes"]


def forecast_from_arrivals(scenario: Scenario) -> pd.DataFrame:
    """Expected studies per local hour of week of every arrival stream (surges excluded:
    they are dated, and `surge_factors` applies them to the hours they touch)."""
    rows = []
    for stream in scenario.arrivals or []:
        mean = scenario.read_distribution(stream.modality).mean
        subspecialty = stream.subspecialty if stream.subspecialty_required else None
        for how in range(HOURS_PER_WEEK):
            rate = stream.per_hour * stream.multiplier(how % 24)
            if rate > 0:
                rows.append(
                    (
                        stream.facility,
                        stream.modality.value,
                        stream.priority.value,
                        subspecialty,
                        how,
                        rate,
                        mean,
                    )
                )
    return _combined(pd.DataFrame(rows, columns=FORECAST_COLUMNS))


def forecast_from_history(history: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Mean studies per local hour of week: the count in each hour of the week over how many
    times that hour occurs in the history's span. Read minutes are the history's mean per
    facility and modality where it records them, else the scenario's distribution mean."""
    if history.empty:
        raise ScenarioError("history: has no studies")
    zones = {f.id: f.timezone for f in scenario.facilities}
    frame = history.copy()
    frame["hour_of_week"] = _local_hour_of_week(frame, zones)
    frame["subspecialty"] = frame["subspecialty"].where(frame["subspecialty_required"], None)
    # How often each local hour of the week occurs in the history's span, per zone: a
    # history of ten days holds some hours of the week twice and others once.
    hours = pd.date_range(
        frame["arrived_at"].min().floor("h"), frame["arrived_at"].max().floor("h"), freq="h"
    )
    occurrences = {
        zone: np.bincount(
            (local := hours.tz_convert(zone)).day_of_week * 24 + local.hour,
            minlength=HOURS_PER_WEEK,
        )
        for zone in set(zones.values())
    }
    means = {m.value: scenario.read_distribution(m).mean for m in Modality}
    recorded = frame.groupby(["facility", "modality"])["read_minutes"].mean()
    grouped = (
        frame.groupby([*KEY_COLUMNS, "hour_of_week"], dropna=False)
        .size()
        .rename("studies")
        .reset_index()
    )
    seen = [
        occurrences[zones[facility]][how]
        for facility, how in zip(grouped["facility"], grouped["hour_of_week"], strict=True)
    ]
    grouped["studies_per_hour"] = grouped["studies"] / np.maximum(seen, 1)
    grouped["read_minutes"] = [
        _minutes(recorded, facility, modality, means[modality])
        for facility, modality in zip(grouped["facility"], grouped["modality"], strict=True)
    ]
    grouped["subspecialty"] = (
        grouped["subspecialty"].astype(object).where(grouped["subspecialty"].notna(), None)
    )
    return _combined(grouped[FORECAST_COLUMNS])


def _minutes(recorded: pd.Series, facility: str, modality: str, fallback: float) -> float:
    value = recorded.get((facility, modality))
    return float(value) if value is not None and np.isfinite(value) else fallback


def _local_hour_of_week(frame: pd.DataFrame, zones: dict[str, str]) -> pd.Series:
    result = pd.Series(0, index=frame.index, dtype=np.int64)
    for facility, rows in frame.groupby("facility").groups.items():
        local = frame.loc[rows, "arrived_at"].dt.tz_convert(zones[str(facility)])
        result.loc[rows] = local.dt.day_of_week * 24 + local.dt.hour
    return result


def _combined(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per key and hour; streams of the same key add up (minutes rate-weighted)."""
    if frame.empty:
        return frame.reset_index(drop=True)
    frame = frame.assign(minutes=frame["studies_per_hour"] * frame["read_minutes"])
    keys = [*KEY_COLUMNS, "hour_of_week"]
    summed = frame.groupby(keys, dropna=False)[["studies_per_hour", "minutes"]].sum().reset_index()
    summed["read_minutes"] = summed["minutes"] / summed["studies_per_hour"]
    summed["subspecialty"] = (
        summed["subspecialty"].astype(object).where(summed["subspecialty"].notna(), None)
    )
    return summed[FORECAST_COLUMNS].sort_values(keys, kind="stable").reset_index(drop=True)


def hour_of_week_index(start: datetime, hours: int, zone: str) -> np.ndarray:
    """The local hour of week of each UTC hour after `start` (DST-aware)."""
    tz = ZoneInfo(zone)
    return np.array(
        [
            (local := (start + timedelta(hours=h)).astimezone(tz)).weekday() * 24 + local.hour
            for h in range(hours)
        ],
        dtype=np.int64,
    )


def surge_factors(scenario: Scenario, facility: str, start: datetime, hours: int) -> np.ndarray:
    """Per UTC hour, the product of the surges that touch it (by overlapped fraction)."""
    factor = np.ones(hours)
    for event in scenario.events:
        if not isinstance(event, Surge) or (event.facility and event.facility != facility):
            continue
        begin = minutes_between(start, event.from_) / 60
        end = minutes_between(start, event.to) / 60
        for h in range(max(0, int(np.floor(begin))), min(hours, int(np.ceil(end)))):
            covered = min(end, h + 1) - max(begin, h)
            factor[h] *= 1 + (event.factor - 1) * covered
    return factor
