"""The policy benchmark suite: its files load and regenerate byte for byte, it spans the axes
that decide which policy wins, and the comparison arithmetic of `simulations.suite`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from models.priority import Modality
from simulations.scenario import Absence, Scenario, Surge, load_scenario, load_trace
from simulations.scenarios import make_suite
from simulations.suite import (
    SUITE_DIR,
    Figures,
    Hindsight,
    PracticeResult,
    aggregate,
    is_small,
    paired,
    run_practice,
    suite_scenarios,
    summarize_practice,
)
from tests.simulations.practice import reader, scenario


@pytest.fixture(scope="module")
def suite() -> dict[str, Scenario]:
    return {path.stem: load_scenario(path) for path in suite_scenarios()}


def readme_rows() -> dict[str, dict[str, str]]:
    """The generated README's table: practice -> column -> cell."""
    lines = [line for line in (SUITE_DIR / "README.md").read_text().splitlines() if "|" in line]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


# ----- the files ------------------------------------------------------------------------------
def test_every_practice_loads_and_is_listed(suite: dict[str, Scenario]) -> None:
    assert len(suite) >= 12
    assert set(readme_rows()) == set(suite)
    assert {s.name for s in suite.values()} == set(suite)
    for practice in suite.values():
        if practice.trace is not None:
            assert len(load_trace(practice)) > 0


def test_the_small_practices_regenerate_byte_for_byte(tmp_path: Path) -> None:
    small = [p.name for p in make_suite.PRACTICES if p.readers <= 12]
    written = make_suite.main(tmp_path, only=small)
    assert {path.stem for path in written} == set(small)
    for path in written:
        assert path.read_bytes() == (SUITE_DIR / path.name).read_bytes(), path.name


@pytest.mark.slow
def test_the_whole_suite_regenerates_byte_for_byte(tmp_path: Path) -> None:
    written = make_suite.main(tmp_path)
    assert sorted(path.name for path in written) == sorted(
        path.name for path in SUITE_DIR.iterdir() if path.is_file()
    )
    for path in written:
        assert path.read_bytes() == (SUITE_DIR / path.name).read_bytes(), path.name


# ----- the axes -------------------------------------------------------------------------------
def cv(practice: Scenario) -> float:
    distribution = practice.read_minutes[Modality.CT]
    return (distribution.sd or 0.0) / distribution.mean


def test_the_suite_spans_every_axis(suite: dict[str, Scenario]) -> None:
    practices = list(suite.values())
    readers = [len(p.radiologists) for p in practices]
    assert min(readers) <= 8 and max(readers) >= 400
    licenses = [len(r.licenses) for p in practices for r in p.radiologists]
    assert min(licenses) <= 3 and max(licenses) >= 35
    assert {round(cv(p), 2) for p in practices} >= {0.3, 1.0}
    assert any(p.trace is not None for p in practices)
    assert any(isinstance(e, Absence) for p in practices for e in p.events)
    assert any(isinstance(e, Surge) and e.factor >= 2 for p in practices for e in p.events)
    assert sum(is_small(p) for p in practices) >= 5
    rows = readme_rows().values()
    loads = [float(row["mean load"]) for row in rows]
    assert min(loads) <= 0.6 and max(loads) >= 0.95
    assert sum(float(row["peak load"]) > 1 for row in rows) >= 6
    rates = [float(row["credential rate"]) for row in rows]
    assert min(rates) <= 0.4 and max(rates) >= 0.9
    shares = [float(row["subspecialty share"]) for row in rows]
    assert min(shares) == 0 and max(shares) >= 0.35


# ----- the comparison arithmetic ----------------------------------------------------------------
def test_paired_is_the_student_t_interval_of_the_differences() -> None:
    found = paired([2.0, 3.0, 2.5])
    half = stats.t.ppf(0.975, 2) * 0.5 / math.sqrt(3)
    assert found.mean == pytest.approx(2.5)
    assert (found.low, found.high) == (pytest.approx(2.5 - half), pytest.approx(2.5 + half))
    assert found.excludes_zero
    assert not paired([1.0, 3.0, 2.0]).excludes_zero  # t(0.975, 2) is 4.3: [-0.5, 4.5]
    assert paired([4.0]).low is None and not paired([4.0]).excludes_zero


def made(policy: str, replication: int, breaches: int, urgent_met: int = 10) -> Figures:
    """A replication with 20 STATs, 10 URGENT and 10 ROUTINE, all ROUTINE met."""
    return Figures(
        policy=policy,
        replication=replication,
        count={"STAT": 20, "URGENT": 10, "ROUTINE": 10},
        met={"STAT": 20 - breaches, "URGENT": urgent_met, "ROUTINE": 10},
        tat={p: np.arange(1.0, 11.0) for p in ("STAT", "URGENT", "ROUTINE")},
        unread=0,
    )


HANDMADE = [
    made("optimizer", 0, 3, urgent_met=9), made("optimizer", 1, 5, urgent_met=10),
    made("greedy", 0, 6), made("greedy", 1, 9),
    made("pull", 0, 5), made("pull", 1, 7),
    made("cherry_pick", 0, 8), made("cherry_pick", 1, 8),
]  # fmt: skip


def handmade(floor: tuple[int, int] | None = (2, 4)) -> PracticeResult:
    facts = [Hindsight(k, 1, None if floor is None else floor[k], True, 0.0) for k in range(2)]
    return summarize_practice(scenario(name="handmade"), HANDMADE, facts, {"pull": 2.0})


def test_the_best_baseline_is_the_one_with_the_fewest_stat_breaches() -> None:
    result = handmade()
    assert result.best_baseline == "pull"  # 6 against greedy's 7.5 and cherry_pick's 8
    assert result.policies["pull"].vs_best == {}
    optimizer = result.policies["optimizer"]
    assert optimizer.stat_breaches == 4.0
    assert optimizer.vs_best["stat_breaches"].mean == pytest.approx(-2.0)  # (3-5 + 5-7) / 2
    assert optimizer.vs_best["stat_breaches"].low == optimizer.vs_best["stat_breaches"].high
    assert optimizer.vs_best["urgent_met"].mean == pytest.approx(-0.05)
    assert optimizer.urgent_met == pytest.approx(19 / 20)
    assert optimizer.tat_p90["STAT"] == pytest.approx(np.percentile(np.arange(1, 11), 90))


def test_the_gap_closed_runs_from_pull_to_the_floor() -> None:
    result = handmade()
    assert result.floor == 3.0 and result.structural == 1.0
    assert result.policies["pull"].gap_closed == 0.0
    assert result.policies["optimizer"].gap_closed == pytest.approx((6 - 4) / (6 - 3))
    assert result.policies["greedy"].gap_closed == pytest.approx((6 - 7.5) / 3)
    assert result.policies["pull"].wall_seconds_per_day == 2.0  # 2 s over the 1-day practice
    assert handmade(floor=None).policies["optimizer"].gap_closed is None


def test_a_policy_below_the_floor_is_flagged() -> None:
    result = handmade(floor=(4, 4))  # the optimizer's 3 in replication 0 beats it
    assert result.policies["optimizer"].below_floor == [0]
    assert result.policies["pull"].below_floor == []


def test_the_aggregate_sums_practices_and_pairs_replications() -> None:
    one, two = handmade(), handmade()
    total = aggregate([one, two])
    assert total.stat_breaches["optimizer"] == 8.0
    assert total.best_baselines == 12.0
    assert total.ratio_to_best["optimizer"] == pytest.approx(8 / 12)
    assert total.avoidable["optimizer"] == 8.0 - 2.0  # one structural per practice
    assert total.vs_best["optimizer"].mean == pytest.approx(-4.0)
    assert total.vs_best["pull"].mean == 0.0


def test_a_small_practice_runs_end_to_end() -> None:
    practice = scenario(
        name="two-readers",
        days=1,
        warmup_hours=2,
        arrivals=[
            {"facility": "f1", "modality": "CT", "priority": "STAT", "per_hour": 4},
            {"facility": "f1", "modality": "XR", "priority": "URGENT", "per_hour": 6},
        ],
        read_minutes={"CT": {"distribution": "lognormal", "mean": 14, "sd": 7}},
        radiologists=[reader("r1"), reader("r2", speed=0.8)],
    )
    result = run_practice(
        practice, ["greedy", "pull", "cherry_pick"], replications=2, timing_runs=1
    )
    assert result.replications == [0, 1] and result.floor is not None
    best = result.policies[str(result.best_baseline)]
    for row in result.policies.values():
        assert row.below_floor == []
        assert row.stat_breaches >= best.stat_breaches >= result.floor >= result.structural
        assert row.wall_seconds_per_day is not None
    total = aggregate([result])
    assert total.best_baselines == best.stat_breaches
