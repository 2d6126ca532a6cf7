"""The free reader's choice: which waiting study a reader who is free now should start.

Rules, in order (each one measured on the policy suite, see README):
1. Only work this reader may start now: eligible for its class, on duty, expected to finish
   before the shift ends and while license and privileges hold (the kernel's rules), not handed
   back by this reader, and not held for someone else (pinned by a manual override, or offered
   to another free reader as their next).
2. The most urgent priority class first, as a shared worklist does.
3. Within the class, *triage*: a study that can still meet its contract before one already
   lost (reading a lost study first would lose both). A URGENT or ROUTINE study overdue by
   more than its own turnaround again is *starving* and goes before both, so nothing waits
   forever.
4. Among STATs that can still make it, *scarcity*: the one the fewest other readers could
   start in time, so a reader spends themselves where nobody else can stand in.
5. Then the earliest due.

The same function serves the live decision (free times from the readers' state) and the
forecast (free times of a simulated future), so the worklist a reader sees agrees with what
`next` hands them. Buckets are judged by their heads in a few vector operations; only a bucket
whose head is already lost is searched (a bisection) for one that can still make it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nighthawk.kernel import FINISH_SLACK_MINUTES
from nighthawk.live.pool import Pool
from nighthawk.live.state import NOBODY, Classes, Readers, Studies

STAT = 0


@dataclass(frozen=True)
class ChoiceRules:
    """Switches for the rules above (all on in production; off only to measure each one)."""

    triage: bool = True
    triage_stat_only: bool = False
    scarcity: bool = True
    # Overdue by this many turnarounds again: read first (0: never), per STAT, URGENT, ROUTINE.
    # Not for STATs: a lost STAT put first loses the next one too (measured on the suite).
    starvation_factor: tuple[float, float, float] = (0.0, 1.0, 1.0)


@dataclass(frozen=True)
class Choice:
    study: int
    bucket: int  # -1: held for this reader (pinned or offered)
    saveable: bool  # can still meet its contract if started now
    starving: bool
    others_in_time: int  # other readers who could start it in time (saveable STATs only)


@dataclass
class Board:
    """What a choice looks at: the practice's state plus a free time for every reader."""

    readers: Readers
    classes: Classes
    studies: Studies
    pool: Pool
    held: list[list[int]]  # per reader: studies pinned or offered to them, waiting
    rules: ChoiceRules


def choose(board: Board, reader: int, now: float, free: np.ndarray) -> Choice | None:
    """The study `reader` should start at `now`, or None. `free[r]` is when reader r can next
    start new work (inf: not before the end of the horizon)."""
    readers, pool, studies = board.readers, board.pool, board.studies
    if not readers.on_duty(reader, now):
        return None
    speed = float(readers.speed[reader])
    buckets = _startable_buckets(board, reader, now, speed)
    own = _startable_held(board, reader, now, speed)
    if not len(buckets) and not own:
        return None
    rank = min(
        int(pool.rank[buckets].min()) if len(buckets) else 9,
        min((int(studies.rank[s]) for s in own), default=9),
    )
    options = [_held_option(board, s, now, speed) for s in own if studies.rank[s] == rank]
    pooled = _best_bucket(board, buckets[pool.rank[buckets] == rank], reader, now, speed, free)
    if pooled is not None:
        options.append(pooled)
    if not options:
        return None
    return min(options, key=lambda option: _key(board, option))


def _key(board: Board, option: Choice) -> tuple[float, float, float, float]:
    """Starving first, then what can still make it, then the scarcest STAT, then due."""
    return (
        0.0 if option.starving else 1.0,
        0.0 if option.saveable or not _triaged(board, option.study) else 1.0,
        float(option.others_in_time),
        float(board.studies.due[option.study]),
    )


def _triaged(board: Board, study: int) -> bool:
    rules = board.rules
    return rules.triage and (board.studies.rank[study] == STAT or not rules.triage_stat_only)


def _startable_buckets(board: Board, reader: int, now: float, speed: float) -> np.ndarray:
    """Non-empty buckets whose studies this reader may start now (one check per bucket)."""
    pool = board.pool
    active = pool.active()
    if not len(active):
        return active
    finish = now + pool.head_minutes[active] / speed
    limit = np.minimum(
        board.classes.until[pool.klass[active], reader], board.readers.shift_end[reader]
    )
    return active[finish <= limit + FINISH_SLACK_MINUTES]


def _startable_held(board: Board, reader: int, now: float, speed: float) -> list[int]:
    studies, classes = board.studies, board.classes
    limit_shift = float(board.readers.shift_end[reader])
    startable = []
    for study in board.held[reader]:
        finish = now + float(studies.expected[study]) / speed
        limit = min(float(classes.until[studies.klass[study], reader]), limit_shift)
        if finish <= limit + FINISH_SLACK_MINUTES:
            startable.append(study)
    return startable


def _best_bucket(
    board: Board, buckets: np.ndarray, reader: int, now: float, speed: float, free: np.ndarray
) -> Choice | None:
    """The best pooled study among buckets of one priority, judged by the rules' key."""
    if not len(buckets):
        return None
    pool, rules = board.pool, board.rules
    rank = int(pool.rank[buckets[0]])
    finish = now + pool.head_minutes[buckets] / speed
    due = pool.head_due[buckets].copy()
    factor = rules.starvation_factor[rank]
    starving = (now - due > factor * (due - pool.head_arrival[buckets])) & (factor > 0)
    saveable = finish <= due + FINISH_SLACK_MINUTES
    position = np.zeros(len(buckets), dtype=np.int64)
    if rules.triage and (rank == STAT or not rules.triage_stat_only):
        # A lost head may hide a study behind it that can still make it (later due).
        for i in np.flatnonzero(~saveable & ~starving & (pool.size[buckets] > 1)).tolist():
            found = pool.first_due_after(int(buckets[i]), float(finish[i]) - FINISH_SLACK_MINUTES)
            if found < pool.size[buckets[i]]:
                position[i], due[i], saveable[i] = found, pool.dues[buckets[i]][found], True
        lost = ~saveable
    else:
        lost = np.zeros(len(buckets), dtype=bool)
    scarce = np.zeros(len(buckets))
    if rank == STAT and rules.scarcity:
        scarce = _others_in_time(board, buckets, due, reader, free, saveable & ~starving)
    order = np.lexsort((due, scarce, lost, ~starving))
    for i in order.tolist():
        bucket = int(buckets[i])
        study = _not_excluded(board, bucket, int(position[i]), reader)
        if study != NOBODY:
            return Choice(study, bucket, bool(saveable[i]), bool(starving[i]), int(scarce[i]))
    return None


def _not_excluded(board: Board, bucket: int, position: int, reader: int) -> int:
    """The study at `position`, or the next one not handed back by this reader."""
    items, excluded = board.pool.items[bucket], board.studies.excluded
    if not excluded:
        return items[position]
    for candidate in [*range(position, len(items)), *range(0, position)]:
        if reader not in excluded.get(items[candidate], ()):
            return items[candidate]
    return NOBODY


def _others_in_time(
    board: Board,
    buckets: np.ndarray,
    due: np.ndarray,
    reader: int,
    free: np.ndarray,
    asked: np.ndarray,
) -> np.ndarray:
    """Per bucket (where `asked`): how many other readers could start it in time if this
    reader left it: eligible, free by then, done before their limit and before due."""
    counts = np.zeros(len(buckets))
    if not asked.any():
        return counts
    readers, pool = board.readers, board.pool
    chosen = buckets[asked]
    count = len(readers)
    minutes = pool.head_minutes[chosen][:, None] / readers.speed[None, :count]
    finish = free[None, :count] + minutes
    limit = np.minimum(
        board.classes.until[pool.klass[chosen], :count], readers.shift_end[None, :count]
    )
    able = (finish <= limit + FINISH_SLACK_MINUTES) & (
        finish <= due[asked][:, None] + FINISH_SLACK_MINUTES
    )
    able &= (readers.available[:count] & (free < math.inf))[None, :]
    able[:, reader] = False
    counts[asked] = able.sum(axis=1)
    return counts


def _held_option(board: Board, study: int, now: float, speed: float) -> Choice:
    studies = board.studies
    finish = now + float(studies.expected[study]) / speed
    due = float(studies.due[study])
    factor = board.rules.starvation_factor[int(studies.rank[study])]
    starving = factor > 0 and now - due > factor * (due - float(studies.arrival[study]))
    return Choice(study, -1, finish <= due + FINISH_SLACK_MINUTES, starving, 0)


def free_times(readers: Readers, now: float, minimum_remaining: float) -> np.ndarray:
    """When each reader can next start new work, seen from `now`: now if on duty and free,
    after the read in hand (at least `minimum_remaining` more once it overruns) or other work
    in hand (`busy_until` without a study: a snapshot's backlog), or at the start of their next
    stretch; inf for readers logged out or with no stretch ahead (the kernel's `ready_at`)."""
    count = len(readers)
    busy = readers.busy_until[:count]
    start = readers.shift_start[:count]
    end = readers.shift_end[:count]
    reading = readers.reading[:count] != NOBODY
    in_hand = np.where(reading, np.maximum(busy, now + minimum_remaining), np.maximum(busy, now))
    free = np.maximum(in_hand, start)
    free[~readers.available[:count] | (free >= end)] = math.inf
    return free
