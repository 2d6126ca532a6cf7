"""`solve`: snapshot in, plan out. Greedy first, then exact CP-SAT or large-neighbourhood search.

A valid plan always exists: the greedy plan is built first and kept whenever the search fails,
runs out of time, or would not beat it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from models.plan import Assignment, ObjectiveReport, Plan, SolverInfo, Unassigned
from models.priority import Priority
from models.snapshot import Snapshot
from nighthawk.clock import at_minutes
from nighthawk.cpsat import Neighbourhood, SolveLimits, solve_neighbourhood
from nighthawk.eligibility import Eligibility
from nighthawk.explain import Explainer
from nighthawk.greedy import greedy_schedule, sticky_schedule
from nighthawk.lns import PlanState, SearchSettings, large_neighbourhood_search
from nighthawk.objective import Score, is_better
from nighthawk.problem import NO_RADIOLOGIST, Problem, build_problem
from nighthawk.schedule import FINISH_SLACK_MINUTES, Schedule, ScoringContext, reader_timeline

log = logging.getLogger(__name__)

# Up to this many studies (and optional intervals) the whole problem is one CP-SAT model.
EXACT_MAX_STUDIES = 50
EXACT_MAX_PAIRS = 3000


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 2.0
    seed: int = 0
    deterministic: bool = False  # count CP-SAT's deterministic time, not the wall clock
    explain: bool = True
    search: SearchSettings = field(default_factory=SearchSettings)
    # Live re-planning: improve the current plan (assigned_to + queue_position) in place and
    # never swap in a fresh greedy plan wholesale, because every moved study is churn a
    # reader sees. Off, the better of the current plan and greedy is the starting point.
    keep_current: bool = False
    # Frequent re-plans (the simulator's, every few minutes): when the starting plan already
    # has every study assigned and none late, the search could only polish preferences.
    search_only_if_late: bool = False


@dataclass
class SolveResult:
    """The engine's answer on indices, before it is rendered as a Plan."""

    problem: Problem
    context: ScoringContext
    schedule: Schedule
    score: Score
    baseline: Score
    info: SolverInfo
    baseline_schedule: Schedule


def optimize(snapshot: Snapshot, options: SolveOptions | None = None) -> SolveResult:
    options = options or SolveOptions()
    started = time.perf_counter()
    problem = build_problem(snapshot)
    context = ScoringContext(problem, Eligibility(problem))
    greedy = greedy_schedule(context)
    state = PlanState(context, greedy)
    baseline = state.total
    unchanged = "GREEDY"
    if (problem.studies.current != NO_RADIOLOGIST).any():
        # Re-planning a live plan: start from it when it scores better, so churn stays low.
        sticky = PlanState(context, sticky_schedule(context))
        weights = problem.preference_weights
        if options.keep_current or not is_better(
            state.total.key(weights), sticky.total.key(weights)
        ):
            state, unchanged = sticky, "CURRENT"  # on a tie, the plan people see wins
    start = state.schedule.copy()
    first_plan = time.perf_counter() - started
    budget = max(options.time_limit - first_plan, 0.0)
    if options.deterministic:
        budget = options.time_limit
    method, status, message = unchanged.lower(), unchanged, None
    iterations = improvements = 0
    try:
        searchable = problem.study_count and problem.reader_count
        if searchable and _worth_searching(state.total, options, budget):
            if _is_small(context):
                method = "exact"
                status = _solve_exactly(state, budget, options, unchanged)
                iterations = 1
            else:
                method = "lns"
                stats = large_neighbourhood_search(
                    state,
                    seconds=budget,
                    seed=options.seed,
                    deterministic=options.deterministic,
                    settings=options.search,
                )
                iterations, improvements = stats.iterations, stats.improvements
                status = "IMPROVED" if improvements else unchanged
    except Exception as error:  # the greedy plan must survive any solver failure
        # One line for the user (the plan carries the reason too); the trace only when debugging.
        kept = unchanged.lower()
        log.warning("optimizer failed (%s); keeping the %s plan", error, kept)
        log.debug("optimizer failure", exc_info=True)
        state = PlanState(context, start)
        status = f"FALLBACK_{unchanged}"
        message = f"optimizer failed ({error}); {kept} plan kept"
    info = SolverInfo(
        status=status,
        seconds=round(time.perf_counter() - started, 4),
        first_plan_seconds=round(first_plan, 4),
        method=method,
        iterations=iterations,
        improvements=improvements,
        seed=options.seed,
        time_limit_seconds=options.time_limit,
        message=message,
    )
    return SolveResult(problem, context, state.schedule, state.total, baseline, info, greedy)


def _worth_searching(start: Score, options: SolveOptions, budget: float) -> bool:
    if budget <= 0.01:
        return False
    if options.search_only_if_late:
        return bool(start.unassigned_studies or start.late_studies)
    return True


def _is_small(context: ScoringContext) -> bool:
    return (
        context.problem.study_count <= EXACT_MAX_STUDIES
        and int(context.matrix.sum()) <= EXACT_MAX_PAIRS
    )


def _solve_exactly(state: PlanState, seconds: float, options: SolveOptions, unchanged: str) -> str:
    problem = state.context.problem
    everyone = Neighbourhood(list(range(problem.reader_count)), list(range(problem.study_count)))
    hint = dict(enumerate(state.schedule.queues))
    limits = SolveLimits(seconds, options.seed, options.deterministic)
    solution = solve_neighbourhood(state.context, everyone, hint, limits)
    if solution.queues is None:
        return unchanged
    improved = state.try_replace(solution.queues, freed=everyone.studies)
    if solution.optimal:
        return "OPTIMAL"
    return "IMPROVED" if improved else unchanged


def solve(snapshot: Snapshot, options: SolveOptions | None = None) -> Plan:
    """The contract behind `nighthawk solve`: the best plan found, the baseline and the why."""
    options = options or SolveOptions()
    result = optimize(snapshot, options)
    return render_plan(result, explain=options.explain)


def render_plan(result: SolveResult, *, explain: bool = True) -> Plan:
    context, problem = result.context, result.problem
    explainer = Explainer(context, result.schedule) if explain else None
    assignments = []
    for reader, queue in enumerate(result.schedule.queues):
        timeline = reader_timeline(context, reader, queue)
        for study, start, finish in zip(queue, timeline.starts, timeline.finishes, strict=True):
            late = max(0.0, finish - context.due[study])
            assignments.append(
                Assignment(
                    study=problem.studies.ids[study],
                    radiologist=problem.readers.ids[reader],
                    start=at_minutes(problem.now, start),
                    finish=at_minutes(problem.now, finish),
                    late_minutes=round(late, 4) if late > FINISH_SLACK_MINUTES else 0.0,
                    why=explainer.explain(study, reader, start, finish) if explainer else None,
                )
            )
    assignments.sort(key=lambda a: (a.start, a.radiologist))
    unassigned = []
    for study in result.schedule.unassigned(problem.study_count):
        reason = context.eligibility.why_nobody(study)
        unassigned.append(
            Unassigned(
                study=problem.studies.ids[study], reason=reason.text, reason_codes=[reason.code]
            )
        )
    return Plan(
        now=problem.now,
        assignments=assignments,
        unassigned=unassigned,
        objective=objective_report(context, result.schedule, result.score),
        baseline=objective_report(context, result.baseline_schedule, result.baseline),
        solver=result.info,
    )


def objective_report(context: ScoringContext, schedule: Schedule, score: Score) -> ObjectiveReport:
    weights = context.problem.preference_weights
    return ObjectiveReport(
        unassigned_weight=round(score.unassigned_weight, 6),
        stat_breaches=score.stat_breaches,
        weighted_late_minutes=round(score.weighted_late_minutes, 4),
        preference_penalty=round(score.preference_penalty(weights), 4),
        workload_sq_hours=round(score.workload_sq_hours, 4),
        subspecialty_mismatches=score.subspecialty_mismatches,
        moved_studies=score.moved_studies,
        unassigned_studies=score.unassigned_studies,
        late_studies=score.late_studies,
        late_by_priority=_late_by_priority(context, schedule),
    )


def _late_by_priority(context: ScoringContext, schedule: Schedule) -> dict[str, int]:
    counts = {p.value: 0 for p in Priority}
    priorities = context.problem.studies.priority
    for reader, queue in enumerate(schedule.queues):
        timeline = reader_timeline(context, reader, queue)
        for study, finish in zip(queue, timeline.finishes, strict=True):
            if finish - context.due[study] > FINISH_SLACK_MINUTES:
                counts[priorities[study].value] += 1
    return counts


__all__ = ["SolveOptions", "SolveResult", "is_better", "optimize", "render_plan", "solve"]
