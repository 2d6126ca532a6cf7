"""Replications: independent random streams, one run per policy and replication, in parallel.

Replication k draws from `SeedSequence(seed, spawn_key=(k,))`, numpy's own way of making
independent streams, so a replication's studies do not depend on how many others run or
where. Every policy of a replication sees the same studies and reads (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulations.arrivals import Studies, generate_studies
from simulations.engine import NOBODY, Outcome, Policy, ProgressCallback, Simulation
from simulations.optimizer_policy import OptimizerPolicy
from simulations.policies import POLICIES as SIMPLE_POLICIES
from simulations.results import EXTRA_COLUMNS, STUDY_COLUMNS, ReplicationResult
from simulations.scenario import Scenario
from simulations.world import MODALITIES, PRIORITIES, Stretch, World, compile_world

POLICIES: dict[str, type[Policy]] = {"optimizer": OptimizerPolicy, **SIMPLE_POLICIES}


@dataclass(frozen=True)
class Task:
    policy: str
    replication: int


def unknown_policies(names: Iterable[str]) -> list[str]:
    return [name for name in names if name not in POLICIES]


def replication_streams(seed: int, replication: int) -> tuple[np.random.Generator, ...]:
    """(arrivals, reads) generators of one replication, independent of all others."""
    root = np.random.SeedSequence(seed, spawn_key=(replication,))
    return tuple(np.random.default_rng(child) for child in root.spawn(2))


def make_studies(world: World, seed: int, replication: int) -> Studies:
    arrivals, reads = replication_streams(seed, replication)
    return generate_studies(world, arrivals, reads)


def run_replication(
    scenario: Scenario,
    policy: str,
    replication: int,
    seed: int,
    progress: ProgressCallback | None = None,
) -> ReplicationResult:
    world = compile_world(scenario)
    studies = make_studies(world, seed, replication)
    outcome = Simulation(world, studies, POLICIES[policy]()).run(progress)
    return collect(world, studies, outcome, policy, replication)


def run_task(scenario: Scenario, task: Task, seed: int) -> ReplicationResult:
    """One unit of parallel work (a plain function, so Dask can ship it)."""
    return run_replication(scenario, task.policy, task.replication, seed)


# ----- turning an outcome into the studies.csv rows -----------------------------------------
def collect(
    world: World, studies: Studies, outcome: Outcome, policy: str, replication: int
) -> ReplicationResult:
    frame = _studies_frame(world, studies, outcome, policy, replication)
    hours = math.ceil(world.run_until / 60)
    busy, on_shift = _reader_hours(world, outcome, hours)
    start = pd.Timestamp(world.scenario.start)
    return ReplicationResult(
        policy=policy,
        replication=replication,
        studies=frame,
        reader_ids=list(world.reader_ids),
        hours=pd.date_range(start, periods=hours, freq="h"),
        busy_minutes=busy,
        shift_minutes=on_shift,
        measured_from=start + pd.Timedelta(minutes=world.measured_from),
        measured_until=start + pd.Timedelta(minutes=world.horizon),
        events=outcome.events,
        wall_seconds=outcome.wall_seconds,
    )


def _studies_frame(
    world: World, studies: Studies, outcome: Outcome, policy: str, replication: int
) -> pd.DataFrame:
    start = pd.Timestamp(world.scenario.start)

    def stamp(minutes: np.ndarray) -> pd.Series:
        # Millisecond precision: enough for turnaround in minutes, and CSV-stable.
        return start + pd.to_timedelta(np.round(minutes * 60_000), unit="ms")

    n = len(studies)
    facility = studies.facility
    reader = outcome.reader
    names = np.array([*world.reader_ids, ""], dtype=object)
    finished = outcome.finished
    tat = finished - studies.arrival
    met = ~np.isnan(finished) & (finished <= studies.due + 1e-9)
    frame = pd.DataFrame(
        {
            "study": [f"s{i:07d}" for i in range(n)],
            "facility": np.array(world.facility_ids, dtype=object)[facility],
            "state": np.array(world.facility_states, dtype=object)[facility],
            "modality": np.array([m.value for m in MODALITIES], dtype=object)[studies.modality],
            "priority": np.array([p.value for p in PRIORITIES], dtype=object)[studies.priority],
            "arrived_at": stamp(studies.arrival),
            "assigned_at": stamp(outcome.assigned),
            "started_at": stamp(outcome.started),
            "finished_at": stamp(finished),
            "radiologist": names[np.where(reader == NOBODY, len(world.reader_ids), reader)],
            "due_at": stamp(studies.due),
            "met_sla": met,
            "replication": replication,
            "policy": policy,
            "warmup": studies.arrival < world.measured_from,
            "tat_minutes": tat,
            "wait_minutes": outcome.started - studies.arrival,
            "read_minutes": finished - outcome.started,
        }
    )
    return frame[list(STUDY_COLUMNS + EXTRA_COLUMNS)]


def _reader_hours(world: World, outcome: Outcome, hours: int) -> tuple[np.ndarray, np.ndarray]:
    """(busy, on shift) minutes per reader and hour. Busy counts only the part of a read inside
    the reader's stretches on duty (a read once started is finished, even past the end of the
    shift), so busy never exceeds on shift and utilization stays within [0, 1]."""
    readers = world.reader_count
    read = ~np.isnan(outcome.started)
    busy = spread_over_hours(
        *on_duty_parts(
            outcome.reader[read],
            outcome.started[read],
            np.where(np.isnan(outcome.finished[read]), world.run_until, outcome.finished[read]),
            world.stretches,
        ),
        readers,
        hours,
    )
    rows, starts, ends = [], [], []
    for reader, stretches in enumerate(world.stretches):
        for stretch in stretches:
            rows.append(reader)
            starts.append(max(stretch.start, 0.0))
            ends.append(min(stretch.end, world.run_until))
    on_shift = spread_over_hours(
        np.array(rows, dtype=np.int64), np.array(starts), np.array(ends), readers, hours
    )
    return busy, on_shift


def on_duty_parts(
    rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, stretches: list[list[Stretch]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parts of each interval [start, end) of reader `rows[i]` that lie inside that
    reader's stretches on duty (sorted and disjoint), as (rows, starts, ends).

    Most reads lie inside one stretch and go through vectorized; the few that run past a
    stretch's end are cut piece by piece.
    """
    out_rows, out_starts, out_ends = [], [], []
    order = np.argsort(rows, kind="stable")
    bounds = np.searchsorted(rows[order], np.arange(len(stretches) + 1))
    for reader, own in enumerate(stretches):
        mine = order[bounds[reader] : bounds[reader + 1]]
        if not own or not len(mine):
            continue
        begin = np.array([stretch.start for stretch in own])
        finish = np.array([stretch.end for stretch in own])
        s, e = starts[mine], ends[mine]
        index = np.searchsorted(begin, s, side="right") - 1
        at = np.maximum(index, 0)
        inside = (index >= 0) & (e <= finish[at])
        out_rows.append(np.full(int(inside.sum()), reader, dtype=np.int64))
        out_starts.append(s[inside])
        out_ends.append(e[inside])
        for low, high in zip(s[~inside], e[~inside], strict=True):
            first = int(np.searchsorted(finish, low, side="right"))
            last = int(np.searchsorted(begin, high, side="left"))
            cut_low = np.maximum(begin[first:last], low)
            cut_high = np.minimum(finish[first:last], high)
            keep = cut_high > cut_low
            out_rows.append(np.full(int(keep.sum()), reader, dtype=np.int64))
            out_starts.append(cut_low[keep])
            out_ends.append(cut_high[keep])
    if not out_rows:
        return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
    return np.concatenate(out_rows), np.concatenate(out_starts), np.concatenate(out_ends)


def spread_over_hours(
    rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, row_count: int, hours: int
) -> np.ndarray:
    """Minutes of each interval falling into each hour, summed per row: an (rows, hours) grid.

    Reads are short, so most fall in one or two hours and go in vectorized; the few longer
    intervals (shifts) are walked hour by hour.
    """
    grid = np.zeros((row_count, hours))
    limit = hours * 60.0
    starts, ends = np.clip(starts, 0.0, limit), np.clip(ends, 0.0, limit)
    keep = ends > starts
    rows, starts, ends = rows[keep], starts[keep], ends[keep]
    first = np.minimum((starts // 60).astype(np.int64), hours - 1)
    last = np.minimum(((ends - 1e-9) // 60).astype(np.int64), hours - 1)
    same = first == last
    np.add.at(grid, (rows[same], first[same]), ends[same] - starts[same])
    for r, s, e, h0, h1 in zip(
        rows[~same], starts[~same], ends[~same], first[~same], last[~same], strict=True
    ):
        grid[r, h0] += (h0 + 1) * 60.0 - s
        grid[r, h0 + 1 : h1] += 60.0
        grid[r, h1] += e - h1 * 60.0
    return grid


# ----- many replications ----------------------------------------------------------------
ProgressHook = Callable[[Task, float], None]  # task, fraction of it done


def run_serially(
    scenario: Scenario, tasks: list[Task], seed: int, hook: ProgressHook | None = None
) -> list[ReplicationResult]:
    horizon = scenario.days * 24 * 60 + scenario.drain_hours * 60
    results = []
    for task in tasks:
        callback = None
        if hook is not None:

            def callback(minutes: float, task: Task = task) -> None:
                hook(task, min(minutes / horizon, 1.0))

        results.append(
            run_replication(scenario, task.policy, task.replication, seed, progress=callback)
        )
    return results


def run_on_dask(
    scenario: Scenario,
    tasks: list[Task],
    seed: int,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    hook: ProgressHook | None = None,
) -> list[ReplicationResult]:
    """Run the tasks on a Dask cluster: a local one of `workers` processes, or `scheduler`'s."""
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler is not None:
        client = Client(scheduler, timeout="10s")
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=workers or 1,
            threads_per_worker=1,  # the loop is pure Python: threads would share one GIL
            processes=True,
            dashboard_address=":0",
        )
        client = Client(cluster)
    try:
        futures = {
            client.submit(run_task, scenario, task, seed, pure=False): task for task in tasks
        }
        done: dict[Task, ReplicationResult] = {}
        for future in as_completed(futures):
            task = futures[future]
            done[task] = future.result()
            if hook is not None:
                hook(task, 1.0)
        return [done[task] for task in tasks]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
