"""Generate the example scenarios of the discrete-event simulator, deterministically.

    python simulations/scenarios/make_examples.py

writes, next to this file:

* `overnight.yaml`: a small nighthawk practice (8 readers, 40 facilities in 12 states) whose
  studies come mostly at night, loaded so that dispatch policies are visibly contested;
* `national.yaml`: a 24/7 national practice reading about 20,000 studies a day.

Everything comes from one fixed numpy seed and hand-set tables (no network), so running it
again reproduces the files byte for byte. Before writing, the generator checks what makes a
scenario meaningful (every facility readable by at least two readers for everything it sends,
and by someone on duty through its busy hours) and fails loudly otherwise; it prints the
offered load per hour so the intended utilization can be seen.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import us
import yaml
from scipy.optimize import Bounds, LinearConstraint, milp

SEED = 20261201
HERE = Path(__file__).resolve().parent
START = datetime(2026, 12, 1, tzinfo=UTC)
WEEK_HOURS = 7 * 24
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("STAT", "URGENT", "ROUTINE")
MODALITIES = ("CT", "XR", "MR", "US")

# Reading minutes at speed 1.0 (domain primer: CT about 15-16, radiographs 2-4, MR 15-25).
READ_MINUTES = {"CT": (15.0, 8.0), "MR": (20.0, 10.0), "XR": (3.5, 2.0), "US": (8.0, 4.0)}
MEAN_READ = {modality: mean for modality, (mean, _) in READ_MINUTES.items()}


@dataclass
class Built:
    """A generated scenario: comment lines, top-level fields, and the lists of items."""

    header: list[str]
    top: dict[str, Any]
    lists: dict[str, list[Any]]


class ScenarioCheckError(RuntimeError):
    """A generated scenario that would not mean what it is meant to (fail loudly)."""


# ----- shared building blocks ---------------------------------------------------------------
@dataclass(frozen=True)
class ShiftSpec:
    """A weekly shift in the reader's own zone, as the scenario format writes it."""

    start: int  # local hour
    hours: int
    zone: str
    days: tuple[str, ...] = WEEKDAYS

    def as_yaml(self) -> dict[str, Any]:
        end = (self.start + self.hours) % 24
        return {
            "start": f"{self.start:02d}:00",
            "end": f"{end:02d}:00",
            "timezone": self.zone,
            "days": list(self.days),
        }

    def minutes_by_hour(self) -> np.ndarray:
        """Minutes on duty in each UTC hour of the first simulated week."""
        grid = np.zeros(WEEK_HOURS)
        zone = ZoneInfo(self.zone)
        first = START.astimezone(zone).date() - timedelta(days=1)  # last night's shift runs on
        for offset in range(9):
            day = first + timedelta(days=offset)
            if WEEKDAYS[day.weekday()] not in self.days:
                continue
            begin = datetime(day.year, day.month, day.day, self.start, tzinfo=zone)
            a = (begin - START).total_seconds() / 60
            b = a + self.hours * 60
            for hour in range(max(0, int(a // 60)), min(WEEK_HOURS, int(np.ceil(b / 60)))):
                grid[hour] += max(0.0, min(b, (hour + 1) * 60) - max(a, hour * 60))
        return grid


@dataclass
class Reader:
    id: str
    home: str
    licenses: list[str]
    shifts: list[ShiftSpec]
    speed: float
    subspecialties: list[str] = field(default_factory=list)
    modalities: list[str] = field(default_factory=list)  # empty: reads everything
    credentials: list[str] = field(default_factory=list)
    name: str | None = None

    def reads(self, modality: str, subspecialty: str | None) -> bool:
        if self.modalities and modality not in self.modalities:
            return False
        return subspecialty is None or subspecialty in self.subspecialties

    def on_duty(self) -> np.ndarray:
        return sum((s.minutes_by_hour() for s in self.shifts), np.zeros(WEEK_HOURS))

    def as_yaml(self) -> dict[str, Any]:
        item: dict[str, Any] = {"id": self.id}
        if self.name:
            item["name"] = self.name
        item |= {
            "licenses": self.licenses,
            "credentials": self.credentials,
            "subspecialties": self.subspecialties,
            "modalities": self.modalities,
            "speed": round(float(self.speed), 2),
            "shifts": [s.as_yaml() for s in self.shifts],
        }
        return item


@dataclass
class Facility:
    id: str
    state: str
    zone: str
    sla: dict[str, float]

    def as_yaml(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "timezone": self.zone, "sla_minutes": self.sla}


@dataclass
class Stream:
    facility: Facility
    modality: str
    priority: str
    per_hour: float
    profile: list[float]
    subspecialty: str | None = None
    required: bool = False

    def as_yaml(self, *, explicit: bool = True) -> dict[str, Any]:
        """`explicit=False` leaves out a subspecialty that is not given (the default), which
        keeps a file of thousands of streams smaller and faster to load."""
        item: dict[str, Any] = {
            "facility": self.facility.id,
            "modality": self.modality,
            "priority": self.priority,
        }
        if explicit or self.subspecialty is not None:
            item["subspecialty"] = self.subspecialty
        if explicit or self.required:
            item["subspecialty_required"] = self.required
        item["per_hour"] = round(float(self.per_hour), 4)
        item["hourly_profile"] = self.profile
        return item

    def studies_per_day(self) -> float:
        return self.per_hour * float(np.mean(self.profile)) * 24


def zone_of(state: str) -> str:
    """The state's zone; the capital's zone is the one most of its facilities keep."""
    found = us.states.lookup(state)
    if found is None or not found.capital_tz:
        raise ScenarioCheckError(f"no time zone known for state {state!r}")
    return str(found.capital_tz)


def local_hours(zone: str) -> np.ndarray:
    """The local hour of day at each UTC hour of the first simulated week."""
    tz = ZoneInfo(zone)
    return np.array([(START + timedelta(hours=h)).astimezone(tz).hour for h in range(WEEK_HOURS)])


def utc_offset_hours(zone: str) -> int:
    """Local time minus UTC at the start, in whole hours (every zone used has whole hours)."""
    offset = START.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None  # an aware datetime always has one
    return int(offset.total_seconds() // 3600)


def demand_by_hour(streams: Iterable[Stream]) -> np.ndarray:
    """Reading minutes (at speed 1.0) arriving in each UTC hour of the first week."""
    hours_of: dict[str, np.ndarray] = {}
    demand = np.zeros(WEEK_HOURS)
    for s in streams:
        zone = s.facility.zone
        if zone not in hours_of:
            hours_of[zone] = local_hours(zone)
        demand += s.per_hour * np.asarray(s.profile)[hours_of[zone]] * MEAN_READ[s.modality]
    return demand


def capacity_by_hour(readers: Iterable[Reader]) -> np.ndarray:
    """Speed-adjusted reader-minutes on duty in each UTC hour of the first week."""
    return sum((r.on_duty() * r.speed for r in readers), np.zeros(WEEK_HOURS))


def check_eligibility(
    facilities: Sequence[Facility],
    streams: Sequence[Stream],
    readers: Sequence[Reader],
    *,
    busy_share: float,
    on_duty_needed: int,
) -> None:
    """Fail loudly unless every kind of study a facility sends has two eligible readers, and
    `on_duty_needed` of them on duty in every hour its rate is at least `busy_share` of peak.
    Required subspecialties count only readers who hold them."""
    state_of = {f.id: f.state for f in facilities}
    duty = {r.id: r.on_duty() > 0 for r in readers}
    problems: list[str] = []
    kinds = {
        (s.facility.id, s.modality, s.subspecialty if s.required else None): s for s in streams
    }
    for (facility, modality, subspecialty), stream in sorted(
        kinds.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        eligible = [
            r
            for r in readers
            if state_of[facility] in r.licenses
            and facility in r.credentials
            and r.reads(modality, subspecialty)
        ]
        what = f"{facility} {modality}" + (f" ({subspecialty} required)" if subspecialty else "")
        if len(eligible) < 2:
            problems.append(f"{what}: {len(eligible)} eligible reader(s), need 2")
            continue
        profile = np.asarray(stream.profile)[local_hours(stream.facility.zone)]
        busy = profile >= busy_share * profile.max()
        staffed = sum((duty[r.id].astype(int) for r in eligible), np.zeros(WEEK_HOURS, int))
        gaps = np.flatnonzero(busy & (staffed < on_duty_needed))
        if len(gaps):
            first = START + timedelta(hours=int(gaps[0]))
            problems.append(
                f"{what}: fewer than {on_duty_needed} eligible on duty in {len(gaps)} busy "
                f"hour(s), first at {first:%a %H:00} UTC"
            )
    if problems:
        listing = "\n  ".join(problems[:20])
        raise ScenarioCheckError(f"{len(problems)} eligibility problem(s):\n  {listing}")


def print_load(title: str, demand: np.ndarray, capacity: np.ndarray, on_duty: np.ndarray) -> float:
    """Print the offered load by UTC hour of day (averaged over the week); return the overall
    utilization: reading minutes demanded over reader-minutes on duty."""
    print(f"\n{title}: offered load by UTC hour (week average)")
    print("  UTC  readers  demand min/h  capacity min/h  load")
    for hour in range(24):
        d, c = demand[hour::24].mean(), capacity[hour::24].mean()
        load = f"{d / c:5.0%}" if c > 0 else "  (nobody on duty: waits)"
        print(f"  {hour:02d}   {on_duty[hour::24].mean():6.1f}  {d:12.0f}  {c:14.0f}  {load}")
    overall = float(demand.sum() / capacity.sum())
    staffed = capacity > 0
    print(
        f"  overall utilization {overall:.1%} (demand {demand.sum() / 60 / 7:.0f} reader-h/day, "
        f"capacity {capacity.sum() / 60 / 7:.0f} reader-h/day); "
        f"{1 - demand[staffed].sum() / demand.sum():.1%} of demand arrives with nobody on duty"
    )
    return overall


def dump(path: Path, header: list[str], top: dict[str, Any], lists: dict[str, list[Any]]) -> None:
    """Block YAML at the top level, one flow-style `{...}` line per list item (compact, and
    still diffable line by line). A repeated hourly profile is written once with an anchor
    and then referred to (`*p1`): thousands of streams share a few profiles, and a file with
    fewer tokens loads much faster."""

    def flow(value: Any) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False)
        return text.strip().removesuffix("...").strip()

    anchors: dict[tuple[float, ...], str] = {}

    def item_text(item: dict[str, Any]) -> str:
        profile = item.get("hourly_profile")
        if profile is None:
            return flow(item)
        key = tuple(profile)
        if key in anchors:
            reference = f"*{anchors[key]}"
        else:
            anchors[key] = f"p{len(anchors) + 1}"
            reference = f"&{anchors[key]} {flow(profile)}"
        rest = flow({k: v for k, v in item.items() if k != "hourly_profile"})
        return f"{rest[:-1]}, hourly_profile: {reference}}}"

    lines = [f"# {line}" if line else "#" for line in header]
    for key, value in top.items():
        # Times stay unquoted so they read like the documented example; YAML parses them.
        lines.append(f"{key}: {value if key == 'start' else flow(value)}")
    for key, items in lists.items():
        lines.append(f"{key}:" if items else f"{key}: []")
        lines.extend(f"  - {item_text(item)}" for item in items)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def validate(path: Path) -> None:
    """Load the file through the simulator's own parser, so a bad file fails here."""
    sys.path.insert(0, str(HERE.parent.parent))  # the repository root, when run as a script
    from simulations.scenario import load_scenario

    scenario = load_scenario(path)
    size = path.stat().st_size / 1e6
    print(
        f"{path.name}: valid; {len(scenario.facilities)} facilities, "
        f"{len(scenario.radiologists)} radiologists, {len(scenario.arrivals or [])} streams, "
        f"{size:.2f} MB"
    )


def mix_report(streams: Sequence[Stream]) -> None:
    total = sum(s.studies_per_day() for s in streams)
    by_priority = {
        p: sum(s.studies_per_day() for s in streams if s.priority == p) for p in PRIORITIES
    }
    by_modality = {
        m: sum(s.studies_per_day() for s in streams if s.modality == m) for m in MODALITIES
    }
    print(f"  studies/day {total:.0f}")
    print("  by priority " + ", ".join(f"{p} {v / total:.0%}" for p, v in by_priority.items()))
    print("  by modality " + ", ".join(f"{m} {v / total:.0%}" for m, v in by_modality.items()))


# ----- overnight: the showcase of dispatch policies -----------------------------------------
ET, CT_, MT, PT = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

# Facilities per state, spread over all four continental zones.
OVERNIGHT_STATES = {
    "NY": 4, "FL": 4, "GA": 3, "OH": 3,  # Eastern
    "TX": 5, "IL": 3, "MO": 2,  # Central
    "CO": 3, "UT": 2,  # Mountain
    "CA": 5, "WA": 3, "OR": 3,  # Pacific
}  # fmt: skip

# Night volume by local hour: evening ED peak, a trough before dawn, and a trickle by day
# (the hospitals' own radiologists read most daytime work).
NIGHT_PROFILE = [
    0.95, 0.85, 0.75, 0.65, 0.6, 0.6, 0.65, 0.6,  # 00-07
    0.25, 0.12, 0.1, 0.1, 0.1, 0.1, 0.1, 0.12,  # 08-15
    0.25, 0.6, 0.9, 1.0, 1.05, 1.05, 1.0, 1.0,  # 16-23
]  # fmt: skip

NO_TUE = ("mon", "wed", "thu", "fri", "sat", "sun")
NO_SUN = ("mon", "tue", "wed", "thu", "fri", "sat")


def overnight_readers() -> list[Reader]:
    """Who reads overnight, each on a shift in their own zone. Shifts are staggered so that
    hand-overs happen through the night rather than all at once, and most readers are on in
    the evening rush. Licenses: 4-8 of the 12 states (MO is held by three readers only, so
    are CO and UT but for Reader 7); three neuroradiologists cover 22:00-16:00 UTC; Reader 8
    reads no MR. Fresh objects each call: credentials are added to them."""
    table: list[tuple[str, ShiftSpec, list[str], list[str], list[str], float]] = [
        # home, shift (local start, hours, zone, days), licenses, subspecialties, modalities,
        # speed
        ("NY", ShiftSpec(17, 10, ET), ["NY", "FL", "GA", "OH", "TX", "IL", "CA", "MO"],
         ["neuro"], [], 1.1),
        ("FL", ShiftSpec(17, 10, ET, NO_SUN), ["FL", "GA", "NY", "OH", "MO"],
         ["body"], [], 1.0),
        ("TX", ShiftSpec(17, 10, CT_), ["TX", "IL", "OH", "CO", "UT"],
         [], [], 0.9),
        ("IL", ShiftSpec(23, 10, CT_), ["IL", "MO", "TX", "NY", "GA", "WA"],
         ["neuro"], [], 1.2),
        ("CO", ShiftSpec(19, 10, MT, NO_TUE), ["CO", "UT", "TX", "CA", "OR", "WA", "FL", "IL"],
         ["msk"], [], 1.0),
        ("CA", ShiftSpec(17, 10, PT), ["CA", "WA", "OR", "CO"],
         ["body"], [], 1.3),
        ("WA", ShiftSpec(22, 10, PT), ["WA", "OR", "CA", "CO", "UT", "NY", "FL", "OH"],
         ["neuro"], [], 0.85),
        ("OR", ShiftSpec(0, 10, PT), ["OR", "CA", "WA", "TX"],
         [], ["CT", "XR", "US"], 0.8),
    ]  # fmt: skip
    readers = []
    for i, (home, shift, licenses, subspecialties, modalities, speed) in enumerate(table):
        hours = f"{shift.as_yaml()['start']}-{shift.as_yaml()['end']}"
        readers.append(
            Reader(
                id=f"rad-{i + 1}",
                name=f"Reader {i + 1} ({home}, {hours} local)",
                home=home,
                licenses=licenses,
                shifts=[shift],
                speed=speed,
                subspecialties=subspecialties,
                modalities=modalities,
            )
        )
    return readers


# Share of a facility's studies by modality, and of each modality's studies by priority
# (together about STAT 35%, URGENT 25%, ROUTINE 40%).
OVERNIGHT_MODALITY_SHARE = {"CT": 0.50, "XR": 0.28, "MR": 0.10, "US": 0.12}
PRIORITY_SHARE = {
    "CT": {"STAT": 0.48, "URGENT": 0.25, "ROUTINE": 0.27},
    "XR": {"STAT": 0.20, "URGENT": 0.20, "ROUTINE": 0.60},
    "MR": {"STAT": 0.15, "URGENT": 0.35, "ROUTINE": 0.50},
    "US": {"STAT": 0.30, "URGENT": 0.30, "ROUTINE": 0.40},
}
HEAD_CT_SHARE = 0.4  # of STAT CT: head CTs, which a neuroradiologist reads best (a preference)
NEURO_MR_SHARE = 0.5  # of MR at facilities with a neuro contract: neuro required
OVERNIGHT_STUDIES_PER_DAY = 350.0  # sets the load: about 85% of night capacity


def make_facilities(rng: np.random.Generator, counts: dict[str, int]) -> list[Facility]:
    """`count` facilities per state, named `st-1`.., each with a drawn STAT and URGENT
    contract (routine: a day)."""
    facilities: list[Facility] = []
    for state, count in counts.items():
        for i in range(count):
            stat = float(rng.choice([30, 45, 60], p=[0.4, 0.35, 0.25]))
            urgent = float(rng.choice([120, 180, 240]))
            facilities.append(
                Facility(
                    f"{state.lower()}-{i + 1}",
                    state,
                    zone_of(state),
                    {"STAT": stat, "URGENT": urgent, "ROUTINE": 1440.0},
                )
            )
    return facilities


def overnight(rng: np.random.Generator) -> Built:
    facilities = make_facilities(rng, OVERNIGHT_STATES)
    readers = overnight_readers()
    _grant_overnight_privileges(rng, facilities, readers)

    # A neuro contract (required neuroradiologist for neuro MR) only where two neuro
    # readers can serve it; the check below re-verifies.
    neuro_ok = {
        f.id
        for f in facilities
        if _covers(f, [r for r in readers if f.id in r.credentials], "MR", "neuro")
    }
    sizes = rng.lognormal(0.0, 0.45, len(facilities))
    sizes *= OVERNIGHT_STUDIES_PER_DAY / sizes.sum()
    streams: list[Stream] = []
    for facility, size in zip(facilities, sizes, strict=True):
        # A little facility-to-facility variety in when the evening rush comes.
        profile = [round(float(v * rng.uniform(0.9, 1.1)), 2) for v in NIGHT_PROFILE]
        per_hour = size / (24 * float(np.mean(profile)))
        neuro_contract = facility.id in neuro_ok and rng.random() < 0.6
        for modality, m_share in OVERNIGHT_MODALITY_SHARE.items():
            for priority, p_share in PRIORITY_SHARE[modality].items():
                rate = per_hour * m_share * p_share
                parts: list[tuple[float, str | None, bool]] = [(rate, None, False)]
                if modality == "CT" and priority == "STAT":
                    parts = [
                        (rate * (1 - HEAD_CT_SHARE), None, False),
                        (rate * HEAD_CT_SHARE, "neuro", False),
                    ]
                elif modality == "MR" and neuro_contract and priority != "STAT":
                    parts = [
                        (rate * (1 - NEURO_MR_SHARE), None, False),
                        (rate * NEURO_MR_SHARE, "neuro", True),
                    ]
                elif modality == "XR" and priority == "ROUTINE":
                    parts = [(rate, "msk", False)]
                for part_rate, sub, required in parts:
                    streams.append(
                        Stream(facility, modality, priority, part_rate, profile, sub, required)
                    )

    check_eligibility(facilities, streams, readers, busy_share=0.5, on_duty_needed=1)
    demand = demand_by_hour(streams)
    capacity = capacity_by_hour(readers)
    on_duty = sum((r.on_duty() / 60 for r in readers), np.zeros(WEEK_HOURS))
    print("overnight:")
    mix_report(streams)
    utilization = print_load("overnight", demand, capacity, on_duty)
    night = on_duty >= 4  # the hours the practice is fully staffed
    print(
        f"  utilization over the staffed night hours (4+ readers on) "
        f"{demand[night].sum() / capacity[night].sum():.1%}"
    )

    # Reader 5 off sick the night of Thu 3 Dec (the whole 19:00-05:00 MT shift); a pile-up
    # fills four Texas EDs for three hours on the evening of Sat 5 Dec (21:00-24:00 CT).
    absent = readers[4]
    surge_at = [f for f in facilities if f.state in ("TX", "IL")][:4]
    events = [
        {
            "type": "absence",
            "radiologist": absent.id,
            "from": iso(datetime(2026, 12, 4, 1, tzinfo=UTC)),
            "to": iso(datetime(2026, 12, 4, 13, tzinfo=UTC)),
        }
    ] + [
        {
            "type": "surge",
            "factor": 1.8,
            "from": iso(datetime(2026, 12, 6, 3, tzinfo=UTC)),
            "to": iso(datetime(2026, 12, 6, 6, tzinfo=UTC)),
            "facility": f.id,
        }
        for f in surge_at
    ]
    header = [
        "Overnight (nighthawk) practice: 8 radiologists, 40 facilities in 12 states, 7 days.",
        f"About {sum(s.studies_per_day() for s in streams):.0f} studies a day, mostly 18:00-08:00"
        " local; offered load about"
        f" {utilization:.0%} of the readers' on-duty minutes.",
        "Generated by simulations/scenarios/make_examples.py; edit that, not this file.",
    ]
    top: dict[str, Any] = {"name": "overnight", "start": iso(START), "days": 7, "warmup_hours": 24}
    top["read_minutes"] = read_minutes_yaml()
    lists: dict[str, list[Any]] = {
        "facilities": [f.as_yaml() for f in facilities],
        "arrivals": [s.as_yaml() for s in streams],
        "radiologists": [r.as_yaml() for r in readers],
        "events": events,
    }
    return Built(header, top, lists)


def _covers(
    facility: Facility,
    group: Sequence[Reader],
    modality: str,
    subspecialty: str | None = None,
) -> bool:
    """Two of the group read this kind of study, and one of them is on duty in every hour
    the facility is busy (its night rate at least half the peak)."""
    able = [r for r in group if r.reads(modality, subspecialty)]
    if len(able) < 2:
        return False
    busy = np.asarray(NIGHT_PROFILE)[local_hours(facility.zone)] >= 0.5 * max(NIGHT_PROFILE)
    staffed = np.zeros(WEEK_HOURS, dtype=bool)
    for r in able:
        staffed |= r.on_duty() > 0
    return bool(staffed[busy].all())


def _grant_overnight_privileges(
    rng: np.random.Generator, facilities: list[Facility], readers: list[Reader]
) -> None:
    """Privileges at most facilities in a reader's licensed states, not all: each one is
    withheld with some chance, unless that would leave the facility uncovered (`_covers`)."""
    for facility in facilities:
        granted = [r for r in readers if facility.state in r.licenses]
        if not all(_covers(facility, granted, m) for m in MODALITIES):
            raise ScenarioCheckError(
                f"{facility.id}: its state's licensed readers cannot cover every modality"
            )
        for reader in [granted[i] for i in rng.permutation(len(granted))]:
            rest = [r for r in granted if r is not reader]
            if rng.random() < 0.25 and all(_covers(facility, rest, m) for m in MODALITIES):
                granted = rest
        for reader in granted:
            reader.credentials.append(facility.id)


def read_minutes_yaml() -> dict[str, dict[str, Any]]:
    return {
        m: {"distribution": "lognormal", "mean": mean, "sd": sd}
        for m, (mean, sd) in READ_MINUTES.items()
    }


# ----- national: a large 24/7 practice (scale and benchmark) --------------------------------
# 40 states with their approximate 2020 population (millions): facilities and licenses
# follow where people live.
NATIONAL_STATES = {
    "CA": 39.5, "TX": 29.1, "FL": 21.5, "NY": 20.2, "PA": 13.0, "IL": 12.8, "OH": 11.8,
    "GA": 10.7, "NC": 10.4, "MI": 10.1, "NJ": 9.3, "VA": 8.6, "WA": 7.7, "AZ": 7.2, "MA": 7.0,
    "TN": 6.9, "IN": 6.8, "MD": 6.2, "MO": 6.2, "WI": 5.9, "CO": 5.8, "MN": 5.7, "SC": 5.1,
    "AL": 5.0, "LA": 4.7, "KY": 4.5, "OR": 4.2, "OK": 4.0, "CT": 3.6, "UT": 3.3, "IA": 3.2,
    "NV": 3.1, "AR": 3.0, "MS": 3.0, "KS": 2.9, "NM": 2.1, "NE": 2.0, "ID": 1.8, "WV": 1.8,
    "NH": 1.4,
}  # fmt: skip
NATIONAL_FACILITIES = 400
NATIONAL_STUDIES_PER_DAY = 20_000.0
NATIONAL_TARGET_LOAD = 0.80  # roster until demand is at most this share of capacity per hour
# Around the clock, but with the emergency department's shape: busiest late morning to late
# evening, quietest before dawn.
DAY_PROFILE = [
    0.55, 0.5, 0.45, 0.42, 0.42, 0.45, 0.6, 0.8,  # 00-07
    1.0, 1.2, 1.3, 1.35, 1.35, 1.35, 1.3, 1.3,  # 08-15
    1.3, 1.3, 1.25, 1.2, 1.1, 0.95, 0.8, 0.65,  # 16-23
]  # fmt: skip
NATIONAL_MODALITY_SHARE = {"CT": 0.38, "XR": 0.40, "MR": 0.10, "US": 0.12}
NATIONAL_SUBSPECIALTIES = {"neuro": 0.25, "body": 0.3, "msk": 0.15, "peds": 0.08, "chest": 0.12}
SHIFT_LENGTHS = (8, 9, 10, 12)
WEEK_ON_HOURS = 10  # shifts this long are worked every day of the (on-)week


def population_facilities(
    rng: np.random.Generator, populations: dict[str, float], total: int
) -> list[Facility]:
    """`total` facilities over the states: at least 3 each, the rest by population^0.8
    (large states have more, but also larger hospitals); contracts drawn per facility."""
    states = list(populations)
    population = np.array([populations[s] for s in states])
    weight = population**0.8
    counts = 3 + np.floor(weight / weight.sum() * (total - 3 * len(states)))
    for i in np.argsort(-weight, kind="stable")[: total - int(counts.sum())]:
        counts[i] += 1
    contracts = [(30.0, 120.0, 1440.0), (45.0, 180.0, 1440.0), (60.0, 240.0, 1440.0)]
    facilities: list[Facility] = []
    for state, count in zip(states, counts.astype(int), strict=True):
        for i in range(count):
            stat, urgent, routine = contracts[int(rng.choice(3, p=[0.45, 0.35, 0.2]))]
            facilities.append(
                Facility(
                    f"{state.lower()}-{i + 1:02d}",
                    state,
                    zone_of(state),
                    {"STAT": stat, "URGENT": urgent, "ROUTINE": routine},
                )
            )
    return facilities


def national(rng: np.random.Generator) -> Built:
    print("\nnational:")
    states = list(NATIONAL_STATES)
    population = np.array([NATIONAL_STATES[s] for s in states])
    facilities = population_facilities(rng, NATIONAL_STATES, NATIONAL_FACILITIES)
    sizes = rng.lognormal(0.0, 0.6, len(facilities))
    sizes *= NATIONAL_STUDIES_PER_DAY / sizes.sum()

    streams: list[Stream] = []
    for facility, size in zip(facilities, sizes, strict=True):
        per_hour = float(size) / (24 * float(np.mean(DAY_PROFILE)))
        for modality, m_share in NATIONAL_MODALITY_SHARE.items():
            for priority, p_share in PRIORITY_SHARE[modality].items():
                rate = per_hour * m_share * p_share
                streams.append(Stream(facility, modality, priority, rate, DAY_PROFILE))

    demand = demand_by_hour(streams)
    readers = _national_roster(rng, demand, states, population)
    by_state: dict[str, list[Facility]] = {s: [] for s in states}
    for f in facilities:
        by_state[f.state].append(f)
    for reader in readers:
        for state in reader.licenses:
            reader.credentials.extend(f.id for f in by_state[state] if rng.random() < 0.85)
    # Neuro contracts (half of non-STAT MR needs a neuroradiologist) where at least two
    # eligible neuroradiologists are on duty at every hour; the demand stays the same.
    duty = {r.id: r.on_duty() > 0 for r in readers}
    neuro_staffed = set()
    for f in facilities:
        neuro = [
            duty[r.id].astype(int)
            for r in readers
            if f.id in r.credentials and r.reads("MR", "neuro")
        ]
        if len(neuro) >= 2 and bool((np.sum(neuro, axis=0) >= 2).all()):
            neuro_staffed.add(f.id)
    contract = {f.id: f.id in neuro_staffed and rng.random() < 0.4 for f in facilities}
    split: list[Stream] = []
    for s in streams:
        if s.modality == "MR" and s.priority != "STAT" and contract[s.facility.id]:
            s.per_hour /= 2
            split += [s, Stream(s.facility, "MR", s.priority, s.per_hour, s.profile, "neuro", True)]
        else:
            split.append(s)
    streams = split
    print(
        f"  neuro contracts at {sum(contract.values())} facilities "
        f"({len(neuro_staffed)} could be staffed)"
    )

    check_eligibility(facilities, streams, readers, busy_share=0.0, on_duty_needed=2)
    capacity = capacity_by_hour(readers)
    on_duty = sum((r.on_duty() / 60 for r in readers), np.zeros(WEEK_HOURS))
    mix_report(streams)
    utilization = print_load("national", demand, capacity, on_duty)
    hourly = demand / capacity
    print(f"  hourly load range {hourly.min():.0%}-{hourly.max():.0%}")
    licenses = [len(r.licenses) for r in readers]
    credentials = [len(r.credentials) for r in readers]
    print(
        f"  {len(readers)} readers: {np.mean(licenses):.1f} licenses "
        f"({min(licenses)}-{max(licenses)}), {np.mean(credentials):.0f} credentials each"
    )

    events = [
        {
            "type": "absence",
            "radiologist": readers[7].id,
            "from": iso(datetime(2026, 12, 3, 0, tzinfo=UTC)),
            "to": iso(datetime(2026, 12, 4, 0, tzinfo=UTC)),
        },
        {
            "type": "surge",
            "factor": 1.3,
            "from": iso(datetime(2026, 12, 4, 20, tzinfo=UTC)),
            "to": iso(datetime(2026, 12, 5, 0, tzinfo=UTC)),
        },
    ]
    header = [
        f"National 24/7 practice: {len(readers)} radiologists, {len(facilities)} facilities in "
        f"{len(states)} states.",
        f"About {sum(s.studies_per_day() for s in streams):,.0f} studies a day; offered load about "
        f"{utilization:.0%} of the readers' on-duty minutes. 7 days unless `days` is overridden.",
        "Generated by simulations/scenarios/make_examples.py; edit that, not this file.",
    ]
    # A short warm-up, so a benchmark may shorten `days` to one.
    top: dict[str, Any] = {"name": "national", "start": iso(START), "days": 7, "warmup_hours": 12}
    top["read_minutes"] = read_minutes_yaml()
    lists: dict[str, list[Any]] = {
        "facilities": [f.as_yaml() for f in facilities],
        "arrivals": [s.as_yaml(explicit=False) for s in streams],
        "radiologists": [r.as_yaml() for r in readers],
        "events": events,
    }
    return Built(header, top, lists)


def _national_roster(
    rng: np.random.Generator, demand: np.ndarray, states: list[str], population: np.ndarray
) -> list[Reader]:
    """Staff every UTC hour so that demand is about NATIONAL_TARGET_LOAD of the capacity.

    The cheapest set of daily seats (a UTC start hour and a length) covering the target is a
    small integer program (scipy's milp, exact and instant). Long seats are filled by readers
    working the whole week, shorter ones by readers working six days of seven with days off
    rotating, enough of them that every day keeps its seats. A reader lives in a zone where
    the shift starts at a sensible local hour, in a state drawn by population, and holds
    10-16 licenses leaning to populous states."""
    mean_speed = 1.05
    daily = demand.reshape(7, 24).mean(axis=0)  # the profile repeats daily (no weekday shape)
    need = daily / 60 / NATIONAL_TARGET_LOAD / mean_speed  # readers on duty, by UTC hour
    kinds = [(start, hours) for start in range(24) for hours in SHIFT_LENGTHS]
    cover = np.zeros((24, len(kinds)))
    for k, (start, hours) in enumerate(kinds):
        cover[[(start + h) % 24 for h in range(hours)], k] = 1
    solution = milp(
        # Reader-hours, plus a seat cost so that fewer, longer shifts win a tie.
        c=np.array([hours + 10 for _, hours in kinds], dtype=float),
        constraints=LinearConstraint(cover, lb=np.ceil(need)),
        integrality=np.ones(len(kinds)),
        bounds=Bounds(0, np.inf),
    )
    if not solution.success:
        raise ScenarioCheckError(f"national roster: no cover found ({solution.message})")
    seats = np.round(solution.x).astype(int)

    by_zone: dict[str, list[str]] = {}
    for state in states:
        by_zone.setdefault(zone_of(state), []).append(state)
    zones = sorted(by_zone)
    pop = dict(zip(states, population, strict=True))
    zone_pop = np.array([sum(pop[s] for s in by_zone[z]) for z in zones])
    offset = {z: utc_offset_hours(z) for z in zones}
    license_weight = {s: pop[s] ** 0.6 for s in states}
    subspecialties = list(NATIONAL_SUBSPECIALTIES)
    sub_share = np.array(list(NATIONAL_SUBSPECIALTIES.values()))
    sub_share /= sub_share.sum()
    readers: list[Reader] = []
    for (utc_start, hours), count in zip(kinds, seats, strict=True):
        if count == 0:
            continue
        # Long shifts are worked a week on (and a week off, outside the scenario); shorter
        # ones six days of seven, with enough readers that the day most are off keeps `count`.
        staff = count
        while hours < WEEK_ON_HOURS and staff - -(-staff // 7) < count:
            staff += 1
        for i in range(staff):
            local = {z: (utc_start + offset[z]) % 24 for z in zones}
            # Nobody starts a shift between 02:00 and 05:00 at home if another zone allows it.
            weight = zone_pop * np.array([0.02 if 2 <= local[z] < 5 else 1.0 for z in zones])
            zone = zones[int(rng.choice(len(zones), p=weight / weight.sum()))]
            local_states = by_zone[zone]
            home_weight = np.array([pop[s] for s in local_states])
            home = local_states[
                int(rng.choice(len(local_states), p=home_weight / home_weight.sum()))
            ]
            others = [s for s in states if s != home]
            weight = np.array([license_weight[s] for s in others])
            extra = rng.choice(
                len(others), int(rng.integers(9, 16)), replace=False, p=weight / weight.sum()
            )
            off = (utc_start + i) % 7 if hours < WEEK_ON_HOURS else None  # rotate days off
            spec = ShiftSpec(
                local[zone], hours, zone, tuple(d for j, d in enumerate(WEEKDAYS) if j != off)
            )
            subs = [str(rng.choice(subspecialties, p=sub_share))] if rng.random() < 0.7 else []
            readers.append(
                Reader(
                    id=f"rad-{len(readers) + 1:03d}",
                    home=home,
                    licenses=[home, *(others[j] for j in sorted(extra))],
                    shifts=[spec],
                    speed=round(float(np.clip(rng.normal(mean_speed, 0.12), 0.8, 1.3)), 2),
                    subspecialties=subs,
                    modalities=["CT", "XR", "US"] if rng.random() < 0.08 else [],
                )
            )
    return readers


# ----- main ---------------------------------------------------------------------------------
def main() -> None:
    # One child stream per scenario, so changing one leaves the other's draws untouched.
    seeds = np.random.SeedSequence(SEED).spawn(2)
    for name, build, seed in (
        ("overnight.yaml", overnight, seeds[0]),
        ("national.yaml", national, seeds[1]),
    ):
        built = build(np.random.default_rng(seed))
        path = HERE / name
        dump(path, built.header, built.top, built.lists)
        validate(path)


if __name__ == "__main__":
    main()
