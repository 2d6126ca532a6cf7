"""The forecast: who is expected to read what, and when, if nothing else arrives.

It plays the free reader's choice forward on expected reading times: the reader who frees
first (the least versatile first among readers free at once, as arrivals are routed) takes
what `choose` gives them, and so on until the waiting studies or the readers run out. So a
reader's forecast worklist starts with exactly what `next` hands them when they are free, and
a study's prediction is the same rule's, not a second model's. Readers come on at the start of
their next stretch; nothing is planned past the end of a reader's current or next stretch.

Between forecasts, `place` slots one arrival into the forecast cheaply (after everything more
urgent in the queue that finishes it first), so a study is placed inside its request.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

import numpy as np

from nighthawk.kernel import FINISH_SLACK_MINUTES, MIN_REMAINING_MINUTES, is_late, walk
from nighthawk.live.choice import Board, choose, free_times
from nighthawk.live.dispatcher import Dispatcher

KEY_SPAN = 1e7  # an urgency key: priority rank * span + due minutes


@dataclass(frozen=True)
class Predicted:
    study: Hashable
    reader: Hashable
    start: float
    finish: float
    late: bool


@dataclass
class Queue:
    """One reader's forecast worklist (study indices) with its predicted times, and two
    running figures that price an insertion without walking the queue (kept until it changes):
    the running maximum of urgency keys (the slot after everything more urgent is a bisection)
    and the suffix minimum of slack to each read's limit (whether an insertion would push a
    later read past its limit is one lookup)."""

    ready: float
    studies: list[int] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    finishes: list[float] = field(default_factory=list)
    running_key: list[float] | None = None
    slack: list[float] | None = None

    def changed(self) -> None:
        self.running_key = self.slack = None


@dataclass
class Forecast:
    now: float
    dispatcher: Dispatcher
    queues: dict[int, Queue] = field(default_factory=dict)  # reader index -> worklist
    reader_of: dict[int, int] = field(default_factory=dict)  # study index -> reader index
    unplaced: list[int] = field(default_factory=list)  # nobody can take them in time
    moved_late: set[int] = field(default_factory=set)  # moved for lateness by the last repair

    def predicted(self, study: int) -> Predicted | None:
        reader = self.reader_of.get(study)
        if reader is None:
            return None
        queue = self.queues[reader]
        position = queue.studies.index(study)
        return self._predicted(reader, queue, position)

    def worklist(self, reader: int) -> list[Predicted]:
        queue = self.queues.get(reader)
        if queue is None:
            return []
        return [self._predicted(reader, queue, i) for i in range(len(queue.studies))]

    def remove(self, study: int) -> None:
        """Take a study out of its forecast worklist (started, handed back, moved)."""
        reader = self.reader_of.pop(study, None)
        if reader is None:
            if study in self.unplaced:
                self.unplaced.remove(study)
            return
        queue = self.queues[reader]
        position = queue.studies.index(study)
        queue.studies.pop(position)
        speed = float(self.dispatcher.readers.speed[reader])
        minutes = [float(self.dispatcher.studies.expected[s]) / speed for s in queue.studies]
        queue.starts, queue.finishes = walk(queue.ready, minutes)
        queue.changed()

    def all(self) -> list[Predicted]:
        return [p for reader in self.queues for p in self.worklist(reader)]

    def _predicted(self, reader: int, queue: Queue, position: int) -> Predicted:
        studies, readers = self.dispatcher.studies, self.dispatcher.readers
        study, finish = queue.studies[position], queue.finishes[position]
        return Predicted(
            studies.ids[study],
            readers.ids[reader],
            queue.starts[position],
            finish,
            is_late(finish, float(studies.due[study])),
        )


def forecast(dispatcher: Dispatcher, now: float) -> Forecast:
    """Play the choice rule forward from `now` over a copy of the waiting studies."""
    readers, studies = dispatcher.readers, dispatcher.studies
    pool = dispatcher.pool.copy()
    held = [list(own) for own in dispatcher.held]
    board = Board(readers, dispatcher.classes, studies, pool, held, dispatcher.settings.rules)
    free = free_times(readers, now, MIN_REMAINING_MINUTES)
    reach = dispatcher.classes.reach
    result = Forecast(now=now, dispatcher=dispatcher)
    heap = []
    for reader in np.flatnonzero(free < math.inf).tolist():
        versatility = (float(reach[reader]), readers.rights[reader].breadth)
        heap.append((float(free[reader]), versatility, reader))
        result.queues[reader] = Queue(float(free[reader]))
    heapq.heapify(heap)
    while heap and (len(pool) or any(held)):
        at, versatility, reader = heapq.heappop(heap)
        choice = choose(board, reader, at, free)
        if choice is None:
            continue  # nothing they may start now; with no arrivals, nothing later either
        study = choice.study
        if choice.bucket >= 0:
            pool.remove(study, studies)
        else:
            held[reader].remove(study)
        for offered in [s for s in held[reader] if studies.offered[s]]:
            held[reader].remove(offered)  # busy now: what was offered goes back to everyone
            pool.add(offered, studies)
        finish = at + float(studies.expected[study]) / float(readers.speed[reader])
        queue = result.queues[reader]
        queue.studies.append(study)
        queue.starts.append(at)
        queue.finishes.append(finish)
        queue.changed()
        result.reader_of[study] = reader
        free[reader] = finish
        if finish < readers.shift_end[reader]:
            heapq.heappush(heap, (finish, versatility, reader))
    result.unplaced = list(pool.where) + [s for own in held for s in own]
    return result


def place(result: Forecast, study: int, *, prefer: int | None = None) -> int | None:
    """Slot a study that arrived after the forecast into it; returns the reader or None.

    Each eligible reader's queue is priced with the study after everything more urgent in it
    (by priority, then due); the reader who would finish it on time and first takes it
    (`prefer`, e.g. the reader holding the patient's other studies, when on time there).
    """
    best = best_slot(result, study, prefer=prefer)
    if best is None:
        return None
    reader, slot, _ = best
    _insert(result, reader, slot, study)
    return reader


def best_slot(
    result: Forecast, study: int, *, prefer: int | None = None, skip: int | None = None
) -> tuple[int, int, bool] | None:
    """Where `place` would put the study: (reader, slot, late), without putting it there."""
    best: tuple[tuple[float, float], int, int, bool] | None = None
    for reader, slot, finish, late in priced_slots(result, study, skip=skip):
        rank = (float(late), 0.0 if reader == prefer and not late else finish)
        if best is None or rank < best[0]:
            best = (rank, reader, slot, late)
    return None if best is None else best[1:]


def priced_slots(
    result: Forecast, study: int, *, skip: int | None = None
) -> Iterator[tuple[int, int, float, bool]]:
    """(reader, slot, finish, late) for each reader whose forecast queue could take the study:
    after everything more urgent, or else at the end, without pushing a read past its limit."""
    dispatcher = result.dispatcher
    studies, readers, classes = dispatcher.studies, dispatcher.readers, dispatcher.classes
    klass = int(studies.klass[study])
    key = _key(dispatcher, study)
    excluded = studies.excluded.get(study, set())
    for reader in classes.readers[klass].tolist():
        queue = result.queues.get(reader)
        if queue is None or reader in excluded or reader == skip:
            continue
        slot = _fitting_slot(dispatcher, queue, reader, study, _slot(dispatcher, queue, key))
        if slot is None:
            continue
        start = queue.finishes[slot - 1] if slot else queue.ready
        finish = start + float(studies.expected[study]) / float(readers.speed[reader])
        yield reader, slot, finish, is_late(finish, float(studies.due[study]))


def place_at(result: Forecast, study: int, reader: int, position: int | None) -> bool:
    """Put a study in one reader's forecast worklist: at `position`, or after everything
    more urgent; False (and it is left out) if it, or a read it would push back, would then
    end past its limit."""
    dispatcher = result.dispatcher
    queue = result.queues.get(reader)
    if queue is None:
        return False
    result.remove(study)
    slot = _slot(dispatcher, queue, _key(dispatcher, study)) if position is None else position
    if not _fits(dispatcher, queue, reader, study, slot):
        return False
    _insert(result, reader, slot, study)
    return True


def _fitting_slot(
    dispatcher: Dispatcher, queue: Queue, reader: int, study: int, slot: int
) -> int | None:
    """`slot` if the study fits there; else the end of the queue (pushing nothing back) if it
    fits there; else None. Nothing goes before a study offered to a free reader: that is
    what they start next, unless it is more urgent."""
    if (
        slot == 0
        and queue.studies
        and dispatcher.studies.offered[queue.studies[0]]
        and _key(dispatcher, study) >= _key(dispatcher, queue.studies[0])
    ):
        slot = 1  # only something more urgent goes before what a free reader was offered
    if _fits(dispatcher, queue, reader, study, slot):
        return slot
    end = len(queue.studies)
    if slot != end and _fits(dispatcher, queue, reader, study, end):
        return end
    return None


def _fits(dispatcher: Dispatcher, queue: Queue, reader: int, study: int, slot: int) -> bool:
    """The study read at `slot` ends by its limit, and so does every read it pushes back."""
    studies, readers = dispatcher.studies, dispatcher.readers
    minutes = float(studies.expected[study]) / float(readers.speed[reader])
    start = queue.finishes[slot - 1] if slot else queue.ready
    if start + minutes > _limit(dispatcher, study, reader) + FINISH_SLACK_MINUTES:
        return False
    if slot == len(queue.studies):
        return True
    if queue.slack is None:
        slack, running = [], math.inf
        for j in range(len(queue.studies) - 1, -1, -1):
            limit = _limit(dispatcher, queue.studies[j], reader)
            running = min(running, limit - queue.finishes[j])
            slack.append(running)
        queue.slack = slack[::-1]
    return minutes <= queue.slack[slot] + FINISH_SLACK_MINUTES


def _limit(dispatcher: Dispatcher, study: int, reader: int) -> float:
    """Latest finish: the end of the reader's stretch, and of their license and privileges."""
    klass = dispatcher.studies.klass[study]
    return min(
        float(dispatcher.classes.until[klass, reader]),
        float(dispatcher.readers.shift_end[reader]),
    )


def _key(dispatcher: Dispatcher, study: int) -> float:
    studies = dispatcher.studies
    return float(studies.rank[study]) * KEY_SPAN + float(studies.due[study])


def _slot(dispatcher: Dispatcher, queue: Queue, key: float) -> int:
    """After the last study in the queue at least as urgent (a running maximum of keys)."""
    if queue.running_key is None:
        running, top = [], -math.inf
        for study in queue.studies:
            top = max(top, _key(dispatcher, study))
            running.append(top)
        queue.running_key = running
    return bisect.bisect_right(queue.running_key, key)


def _insert(result: Forecast, reader: int, position: int, study: int) -> None:
    dispatcher = result.dispatcher
    queue = result.queues[reader]
    queue.studies.insert(position, study)
    speed = float(dispatcher.readers.speed[reader])
    minutes = [float(dispatcher.studies.expected[s]) / speed for s in queue.studies]
    queue.starts, queue.finishes = walk(queue.ready, minutes)
    queue.changed()
    result.reader_of[study] = reader
