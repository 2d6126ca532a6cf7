"""A plan in the making: one ordered reading queue per radiologist, and how to score it.

Semantics of the contract: a reader reads the queue back to back from `ready`; a study takes
`expected_minutes / speed`; it must finish within the pair's finish limit (shift end, license
and privileges); lateness is `max(0, finish - due)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nighthawk.eligibility import Eligibility, prefers_subspecialty
from nighthawk.kernel import FINISH_SLACK_MINUTES, walk
from nighthawk.objective import Score
from nighthawk.problem import NO_RADIOLOGIST, BoolArray, FloatArray, Problem

__all__ = ["FINISH_SLACK_MINUTES", "Schedule", "ScoringContext", "reader_timeline"]


class ScoringContext:
    """Per-problem arrays the scorer reads, converted once to plain lists for fast loops."""

    def __init__(self, problem: Problem, eligibility: Eligibility) -> None:
        self.problem = problem
        self.eligibility = eligibility
        self.matrix: BoolArray = eligibility.matrix
        self.finish_limit: FloatArray = problem.finish_limit
        self.subspecialty_match: BoolArray = prefers_subspecialty(problem)
        studies = problem.studies
        self.due = studies.due.tolist()
        self.weight = studies.weight.tolist()
        self.is_stat = studies.is_stat.tolist()
        self.current = studies.current.tolist()
        self.ready = problem.readers.ready.tolist()
        self.backlog = problem.readers.backlog.tolist()


@dataclass
class Timeline:
    starts: list[float]
    finishes: list[float]
    feasible: bool


def reader_timeline(context: ScoringContext, reader: int, queue: list[int]) -> Timeline:
    """Back-to-back times of one reader's queue (the kernel's walk), and whether every read is
    allowed then."""
    duration = context.problem.duration
    starts, finishes = walk(context.ready[reader], (float(duration[s, reader]) for s in queue))
    feasible = all(
        context.matrix[study, reader]
        and finish <= context.finish_limit[study, reader] + FINISH_SLACK_MINUTES
        for study, finish in zip(queue, finishes, strict=True)
    )
    return Timeline(starts, finishes, feasible)


def reader_score(context: ScoringContext, reader: int, queue: list[int]) -> Score | None:
    """One reader's share of the objective; None if the queue breaks a hard rule."""
    timeline = reader_timeline(context, reader, queue)
    if not timeline.feasible:
        return None
    stat_breaches = late_studies = mismatches = moved = 0
    weighted_late = 0.0
    for study, finish in zip(queue, timeline.finishes, strict=True):
        late = finish - context.due[study]
        if late > FINISH_SLACK_MINUTES:
            late_studies += 1
            weighted_late += context.weight[study] * late
            stat_breaches += context.is_stat[study]
        if not context.subspecialty_match[study, reader]:
            mismatches += 1
        current = context.current[study]
        if current != NO_RADIOLOGIST and current != reader:
            moved += 1
    busy_hours = (context.backlog[reader] + _assigned_minutes(timeline, reader, context)) / 60.0
    return Score(
        stat_breaches=stat_breaches,
        weighted_late_minutes=weighted_late,
        workload_sq_hours=busy_hours * busy_hours,
        subspecialty_mismatches=mismatches,
        moved_studies=moved,
        late_studies=late_studies,
    )


def _assigned_minutes(timeline: Timeline, reader: int, context: ScoringContext) -> float:
    if not timeline.finishes:
        return 0.0
    return timeline.finishes[-1] - context.ready[reader]


def unassigned_score(context: ScoringContext, studies: list[int] | set[int]) -> Score:
    moved = sum(1 for s in studies if context.current[s] != NO_RADIOLOGIST)
    return Score(
        unassigned_weight=float(sum(context.weight[s] for s in studies)),
        moved_studies=moved,
        unassigned_studies=len(studies),
    )


@dataclass
class Schedule:
    """Reading queues per reader; a study in no queue is unassigned."""

    queues: list[list[int]]

    @classmethod
    def empty(cls, readers: int) -> Schedule:
        return cls([[] for _ in range(readers)])

    def copy(self) -> Schedule:
        return Schedule([list(q) for q in self.queues])

    def reader_of(self, study_count: int) -> np.ndarray:
        owner = np.full(study_count, NO_RADIOLOGIST, dtype=np.int64)
        for reader, queue in enumerate(self.queues):
            owner[queue] = reader
        return owner

    def unassigned(self, study_count: int) -> list[int]:
        return np.flatnonzero(self.reader_of(study_count) == NO_RADIOLOGIST).tolist()


def score_schedule(context: ScoringContext, schedule: Schedule) -> Score:
    """The whole plan's score; raises ValueError if any queue breaks a hard rule."""
    total = unassigned_score(context, schedule.unassigned(context.problem.study_count))
    for reader, queue in enumerate(schedule.queues):
        part = reader_score(context, reader, queue)
        if part is None:
            raise ValueError(f"queue of {context.problem.readers.ids[reader]} breaks a hard rule")
        total = total + part
    return total
