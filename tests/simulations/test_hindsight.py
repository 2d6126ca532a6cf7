"""The hindsight floor and structural STAT breaches (`simulations.hindsight`): hand-built cases
rule by rule, a plain-Python brute force on tiny instances, and every simple policy on small
random practices (the floor is a lower bound: no policy may beat it)."""

from __future__ import annotations

import dataclasses
import math
from itertools import permutations, product
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations.hindsight import Floor, stat_floor, structural_stat_breaches
from simulations.runner import make_studies, run_replication
from simulations.scenario import Scenario
from simulations.world import FINISH_SLACK_MINUTES, compile_world
from tests.simulations.practice import reader, scenario, trace_scenario
from tests.simulations.test_policies import SIMPLE, practices

TWO_FACILITIES: list[dict[str, Any]] = [
    {"id": "f1", "state": "WY", "timezone": "America/Denver", "sla_minutes": {"STAT": 30}},
    {"id": "f2", "state": "MT", "timezone": "America/Denver", "sla_minutes": {"STAT": 45}},
]
EARLY = {"start": "00:00", "end": "01:00", "timezone": "UTC"}  # minutes 0-60 each day


def floor_of(scn: Scenario, *, ignore_due: bool = False) -> Floor:
    world = compile_world(scn)
    studies = make_studies(world, 0, 0)
    if ignore_due:  # the deliberately wrong floor: every read counts as on time
        studies = dataclasses.replace(studies, due=np.full(len(studies), math.inf))
    return stat_floor(world, studies)


def structural_of(scn: Scenario) -> list[int]:
    world = compile_world(scn)
    return np.flatnonzero(structural_stat_breaches(world, make_studies(world, 0, 0))).tolist()


def stats(tmp_path: Path, rows: list[tuple[Any, ...]], **fields: Any) -> Scenario:
    """STAT CTs at f1 (or the facility given): (minute, read minutes[, facility]); the
    contract is 30 minutes at f1, 45 at f2, and a CT is expected to take 10."""
    fields.setdefault("facilities", TWO_FACILITIES)
    trace = [(minute, "CT", "STAT", read, *rest) for minute, read, *rest in rows]
    return trace_scenario(tmp_path, trace, **fields)


# ----- hand-built: one rule at a time ---------------------------------------------------------
def test_one_reader_cannot_read_two_stats_whose_windows_force_a_breach(tmp_path: Path) -> None:
    # Whichever goes first, the other ends at minute 40 at the earliest, past its due (30, 31).
    found = floor_of(stats(tmp_path, [(0.0, 20.0), (1.0, 20.0)]))
    assert (found.breaches, found.structural, found.measured_stats, found.optimal) == (
        1,
        0,
        2,
        True,
    )


def test_a_second_reader_reads_both_on_time(tmp_path: Path) -> None:
    scn = stats(tmp_path, [(0.0, 20.0), (1.0, 20.0)], radiologists=[reader("r1"), reader("r2")])
    assert floor_of(scn).breaches == 0


def test_the_order_matters_and_the_floor_finds_the_good_one(tmp_path: Path) -> None:
    # The long read first (0-25) lets the short one end at 30 <= 31; short first would not.
    assert floor_of(stats(tmp_path, [(0.0, 25.0), (1.0, 5.0)])).breaches == 0


def test_a_stat_nobody_is_licensed_for_is_a_structural_breach(tmp_path: Path) -> None:
    scn = stats(tmp_path, [(0.0, 5.0), (10.0, 5.0, "f2")])  # r1 holds WY only; f2 is in MT
    assert structural_of(scn) == [1]
    found = floor_of(scn)
    assert (found.breaches, found.structural) == (1, 1)


def test_a_read_longer_than_the_contract_is_a_structural_breach(tmp_path: Path) -> None:
    assert structural_of(stats(tmp_path, [(0.0, 31.5)])) == [0]
    assert structural_of(stats(tmp_path, [(0.0, 30.0)])) == []  # ends exactly when due


def test_a_read_may_run_past_the_end_of_the_shift(tmp_path: Path) -> None:
    # Started at 45, expected by 55 (before the shift ends at 60), drawn 20: ends at 65 < 75.
    scn = stats(tmp_path, [(45.0, 20.0)], radiologists=[reader("r1", shifts=[EARLY])])
    assert structural_of(scn) == []
    assert floor_of(scn).breaches == 0


def test_a_read_expected_to_end_after_the_shift_cannot_start(tmp_path: Path) -> None:
    # At 55 a CT is expected to end at 65, past the end (60) and its slack: nobody may start it.
    assert FINISH_SLACK_MINUTES < 5
    scn = stats(tmp_path, [(55.0, 2.0)], radiologists=[reader("r1", shifts=[EARLY])])
    assert structural_of(scn) == [0]
    assert floor_of(scn).breaches == 1


def test_a_reader_whose_license_lapses_reads_only_until_then(tmp_path: Path) -> None:
    # The WY license ends with 30 Nov in Denver: 07:00 UTC on 1 Dec, minute 420.
    lapsing = reader("r1", licenses=[{"state": "WY", "expires_on": "2026-11-30"}])
    early = stats(tmp_path, [(400.0, 5.0)], radiologists=[lapsing])
    assert floor_of(early).breaches == 0  # expected to end at 410
    late = stats(tmp_path, [(415.0, 5.0)], radiologists=[lapsing])
    assert structural_of(late) == [0]  # expected to end at 425, after 420 + slack


def test_stats_of_the_warm_up_count_for_nothing(tmp_path: Path) -> None:
    # A warm-up STAT too long for its contract is no structural breach: it is not measured.
    scn = stats(tmp_path, [(10.0, 40.0), (70.0, 25.0)], warmup_hours=1)
    assert structural_of(scn) == []
    found = floor_of(scn)
    assert (found.measured_stats, found.breaches) == (1, 0)


# ----- a plain-Python referee on tiny instances -------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Tiny:
    """STATs (minute, read minutes, facility) and readers (speed, licensed states, on-duty
    windows in minutes), as written into the scenario."""

    stats: list[tuple[int, int, str]]
    readers: list[tuple[float, list[str], list[tuple[int, int]]]]

    def scenario(self, tmp_path: Path) -> Scenario:
        radiologists = [
            reader(
                f"r{i}",
                speed=speed,
                licenses=states,
                credentials=["f1", "f2"],
                shifts=[
                    {"start": clock(a), "end": clock(b), "timezone": "UTC"} for a, b in windows
                ],
            )
            for i, (speed, states, windows) in enumerate(self.readers)
        ]
        rows = [(float(m), float(r), f) for m, r, f in self.stats]
        return stats(tmp_path, rows, radiologists=radiologists)


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def most_on_time(tiny: Tiny) -> int:
    """Enumerate who reads each STAT (or nobody) and every order per reader; each read starts
    as early as the rules allow after the previous one (earliest is never worse)."""
    sla = {f["id"]: f["sla_minutes"]["STAT"] for f in TWO_FACILITIES}
    state = {f["id"]: f["state"] for f in TWO_FACILITIES}
    expected = 10.0  # the scenario's fixed CT read

    def start(r: int, i: int, free: float) -> float | None:
        speed, states, windows = tiny.readers[r]
        arrival, read, facility = tiny.stats[i]
        if state[facility] not in states:
            return None
        for a, b in windows:
            t = max(free, arrival, a)
            fits = t < b and t + expected / speed <= b + FINISH_SLACK_MINUTES
            if fits and t + read / speed <= arrival + sla[facility]:
                return t
        return None

    def feasible(r: int, order: tuple[int, ...]) -> bool:
        free = -math.inf
        for i in order:
            t = start(r, i, free)
            if t is None:
                return False
            free = t + tiny.stats[i][1] / tiny.readers[r][0]
        return True

    best = 0
    for who in product([None, *range(len(tiny.readers))], repeat=len(tiny.stats)):
        mine = [tuple(i for i, w in enumerate(who) if w == r) for r in range(len(tiny.readers))]
        if all(any(feasible(r, order) for order in permutations(m)) for r, m in enumerate(mine)):
            best = max(best, sum(w is not None for w in who))
    return best


@st.composite
def tiny_instances(draw: st.DrawFn, *, crowded: bool = False) -> Tiny:
    """Up to 2 readers with one or two windows, 2-5 STATs. Crowded: everyone licensed for
    f1, where every STAT arrives within half an hour, so that the order and the reader matter."""
    readers = []
    for _ in range(draw(st.integers(1, 2))):
        first = draw(st.integers(0, 2)) * 30
        windows = [(first, first + draw(st.integers(2, 4)) * 30)]
        if draw(st.booleans()):
            later = windows[0][1] + draw(st.integers(1, 3)) * 30
            windows.append((later, later + draw(st.integers(1, 4)) * 30))
        states = ["WY"] if crowded else draw(st.sampled_from([["WY"], ["MT"], ["MT", "WY"]]))
        readers.append((draw(st.sampled_from([0.5, 1.0, 2.0])), states, windows))
    facilities = ["f1"] if crowded else ["f1", "f2"]
    arrival, read = st.integers(0, 30 if crowded else 60), st.integers(4, 30)
    studies = [
        (draw(arrival), draw(read), draw(st.sampled_from(facilities)))
        for _ in range(draw(st.integers(2, 5)))
    ]
    return Tiny(studies, readers)


@pytest.mark.parametrize("crowded", [False, True])
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_floor_is_the_brute_force_optimum(tmp_path: Path, crowded: bool, data: Any) -> None:
    tiny = data.draw(tiny_instances(crowded=crowded))
    found = floor_of(tiny.scenario(tmp_path))
    assert found.optimal
    assert found.breaches == len(tiny.stats) - most_on_time(tiny)


def test_the_referee_catches_a_floor_that_ignores_due_times(tmp_path: Path) -> None:
    """The check of the check: a floor that forgets due times disagrees with the referee."""
    tiny = Tiny(stats=[(0, 20, "f1"), (1, 20, "f1")], readers=[(1.0, ["WY"], [(0, 120)])])
    scn = tiny.scenario(tmp_path)
    assert floor_of(scn).breaches == len(tiny.stats) - most_on_time(tiny) == 1
    assert floor_of(scn, ignore_due=True).breaches != len(tiny.stats) - most_on_time(tiny)


# ----- no policy beats the floor --------------------------------------------------------------
def measured_stat_breaches(scn: Scenario, policy: str, seed: int) -> int:
    measured = run_replication(scn, policy, 0, seed).measured
    stat = measured[measured["priority"] == "STAT"]
    return int((~(stat["met_sla"] & stat["finished_at"].notna())).sum())


@settings(max_examples=12, deadline=None)
@given(data=practices(), seed=st.integers(0, 2**16))
def test_no_simple_policy_beats_the_floor(data: dict, seed: int) -> None:
    scn = scenario(**{**data, "days": 0.5, "warmup_hours": 1})
    world = compile_world(scn)
    found = stat_floor(world, make_studies(world, seed, 0))
    assert found.structural <= found.breaches <= found.measured_stats
    for policy in SIMPLE:
        assert found.breaches <= measured_stat_breaches(scn, policy, seed), policy


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(data=practices(), seed=st.integers(0, 2**16))
def test_no_simple_policy_beats_the_floor_over_a_day(data: dict, seed: int) -> None:
    scn = scenario(**{**data, "days": 1, "warmup_hours": 2})
    world = compile_world(scn)
    found = stat_floor(world, make_studies(world, seed, 0))
    for policy in SIMPLE:
        assert found.breaches <= measured_stat_breaches(scn, policy, seed), policy
