"""Tests for ``simulations.intervals``: every interval inside its measure's range, and a count
and its share always agreeing on significance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from simulations.intervals import (
    across_replications,
    bootstrap_mean,
    dispersion,
    paired_difference,
    ratio_stat,
    scaled,
    share_stat,
    t_interval,
    wilson_interval,
)
from simulations.summary import build_summary
from tests.simulations.test_summary import stat_run

Z95 = float(stats.norm.ppf(0.975))


# --- Wilson ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("successes", "trials"), [(3, 10), (0, 7), (7, 7), (412, 500)])
def test_wilson_matches_scipy(successes: int, trials: int) -> None:
    referee = stats.binomtest(successes, trials).proportion_ci(0.95, method="wilson")
    low, high = wilson_interval(successes, trials, critical=Z95)
    assert (low, high) == (pytest.approx(referee.low), pytest.approx(referee.high))


def test_wilson_with_a_dispersion_is_wilson_on_fewer_trials() -> None:
    assert wilson_interval(30, 40, critical=Z95, dispersion=4.0) == pytest.approx(
        wilson_interval(7.5, 10, critical=Z95)
    )


def test_wilson_stays_in_range_however_wide() -> None:
    for successes in (0, 1, 9, 10):
        low, high = wilson_interval(successes, 10, critical=12.7, dispersion=50.0)
        assert 0 <= low <= successes / 10 <= high <= 1


def test_dispersion_by_hand() -> None:
    # Pooled share 0.5; X² = (10² + 10²) / (40 · 0.25) = 20 over 1 df.
    assert dispersion(np.array([10.0, 30.0]), np.array([40.0, 40.0])) == pytest.approx(20.0)
    assert dispersion(np.array([20.0, 20.0]), np.array([40.0, 40.0])) == 1.0  # never below 1
    assert dispersion(np.array([40.0, 40.0]), np.array([40.0, 40.0])) == 1.0  # all met
    assert dispersion(np.array([3.0]), np.array([4.0])) == 1.0  # one replication


def test_a_share_is_pooled_and_undefined_without_studies() -> None:
    stat = share_stat([3, 0, 1], [4, 0, 4])
    assert stat["mean"] == pytest.approx(4 / 8)
    assert stat["values"] == [0.75, None, 0.25]
    assert stat["ci95"] is not None
    assert share_stat([0], [0]) == {"mean": None, "ci95": None, "values": [None]}
    assert share_stat([3], [4])["ci95"] is None  # one replication: no interval


# --- bootstrap ------------------------------------------------------------------------------


def test_bootstrap_is_seeded_and_within_the_values() -> None:
    values = np.array([3.0, 9.0, 4.0, 12.0, 0.5])
    first, second = bootstrap_mean(values), bootstrap_mean(values.copy())
    assert first == second
    assert first is not None
    assert values.min() <= first[0] < values.mean() < first[1] <= values.max()
    assert bootstrap_mean(np.array([2.0, 2.0, 2.0])) == [2.0, 2.0]
    assert bootstrap_mean(np.array([2.0])) is None


def test_times_never_get_a_negative_bound() -> None:
    # A Student-t interval of these two percentiles would be about [-356, 590].
    stat = across_replications([5.0, 229.0])
    assert stat["mean"] == 117.0
    assert stat["ci95"] == [5.0, 229.0]


def test_undefined_values_are_skipped() -> None:
    stat = across_replications([1.0, None, float("nan"), 3.0])
    assert stat["mean"] == 2.0
    assert stat["values"] == [1.0, None, None, 3.0]
    assert stat["ci95"] is not None
    assert across_replications([None]) == {"mean": None, "ci95": None, "values": [None]}


def test_a_ratio_is_pooled_and_bootstrapped() -> None:
    stat = ratio_stat([30.0, 90.0, 0.0], [60.0, 100.0, 0.0])
    assert stat["mean"] == pytest.approx(120 / 160)
    assert stat["values"] == [0.5, 0.9, None]
    low, high = stat["ci95"]
    assert 0.5 <= low <= high <= 0.9


# --- paired differences ---------------------------------------------------------------------


def test_student_t_interval_matches_scipy() -> None:
    values = np.array([1.0, 2.0, 4.0, 7.0])
    low, high = stats.t.interval(0.95, df=3, loc=values.mean(), scale=stats.sem(values))
    assert t_interval(values) == [pytest.approx(low), pytest.approx(high)]
    assert t_interval(np.array([1.0])) is None


def test_paired_difference_pairs_by_replication_and_skips_undefined() -> None:
    difference = paired_difference({1: 3.0, 2: 5.0, 3: None, 4: 1.0}, {2: 4.0, 3: 1.0, 4: 4.0})
    assert difference["replication_ids"] == [2, 4]
    assert difference["values"] == [-1.0, 3.0]
    assert difference["mean"] == 1.0
    assert difference["significant"] is False


def test_scaling_keeps_significance() -> None:
    difference = paired_difference({1: 0.0, 2: 0.0, 3: 0.0}, {1: 2.0, 2: 3.0, 3: 4.0})
    share = scaled(difference, 1 / 50, [0.04, 0.06, 0.08])
    assert share["mean"] == pytest.approx(3 / 50)
    assert share["ci95"] == pytest.approx([bound / 50 for bound in difference["ci95"]])
    assert share["significant"] is difference["significant"] is True
    with pytest.raises(ValueError, match="positive"):
        scaled(difference, -1.0, [])


# --- a count and its share agree ------------------------------------------------------------


def comparison(met: list[tuple[int, int, int]]) -> dict[str, dict[str, object]]:
    """Baseline and smart over replications of (STAT studies, baseline met, smart met)."""
    runs = []
    for rep, (count, base, smart) in enumerate(met):
        runs.append(stat_run("base", rep, met=base, missed=count - base))
        runs.append(stat_run("smart", rep, met=smart, missed=count - smart))
    return build_summary(runs, scenario_name="s", seed=1)["comparisons"]["smart"]


def test_a_count_and_its_share_agree_on_significance() -> None:
    # Share differences +20, +19, +21 points (tight), breach differences -2, -19, -210 (wide):
    # tested apart, the share was significant and the count not, from the same replications.
    found = comparison([(10, 5, 7), (100, 50, 69), (1000, 500, 710)])
    share, breaches = found["stat_met_sla_share"], found["stat_breaches"]
    assert breaches["significant"] is False
    assert share["significant"] is False
    assert share["mean"] == pytest.approx(231 / 1110)
    assert share["values"] == [pytest.approx(0.2), pytest.approx(0.19), pytest.approx(0.21)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.integers(min_value=0, max_value=25).flatmap(
            lambda count: st.tuples(
                st.just(count),
                st.integers(min_value=0, max_value=count),
                st.integers(min_value=0, max_value=count),
            )
        ),
        min_size=2,
        max_size=6,
    )
)
def test_property_share_and_count_never_disagree(met: list[tuple[int, int, int]]) -> None:
    found = comparison(met)
    share, breaches = found["stat_met_sla_share"], found["stat_breaches"]
    assert share["significant"] is breaches["significant"]
    if share["mean"] is not None:
        mean_count = sum(count for count, _, _ in met) / len(met)
        assert share["mean"] * mean_count == pytest.approx(-breaches["mean"], abs=1e-9)
        low, high = share["ci95"]
        assert not math.isnan(low) and low <= share["mean"] <= high
