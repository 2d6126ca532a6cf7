"""The studies of one replication: Poisson arrivals (or a replayed trace) and their read times.

Arrivals are a non-homogeneous Poisson process whose rate is constant on pieces: the
facility's local hour of day (the hourly profile) and each surge window cut time into
segments, and each segment gets a Poisson count placed uniformly in it. That is exact for a
piecewise-constant rate, and vectorized: no per-study Python. Read times are drawn at arrival
from the replication's own stream, so every policy sees the same studies and the same reads
(common random numbers make policy differences sharper than independent runs would).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.priority import Modality
from simulations.scenario import ArrivalStream, ReadDistribution, Scenario, Surge, load_trace
from simulations.world import MODALITIES, PRIORITIES, World

_MODALITY_INDEX = {m: i for i, m in enumerate(MODALITIES)}
_PRIORITY_INDEX = {p: i for i, p in enumerate(PRIORITIES)}


@dataclass
class Studies:
    """Every study of one replication, sorted by arrival; minutes after the scenario start."""

    arrival: np.ndarray
    facility: np.ndarray  # facility index
    modality: np.ndarray  # modality index
    priority: np.ndarray  # priority rank: 0 STAT, 1 URGENT, 2 ROUTINE
    subspecialty: list[str | None]
    required: np.ndarray
    klass: np.ndarray  # eligibility class (World.class_of)
    read: np.ndarray  # actual minutes at speed 1.0 (revealed only when read)
    expected: np.ndarray  # what a dispatcher may assume at speed 1.0
    due: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival)


def generate_studies(
    world: World, rng_arrivals: np.random.Generator, rng_reads: np.random.Generator
) -> Studies:
    scenario = world.scenario
    if scenario.trace is not None:
        return _from_trace(world, load_trace(scenario), rng_reads)
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "f", "m", "p", "s")}
    subspecialties: list[str | None] = [None]
    facility_index = {fid: i for i, fid in enumerate(world.facility_ids)}
    local_hours = _local_hours(world)
    for stream in scenario.arrivals or []:
        facility = facility_index[stream.facility]
        times = _stream_times(world, stream, local_hours[facility], rng_arrivals)
        n = len(times)
        sub = stream.subspecialty
        if sub not in subspecialties:
            subspecialties.append(sub)
        columns["t"].append(times)
        columns["f"].append(np.full(n, facility))
        columns["m"].append(np.full(n, _MODALITY_INDEX[stream.modality]))
        columns["p"].append(np.full(n, _PRIORITY_INDEX[stream.priority]))
        columns["s"].append(
            np.full(n, subspecialties.index(sub) * 2 + int(stream.subspecialty_required))
        )
    merged = {k: np.concatenate(v) if v else np.empty(0) for k, v in columns.items()}
    order = np.argsort(merged["t"], kind="stable")
    arrival = merged["t"][order]
    modality = merged["m"][order].astype(np.int64)
    coded = merged["s"][order].astype(np.int64)
    read = _draw_reads(scenario, modality, rng_reads)
    return _assemble(
        world,
        arrival=arrival,
        facility=merged["f"][order].astype(np.int64),
        modality=modality,
        priority=merged["p"][order].astype(np.int64),
        subspecialty=[subspecialties[c // 2] for c in coded.tolist()],
        required=(coded % 2).astype(bool),
        read=read,
    )


def _clock_offset(world: World) -> float:
    """Minutes from the top of the UTC hour to the start (clock hours, not run hours, carry
    the local hour of day: a start at 00:30 must not blur every hour into the next)."""
    start = world.scenario.start
    return start.minute + start.second / 60 + start.microsecond / 60e6


def _local_hours(world: World) -> list[np.ndarray]:
    """Per facility, the local hour of day at each clock hour the run touches."""
    offset = _clock_offset(world)
    hours = int(np.ceil((world.horizon + offset) / 60)) + 1
    top = pd.Timestamp(world.scenario.start).floor("h")
    utc = pd.date_range(top, periods=hours, freq="h")
    by_zone = {zone: utc.tz_convert(zone).hour.to_numpy() for zone in set(world.facility_zones)}
    return [by_zone[zone] for zone in world.facility_zones]


def _stream_times(
    world: World, stream: ArrivalStream, local_hour: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    bounds = _segment_bounds(world, stream)
    starts, lengths = bounds[:-1], np.diff(bounds)
    hour = ((starts + _clock_offset(world)) // 60).astype(np.int64)
    profile = np.ones(24) if stream.hourly_profile is None else np.asarray(stream.hourly_profile)
    rate = stream.per_hour * profile[local_hour[hour]] * _surge_factor(world, stream, starts)
    counts = rng.poisson(rate * lengths / 60.0)
    offsets = rng.random(int(counts.sum()))
    return np.repeat(starts, counts) + offsets * np.repeat(lengths, counts)


def _surges(world: World, stream: ArrivalStream) -> list[tuple[float, float, float]]:
    start = world.scenario.start
    found = []
    for event in world.scenario.events:
        if isinstance(event, Surge) and event.facility in (None, stream.facility):
            begin = (event.from_ - start).total_seconds() / 60
            end = (event.to - start).total_seconds() / 60
            found.append((begin, end, event.factor))
    return found


def _segment_bounds(world: World, stream: ArrivalStream) -> np.ndarray:
    """Clock-hour boundaries plus surge edges inside the horizon: the rate is constant between."""
    offset = _clock_offset(world)
    first = 60.0 - offset if offset else 0.0
    edges = [np.array([0.0]), np.arange(first, world.horizon, 60.0), np.array([world.horizon])]
    for begin, end, _ in _surges(world, stream):
        edges.append(np.clip(np.array([begin, end]), 0.0, world.horizon))
    return np.unique(np.concatenate(edges))


def _surge_factor(world: World, stream: ArrivalStream, starts: np.ndarray) -> np.ndarray:
    """Overlapping surges multiply."""
    factor = np.ones(len(starts))
    for begin, end, value in _surges(world, stream):
        factor[(starts >= begin) & (starts < end)] *= value
    return factor


def _draw_reads(scenario: Scenario, modality: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Read minutes at speed 1.0, by modality, in a fixed modality order (reproducible)."""
    read = np.empty(len(modality))
    for index, name in enumerate(MODALITIES):
        mask = modality == index
        count = int(mask.sum())
        if count:
            read[mask] = draw(scenario.read_distribution(Modality(name)), count, rng)
    return read


def draw(distribution: ReadDistribution, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` read times; never below a few seconds (a zero-length read is not a read)."""
    if distribution.distribution == "fixed":
        values = np.full(count, distribution.mean)
    elif distribution.distribution == "exponential":
        values = rng.exponential(distribution.mean, count)
    else:
        mu, sigma = distribution.lognormal_parameters()
        values = rng.lognormal(mu, sigma, count)
    return np.maximum(values, 0.05)


def _from_trace(world: World, frame: pd.DataFrame, rng_reads: np.random.Generator) -> Studies:
    """The recorded studies as they came. A read time the trace did not record (a blank cell)
    is drawn from the scenario's distribution with the replication's read stream, so
    replications of a trace differ in their reads, not their arrivals."""
    facility_index = {fid: i for i, fid in enumerate(world.facility_ids)}
    arrival = (
        (frame["arrived_at"] - pd.Timestamp(world.scenario.start)).dt.total_seconds() / 60
    ).to_numpy(dtype=float)
    modality = frame["modality"].map(lambda m: _MODALITY_INDEX[Modality(m)]).to_numpy(np.int64)
    read = frame["read_minutes"].to_numpy(dtype=float, copy=True)
    missing = np.isnan(read)
    if missing.any():
        read[missing] = _draw_reads(world.scenario, modality[missing], rng_reads)
    return _assemble(
        world,
        arrival=arrival,
        facility=frame["facility"].map(facility_index).to_numpy(dtype=np.int64),
        modality=modality,
        priority=frame["priority"].map(lambda p: PRIORITIES.index(p)).to_numpy(np.int64),
        subspecialty=frame["subspecialty"].tolist(),
        required=frame["subspecialty_required"].to_numpy(dtype=bool),
        read=read,
    )


def _assemble(
    world: World,
    *,
    arrival: np.ndarray,
    facility: np.ndarray,
    modality: np.ndarray,
    priority: np.ndarray,
    subspecialty: list[str | None],
    required: np.ndarray,
    read: np.ndarray,
) -> Studies:
    classes: dict[tuple[int, int, str | None, bool], int] = {}
    klass = np.empty(len(arrival), dtype=np.int64)
    for i, key in enumerate(
        zip(facility.tolist(), modality.tolist(), subspecialty, required.tolist(), strict=True)
    ):
        found = classes.get(key)
        if found is None:
            f, m, s, req = key
            found = classes[key] = world.class_of(f, m, s if req else None)
        klass[i] = found
    return Studies(
        arrival=arrival,
        facility=facility,
        modality=modality,
        priority=priority,
        subspecialty=subspecialty,
        required=required,
        klass=klass,
        read=read,
        expected=world.expected_minutes[modality] if len(modality) else np.empty(0),
        due=arrival + world.sla[facility, priority] if len(arrival) else np.empty(0),
    )
