"""An independent checker of planned rosters: the labour rules and the coverage they give.

Plain Python (datetime, zoneinfo, `us`) over the scenario as written, apart from the planner's
compiled arrays, so that a bug in the compilation (slots, cells, `allowed`, `until`) cannot
hide behind itself. A shift is anything with `radiologist`, `template`, `start` and `end`
(UTC datetimes), like `nighthawk.planner.result.RosterShift`.

The rules, as the scenario contract states them:

* a shift is one occurrence of its template: the template's local start and end times through
  zoneinfo, on a local day the template runs; it starts before the plan ends and ends after
  it starts;
* it lies inside one of the reader's weekly availability windows (when they give any; touching
  windows join up), and touches none of their `unavailable` windows (touching is fine);
* a reader's shifts are `min_rest_hours` apart (so never overlap);
* per planning week (7-day blocks from the scenario's start, by shift start; a shift starting
  before the start counts in week 0) a reader works at most min(practice rule, own maximum);
* in any `max_consecutive_nights` + 1 consecutive local start dates a reader works at most
  `max_consecutive_nights` night shifts (so no run of more nights than that);
* a facility-hour is covered when, for every class of work it sends (modality, and a
  subspecialty when one is required), some reader on shift for the whole hour holds a license
  in the facility's state and privileges at the facility (neither expired by the hour's end:
  `expires_on` is the last valid day, in the state capital's zone for a license and the
  facility's zone for privileges), reads the modality (no modalities listed: all) and holds
  the required subspecialty.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

import us

from models.scenario import RadiologistSpec, Scenario, ShiftTemplate, Surge

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
NIGHT_MINUTES = 180  # of local 00:00-06:00 that make a shift a night shift


class ShiftLike(Protocol):
    # Read-only, so frozen dataclasses (the planner's `RosterShift`, `Shift`) qualify.
    @property
    def radiologist(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


@dataclass(frozen=True)
class Shift:
    """A roster shift built by hand (the checker's own, for tests)."""

    radiologist: str
    template: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Occurrence:
    """One day's run of a shift template, in UTC, with the local date it starts on."""

    template: str
    day: date
    start: datetime
    end: datetime


# ----- local time ---------------------------------------------------------------------------
def clock_minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock time `minutes` after midnight starting `day` (1440 is next midnight)."""
    extra, minutes = divmod(minutes, 24 * 60)
    return datetime.combine(
        day + timedelta(days=extra), time(minutes // 60, minutes % 60), tzinfo=zone
    )


def _span(day: date, start: str, end: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC (start, end) of a local start-end stretch starting on `day`; an end at or before
    the start is the next day's."""
    begin, finish = clock_minutes(start), clock_minutes(end)
    if finish <= begin:
        finish += 24 * 60
    return _local(day, begin, zone).astimezone(UTC), _local(day, finish, zone).astimezone(UTC)


def _days(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def plan_end(scenario: Scenario, weeks: int | None = None) -> datetime:
    """The end of the planned horizon: whole weeks when given, else the scenario's days."""
    if weeks is not None:
        return scenario.start + weeks * WEEK
    return scenario.end


# ----- templates ----------------------------------------------------------------------------
def is_night(template: ShiftTemplate) -> bool:
    """The template's flag, else: it covers 3+ hours of local 00:00-06:00 (of either day)."""
    if template.night is not None:
        return template.night
    begin, finish = clock_minutes(template.start), clock_minutes(template.end)
    if finish <= begin:
        finish += 24 * 60
    early = sum(1 for minute in range(begin, finish) if minute % (24 * 60) < 6 * 60)
    return early >= NIGHT_MINUTES


def occurrences(
    scenario: Scenario, template: ShiftTemplate, until: datetime | None = None
) -> list[Occurrence]:
    """Every run of the template that starts before `until` and ends after the start."""
    until = until or scenario.end
    zone = ZoneInfo(template.timezone)
    first = scenario.start.astimezone(zone).date() - timedelta(days=2)
    last = until.astimezone(zone).date() + timedelta(days=1)
    found = []
    for day in _days(first, last):
        if DAY_NAMES[day.weekday()] not in template.days:
            continue
        start, end = _span(day, template.start, template.end, zone)
        if end > start and start < until and end > scenario.start:
            found.append(Occurrence(template.id, day, start, end))
    return found


def all_occurrences(scenario: Scenario, until: datetime | None = None) -> list[Occurrence]:
    found = [o for t in scenario.shift_templates for o in occurrences(scenario, t, until)]
    return sorted(found, key=lambda o: (o.start, o.template))


def matching_occurrence(template: ShiftTemplate, start: datetime, end: datetime) -> date | None:
    """The local date of the template's run that starts and ends exactly then, if any."""
    zone = ZoneInfo(template.timezone)
    around = start.astimezone(zone).date()
    for day in _days(around - timedelta(days=1), around + timedelta(days=1)):
        if DAY_NAMES[day.weekday()] not in template.days:
            continue
        if _span(day, template.start, template.end, zone) == (start, end):
            return day
    return None


# ----- readers ------------------------------------------------------------------------------
def availability_windows(
    scenario: Scenario, reader: RadiologistSpec, until: datetime
) -> list[tuple[datetime, datetime]] | None:
    """The reader's weekly availability laid out in UTC, touching windows joined; None when
    they give none (any time)."""
    if reader.availability is None:
        return None
    pieces = []
    for pattern in reader.availability:
        zone = ZoneInfo(pattern.timezone)
        first = scenario.start.astimezone(zone).date() - timedelta(days=3)
        last = until.astimezone(zone).date() + timedelta(days=3)
        for day in _days(first, last):
            runs = (
                day in pattern.dates
                if pattern.dates is not None
                else DAY_NAMES[day.weekday()] in pattern.days
            )
            if runs:
                start, end = _span(day, pattern.start, pattern.end, zone)
                if end > start:
                    pieces.append((start, end))
    merged: list[list[datetime]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def weekly_limit(scenario: Scenario, reader: RadiologistSpec) -> int:
    own = reader.max_shifts_per_week
    rule = scenario.rules.max_shifts_per_week
    return rule if own is None else min(rule, own)


def week_of(scenario: Scenario, start: datetime) -> int:
    return max(0, math.floor((start - scenario.start) / WEEK))


def local_start_day(scenario: Scenario, shift: ShiftLike) -> date:
    template = _template(scenario, shift.template)
    if template is None:
        return shift.start.date()
    found = matching_occurrence(template, shift.start, shift.end)
    return found or shift.start.astimezone(ZoneInfo(template.timezone)).date()


def _template(scenario: Scenario, template_id: str) -> ShiftTemplate | None:
    return next((t for t in scenario.shift_templates if t.id == template_id), None)


def _reader(scenario: Scenario, reader_id: str) -> RadiologistSpec | None:
    return next((r for r in scenario.radiologists if r.id == reader_id), None)


# ----- the labour rules ---------------------------------------------------------------------
def roster_violations(
    scenario: Scenario, shifts: Sequence[ShiftLike], *, until: datetime | None = None
) -> list[str]:
    """Every broken rule of a roster, one line each; [] for a legal roster."""
    until = until or scenario.end
    problems: list[str] = []
    windows: dict[str, list[tuple[datetime, datetime]] | None] = {}
    mine: dict[str, list[tuple[ShiftLike, date, bool]]] = defaultdict(list)
    for shift in shifts:
        where = f"{shift.radiologist} on {shift.template} at {shift.start:%Y-%m-%d %H:%M}Z"
        reader = _reader(scenario, shift.radiologist)
        template = _template(scenario, shift.template)
        if reader is None or template is None:
            problems.append(f"{where}: unknown radiologist or template")
            continue
        if shift.end <= shift.start:
            problems.append(f"{where}: ends before it starts")
            continue
        day = matching_occurrence(template, shift.start, shift.end)
        if day is None:
            problems.append(f"{where}: not an occurrence of template {template.id}")
            day = shift.start.astimezone(ZoneInfo(template.timezone)).date()
        if not (shift.start < until and shift.end > scenario.start):
            problems.append(f"{where}: outside the plan")
        if reader.id not in windows:
            windows[reader.id] = availability_windows(scenario, reader, until)
        available = windows[reader.id]
        if available is not None and not any(
            a <= shift.start and shift.end <= b for a, b in available
        ):
            problems.append(f"{where}: outside the reader's availability")
        for window in reader.unavailable:
            if shift.start < window.to and window.from_ < shift.end:
                problems.append(f"{where}: touches an unavailable window")
        mine[reader.id].append((shift, day, is_night(template)))
    for reader_id, worked in mine.items():
        reader = _reader(scenario, reader_id)
        assert reader is not None
        problems += _rest(scenario, reader_id, [s for s, _, _ in worked])
        problems += _weekly(scenario, reader, [s for s, _, _ in worked])
        problems += _nights(scenario, reader_id, [day for _, day, night in worked if night])
    return problems


def _rest(scenario: Scenario, reader_id: str, shifts: list[ShiftLike]) -> list[str]:
    rest = timedelta(hours=scenario.rules.min_rest_hours)
    ordered = sorted(shifts, key=lambda s: (s.start, s.end))
    problems = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            gap = second.start - first.end
            if gap < rest:
                problems.append(
                    f"{reader_id}: {second.template} at {second.start:%Y-%m-%d %H:%M}Z starts "
                    f"{gap / HOUR:.2f} h after {first.template} ends "
                    f"(rest {scenario.rules.min_rest_hours} h)"
                )
    return problems


def _weekly(scenario: Scenario, reader: RadiologistSpec, shifts: list[ShiftLike]) -> list[str]:
    limit = weekly_limit(scenario, reader)
    per_week: dict[int, int] = defaultdict(int)
    for shift in shifts:
        per_week[week_of(scenario, shift.start)] += 1
    return [
        f"{reader.id}: {count} shifts in week {week} (at most {limit})"
        for week, count in sorted(per_week.items())
        if count > limit
    ]


def _nights(scenario: Scenario, reader_id: str, days: list[date]) -> list[str]:
    limit = scenario.rules.max_consecutive_nights
    ordinals = [d.toordinal() for d in days]
    problems = []
    for first in sorted(set(ordinals)):
        inside = sum(first <= d <= first + limit for d in ordinals)
        if inside > limit:
            problems.append(
                f"{reader_id}: {inside} night shifts in the {limit + 1} days from "
                f"{date.fromordinal(first)} (at most {limit} consecutive)"
            )
    return problems


# ----- coverage -----------------------------------------------------------------------------
DemandHour = tuple[str, str, str | None, datetime]  # facility, modality, subspecialty, UTC hour


@cache
def _capital_zone(state: str) -> ZoneInfo:
    found = us.states.lookup(state, field="abbr")
    name = getattr(found, "capital_tz", None) if found is not None else None
    return ZoneInfo(name or "America/New_York")


def _valid_until(expires_on: date | None, zone: ZoneInfo) -> datetime | None:
    """None: never expires; else local midnight at the end of the last valid day."""
    if expires_on is None:
        return None
    return datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def may_read(
    scenario: Scenario,
    reader: RadiologistSpec,
    facility_id: str,
    modality: str,
    subspecialty: str | None,
    until: datetime,
) -> bool:
    """Whether the reader may read this class of the facility's work up to `until`."""
    facility = next(f for f in scenario.facilities if f.id == facility_id)

    def lasts(expires_on: date | None, zone: ZoneInfo) -> bool:
        valid = _valid_until(expires_on, zone)
        return valid is None or valid >= until

    licensed = any(
        lic.state == facility.state and lasts(lic.expires_on, _capital_zone(lic.state))
        for lic in reader.licenses
    )
    privileged = any(
        cred.facility == facility.id and lasts(cred.expires_on, ZoneInfo(facility.timezone))
        for cred in reader.credentials
    )
    reads = not reader.modalities or modality in {str(m) for m in reader.modalities}
    skilled = subspecialty is None or subspecialty in reader.subspecialties
    return licensed and privileged and reads and skilled


def arrival_demand_hours(scenario: Scenario, until: datetime | None = None) -> list[DemandHour]:
    """(facility, modality, required subspecialty, UTC hour) of every hour in the plan with
    work expected, from the arrival streams and their local hourly profiles."""
    if scenario.arrivals is None or any(isinstance(e, Surge) for e in scenario.events):
        raise NotImplementedError("the checker derives demand from plain arrival streams only")
    until = until or scenario.end
    zones = {f.id: ZoneInfo(f.timezone) for f in scenario.facilities}
    found = set()
    hour = scenario.start
    while hour < until:
        for stream in scenario.arrivals:
            local_hour = hour.astimezone(zones[stream.facility]).hour
            rate = stream.per_hour * (
                1.0 if stream.hourly_profile is None else stream.hourly_profile[local_hour]
            )
            if rate > 0:
                need = stream.subspecialty if stream.subspecialty_required else None
                found.add((stream.facility, str(stream.modality), need, hour))
        hour += HOUR
    return sorted(found, key=lambda d: (d[3], d[0], d[1], d[2] or ""))


def uncovered_facility_hours(
    scenario: Scenario, shifts: Sequence[ShiftLike], demand_hours: Iterable[DemandHour]
) -> set[tuple[str, datetime]]:
    """(facility, UTC hour) with some class of work nobody eligible is on shift for."""
    readers = {r.id: r for r in scenario.radiologists}
    uncovered = set()
    for facility, modality, subspecialty, hour in demand_hours:
        end = hour + HOUR
        covered = any(
            s.start <= hour
            and end <= s.end
            and may_read(scenario, readers[s.radiologist], facility, modality, subspecialty, end)
            for s in shifts
        )
        if not covered:
            uncovered.add((facility, hour))
    return uncovered


def uncovered_hours(
    scenario: Scenario, shifts: Sequence[ShiftLike], demand_hours: Iterable[DemandHour]
) -> float:
    """Facility-hours (a facility counts once an hour) with some demand left uncovered."""
    return float(len(uncovered_facility_hours(scenario, shifts, demand_hours)))


# ----- capacity -----------------------------------------------------------------------------
def demand_minutes(
    scenario: Scenario, until: datetime | None = None
) -> dict[tuple[str, str, str | None, datetime], float]:
    """Expected reading minutes (at speed 1.0) per facility, class and UTC hour: each stream's
    rate at the facility's local hour times its modality's mean read."""
    if scenario.arrivals is None or any(isinstance(e, Surge) for e in scenario.events):
        raise NotImplementedError("the checker derives demand from plain arrival streams only")
    until = until or scenario.end
    zones = {f.id: ZoneInfo(f.timezone) for f in scenario.facilities}
    minutes: dict[tuple[str, str, str | None, datetime], float] = defaultdict(float)
    hour = scenario.start
    while hour < until:
        for stream in scenario.arrivals:
            local_hour = hour.astimezone(zones[stream.facility]).hour
            rate = stream.per_hour * (
                1.0 if stream.hourly_profile is None else stream.hourly_profile[local_hour]
            )
            if rate > 0:
                need = stream.subspecialty if stream.subspecialty_required else None
                mean = scenario.read_distribution(stream.modality).mean
                minutes[stream.facility, str(stream.modality), need, hour] += rate * mean
        hour += HOUR
    return dict(minutes)


def unmet_minutes(
    scenario: Scenario, shifts: Sequence[ShiftLike], until: datetime | None = None
) -> float:
    """Reading minutes beyond what the on-shift eligible readers can do at the target
    utilization, each hour: by Hall's theorem the largest deficiency d(S) - cap(N(S)) over
    sets S of the hour's classes of work, brute force over the subsets."""
    readers = {r.id: r for r in scenario.radiologists}
    utilization = scenario.rules.target_utilization
    per_hour: dict[datetime, list[tuple[str, str, str | None, float]]] = defaultdict(list)
    for (facility, modality, need, hour), minutes in demand_minutes(scenario, until).items():
        per_hour[hour].append((facility, modality, need, minutes))
    total = 0.0
    for hour, classes in per_hour.items():
        end = hour + HOUR
        on = sorted({s.radiologist for s in shifts if s.start <= hour and end <= s.end})
        capacity = {r: 60 * readers[r].speed * utilization for r in on}
        who = [
            {r for r in on if may_read(scenario, readers[r], facility, modality, need, end)}
            for facility, modality, need, _ in classes
        ]
        worst = 0.0
        for mask in range(1, 1 << len(classes)):
            chosen = [i for i in range(len(classes)) if mask >> i & 1]
            need_minutes = sum(classes[i][3] for i in chosen)
            able = set().union(*(who[i] for i in chosen))
            worst = max(worst, need_minutes - sum(capacity[r] for r in able))
        total += worst
    return total


# ----- the soft terms -----------------------------------------------------------------------
def roster_cost(scenario: Scenario, shifts: Sequence[ShiftLike]) -> float:
    """Each shift's hours on duty times its template's hourly cost."""
    total = 0.0
    for shift in shifts:
        template = _template(scenario, shift.template)
        assert template is not None
        total += template.cost * (shift.end - shift.start) / HOUR
    return total


def nights_per_reader(scenario: Scenario, shifts: Sequence[ShiftLike]) -> dict[str, int]:
    counts = {r.id: 0 for r in scenario.radiologists}
    for shift in shifts:
        template = _template(scenario, shift.template)
        if template is not None and is_night(template):
            counts[shift.radiologist] += 1
    return counts


def weekend_shifts_per_reader(scenario: Scenario, shifts: Sequence[ShiftLike]) -> dict[str, int]:
    """Shifts starting on a local Saturday or Sunday (in the template's zone), per reader."""
    counts = {r.id: 0 for r in scenario.radiologists}
    for shift in shifts:
        if local_start_day(scenario, shift).weekday() >= 5:
            counts[shift.radiologist] += 1
    return counts


def preference_misses(scenario: Scenario, shifts: Sequence[ShiftLike]) -> int:
    """Shifts of a template the reader avoids, or not among those they prefer (if any)."""
    return sum(preference_misses_per_reader(scenario, shifts).values())


def preference_misses_per_reader(scenario: Scenario, shifts: Sequence[ShiftLike]) -> dict[str, int]:
    misses = {r.id: 0 for r in scenario.radiologists}
    for shift in shifts:
        reader = _reader(scenario, shift.radiologist)
        assert reader is not None
        preferred = set(reader.prefers) | set(reader.preferences.prefers)
        avoided = set(reader.preferences.avoids)
        if shift.template in avoided or (preferred and shift.template not in preferred):
            misses[reader.id] += 1
    return misses
