"""The simulator against queueing theory (Erlang C, Little's law) and against SimPy.

With Poisson arrivals, exponential reads, c identical readers always on duty who may read
everything, and one shared first-come worklist (`pull`), the practice is an M/M/c queue:
the probability of waiting and the mean wait are Erlang C's. Each check runs replications
long enough that the confidence interval is narrow (asserted), then asks the theory to sit
inside four standard errors, so a bias of a few percent cannot pass.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import simpy

from simulations.runner import make_studies, run_replication
from simulations.scenario import Scenario
from simulations.theory import mmc
from simulations.world import compile_world
from tests.simulations.practice import reader, run, scenario

MEAN_READ = 10.0
STUDIES_PER_REPLICATION = 20_000
REPLICATIONS = 8


def mmc_scenario(
    servers: int, utilization: float, studies: int = STUDIES_PER_REPLICATION
) -> Scenario:
    per_hour = utilization * servers * 60.0 / MEAN_READ
    days = min(studies / (per_hour * 24.0), 366.0)
    return scenario(
        days=days,
        warmup_hours=min(24.0, days * 24 / 10),
        drain_hours=24,
        arrivals=[
            {"facility": "f1", "modality": "CT", "priority": "ROUTINE", "per_hour": per_hour}
        ],
        read_minutes={"CT": {"distribution": "exponential", "mean": MEAN_READ}},
        radiologists=[reader(f"r{i}") for i in range(servers)],
    )


def replicated(scn: Scenario, policy: str, statistic) -> tuple[float, float]:
    """Mean of a per-replication statistic and its standard error."""
    values = np.array(
        [statistic(run_replication(scn, policy, k, seed=11).measured) for k in range(REPLICATIONS)]
    )
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


@pytest.mark.parametrize(
    ("servers", "utilization"), [(1, 0.5), (2, 0.7), (4, 0.8), (8, 0.85), (20, 0.9)]
)
def test_probability_of_waiting_matches_erlang_c(servers: int, utilization: float) -> None:
    scn = mmc_scenario(servers, utilization)
    theory = mmc(servers, utilization * servers / MEAN_READ, 1 / MEAN_READ).p_wait
    observed, error = replicated(scn, "pull", lambda m: float((m.wait_minutes > 1e-9).mean()))
    assert error < 0.03 * theory  # the tolerance below is honest: a few percent
    assert abs(observed - theory) < 4 * error


@pytest.mark.parametrize(
    ("servers", "utilization", "studies"),
    # Waits of many readers near saturation are rare and bursty: they need longer runs.
    [(1, 0.5, 20_000), (2, 0.7, 20_000), (4, 0.8, 20_000), (8, 0.85, 40_000), (20, 0.9, 80_000)],
)
def test_mean_wait_matches_erlang_c(servers: int, utilization: float, studies: int) -> None:
    scn = mmc_scenario(servers, utilization, studies)
    theory = mmc(servers, utilization * servers / MEAN_READ, 1 / MEAN_READ).mean_wait
    observed, error = replicated(scn, "pull", lambda m: float(m.wait_minutes.mean()))
    assert error < 0.08 * theory
    assert abs(observed - theory) < 4 * error


def test_mean_time_in_system_matches_erlang_c() -> None:
    scn = mmc_scenario(4, 0.8)
    theory = mmc(4, 0.8 * 4 / MEAN_READ, 1 / MEAN_READ).mean_time_in_system
    observed, error = replicated(scn, "pull", lambda m: float(m.tat_minutes.mean()))
    assert abs(observed - theory) < 4 * error


@pytest.mark.parametrize("policy", ["pull", "greedy", "cherry_pick", "round_robin"])
def test_littles_law_holds_on_the_output(policy: str) -> None:
    """Time-average number in the system = arrival rate x mean time in the system, measured
    on the studies the run wrote, over the window between the warm-up and the last arrival."""
    scn = mmc_scenario(4, 0.8, studies=30_000)
    result = run_replication(scn, policy, 0, seed=3)
    frame = result.studies
    origin = result.hours[0]

    def minutes(value) -> np.ndarray:
        return np.asarray((value - origin) / pd.Timedelta(minutes=1), dtype=float)

    t0, t1 = minutes(result.measured_from), minutes(result.measured_until)
    arrived, finished = minutes(frame["arrived_at"]), minutes(frame["finished_at"])
    assert not np.isnan(finished).any()
    inside = (arrived >= t0) & (arrived < t1)
    # The integral of N(t) over the window: each study's stay clipped to the window.
    area = np.clip(np.minimum(finished, t1) - np.maximum(arrived, t0), 0, None).sum()
    number = area / (t1 - t0)
    rate = inside.sum() / (t1 - t0)
    time_in_system = (finished[inside] - arrived[inside]).mean()
    assert number == pytest.approx(rate * time_in_system, rel=0.01)


def test_the_theory_check_can_fail() -> None:
    """A sanity check of the check: a practice with one reader fewer than the theory assumes
    is far outside the tolerance."""
    scn = mmc_scenario(3, 0.8 * 4 / 3 * 0.9)  # 3 readers carrying 4 readers' 72% load
    theory = mmc(4, 0.72 * 4 / MEAN_READ, 1 / MEAN_READ).mean_wait
    observed, error = replicated(scn, "pull", lambda m: float(m.wait_minutes.mean()))
    assert abs(observed - theory) > 4 * error


# ----- an independent simulator -------------------------------------------------------------
def simpy_starts(arrivals: np.ndarray, reads: np.ndarray, servers: int) -> np.ndarray:
    """The same studies through SimPy's first-come Resource with `servers` slots."""
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    starts = np.full(len(arrivals), np.nan)

    def study(i: int):
        yield env.timeout(float(arrivals[i]) - env.now)
        with desk.request() as slot:
            yield slot
            starts[i] = env.now
            yield env.timeout(float(reads[i]))

    def source():
        for i in range(len(arrivals)):
            yield env.timeout(float(arrivals[i]) - env.now)
            env.process(study(i))

    env.process(source())
    env.run()
    return starts


@pytest.mark.parametrize("servers", [1, 3, 12])
def test_pull_starts_every_study_when_simpy_does(servers: int) -> None:
    scn = mmc_scenario(servers, 0.85, studies=5_000)
    world = compile_world(scn)
    studies = make_studies(world, 5, 0)
    ours = run(scn, "pull", seed=5).outcome.started
    theirs = simpy_starts(studies.arrival, studies.read, servers)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
