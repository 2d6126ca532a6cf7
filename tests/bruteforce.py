"""The true optimum of a tiny practice, by exhaustive search, to hold the optimizer to.

Every way to put each study in one reader's queue or leave it unassigned, in every reading
order, is considered; only valid plans count. Two facts keep it exhaustive yet fast:

- a queue whose prefix breaks a rule stays broken however it continues (finishes only grow),
  so each reader's orders are built study by study and abandoned at the first invalid one;
- the objective is a sum over readers plus a term for the unassigned, and a lexicographic
  order is preserved by addition, so for a given set of studies a reader can take the best
  order of that set alone. The search then combines per-reader sets over disjoint subsets.

The winner is re-scored by the validator, whose key is returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from models.priority import Priority
from models.snapshot import Snapshot, SnapshotRadiologist
from tests.validator import (
    LATE_TOLERANCE_MINUTES,
    ObjectiveKey,
    compare_keys,
    due_minutes,
    pair_limits,
    priority_weight,
    ready_minutes,
    validate_queues,
)


@dataclass(frozen=True)
class _QueueScore:
    """The best reading order of one set of studies for one reader, and its share of the key."""

    order: tuple[int, ...]
    stat_breaches: int
    weighted_late_minutes: float
    preference_penalty: float


def brute_force_optimum(snapshot: Snapshot) -> tuple[ObjectiveKey, dict[str, list[str]]]:
    """The lexicographically best objective key over all valid plans, and one plan reaching it.

    The plan is given as radiologist id -> ordered study ids (every radiologist present).
    Exponential: meant for about 6 studies and 3 readers.
    """
    studies = list(snapshot.studies)
    readers = list(snapshot.radiologists)
    tables = [_best_orders_by_set(snapshot, reader) for reader in readers]
    everyone = (1 << len(studies)) - 1
    moved_weight = snapshot.settings.preference_weights.moved_study

    best: tuple[ObjectiveKey, tuple[tuple[int, ...], ...]] | None = None
    for chosen in _disjoint_choices(tables, everyone):
        used = 0
        stat, late, penalty = 0, 0.0, 0.0
        for score, mask in chosen:
            used |= mask
            stat += score.stat_breaches
            late += score.weighted_late_minutes
            penalty += score.preference_penalty
        left = [s for i, s in enumerate(studies) if not used >> i & 1]
        unassigned_weight = sum(priority_weight(snapshot, s) for s in left)
        penalty += moved_weight * sum(1 for s in left if s.assigned_to is not None)
        key: ObjectiveKey = (unassigned_weight, stat, late, penalty)
        if best is None or compare_keys(key, best[0]) < 0:
            best = (key, tuple(score.order for score, _ in chosen))

    assert best is not None  # leaving everything unassigned is always valid
    queues = {
        reader.id: [studies[i].id for i in order]
        for reader, order in zip(readers, best[1], strict=True)
    }
    result = validate_queues(snapshot, queues)
    assert result.valid, f"brute force built an invalid plan: {result.violations}"
    return result.key(), queues


def _disjoint_choices(
    tables: list[dict[int, _QueueScore]], remaining: int
) -> Iterator[list[tuple[_QueueScore, int]]]:
    """Every way to give each reader a feasible set of studies, no study to two readers."""
    if not tables:
        yield []
        return
    table, rest = tables[0], tables[1:]
    subset = remaining
    while True:  # every subset of `remaining`, largest first, ending with the empty set
        score = table.get(subset)
        if score is not None:
            for tail in _disjoint_choices(rest, remaining & ~subset):
                yield [(score, subset), *tail]
        if subset == 0:
            return
        subset = (subset - 1) & remaining


def _best_orders_by_set(snapshot: Snapshot, reader: SnapshotRadiologist) -> dict[int, _QueueScore]:
    """For each set of studies this reader can validly read, its best order and score."""
    studies = list(snapshot.studies)
    limits = {i: pair_limits(snapshot, s, reader) for i, s in enumerate(studies)}
    candidates = [i for i, lim in limits.items() if lim.statically_eligible]
    due = {i: due_minutes(snapshot, studies[i]) for i in candidates}
    weight = {i: priority_weight(snapshot, studies[i]) for i in candidates}
    is_stat = {i: studies[i].priority == Priority.STAT for i in candidates}
    best: dict[int, tuple[int, float, tuple[int, ...]]] = {}

    def extend(mask: int, clock: float, order: tuple[int, ...], stat: int, late: float) -> None:
        known = best.get(mask)
        if known is None or compare_keys((stat, late), known[:2]) < 0:
            best[mask] = (stat, late, order)
        for i in candidates:
            if mask >> i & 1:
                continue
            finish = clock + limits[i].read_minutes
            if not limits[i].fits(finish):
                continue
            breach = is_stat[i] and finish > due[i] + LATE_TOLERANCE_MINUTES
            extend(
                mask | 1 << i,
                finish,
                (*order, i),
                stat + int(breach),
                late + weight[i] * max(0.0, finish - due[i]),
            )

    extend(0, ready_minutes(snapshot, reader), (), 0, 0.0)
    return {
        mask: _QueueScore(order, stat, late, _set_penalty(snapshot, reader, order))
        for mask, (stat, late, order) in best.items()
    }


def _set_penalty(snapshot: Snapshot, reader: SnapshotRadiologist, order: tuple[int, ...]) -> float:
    """This reader's share of the preference penalty; it depends on the set, not the order."""
    weights = snapshot.settings.preference_weights
    studies = [snapshot.studies[i] for i in order]
    busy = reader.backlog_minutes + sum(s.expected_minutes / reader.speed for s in studies)
    mismatches = sum(
        1
        for s in studies
        if s.subspecialty is not None and s.subspecialty not in reader.subspecialties
    )
    moved = sum(1 for s in studies if s.assigned_to is not None and s.assigned_to != reader.id)
    return (
        weights.workload_balance * (busy / 60.0) ** 2
        + weights.subspecialty_mismatch * mismatches
        + weights.moved_study * moved
    )
