"""Tests for the closed-form M/M/c results in ``simulations.theory``."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulations.theory import (
    MMcSummary,
    erlang_c,
    littles_law_gap,
    mean_number_waiting,
    mean_time_in_system,
    mean_wait,
    mmc,
    offered_load,
    wait_exceeds,
)


def direct_erlang_c(c: int, a: float) -> float:
    """Textbook factorial form of Erlang C (only safe for small ``c``)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def log_erlang_c(c: int, a: float) -> float:
    """Erlang C from log-space terms (lgamma + log-sum-exp); safe for large ``c``."""
    log_terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    log_top = c * math.log(a) - math.lgamma(c + 1) + math.log(c / (c - a))
    m = max([*log_terms, log_top])
    denom = sum(math.exp(t - m) for t in log_terms) + math.exp(log_top - m)
    return math.exp(log_top - m) / denom


def test_offered_load() -> None:
    assert offered_load(6.0, 2.0) == 3.0
    assert offered_load(0.0, 2.0) == 0.0


def test_mm1_known_values() -> None:
    lam, mu = 1.0, 2.0  # rho = 0.5
    rho = lam / mu
    assert erlang_c(1, rho) == pytest.approx(0.5)
    assert mean_wait(1, lam, mu) == pytest.approx(rho / (mu - lam))
    assert mean_time_in_system(1, lam, mu) == pytest.approx(1.0 / (mu - lam))
    assert mean_number_waiting(1, lam, mu) == pytest.approx(rho**2 / (1 - rho))


def test_mm2_by_hand() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert mean_wait(2, 1.0, 1.0) == pytest.approx(1 / 3)
    assert mean_time_in_system(2, 1.0, 1.0) == pytest.approx(4 / 3)


def test_call_centre_c10_a8() -> None:
    value = erlang_c(10, 8.0)
    assert value == pytest.approx(direct_erlang_c(10, 8.0), rel=1e-12)
    assert value == pytest.approx(0.4092, abs=5e-5)


@pytest.mark.parametrize("c", range(1, 21))
@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_matches_factorial_formula(c: int, fraction: float) -> None:
    a = fraction * c
    if a == 0:
        assert erlang_c(c, a) == 0.0
    else:
        assert erlang_c(c, a) == pytest.approx(direct_erlang_c(c, a), rel=1e-10)


def test_large_c_is_stable() -> None:
    value = erlang_c(300, 290.0)
    assert 0.0 < value < 1.0
    assert value == pytest.approx(log_erlang_c(300, 290.0), rel=1e-9)
    assert math.isfinite(mean_wait(300, 290.0, 1.0))


def test_wait_exceeds() -> None:
    assert wait_exceeds(2, 1.0, 1.0, 0.0) == pytest.approx(1 / 3)
    assert wait_exceeds(2, 1.0, 1.0, 2.0) == pytest.approx(math.exp(-2.0) / 3)
    with pytest.raises(ValueError, match="t must"):
        wait_exceeds(2, 1.0, 1.0, -1.0)


def test_mmc_summary_is_consistent() -> None:
    s = mmc(10, 8.0, 1.0)
    assert isinstance(s, MMcSummary)
    assert s.utilization == pytest.approx(0.8)
    assert s.p_wait == pytest.approx(erlang_c(10, 8.0))
    assert s.mean_wait == pytest.approx(mean_wait(10, 8.0, 1.0))
    assert s.mean_time_in_system == pytest.approx(s.mean_wait + 1.0)
    assert s.mean_number_waiting == pytest.approx(8.0 * s.mean_wait)
    assert s.mean_number_in_system == pytest.approx(s.mean_number_waiting + 8.0)
    assert littles_law_gap(s.mean_number_in_system, 8.0, s.mean_time_in_system) == 0.0
    with pytest.raises(AttributeError):
        s.servers = 3  # type: ignore[misc]


@given(
    a=st.floats(min_value=0.01, max_value=50.0),
    c=st.integers(min_value=1, max_value=100),
)
def test_c_decreases_with_servers(a: float, c: int) -> None:
    c = max(c, math.floor(a) + 1)  # stable
    assert erlang_c(c + 1, a) <= erlang_c(c, a)


@given(
    c=st.integers(min_value=1, max_value=100),
    f1=st.floats(min_value=0.0, max_value=0.99),
    f2=st.floats(min_value=0.0, max_value=0.99),
)
def test_c_increases_with_load(c: int, f1: float, f2: float) -> None:
    lo, hi = sorted((f1 * c, f2 * c))
    assert erlang_c(c, lo) <= erlang_c(c, hi)
    assert 0.0 <= erlang_c(c, hi) <= 1.0


@pytest.mark.parametrize(
    ("servers", "load", "name"),
    [
        (0, 0.5, "servers"),
        (-1, 0.5, "servers"),
        (2, -0.1, "offered_load"),
        (2, 2.0, "offered_load"),
        (2, 3.0, "offered_load"),
        (2, math.nan, "offered_load"),
    ],
)
def test_erlang_c_errors(servers: int, load: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        erlang_c(servers, load)


def test_rate_errors() -> None:
    with pytest.raises(ValueError, match="service_rate"):
        mean_wait(2, 1.0, 0.0)
    with pytest.raises(ValueError, match="arrival_rate"):
        mmc(2, -1.0, 1.0)
    with pytest.raises(ValueError, match="offered_load"):
        mmc(2, 2.0, 1.0)


def test_littles_law_gap() -> None:
    assert littles_law_gap(6.0, 2.0, 3.0) == 0.0
    assert littles_law_gap(0.0, 0.0, 5.0) == 0.0
    assert littles_law_gap(6.0, 2.0, 3.3) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="mean_time"):
        littles_law_gap(1.0, 1.0, -1.0)
