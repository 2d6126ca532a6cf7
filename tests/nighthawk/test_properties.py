"""The solver held to the independent validator (tests/validator.py, no OR-Tools, no numpy)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, target

from models.snapshot import Snapshot
from nighthawk.optimizer import SolveOptions, solve
from tests.bruteforce import brute_force_optimum
from tests.strategies import larger_practices, practices
from tests.validator import (
    check_reported_objective,
    compare_keys,
    validate_plan,
)

# Deterministic budgets: the same snapshot and seed give the same plan on any machine.
EXACT = SolveOptions(time_limit=5.0, seed=1, deterministic=True)
SEARCH = SolveOptions(time_limit=0.3, seed=3, deterministic=True)
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def baseline_key(plan) -> tuple[float, int, float]:
    b = plan.baseline
    return (b.unassigned_weight, b.stat_breaches, b.weighted_late_minutes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(practices(max_studies=6, max_radiologists=3))
def test_tiny_instances_are_solved_to_the_brute_force_optimum(snapshot: Snapshot) -> None:
    plan = solve(snapshot, EXACT)
    result = validate_plan(snapshot, plan)
    assert result.valid, result.violations
    best_key, _ = brute_force_optimum(snapshot)
    # Steer the search toward practices where greedy dispatch is not already optimal.
    target(float(plan.baseline.stat_breaches - plan.objective.stat_breaches), label="STAT gap")
    target(plan.baseline.weighted_late_minutes - best_key[2], label="lateness gap")
    assert plan.solver.status == "OPTIMAL"
    assert compare_keys(result.key(), best_key, tol=1e-6) == 0, (result.key(), best_key)


@PROPERTY_SETTINGS
@given(larger_practices(max_studies=40, max_radiologists=6, exact_times=False))
def test_every_plan_validates_and_reports_its_true_objective(snapshot: Snapshot) -> None:
    plan = solve(snapshot, SEARCH)
    result = validate_plan(snapshot, plan)
    assert result.valid, result.violations
    assert check_reported_objective(plan, result, tol=1e-3) == []


@PROPERTY_SETTINGS
@given(larger_practices(max_studies=40, max_radiologists=6, exact_times=False))
def test_never_worse_than_greedy_on_the_first_three_tiers(snapshot: Snapshot) -> None:
    plan = solve(snapshot, SEARCH)
    result = validate_plan(snapshot, plan)
    primary = result.key()[:3]
    assert compare_keys(primary, baseline_key(plan), tol=1e-3) <= 0


@settings(max_examples=10, deadline=None)
@given(larger_practices(max_studies=30, max_radiologists=5))
def test_same_seed_same_plan(snapshot: Snapshot) -> None:
    first = solve(snapshot, SEARCH).model_dump(exclude={"solver"})
    second = solve(snapshot, SEARCH).model_dump(exclude={"solver"})
    assert first == second
