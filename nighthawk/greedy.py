"""The baseline dispatcher: priority, then due time, to the eligible reader who finishes first.

This is what rules-based worklists do. It is the optimizer's starting point and the yardstick
reported beside every plan.
"""

from __future__ import annotations

import numpy as np

from nighthawk.problem import NO_RADIOLOGIST, IntArray, Problem
from nighthawk.schedule import FINISH_SLACK_MINUTES, Schedule, ScoringContext


def dispatch_order(problem: Problem) -> IntArray:
    """Most urgent class first; within a class, earliest due, then earliest arrival."""
    studies = problem.studies
    index = np.arange(problem.study_count)
    return np.lexsort((index, studies.arrived, studies.due, studies.rank))


def greedy_schedule(context: ScoringContext) -> Schedule:
    """Append each study, in dispatch order, to the eligible reader who would finish it first.

    Ties go to the reader it is already assigned to, so an unchanged snapshot keeps its plan.
    """
    problem = context.problem
    schedule = Schedule.empty(problem.reader_count)
    tail = problem.readers.ready.copy()
    current = problem.studies.current
    for study in dispatch_order(problem):
        finish = tail + problem.duration[study]
        allowed = context.matrix[study] & (
            finish <= context.finish_limit[study] + FINISH_SLACK_MINUTES
        )
        if not allowed.any():
            continue
        candidates = np.where(allowed, finish, np.inf)
        reader = int(np.argmin(candidates))
        keeper = int(current[study])
        if keeper != NO_RADIOLOGIST and allowed[keeper] and candidates[keeper] <= finish[reader]:
            reader = keeper
        schedule.queues[reader].append(int(study))
        tail[reader] = finish[reader]
    return schedule


def sticky_schedule(context: ScoringContext) -> Schedule:
    """The current plan as it stands, repaired: the re-plan's zero-churn starting point.

    Each reader keeps their studies in their current order (queue position, then dispatch
    order) while each is still allowed; a study that no longer fits, and every study without a
    reader, is then placed as greedy would.
    """
    problem = context.problem
    schedule = Schedule.empty(problem.reader_count)
    tail = problem.readers.ready.copy()
    current = problem.studies.current
    order = dispatch_order(problem)
    urgency = np.empty_like(order)
    urgency[order] = np.arange(len(order))
    kept = sorted(
        (int(s) for s in np.flatnonzero(current != NO_RADIOLOGIST)),
        key=lambda s: (problem.studies.position[s], urgency[s]),
    )
    leftover = []
    for study in kept:
        reader = int(current[study])
        finish = tail[reader] + problem.duration[study, reader]
        if context.matrix[study, reader] and (
            finish <= context.finish_limit[study, reader] + FINISH_SLACK_MINUTES
        ):
            schedule.queues[reader].append(study)
            tail[reader] = finish
        else:
            leftover.append(study)
    placed = set(kept) - set(leftover)
    for study in order:
        if int(study) in placed:
            continue
        finish = tail + problem.duration[study]
        allowed = context.matrix[study] & (
            finish <= context.finish_limit[study] + FINISH_SLACK_MINUTES
        )
        if allowed.any():
            reader = int(np.argmin(np.where(allowed, finish, np.inf)))
            schedule.queues[reader].append(int(study))
            tail[reader] = finish[reader]
    return schedule
