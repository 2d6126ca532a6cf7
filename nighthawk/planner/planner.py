"""Plan a roster: forecast, compile, solve (greedy first, then CP-SAT), evaluate, explain.

`plan(scenario)` is the one entry point the CLI, the service and the benchmark share.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from models.scenario import Scenario
from nighthawk.planner.combine import combine
from nighthawk.planner.demand import forecast_from_arrivals, forecast_from_history
from nighthawk.planner.evaluate import Evaluation, Roster, evaluate
from nighthawk.planner.gaps import facility_hours, find_gaps
from nighthawk.planner.greedy import greedy_roster
from nighthawk.planner.instance import Instance, build_instance
from nighthawk.planner.model import CoverageModel, PlanWeights, SolveSettings
from nighthawk.planner.readers import reader_loads
from nighthawk.planner.recommend import (
    Resolve,
    Structure,
    Verifier,
    ranked_options,
    recommend,
)
from nighthawk.planner.result import (
    CombinedRecommendation,
    Gap,
    PlanMetrics,
    PlanResult,
    Recommendation,
    RosterShift,
)


@dataclass(frozen=True)
class PlanOptions:
    weeks: int | None = None  # default: the scenario's days, in whole weeks
    time_limit: float = 60.0
    deterministic: bool = False
    workers: int = 8
    recommendations: int = 10  # how many to report (0: skip)
    seed: int = 0  # CP-SAT's random seed, for the search and every verifying re-solve
    # Re-solves: groups of interchangeable additions verified, and at most as many again for
    # the combined set; default 2 x recommendations, at most 10.
    verify: int | None = None
    verify_seconds: float | None = None  # per re-solve; default a share of the time limit
    weights: PlanWeights = field(default_factory=PlanWeights)


def plan_weeks(scenario: Scenario, options: PlanOptions) -> int:
    return options.weeks or max(1, round(scenario.days / 7))


def forecast(scenario: Scenario, history: pd.DataFrame | None) -> pd.DataFrame:
    """From the history of studies when there is one, else from the arrival streams."""
    if history is not None:
        return forecast_from_history(history, scenario)
    return forecast_from_arrivals(scenario)


def plan(
    scenario: Scenario, options: PlanOptions | None = None, *, history: pd.DataFrame | None = None
) -> PlanResult:
    options = options or PlanOptions()
    started = time.perf_counter()
    demand = forecast(scenario, history)
    instance = build_instance(scenario, demand, plan_weeks(scenario, options))
    # The limit covers the whole search: what the forecast and compiling took comes off it
    # (not in deterministic mode, whose budgets must not depend on the wall clock).
    spent = 0.0 if options.deterministic else time.perf_counter() - started
    settings = SolveSettings(
        time_limit=max(1.0, options.time_limit - spent),
        workers=options.workers,
        deterministic=options.deterministic,
        seed=options.seed,
    )
    roster, status, stages, first = solve_roster(
        instance, settings, options.weights, started=started
    )
    evaluation = evaluate(instance, roster)
    gaps = find_gaps(instance, evaluation, proven=stages.get("coverage") == "OPTIMAL")
    advice = Advice()
    short = evaluation.uncovered_hours > 0 or evaluation.unmet_minutes > 0
    if options.recommendations > 0 and short:
        advice = advise(instance, options)
    metrics = _metrics(instance, roster, evaluation, gaps, status, stages, first, started)
    return PlanResult(
        shifts=roster_shifts(instance, roster),
        coverage=evaluation.coverage,
        gaps=gaps,
        recommendations=advice.recommendations,
        metrics=metrics,
        forecast=demand,
        readers=reader_loads(instance, roster),
        combined=advice.combined,
        reference_uncovered_hours=advice.reference_hours,
    )


@dataclass
class Advice:
    recommendations: list[Recommendation] = field(default_factory=list)
    combined: CombinedRecommendation | None = None
    reference_hours: float | None = None


def advise(instance: Instance, options: PlanOptions) -> Advice:
    """Recommendations and the combined set, all measured against the reference roster, so
    neither depends on the main search (its workers and wall clock), only on the scenario,
    the options and the seed."""
    resolve = verifying_resolve(options)
    reference = reference_roster(instance, resolve)
    structure = Structure.of(instance)
    ranked = ranked_options(instance, reference[1], structure)
    verify = options.verify or min(10, 2 * options.recommendations)
    verifier = Verifier(instance, reference, resolve)
    return Advice(
        recommendations=recommend(verifier, ranked, limit=options.recommendations, verify=verify),
        combined=combine(verifier, ranked, structure, steps=verify),
        reference_hours=round(reference[1].uncovered_hours, 2),
    )


def verifying_resolve(options: PlanOptions) -> Resolve:
    """How the reference roster, each recommendation and each step of the combined set are
    re-solved: coverage and capacity only, deterministic (one worker, the seed, a
    deterministic limit), so every candidate gets the same search effort and every run the
    same answer."""
    settings = verification_settings(
        SolveSettings(workers=options.workers, seed=options.seed),
        options.verify_seconds or _verify_seconds(options),
    )

    def resolve(changed: Instance, current: Roster) -> tuple[Roster, Evaluation]:
        return _resolve(changed, current, settings, options.weights)

    return resolve


def reference_roster(instance: Instance, resolve: Resolve) -> tuple[Roster, Evaluation]:
    """The roster recommendations are measured against: the greedy roster, re-solved."""
    return resolve(instance, greedy_roster(instance))


def solve_roster(
    instance: Instance,
    settings: SolveSettings,
    weights: PlanWeights | None = None,
    *,
    started: float | None = None,
) -> tuple[Roster, str, dict[str, str], float]:
    """(roster, status, per-stage status, seconds to CP-SAT's first roster): greedy, then
    CP-SAT from the greedy roster, all within `settings.time_limit`."""
    begin = time.perf_counter()
    started = started if started is not None else begin
    baseline = greedy_roster(instance)
    model = CoverageModel(instance, weights)
    if not settings.deterministic:
        left = settings.time_limit - (time.perf_counter() - begin)
        settings = replace(settings, time_limit=max(0.5, left))
    outcome = model.solve(settings, model.pair_ids(baseline), started=started)
    return (
        model.roster(outcome.chosen),
        outcome.status,
        outcome.stages,
        outcome.first_solution_seconds,
    )


def _resolve(
    instance: Instance, current: Roster, settings: SolveSettings, weights: PlanWeights
) -> tuple[Roster, Evaluation]:
    model = CoverageModel(instance, weights)
    outcome = model.solve(settings, model.pair_ids(current))
    roster = model.roster(outcome.chosen)
    return roster, evaluate(instance, roster)


def verification_settings(settings: SolveSettings, seconds: float) -> SolveSettings:
    """`settings` made into those of a verifying re-solve (see `verifying_resolve`)."""
    return replace(settings, soft=False, deterministic=True, time_limit=seconds, max_cut_rounds=3)


def _verify_seconds(options: PlanOptions) -> float:
    """Deterministic seconds per verifying re-solve (it starts from a good roster)."""
    return max(1.0, min(10.0, options.time_limit / 10))


def roster_shifts(instance: Instance, roster: Roster) -> list[RosterShift]:
    shifts = [
        RosterShift(
            radiologist=instance.reader_ids[r],
            template=instance.templates[instance.slots[k].template].id,
            start=instance.at(instance.slots[k].start),
            end=instance.at(instance.slots[k].end),
            timezone=instance.templates[instance.slots[k].template].timezone,
        )
        for r, k in roster
    ]
    return sorted(shifts, key=lambda s: (s.start, s.radiologist))


def _metrics(
    instance: Instance,
    roster: Roster,
    evaluation: Evaluation,
    gaps: list[Gap],
    status: str,
    stages: dict[str, str],
    first: float,
    started: float,
) -> PlanMetrics:
    slots = [instance.slots[k] for _, k in roster]
    readers = np.array([r for r, _ in roster], dtype=np.int64)
    nights = np.bincount(readers[[s.night for s in slots]], minlength=len(instance.reader_ids))
    weekends = np.bincount(readers[[s.weekend for s in slots]], minlength=len(instance.reader_ids))
    misses = sum(int(instance.preference[r, k] > 0) for r, k in roster)
    return PlanMetrics(
        status=status,
        weeks=instance.weeks,
        shifts=len(roster),
        cost=round(sum(s.cost for s in slots), 2),
        uncovered_hours=round(evaluation.uncovered_hours, 2),
        unmet_minutes=round(evaluation.unmet_minutes, 2),
        demand_minutes=round(evaluation.demand_minutes, 1),
        max_nights=int(nights.max(initial=0)),
        max_weekend_shifts=int(weekends.max(initial=0)),
        preference_misses=misses,
        structural_uncovered_hours=round(
            facility_hours([g for g in gaps if g.kind == "structural"]), 2
        ),
        first_solution_seconds=round(first, 3) if math.isfinite(first) else float("nan"),
        seconds=round(time.perf_counter() - started, 2),
        stages=stages,
    )
