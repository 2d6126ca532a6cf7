"""Large-neighbourhood search: repeatedly free a contested corner of the plan and re-solve it.

A neighbourhood is a few readers' whole queues plus the unassigned studies they could take.
Seeds are drawn from where the plan hurts (late STAT studies first, then other late or
unassigned studies); otherwise from random readers, which serves balance and preferences.
A re-solved neighbourhood replaces the old one only if the float scorer agrees it is better.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nighthawk.cpsat import Neighbourhood, SolveLimits, solve_neighbourhood
from nighthawk.objective import Score, is_better
from nighthawk.problem import NO_RADIOLOGIST
from nighthawk.schedule import (
    FINISH_SLACK_MINUTES,
    Schedule,
    ScoringContext,
    reader_score,
    reader_timeline,
    unassigned_score,
)


@dataclass(frozen=True)
class SearchSettings:
    # Measured on 2 cores: many small neighbourhoods beat a few large ones within 2 s.
    max_free_studies: int = 24
    max_readers: int = 3
    subproblem_seconds: float = 0.05
    max_unassigned_in_neighbourhood: int = 20
    hot_seed_share: float = 0.85
    stall_iterations: int = 400


@dataclass
class SearchStats:
    iterations: int = 0
    improvements: int = 0
    proven_neighbourhoods: int = 0
    deterministic_seconds: float = 0.0


class PlanState:
    """A schedule with its per-reader scores cached, so a move is scored on what it touches."""

    def __init__(self, context: ScoringContext, schedule: Schedule) -> None:
        self.context = context
        self.schedule = schedule.copy()
        owner = schedule.reader_of(context.problem.study_count)
        self.unassigned: set[int] = set(np.flatnonzero(owner == NO_RADIOLOGIST).tolist())
        self.parts: list[Score] = []
        for reader, queue in enumerate(self.schedule.queues):
            part = reader_score(context, reader, queue)
            if part is None:
                raise ValueError("starting schedule breaks a hard rule")
            self.parts.append(part)
        self.unassigned_part = unassigned_score(context, self.unassigned)
        self.total = self._sum()
        self.owner = owner
        # Late studies per reader with their pressure, kept current so seeding costs O(late).
        self.late: list[list[tuple[int, float]]] = [
            self._late_studies(reader) for reader in range(len(self.parts))
        ]

    def _late_studies(self, reader: int) -> list[tuple[int, float]]:
        context = self.context
        if self.parts[reader].late_studies == 0:
            return []
        queue = self.schedule.queues[reader]
        timeline = reader_timeline(context, reader, queue)
        late = []
        for study, finish in zip(queue, timeline.finishes, strict=True):
            minutes = finish - context.due[study]
            if minutes > FINISH_SLACK_MINUTES:
                stat_bonus = 1000.0 if context.is_stat[study] else 0.0
                late.append((study, context.weight[study] * (1.0 + minutes) + stat_bonus))
        return late

    def _sum(self) -> Score:
        total = self.unassigned_part
        for part in self.parts:
            total = total + part
        return total

    def key(self) -> tuple[float, ...]:
        return self.total.key(self.context.problem.preference_weights)

    def try_replace(self, queues: dict[int, list[int]], freed: list[int]) -> bool:
        """Adopt new queues for some readers if the plan gets strictly better."""
        new_parts: dict[int, Score] = {}
        for reader, queue in queues.items():
            part = reader_score(self.context, reader, queue)
            if part is None:
                return False
            new_parts[reader] = part
        placed = {s for queue in queues.values() for s in queue}
        unassigned = (self.unassigned | set(freed)) - placed
        unassigned_part = unassigned_score(self.context, unassigned)
        total = unassigned_part
        for reader, part in enumerate(self.parts):
            total = total + new_parts.get(reader, part)
        weights = self.context.problem.preference_weights
        if not is_better(total.key(weights), self.key()):
            return False
        for study in freed:
            self.owner[study] = NO_RADIOLOGIST
        for reader, queue in queues.items():
            self.schedule.queues[reader] = list(queue)
            self.parts[reader] = new_parts[reader]
            self.owner[queue] = reader
            self.late[reader] = self._late_studies(reader)
        self.unassigned = unassigned
        self.unassigned_part = unassigned_part
        self.total = total
        return True


class NeighbourhoodPicker:
    """Chooses which readers and studies to free next."""

    def __init__(self, state: PlanState, settings: SearchSettings, rng: np.random.Generator):
        self.state = state
        self.settings = settings
        self.rng = rng
        self.context = state.context
        # Readers that can take a study at all, per study: the only useful partners for it.
        self.allowed = self.context.matrix

    def pick(self) -> tuple[Neighbourhood, list[int]]:
        seed = self._hot_seed() if self.rng.random() < self.settings.hot_seed_share else None
        readers = self._random_readers() if seed is None else self._readers_around(seed)
        return self._neighbourhood(readers)

    def _hot_seed(self) -> int | None:
        """A study where the plan hurts, drawn with probability growing with its penalty."""
        context, state = self.context, self.state
        candidates: list[int] = []
        pressure: list[float] = []
        for late in state.late:
            for study, weight in late:
                candidates.append(study)
                pressure.append(weight)
        for study in state.unassigned:
            if self.allowed[study].any():
                candidates.append(study)
                pressure.append(context.weight[study] * 100.0)
        if not candidates:
            return None
        p = np.asarray(pressure)
        return int(candidates[self.rng.choice(len(candidates), p=p / p.sum())])

    def _readers_around(self, study: int) -> list[int]:
        owner = self._owner(study)
        eligible = np.flatnonzero(self.allowed[study]).tolist()
        partners = [r for r in eligible if r != owner]
        count = int(self.rng.integers(2, self.settings.max_readers + 1))
        chosen = [owner] if owner != NO_RADIOLOGIST else []
        if partners:
            picks = self.rng.choice(len(partners), size=min(len(partners), count), replace=False)
            chosen += [partners[i] for i in picks]
        # A queue with one late STAT often needs a partner that shares its other studies.
        if len(chosen) < 2:
            chosen += self._random_readers(exclude=set(chosen))[: 2 - len(chosen)]
        return chosen[: self.settings.max_readers]

    def _owner(self, study: int) -> int:
        return int(self.state.owner[study])

    def _random_readers(self, exclude: set[int] | None = None) -> list[int]:
        count = self.context.problem.reader_count
        first = int(self.rng.integers(count))
        if exclude and first in exclude:
            first = int(self.rng.integers(count))
        # Partners that share work with the first reader: readers eligible for its studies.
        queue = self.state.schedule.queues[first]
        shared = self.allowed[queue].sum(axis=0) if queue else np.ones(count)
        shared[first] = 0
        if exclude:
            shared[list(exclude)] = 0
        partners = np.flatnonzero(shared > 0)
        size = min(len(partners), int(self.rng.integers(1, self.settings.max_readers)))
        picks = self.rng.choice(partners, size=size, replace=False).tolist() if size else []
        return [first, *(int(p) for p in picks)]

    def _neighbourhood(self, readers: list[int]) -> tuple[Neighbourhood, list[int]]:
        queues = self.state.schedule.queues
        chosen: list[int] = []
        free = 0
        for reader in readers:
            # Keep the seed reader even when its queue alone is large.
            if chosen and free + len(queues[reader]) > self.settings.max_free_studies:
                continue
            chosen.append(reader)
            free += len(queues[reader])
        freed = [s for r in chosen for s in queues[r]]
        waiting = [s for s in self.state.unassigned if self.allowed[s, chosen].any()]
        waiting.sort(key=lambda s: (-self.context.weight[s], self.context.due[s]))
        studies = freed + waiting[: self.settings.max_unassigned_in_neighbourhood]
        return Neighbourhood(chosen, studies), freed


def large_neighbourhood_search(
    state: PlanState,
    *,
    seconds: float,
    seed: int,
    deterministic: bool,
    settings: SearchSettings | None = None,
) -> SearchStats:
    """Improve `state` in place until the time (or deterministic budget) runs out."""
    settings = settings or SearchSettings()
    rng = np.random.default_rng(seed)
    picker = NeighbourhoodPicker(state, settings, rng)
    stats = SearchStats()
    started = time.perf_counter()
    spent = 0.0
    since_improvement = 0
    seen: set[tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]] = set()
    while since_improvement < settings.stall_iterations:
        remaining = seconds - (stats.deterministic_seconds if deterministic else spent)
        if remaining <= 0.005:
            break
        neighbourhood, freed = picker.pick()
        signature = _signature(state, neighbourhood)
        if signature in seen:
            since_improvement += 1
            stats.iterations += 1
            spent = time.perf_counter() - started
            continue
        hint = {r: state.schedule.queues[r] for r in neighbourhood.readers}
        limits = SolveLimits(
            min(settings.subproblem_seconds, remaining),
            seed=int(rng.integers(1 << 30)),
            deterministic=deterministic,
        )
        solution = solve_neighbourhood(state.context, neighbourhood, hint, limits)
        stats.iterations += 1
        stats.deterministic_seconds += solution.deterministic_seconds
        if solution.queues is not None and state.try_replace(solution.queues, freed):
            stats.improvements += 1
            since_improvement = 0
        else:
            since_improvement += 1
            if solution.optimal:
                # Proven optimal and nothing to gain: do not spend time here again.
                stats.proven_neighbourhoods += 1
                seen.add(signature)
        spent = time.perf_counter() - started
    return stats


def _signature(
    state: PlanState, neighbourhood: Neighbourhood
) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    readers = tuple(sorted(neighbourhood.readers))
    queues = tuple(tuple(state.schedule.queues[r]) for r in readers)
    return readers, (*queues, tuple(sorted(neighbourhood.studies)))
