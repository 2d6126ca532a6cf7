"""The smallest set of additions that closes every structural gap papers can close.

Single recommendations each close some gaps; a coverage manager wants the set that closes them
all. The universe is the structural class-cells some candidate opens (`recommend.Option.opens`,
exact, whatever the roster). In two phases:

1. cover: the fewest papers whose candidates together open the whole universe, an exact set
   cover solved by CP-SAT (one worker, so the same input gives the same set; cells opened by
   the same candidates are one constraint, so it stays small). Should the solver not prove
   its answer within its limit, greedy set cover stands in: the candidate that opens the most
   of the universe not yet opened per new paper it needs (ties: more opened, fewer papers,
   then the ranking of single recommendations);
2. staff: opened is not worked. One reader given a WY license opens every WY hour but cannot
   work them all under the labour rules, so while the verified roster (re-solved from the
   reference roster with every addition so far, the way single recommendations are) still
   leaves some of the universe uncovered, the candidate that opens the most of what it leaves
   is tried; it stays if re-solving shows it closes more, else it is set aside (a reader
   interchangeable with it on paper may still be free to work those hours). At most `steps`
   re-solves are spent here.

The figures are those of the last verification, with every addition of the set. The cover is
the smallest on paper; the staffing phase may add to it where the labour rules, not papers,
leave hours open.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from ortools.sat.python import cp_model

from nighthawk.planner.evaluate import Evaluation, facility_hours_of
from nighthawk.planner.instance import Instance
from nighthawk.planner.recommend import (
    Addition,
    Candidate,
    Option,
    Structure,
    Verifier,
    apply_all,
    describe,
)
from nighthawk.planner.result import CombinedRecommendation
from nighthawk.planner.structural import structural_cells


def combine(
    verifier: Verifier, ranked: list[Option], structure: Structure, *, steps: int = 10
) -> CombinedRecommendation | None:
    """The verified set, or None when no candidate opens any structural gap."""
    universe = np.zeros(structure.cells.size, dtype=bool)
    for option in ranked:
        universe |= option.opens
    if not universe.any():
        return None
    chosen: list[Candidate] = []
    papers: dict[int, set[Addition]] = defaultdict(set)
    cover = smallest_cover(ranked, universe)
    if cover is None:
        cover = _greedy_cover(ranked, universe)
    for option in cover:
        chosen.append(option.candidate)
        papers[option.candidate[0]].update(option.candidate[1])
    current = verifier.after(chosen)
    set_aside: set[Candidate] = set()
    for _ in range(steps):
        left = universe & current.uncovered[structure.cells, structure.nodes]
        pick = _best(ranked, left, papers, set_aside)
        if pick is None:
            break
        after = verifier.after([*chosen, pick.candidate])
        if _count(after, universe, structure) >= int(left.sum()):
            # Re-solving shows it closes nothing more (its reader is needed elsewhere); one
            # interchangeable with it on paper may still be free to work those hours.
            set_aside.add(pick.candidate)
            continue
        chosen.append(pick.candidate)
        papers[pick.candidate[0]].update(pick.candidate[1])
        current = after
    return _result(verifier.instance, chosen, verifier.base, current)


COVER_SECONDS = 10.0


def smallest_cover(ranked: list[Option], universe: np.ndarray) -> list[Option] | None:
    """Candidates opening every cell of `universe` with the fewest papers (a reader's paper
    counted once however many of their candidates need it), then the fewest candidates; None
    if not proven within `COVER_SECONDS`."""
    useful = [option for option in ranked if (option.opens & universe).any()]
    if not useful:
        return []
    model = cp_model.CpModel()
    take = [model.new_bool_var(f"take{i}") for i in range(len(useful))]
    held: dict[tuple[int, Addition], cp_model.IntVar] = {}
    for i, option in enumerate(useful):
        reader, additions = option.candidate
        for addition in additions:
            key = (reader, addition)
            if key not in held:
                held[key] = model.new_bool_var(f"paper{len(held)}")
            model.add_implication(take[i], held[key])
    # Cells opened by the same candidates need one constraint between them.
    columns = np.array([option.opens[universe] for option in useful], dtype=bool)
    for pattern in {tuple(np.flatnonzero(column)) for column in columns.T}:
        model.add_bool_or([take[i] for i in pattern])
    # Papers first; among covers with as many papers, fewer readers' candidates.
    model.minimize(sum(held.values()) * (len(useful) + 1) + sum(take))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = COVER_SECONDS
    if solver.solve(model) != cp_model.OPTIMAL:
        return None
    return [option for option, var in zip(useful, take, strict=True) if solver.value(var)]


def _greedy_cover(ranked: list[Option], universe: np.ndarray) -> list[Option]:
    picks: list[Option] = []
    papers: dict[int, set[Addition]] = defaultdict(set)
    opened = np.zeros_like(universe)
    while (pick := _best(ranked, universe & ~opened, papers, set())) is not None:
        picks.append(pick)
        papers[pick.candidate[0]].update(pick.candidate[1])
        opened |= pick.opens
    return picks


def _best(
    ranked: list[Option],
    left: np.ndarray,
    papers: dict[int, set[Addition]],
    set_aside: set[Candidate],
) -> Option | None:
    """The candidate opening the most of `left` per paper the reader does not hold yet."""
    best, best_key = None, None
    for position, option in enumerate(ranked):
        reader, additions = option.candidate
        new = len(set(additions) - papers[reader])
        opened = int((option.opens & left).sum())
        if new == 0 or opened == 0 or option.candidate in set_aside:
            continue
        key = (-opened / new, -opened, new, position)
        if best_key is None or key < best_key:
            best, best_key = option, key
    return best


def _count(evaluation: Evaluation, universe: np.ndarray, structure: Structure) -> int:
    return int((universe & evaluation.uncovered[structure.cells, structure.nodes]).sum())


def _result(
    instance: Instance, chosen: list[Candidate], base: Evaluation, after: Evaluation
) -> CombinedRecommendation:
    by_reader: dict[int, list[Addition]] = {}
    for reader, additions in chosen:
        held = by_reader.setdefault(reader, [])
        held += [a for a in additions if a not in held]
    closes = base.uncovered_hours - after.uncovered_hours
    return CombinedRecommendation(
        additions=tuple(
            (instance.reader_ids[r], tuple(describe(a) for a in additions))
            for r, additions in by_reader.items()
        ),
        closes_uncovered_hours=round(closes, 2),
        closes_uncovered_hours_per_week=round(closes / instance.weeks, 2),
        reduces_unmet_minutes=round(base.unmet_minutes - after.unmet_minutes, 2),
        uncovered_hours_after=round(after.uncovered_hours, 2),
        structural_hours_before=round(facility_hours_of(instance, structural_cells(instance)), 2),
        structural_hours_after=round(
            facility_hours_of(instance, structural_cells(apply_all(instance, chosen))), 2
        ),
    )
