"""Keeping a forecast current without replaying the world: the service's re-plan.

A full forecast (`forecast.py`) replays the choice rule over every waiting study, and a greedy
replay is chaotic: a few seconds later a study near its contract's edge flips from "can make
it" to "lost", and every choice after it changes, so thousands of studies would change reader
for nothing. The re-plan therefore repairs the forecast it has, touching only what changed or
is at risk:
1. studies that were started, finished, cancelled or handed back leave it; each worklist is
   walked again from when its reader is next free (the kernel's `walk`);
2. a study its reader can no longer take (they left, are logged out, would end it past their
   shift or rights, handed it back, it is held by someone else) goes back to be placed;
3. a study predicted late moves to a reader who would finish it on time, if there is one;
4. every study not in a worklist is placed (`place`: after everything more urgent, in the
   queue that finishes it first), most urgent first;
and first of all, every free reader's worklist starts with their `choose`, offered to them, so
`next` and the worklist agree. Unchanged inputs give an unchanged forecast.
"""

from __future__ import annotations

import math

import numpy as np

from nighthawk.kernel import FINISH_SLACK_MINUTES, MIN_REMAINING_MINUTES, is_late, walk
from nighthawk.live.choice import free_times
from nighthawk.live.dispatcher import Dispatcher
from nighthawk.live.forecast import (
    Forecast,
    Queue,
    _insert,
    _limit,
    best_slot,
    place,
    place_at,
)
from nighthawk.live.state import NOBODY, WAITING

# Late studies looked at per repair, most urgent first: the rest wait for the next repair (or
# the next full replay), so one repair stays cheap even when a surge makes hundreds late.
MAX_LATE_MOVES = 25


def repair(result: Forecast, now: float) -> Forecast:
    dispatcher = result.dispatcher
    free = free_times(dispatcher.readers, now, MIN_REMAINING_MINUTES)
    displaced = _rewalk(result, free)
    displaced += _late(result)
    placed = set(result.reader_of)
    waiting = [s for s in _waiting(dispatcher) if s not in placed]
    _place_all(result, set(waiting) | set(displaced))
    _place_all(result, set(_heads(result, now)))
    result.now = now
    return result


def _place_all(result: Forecast, studies: set[int]) -> None:
    """Place each study, most urgent first: a pinned one with its reader, any other where it
    finishes first; one nobody can take is left unplaced."""
    dispatcher = result.dispatcher
    for study in sorted(studies, key=lambda s: _urgency(dispatcher, s)):
        result.reader_of.pop(study, None)
        holder = int(dispatcher.studies.holder[study])
        if holder != NOBODY and not dispatcher.studies.offered[study]:
            reader = holder if place_at(result, study, holder, None) else None
        else:
            reader = place(result, study)
        if reader is None and study not in result.unplaced:
            result.unplaced.append(study)
        elif reader is not None and study in result.unplaced:
            result.unplaced.remove(study)


def _waiting(dispatcher: Dispatcher) -> list[int]:
    count = len(dispatcher.studies)
    return np.flatnonzero(dispatcher.studies.status[:count] == WAITING).tolist()


def _urgency(dispatcher: Dispatcher, study: int) -> tuple[int, float]:
    return int(dispatcher.studies.rank[study]), float(dispatcher.studies.due[study])


def _rewalk(result: Forecast, free: np.ndarray) -> list[int]:
    """Drop what no longer waits, re-time every worklist from its reader's free time, and
    return the studies their reader can no longer take."""
    dispatcher = result.dispatcher
    studies = dispatcher.studies
    displaced: list[int] = []
    result.unplaced = [s for s in result.unplaced if studies.status[s] == WAITING]
    for reader in range(len(dispatcher.readers)):
        queue = result.queues.get(reader)
        if free[reader] == math.inf:
            if queue is not None:
                displaced += [s for s in queue.studies if studies.status[s] == WAITING]
                for study in queue.studies:
                    result.reader_of.pop(study, None)
                del result.queues[reader]
            continue
        if queue is None:
            result.queues[reader] = Queue(float(free[reader]))
            continue
        keep = []
        for study in queue.studies:
            if studies.status[study] != WAITING:
                result.reader_of.pop(study, None)
            elif _taken_elsewhere(dispatcher, study, reader):
                displaced.append(study)
            else:
                keep.append(study)
        queue.ready = float(free[reader])
        displaced += _retime(result, reader, queue, keep)
    return displaced


def _taken_elsewhere(dispatcher: Dispatcher, study: int, reader: int) -> bool:
    holder = int(dispatcher.studies.holder[study])
    if holder != NOBODY and holder != reader:
        return True
    return reader in dispatcher.studies.excluded.get(study, ())


def _retime(result: Forecast, reader: int, queue: Queue, keep: list[int]) -> list[int]:
    """Walk the kept studies back to back; one that would end past its limit is dropped (the
    walk goes on without it) and returned."""
    dispatcher = result.dispatcher
    speed = float(dispatcher.readers.speed[reader])
    fitting, dropped = [], []
    clock = queue.ready
    for study in keep:
        finish = clock + float(dispatcher.studies.expected[study]) / speed
        if finish > _limit(dispatcher, study, reader) + FINISH_SLACK_MINUTES:
            dropped.append(study)
            result.reader_of.pop(study, None)
            continue
        fitting.append(study)
        clock = finish
    queue.studies = fitting
    queue.starts, queue.finishes = walk(
        queue.ready, (float(dispatcher.studies.expected[s]) / speed for s in fitting)
    )
    queue.changed()
    return dropped


def _late(result: Forecast) -> list[int]:
    """Studies predicted late whose contract another reader could still meet: taken out, to
    be placed again (where they finish first). A late study nobody could save stays put."""
    dispatcher = result.dispatcher
    studies = dispatcher.studies
    late = [
        (reader, study)
        for reader, queue in result.queues.items()
        for position, study in enumerate(queue.studies)
        if studies.holder[study] == NOBODY
        and is_late(queue.finishes[position], float(studies.due[study]))
    ]
    late.sort(key=lambda pair: _urgency(dispatcher, pair[1]))
    moving = []
    for reader, study in late[:MAX_LATE_MOVES]:
        if study in result.moved_late or _is_head(result, study):
            continue  # moved last time: let it settle rather than swing between two readers
        elsewhere = best_slot(result, study, skip=reader)
        if elsewhere is not None and not elsewhere[2]:
            result.remove(study)
            moving.append(study)
    result.moved_late = set(moving)
    return moving


def _is_head(result: Forecast, study: int) -> bool:
    reader = result.reader_of.get(study)
    return reader is not None and result.queues[reader].studies[:1] == [study]


def _heads(result: Forecast, now: float) -> list[int]:
    """Each free reader's worklist starts with their `choose` now, offered to them (readers
    who may read the fewest kinds of work first, as arrivals are routed). What they already
    hold competes with everything else, so an offer stays theirs unless something more pressing
    came; it lapses otherwise only when they can no longer take it
    (`release_unworkable_holds`). Returns studies a new head pushed past their limit."""
    dispatcher = result.dispatcher
    readers, studies = dispatcher.readers, dispatcher.studies
    order = sorted(
        (r for r in result.queues if readers.reading[r] == NOBODY and readers.on_duty(r, now)),
        key=lambda r: (float(dispatcher.classes.reach[r]), readers.rights[r].breadth, r),
    )
    pushed: list[int] = []
    for reader in order:
        reader_id = readers.ids[reader]
        choice = dispatcher.choose(reader_id, now)  # what they hold competes with the rest
        if choice is None:
            continue
        study = choice.study
        if studies.holder[study] != reader:
            dispatcher.withdraw_offers(reader_id)
        queue = result.queues[reader]
        if not (queue.studies and queue.studies[0] == study):
            result.remove(study)
            if study in result.unplaced:
                result.unplaced.remove(study)
            _insert(result, reader, 0, study)
            pushed += _retime(result, reader, queue, list(queue.studies))
        if studies.holder[study] == NOBODY:
            dispatcher.offer(studies.ids[study], reader_id)
    return pushed
