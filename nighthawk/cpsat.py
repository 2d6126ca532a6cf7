"""Exact re-solve of a neighbourhood with CP-SAT: optional intervals, NoOverlap per reader.

The model works in whole seconds. Durations and ready times round up and due times and finish
limits round down, so a schedule the model calls on time and feasible is on time and feasible
in exact float minutes too. The model only proposes reader and order; the float scorer decides.

The lexicographic objective is solved in stages: adjacent tiers share a stage when their bounds
multiply to a safe integer range, and each stage's optimum is fixed before the next.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from nighthawk.problem import NO_RADIOLOGIST
from nighthawk.schedule import ScoringContext

SECONDS_PER_MINUTE = 60.0
SAFE_OBJECTIVE_RANGE = 2**50  # keep scaled stage objectives well inside int64 and LP doubles
ROUNDING_SLACK = 1e-6


@dataclass(frozen=True)
class Neighbourhood:
    readers: list[int]
    studies: list[int]


@dataclass(frozen=True)
class SolveLimits:
    seconds: float
    seed: int
    deterministic: bool = False


@dataclass
class SubSolution:
    queues: dict[int, list[int]] | None  # None: no solution found in time
    optimal: bool
    wall_seconds: float
    deterministic_seconds: float


@dataclass
class _Option:
    reader: int
    present: cp_model.IntVar
    start: cp_model.IntVar
    seconds: int
    latest_end: int


@dataclass
class _Tier:
    name: str
    expression: cp_model.LinearExprT
    upper_bound: int


@dataclass
class _Model:
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    options: dict[int, list[_Option]] = field(default_factory=dict)
    tiers: list[_Tier] = field(default_factory=list)


def _ceil_seconds(minutes: float) -> int:
    return math.ceil(minutes * SECONDS_PER_MINUTE - ROUNDING_SLACK)


def _floor_seconds(minutes: float) -> int:
    return math.floor(minutes * SECONDS_PER_MINUTE + ROUNDING_SLACK)


def _priority_units(weight: float) -> int:
    return round(weight * 100)


def _preference_units(weight: float) -> int:
    return round(weight * 1000)


def build_model(context: ScoringContext, neighbourhood: Neighbourhood) -> _Model:
    problem = context.problem
    ids = problem.studies.ids
    reader_ids = problem.readers.ids
    built = _Model()
    model = built.model
    ready = {r: _ceil_seconds(context.ready[r]) for r in neighbourhood.readers}
    intervals: dict[int, list[cp_model.IntervalVar]] = {r: [] for r in neighbourhood.readers}
    assigned_weight, breaches, weighted_late = [], [], []
    late_bound = breach_bound = 0
    horizon = 0
    for study in neighbourhood.studies:
        options = []
        for reader in neighbourhood.readers:
            if not context.matrix[study, reader]:
                continue
            seconds = _ceil_seconds(float(problem.duration[study, reader]))
            latest_end = _floor_seconds(float(context.finish_limit[study, reader]))
            if ready[reader] + seconds > latest_end:
                continue
            tag = f"{ids[study]}@{reader_ids[reader]}"
            present = model.new_bool_var(f"assign[{tag}]")
            start = model.new_int_var(ready[reader], latest_end - seconds, f"start[{tag}]")
            interval = model.new_optional_fixed_size_interval_var(
                start, seconds, present, f"read[{tag}]"
            )
            intervals[reader].append(interval)
            options.append(_Option(reader, present, start, seconds, latest_end))
            horizon = max(horizon, latest_end)
        built.options[study] = options
        weight = _priority_units(context.weight[study])
        if not options:
            continue
        is_assigned = model.new_bool_var(f"assigned[{ids[study]}]")
        model.add(sum(o.present for o in options) == is_assigned)
        assigned_weight.append(weight * is_assigned)
        due = _floor_seconds(context.due[study])
        latest = max(o.latest_end for o in options)
        if latest <= due:
            continue  # cannot be late on any reader here
        end = model.new_int_var(0, latest, f"end[{ids[study]}]")
        for option in options:
            model.add(end == option.start + option.seconds).only_enforce_if(option.present)
        late = model.new_int_var(0, latest - due, f"late[{ids[study]}]")
        model.add(late >= end - due).only_enforce_if(is_assigned)
        weighted_late.append(weight * late)
        late_bound += weight * (latest - due)
        if context.is_stat[study]:
            breach = model.new_bool_var(f"stat_breach[{ids[study]}]")
            model.add(end <= due).only_enforce_if([is_assigned, breach.Not()])
            breaches.append(breach)
            breach_bound += 1
    for reader_intervals in intervals.values():
        if len(reader_intervals) > 1:
            model.add_no_overlap(reader_intervals)
    total_weight = sum(_priority_units(context.weight[s]) for s in neighbourhood.studies)
    built.tiers = [
        _Tier("unassigned_weight", total_weight - sum(assigned_weight), total_weight),
        _Tier("stat_breaches", sum(breaches), breach_bound),
        _Tier("weighted_late", sum(weighted_late), late_bound),
        _preference_tier(context, neighbourhood, built, horizon),
    ]
    return built


def _preference_tier(
    context: ScoringContext, neighbourhood: Neighbourhood, built: _Model, horizon: int
) -> _Tier:
    """Balance (squared queue seconds), subspecialty mismatches and moves, in common units."""
    model = built.model
    weights = context.problem.preference_weights
    balance = _preference_units(weights.workload_balance)
    per_event = 3600 * 3600  # one squared hour, in squared seconds
    mismatch = _preference_units(weights.subspecialty_mismatch) * per_event
    move = _preference_units(weights.moved_study) * per_event
    terms: list[cp_model.LinearExprT] = []
    bound = 0
    by_reader: dict[int, list[_Option]] = {r: [] for r in neighbourhood.readers}
    for study, options in built.options.items():
        for option in options:
            by_reader[option.reader].append(option)
            if not context.subspecialty_match[study, option.reader]:
                terms.append(mismatch * option.present)
                bound += mismatch
        current = context.current[study]
        keep = next((o for o in options if o.reader == current), None)
        if current != NO_RADIOLOGIST and keep is not None:
            terms.append(move * (1 - keep.present))
            bound += move
    if balance:
        for reader, options in by_reader.items():
            backlog = round(context.backlog[reader] * SECONDS_PER_MINUTE)
            # Reads must fit between ready and the latest allowed end: a tight, safe bound.
            window = max((o.latest_end for o in options), default=0) - _ceil_seconds(
                context.ready[reader]
            )
            most = backlog + max(0, min(sum(o.seconds for o in options), window))
            load = model.new_int_var(backlog, most, f"load[{reader}]")
            model.add(load == backlog + sum(o.seconds * o.present for o in options))
            squared = model.new_int_var(backlog * backlog, most * most, f"load_sq[{reader}]")
            model.add_multiplication_equality(squared, [load, load])
            terms.append(balance * squared)
            bound += balance * most * most
    return _Tier("preferences", sum(terms), bound)


def _stages(tiers: list[_Tier]) -> list[cp_model.LinearExprT]:
    """Merge adjacent tiers into one weighted objective while the range stays safe."""
    stages: list[cp_model.LinearExprT] = []
    group: list[_Tier] = []
    span = 1
    for tier in tiers:
        width = tier.upper_bound + 1
        if group and span * width > SAFE_OBJECTIVE_RANGE:
            stages.append(_weighted(group))
            group, span = [], 1
        group.append(tier)
        span *= width
    if group:
        stages.append(_weighted(group))
    return stages


def _weighted(group: list[_Tier]) -> cp_model.LinearExprT:
    terms: list[cp_model.LinearExprT] = []
    multiplier = 1
    for tier in reversed(group):
        terms.append(multiplier * tier.expression)
        multiplier *= tier.upper_bound + 1
    return cp_model.LinearExpr.sum(terms)


def _add_hints(built: _Model, context: ScoringContext, hint: dict[int, list[int]]) -> None:
    position: dict[int, tuple[int, int]] = {}
    for reader, queue in hint.items():
        clock = _ceil_seconds(context.ready[reader])
        for study in queue:
            option = next((o for o in built.options.get(study, []) if o.reader == reader), None)
            if option is None:
                continue
            position[study] = (reader, clock)
            clock += option.seconds
    for study, options in built.options.items():
        placed = position.get(study)
        for option in options:
            chosen = placed is not None and placed[0] == option.reader
            built.model.add_hint(option.present, chosen)
            if chosen and placed is not None:
                built.model.add_hint(option.start, placed[1])


def _solver(limits: SolveLimits, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = 1
    parameters.random_seed = limits.seed
    if limits.deterministic:
        parameters.max_deterministic_time = max(seconds, 0.01)
        parameters.max_time_in_seconds = max(seconds, 0.01) * 50
    else:
        parameters.max_time_in_seconds = max(seconds, 0.005)
    return solver


def solve_neighbourhood(
    context: ScoringContext,
    neighbourhood: Neighbourhood,
    hint: dict[int, list[int]],
    limits: SolveLimits,
) -> SubSolution:
    """Best reading queues for the neighbourhood's readers (queues None if none was found)."""
    started = time.perf_counter()
    built = build_model(context, neighbourhood)
    _add_hints(built, context, hint)
    stages = _stages(built.tiers)
    optimal = True
    deterministic = 0.0
    solution: dict[int, list[tuple[int, int]]] | None = None
    remaining = limits.seconds
    for index, stage in enumerate(stages):
        last = index == len(stages) - 1
        share = remaining if last else remaining * 0.7
        built.model.minimize(stage)
        solver = _solver(limits, share)
        status = solver.solve(built.model)
        deterministic += solver.deterministic_time
        used = solver.deterministic_time if limits.deterministic else solver.wall_time
        remaining = max(remaining - used, 0.0)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            optimal = False
            break
        optimal = optimal and status == cp_model.OPTIMAL
        solution = _read_solution(built, solver)
        if last:
            break
        built.model.add(stage <= round(solver.objective_value))
        _keep_as_hint(built, solver)
    if solution is None:
        return SubSolution(None, False, time.perf_counter() - started, deterministic)
    queues = {
        reader: [study for _, study in sorted(solution.get(reader, []))]
        for reader in neighbourhood.readers
    }
    return SubSolution(queues, optimal, time.perf_counter() - started, deterministic)


def _read_solution(built: _Model, solver: cp_model.CpSolver) -> dict[int, list[tuple[int, int]]]:
    placed: dict[int, list[tuple[int, int]]] = {}
    for study, options in built.options.items():
        for option in options:
            if solver.boolean_value(option.present):
                placed.setdefault(option.reader, []).append((solver.value(option.start), study))
    return placed


def _keep_as_hint(built: _Model, solver: cp_model.CpSolver) -> None:
    built.model.clear_hints()
    for options in built.options.values():
        for option in options:
            present = solver.boolean_value(option.present)
            built.model.add_hint(option.present, present)
            if present:
                built.model.add_hint(option.start, solver.value(option.start))
