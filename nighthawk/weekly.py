"""Weekly local-time patterns (shifts, availability) laid out as UTC minutes after an origin.

Wall-clock times go through zoneinfo, so a 22:00-08:00 shift stays 22:00-08:00 local across a
DST change (and lasts an hour more or less that night).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.scenario import ShiftPattern
from nighthawk.clock import minutes_between


def pattern_pieces(
    start: datetime, pattern: ShiftPattern, run_until: float
) -> list[tuple[float, float]]:
    """Every occurrence of the pattern that may touch [0, run_until), as (begin, end)."""
    return [(begin, end) for _, begin, end in pattern_instances(start, pattern, run_until)]


def pattern_instances(
    start: datetime, pattern: ShiftPattern, run_until: float
) -> list[tuple[date, float, float]]:
    """(local start date, begin, end) of each occurrence, in minutes after `start`."""
    zone = ZoneInfo(pattern.timezone)
    local_start = start.astimezone(zone)
    first_day = local_start.date() - timedelta(days=1)  # yesterday's night shift may run on
    days = math.ceil(run_until / (24 * 60)) + 2
    pieces = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if not pattern.runs_on(day):
            continue
        begin_local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
            minutes=pattern.start_minute
        )
        # Wall-clock arithmetic: a 22:00-08:00 shift ends at 08:00 local even across DST.
        end_naive = begin_local.replace(tzinfo=None) + timedelta(minutes=pattern.length_minutes)
        end_local = end_naive.replace(tzinfo=zone)
        begin = minutes_between(start, begin_local)
        end = minutes_between(start, end_local)
        if end > begin:
            pieces.append((day, begin, end))
    return pieces


def merge_pieces(pieces: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or back-to-back pieces become one continuous stretch."""
    merged: list[tuple[float, float]] = []
    for begin, end in sorted(pieces):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def subtract_piece(
    stretches: list[tuple[float, float]], cut: tuple[float, float]
) -> list[tuple[float, float]]:
    out = []
    for begin, end in stretches:
        if end <= cut[0] or begin >= cut[1]:
            out.append((begin, end))
            continue
        if begin < cut[0]:
            out.append((begin, cut[0]))
        if end > cut[1]:
            out.append((cut[1], end))
    return out
