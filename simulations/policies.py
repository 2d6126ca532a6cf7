"""Dispatch policies of the simulator, from what practices do to what the engine does.

Push policies put a study in one reader's queue at arrival; the queue is read in order
(priority, then due time). Worklist policies keep one shared list that free readers take
from. The `optimizer` policy (the real engine) lives in `optimizer_policy.py`.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from simulations.engine import NOBODY, Policy, Simulation
from simulations.world import FINISH_SLACK_MINUTES

# ---------------------------------------------------------------------------------------
# Push: a queue per reader


class PushPolicy(Policy):
    """Queues per reader in reading order; subclasses choose the reader at arrival.

    A study nobody on (or coming on) shift can take is held and offered again whenever a
    shift starts. At a shift's end (or an absence) the unstarted queue is dispatched again.
    """

    def attach(self, sim: Simulation) -> None:
        super().attach(sim)
        readers = self.world.reader_count
        self.queues: list[list[tuple[int, float, int]]] = [[] for _ in range(readers)]
        # Expected queued minutes per reader at each priority *and above* (what reads before
        # a new study of that priority), kept current so pricing is a few vector operations.
        self.work_ahead = np.zeros((readers, 3))
        self.held: list[tuple[int, float, int]] = []
        self._class_readers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def class_readers(self, klass: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(readers who may ever read the class, their 1/speed, their rights' end)."""
        while len(self._class_readers) <= klass:
            until = self.sim.until[len(self._class_readers)]
            readers = np.flatnonzero(until > -np.inf)
            self._class_readers.append((readers, self.sim.inverse_speed[readers], until[readers]))
        return self._class_readers[klass]

    def on_arrival(self, study: int) -> None:
        self.dispatch(study)

    def dispatch(self, study: int, exclude: int = NOBODY) -> None:
        readers, finish = self.finish_times(study, exclude)
        reader = self.choose(readers, finish)
        if reader == NOBODY:
            bisect.insort(self.held, self._key(study))
            return
        bisect.insort(self.queues[reader], self._key(study))
        self._add_work(reader, study, 1.0)
        self.sim.mark_assigned(study, reader)

    def _add_work(self, reader: int, study: int, sign: float) -> None:
        minutes = sign * self.sim.minutes_for(study, reader)
        work = self.work_ahead
        for priority in range(int(self.studies.priority[study]), 3):
            work[reader, priority] += minutes  # scalar updates: a slice costs 10x more here

    def finish_times(self, study: int, exclude: int) -> tuple[np.ndarray, np.ndarray]:
        """When each reader who may read it would finish it within their current or next
        stretch (inf where it would not fit before the stretch ends or rights lapse)."""
        sim = self.sim
        readers, inverse_speed, until = self.class_readers(int(self.studies.klass[study]))
        priority = int(self.studies.priority[study])
        # Work already queued at this priority or above reads first (reading order).
        finish = (
            np.maximum(sim.available_from[readers], sim.now)
            + self.work_ahead[readers, priority]
            + self.studies.expected[study] * inverse_speed
        )
        late = finish > np.minimum(sim.stretch_end[readers], until) + FINISH_SLACK_MINUTES
        finish[late] = np.inf
        if exclude != NOBODY:
            finish[readers == exclude] = np.inf
        return readers, finish

    def choose(self, readers: np.ndarray, finish: np.ndarray) -> int:
        raise NotImplementedError

    def _key(self, study: int) -> tuple[int, float, int]:
        return (int(self.studies.priority[study]), float(self.studies.due[study]), study)

    def next_for(self, reader: int) -> int:
        """The head of the queue; reads it cannot finish before the shift ends go elsewhere."""
        queue = self.queues[reader]
        while queue:
            _, _, study = queue.pop(0)
            self._add_work(reader, study, -1.0)
            if self.sim.can_start_now(reader, study):
                return study
            self.dispatch(study, exclude=reader)
        return NOBODY

    def on_shift_start(self, reader: int) -> None:
        held, self.held = self.held, []
        for _, _, study in held:
            self.dispatch(study)

    def on_shift_end(self, reader: int) -> None:
        queue, self.queues[reader] = self.queues[reader], []
        self.work_ahead[reader] = 0.0
        for _, _, study in queue:
            self.dispatch(study)


class Greedy(PushPolicy):
    """Push at arrival to the eligible reader expected to finish it first."""

    name = "greedy"

    def choose(self, readers: np.ndarray, finish: np.ndarray) -> int:
        if not len(readers):
            return NOBODY
        best = int(np.argmin(finish))
        return int(readers[best]) if finish[best] < np.inf else NOBODY


class RoundRobin(PushPolicy):
    """Rotate among the eligible readers who could take it, regardless of their queues."""

    name = "round_robin"

    def attach(self, sim: Simulation) -> None:
        super().attach(sim)
        self.last = -1

    def choose(self, readers: np.ndarray, finish: np.ndarray) -> int:
        readers = readers[finish < np.inf]
        if not len(readers):
            return NOBODY
        after = readers[readers > self.last]
        self.last = int(after[0]) if len(after) else int(readers[0])
        return self.last


# ---------------------------------------------------------------------------------------
# Worklist: one shared list; free readers take from it


class WorklistPolicy(Policy):
    """A shared worklist kept in buckets of one class and priority, each in arrival order.

    Within a bucket every study has the same facility and priority, hence the same contract:
    arrival order is due order, so each bucket's head is its most pressing study. A free
    reader looks only at non-empty buckets.
    """

    def attach(self, sim: Simulation) -> None:
        super().attach(sim)
        self.buckets: dict[int, list[int]] = {}
        self.bucket_due: dict[int, list[float]] = {}

    def on_arrival(self, study: int) -> None:
        bucket = int(self.studies.klass[study]) * 3 + int(self.studies.priority[study])
        studies, dues = self.buckets.setdefault(bucket, []), self.bucket_due.setdefault(bucket, [])
        due = float(self.studies.due[study])
        position = bisect.bisect_right(dues, due)
        studies.insert(position, study)
        dues.insert(position, due)
        self._offer(study)

    def _offer(self, study: int) -> None:
        """Wake the longest-idle reader who could start it now, if any."""
        reader = self.sim.idle_who_can_start(study)
        if reader != NOBODY:
            self.sim.wake(reader)

    def next_for(self, reader: int) -> int:
        bucket, position = self.pick(reader, self._open_buckets(reader))
        if bucket < 0:
            return NOBODY
        study = self.buckets[bucket].pop(position)
        self.bucket_due[bucket].pop(position)
        if not self.buckets[bucket]:
            del self.buckets[bucket], self.bucket_due[bucket]
        return study

    def _open_buckets(self, reader: int) -> list[int]:
        """Buckets whose studies this reader may start now (same class: same answer for all)."""
        sim = self.sim
        return [b for b, studies in self.buckets.items() if sim.can_start_now(reader, studies[0])]

    def pick(self, reader: int, buckets: list[int]) -> tuple[int, int]:
        raise NotImplementedError

    def most_urgent(self, buckets: list[int]) -> tuple[int, int]:
        """The head of the most urgent class's oldest bucket: (bucket, position 0)."""
        best, best_key = -1, (math.inf, math.inf)
        for bucket in buckets:
            head = self.buckets[bucket][0]
            key = (bucket % 3, float(self.studies.arrival[head]))
            if key < best_key:
                best, best_key = bucket, key
        return best, 0

    def on_shift_start(self, reader: int) -> None:
        self.sim.wake(reader)


class Pull(WorklistPolicy):
    """A free reader takes the most urgent eligible study, oldest first."""

    name = "pull"

    def pick(self, reader: int, buckets: list[int]) -> tuple[int, int]:
        return self.most_urgent(buckets)


class CherryPick(WorklistPolicy):
    """A free reader takes the shortest eligible study not yet late (self-selection).

    Within the shortest bucket it takes the oldest study still on time. Only when every
    study it may read is already late does it fall back to the most urgent, oldest first.
    """

    name = "cherry_pick"

    def pick(self, reader: int, buckets: list[int]) -> tuple[int, int]:
        now = self.sim.now
        best, best_key, best_position = -1, (math.inf, math.inf), 0
        for bucket in buckets:
            dues = self.bucket_due[bucket]
            position = bisect.bisect_right(dues, now)  # first study not yet due
            if position == len(dues):
                continue
            study = self.buckets[bucket][position]
            key = (float(self.studies.expected[study]), dues[position])
            if key < best_key:
                best, best_key, best_position = bucket, key, position
        if best >= 0:
            return best, best_position
        return self.most_urgent(buckets)


POLICIES: dict[str, type[Policy]] = {
    "greedy": Greedy,
    "pull": Pull,
    "cherry_pick": CherryPick,
    "round_robin": RoundRobin,
}
