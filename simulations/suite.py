"""The policy benchmark suite: its practices, paired replications of policies on each, and the
figures a comparison rests on. `benchmarks/policies.py` prints them; nothing here prints.

Per practice and policy, over the measured studies (arrivals after the warm-up): STAT breaches
(a STAT not read by its due time, unread included) as a mean per replication, the URGENT and
ROUTINE share met pooled over replications, and the TAT p90 per priority pooled over the
studies read. Policies see the same studies in a replication (common random numbers), so each
is compared with the practice's *best baseline* (of greedy, pull and cherry_pick, the one with
the fewest mean STAT breaches there) by the per-replication difference, with a Student-t 95%
interval. Since the best baseline is picked on the same replications, the comparison leans in
the baselines' favour, which is the safe side for a claim that a policy beats them.

Two policy-independent figures come from `simulations.hindsight`: structural STAT breaches
(nobody eligible could have read them in time: counted against no policy) and, for small
practices, the hindsight floor, a lower bound on any policy's STAT breaches; a policy's
*share of the gap closed* is (pull - policy) / (pull - floor).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from simulations.hindsight import DEFAULT_TIME_LIMIT, stat_floor, structural_stat_breaches
from simulations.results import ReplicationResult
from simulations.runner import Task, make_studies, run_on_dask, run_replication
from simulations.scenario import Scenario
from simulations.world import compile_world

SUITE_DIR = Path(__file__).resolve().parent / "scenarios" / "suite"
BASELINES = ("greedy", "pull", "cherry_pick")
PRIORITIES = ("STAT", "URGENT", "ROUTINE")
SMALL_READERS = 12  # the hindsight floor is computed up to this many readers ...
SMALL_DAYS = 2.0  # ... and this many simulated days
CONFIDENCE = 0.95


def suite_scenarios(directory: Path = SUITE_DIR) -> list[Path]:
    """The suite's practice files, by name."""
    return sorted(directory.glob("*.yaml"))


def is_small(scenario: Scenario) -> bool:
    """A practice small enough for the hindsight floor (a day or two, up to 12 readers)."""
    return len(scenario.radiologists) <= SMALL_READERS and scenario.days <= SMALL_DAYS


# ----- paired differences ---------------------------------------------------------------------
@dataclass(frozen=True)
class Paired:
    """Mean of per-replication differences (policy - reference) and its 95% interval (None
    with fewer than two replications: one says nothing about the spread)."""

    mean: float
    low: float | None
    high: float | None
    replications: int

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def paired(differences: Sequence[float]) -> Paired:
    """Student-t interval of the mean of paired per-replication differences."""
    values = np.asarray(differences, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return Paired(mean, None, None, len(values))
    critical = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1))
    half = critical * float(values.std(ddof=1)) / math.sqrt(len(values))
    return Paired(mean, mean - half, mean + half, len(values))


# ----- one replication of one policy ----------------------------------------------------------
@dataclass(frozen=True)
class Figures:
    """What the suite keeps of one replication of one policy (measured studies only)."""

    policy: str
    replication: int
    count: dict[str, int]  # studies per priority
    met: dict[str, int]  # of them, read by their due time
    tat: dict[str, np.ndarray]  # turnaround minutes of those read
    unread: int

    @property
    def stat_breaches(self) -> int:
        return self.count["STAT"] - self.met["STAT"]

    def share_met(self, priority: str) -> float:
        return self.met[priority] / self.count[priority] if self.count[priority] else math.nan


def figures(result: ReplicationResult) -> Figures:
    """A replication's measured studies, per priority: count, met, turnaround of those read.
    A study nobody finished counts as not met, whatever its flag says."""
    studies = result.studies
    keep = ~studies["warmup"].to_numpy(dtype=bool)
    priority = studies["priority"].to_numpy()[keep]
    finished = studies["finished_at"].notna().to_numpy()[keep]
    met = studies["met_sla"].to_numpy(dtype=bool)[keep] & finished
    tat = studies["tat_minutes"].to_numpy(dtype=float)[keep]
    masks = {p: priority == p for p in PRIORITIES}
    return Figures(
        policy=result.policy,
        replication=result.replication,
        count={p: int(m.sum()) for p, m in masks.items()},
        met={p: int((met & m).sum()) for p, m in masks.items()},
        tat={p: tat[m & finished] for p, m in masks.items()},
        unread=int((~finished).sum()),
    )


# ----- one practice ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Hindsight:
    """The policy-independent figures of one replication."""

    replication: int
    structural: int
    floor: int | None  # None: not computed (a large practice, or asked not to)
    floor_optimal: bool
    floor_seconds: float


@dataclass
class PolicyRow:
    """One policy on one practice."""

    policy: str
    stat_breaches: float  # mean per replication
    stat_breaches_per_replication: list[int]
    urgent_met: float  # pooled over replications
    routine_met: float
    tat_p90: dict[str, float | None]  # minutes, pooled over replications, per priority
    unread: float  # mean per replication
    below_floor: list[int]  # replications where it beat the floor: a bug somewhere
    vs_best: dict[str, Paired] = field(default_factory=dict)  # metric -> difference
    gap_closed: float | None = None
    wall_seconds_per_day: float | None = None


@dataclass
class PracticeResult:
    name: str
    readers: int
    days: float
    replications: list[int]
    stat_count: float  # measured STATs, mean per replication
    structural: float  # mean per replication
    floor: float | None  # mean per replication
    floor_optimal: bool
    floor_seconds: float  # mean per replication
    best_baseline: str | None
    policies: dict[str, PolicyRow]


def hindsight(
    scenario: Scenario, seed: int, replications: Iterable[int], *, floor: bool, time_limit: float
) -> list[Hindsight]:
    """Structural STAT breaches of each replication, and the hindsight floor when asked."""
    world = compile_world(scenario)
    found = []
    for replication in replications:
        studies = make_studies(world, seed, replication)
        if floor:
            bound = stat_floor(world, studies, time_limit=time_limit)
            found.append(
                Hindsight(
                    replication, bound.structural, bound.breaches, bound.optimal, bound.seconds
                )
            )
        else:
            structural = int(structural_stat_breaches(world, studies).sum())
            found.append(Hindsight(replication, structural, None, False, 0.0))
    return found


def run_policies(
    scenario: Scenario, policies: Sequence[str], replications: int, seed: int, *, workers: int = 1
) -> tuple[list[Figures], dict[str, float]]:
    """Every policy on replications 0..n-1: their figures, and the wall seconds of each
    policy's serial run of replication 0 (none when they ran on Dask workers)."""
    tasks = [Task(policy, k) for policy in policies for k in range(replications)]
    if workers > 1:
        return [figures(r) for r in run_on_dask(scenario, tasks, seed, workers=workers)], {}
    found, walls = [], {}
    for task in tasks:
        began = time.perf_counter()
        result = run_replication(scenario, task.policy, task.replication, seed)
        if task.replication == 0:
            walls[task.policy] = time.perf_counter() - began
        found.append(figures(result))  # the full result is dropped here: it can be large
    return found, walls


def time_policy(scenario: Scenario, policy: str, seed: int, runs: int) -> list[float]:
    """Wall seconds of `runs` serial runs of replication 0 (world, studies, loop, table)."""
    walls = []
    for _ in range(runs):
        began = time.perf_counter()
        run_replication(scenario, policy, 0, seed)
        walls.append(time.perf_counter() - began)
    return walls


def _pooled_p90(values: list[np.ndarray]) -> float | None:
    joined = np.concatenate(values) if values else np.empty(0)
    return float(np.percentile(joined, 90)) if len(joined) else None


def _pooled_share(runs: list[Figures], priority: str) -> float:
    count = sum(run.count[priority] for run in runs)
    return sum(run.met[priority] for run in runs) / count if count else math.nan


def _policy_row(runs: list[Figures], facts: dict[int, Hindsight]) -> PolicyRow:
    breaches = [run.stat_breaches for run in runs]
    floors = {k: f.floor for k, f in facts.items() if f.floor is not None}
    return PolicyRow(
        policy=runs[0].policy,
        stat_breaches=float(np.mean(breaches)),
        stat_breaches_per_replication=breaches,
        urgent_met=_pooled_share(runs, "URGENT"),
        routine_met=_pooled_share(runs, "ROUTINE"),
        tat_p90={p: _pooled_p90([run.tat[p] for run in runs]) for p in PRIORITIES},
        unread=float(np.mean([run.unread for run in runs])),
        below_floor=[r.replication for r in runs if r.stat_breaches < floors.get(r.replication, 0)],
    )


COMPARED = {
    "stat_breaches": lambda run: float(run.stat_breaches),
    "urgent_met": lambda run: run.share_met("URGENT"),
    "routine_met": lambda run: run.share_met("ROUTINE"),
}
"""Per-replication metrics compared with the best baseline, paired by replication."""


def _compare(row: PolicyRow, runs: list[Figures], best: list[Figures]) -> None:
    by_replication = {run.replication: run for run in best}
    pairs = [(run, by_replication[run.replication]) for run in runs]
    for metric, value in COMPARED.items():
        differences = [value(run) - value(base) for run, base in pairs]
        defined = [d for d in differences if not math.isnan(d)]
        if defined:
            row.vs_best[metric] = paired(defined)


def summarize_practice(
    scenario: Scenario, runs: list[Figures], facts: list[Hindsight], walls: dict[str, float]
) -> PracticeResult:
    """Per-policy rows, the best baseline and each policy's difference from it, the floor and
    the share of the pull-floor gap closed."""
    by_policy: dict[str, list[Figures]] = {}
    for run in sorted(runs, key=lambda run: run.replication):
        by_policy.setdefault(run.policy, []).append(run)
    by_replication = {f.replication: f for f in facts}
    rows = {name: _policy_row(mine, by_replication) for name, mine in by_policy.items()}
    baselines = [name for name in BASELINES if name in rows]
    best = min(baselines, key=lambda name: rows[name].stat_breaches) if baselines else None
    floors = [f.floor for f in facts if f.floor is not None]
    floor = float(np.mean(floors)) if floors and len(floors) == len(facts) else None
    for name, row in rows.items():
        if best is not None and name != best:
            _compare(row, by_policy[name], by_policy[best])
        if name in walls:
            row.wall_seconds_per_day = walls[name] / scenario.days
        if floor is not None and "pull" in rows and rows["pull"].stat_breaches > floor:
            gap = rows["pull"].stat_breaches - floor
            row.gap_closed = (rows["pull"].stat_breaches - row.stat_breaches) / gap
    stat_counts = [run.count["STAT"] for run in by_policy[next(iter(by_policy))]]
    return PracticeResult(
        name=scenario.name,
        readers=len(scenario.radiologists),
        days=scenario.days,
        replications=sorted(by_replication),
        stat_count=float(np.mean(stat_counts)),
        structural=float(np.mean([f.structural for f in facts])),
        floor=floor,
        floor_optimal=floor is not None and all(f.floor_optimal for f in facts),
        floor_seconds=float(np.mean([f.floor_seconds for f in facts])),
        best_baseline=best,
        policies=rows,
    )


def run_practice(
    scenario: Scenario,
    policies: Sequence[str],
    *,
    replications: int = 5,
    seed: int = 1,
    workers: int = 1,
    timing_runs: int = 3,
    floor: bool = True,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PracticeResult:
    """Paired replications of the policies on one practice, its hindsight figures (the floor
    only for a small practice), and each policy's wall time per simulated day: the median of
    `timing_runs` serial runs of replication 0 (a serial statistics run counts as one)."""
    runs, walls = run_policies(scenario, policies, replications, seed, workers=workers)
    timed: dict[str, float] = {}
    for policy in policies:
        first = [walls[policy]] if policy in walls else []
        more = time_policy(scenario, policy, seed, max(timing_runs - len(first), 0))
        if first or more:
            timed[policy] = statistics.median(first + more)
    facts = hindsight(
        scenario,
        seed,
        range(replications),
        floor=floor and is_small(scenario),
        time_limit=time_limit,
    )
    return summarize_practice(scenario, runs, facts, timed)


# ----- the suite ------------------------------------------------------------------------------
@dataclass
class Aggregate:
    """Totals over the practices: mean STAT breaches per replication, summed."""

    practices: int
    stat_breaches: dict[str, float]  # per policy
    avoidable: dict[str, float]  # the same, less the structural breaches
    structural: float
    best_baselines: float  # each practice's best baseline, summed
    ratio_to_best: dict[str, float | None]  # policy total / best baselines' total
    vs_best: dict[str, Paired]  # per replication, summed over practices, then paired


def aggregate(results: Sequence[PracticeResult]) -> Aggregate:
    """Sum over the practices that ran every policy named in the first one. Replication k of
    each practice is independent of the others, so the per-replication totals pair up too."""
    policies = list(results[0].policies) if results else []
    structural = sum(r.structural for r in results)
    totals = {p: sum(r.policies[p].stat_breaches for r in results) for p in policies}
    best_total = sum(r.policies[r.best_baseline].stat_breaches for r in results if r.best_baseline)
    vs_best: dict[str, Paired] = {}
    shared = set.intersection(*(set(r.replications) for r in results)) if results else set()
    if shared and all(r.best_baseline for r in results):

        def breaches(result: PracticeResult, policy: str, replication: int) -> int:
            row = result.policies[policy]
            return row.stat_breaches_per_replication[result.replications.index(replication)]

        for policy in policies:
            differences = [
                sum(breaches(r, policy, k) - breaches(r, str(r.best_baseline), k) for r in results)
                for k in sorted(shared)
            ]
            vs_best[policy] = paired(differences)
    return Aggregate(
        practices=len(results),
        stat_breaches=totals,
        avoidable={p: total - structural for p, total in totals.items()},
        structural=structural,
        best_baselines=best_total,
        ratio_to_best={p: t / best_total if best_total else None for p, t in totals.items()},
        vs_best=vs_best,
    )
