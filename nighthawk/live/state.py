"""The live dispatcher's picture of the practice: readers, study classes and studies as arrays.

Everything is kept between decisions and changed by deltas (a reader's shift moved, rights
changed, a study arrived, started, finished); nothing is rebuilt per decision. Times are float
minutes on the dispatcher's axis (after its `origin`).

A study *class* is what eligibility depends on: patient's state, facility, modality and a
required subspecialty. `until[k, r]` is the minute until which reader r may read class k
(`-inf`: never), from the kernel's rights, so one lookup answers "may r read it then".
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from models.priority import Modality
from nighthawk.kernel import NEVER, Rights

ClassKey = tuple[str, str, Modality, str | None]  # state, facility, modality, required sub
WAITING, READING, DONE = 0, 1, 2
NOBODY = -1


@dataclass(frozen=True)
class StudyFacts:
    """What the dispatcher needs to know about one study (times on its axis)."""

    id: Hashable
    klass: ClassKey
    rank: int  # 0 STAT, 1 URGENT, 2 ROUTINE
    arrival: float
    due: float
    expected_minutes: float  # at speed 1.0
    subspecialty: str | None = None  # preferred (or required) subspecialty
    patient: str | None = None  # a keyed hash grouping one patient's studies


def _grow(array: np.ndarray, size: int, fill: float | int | bool) -> np.ndarray:
    """The array with room for `size` entries along its last axis (amortized doubling)."""
    length = array.shape[-1]
    if size <= length:
        return array
    new_length = max(size, 2 * length, 16)
    shape = (*array.shape[:-1], new_length)
    grown = np.full(shape, fill, dtype=array.dtype)
    grown[..., :length] = array
    return grown


class Readers:
    """Per-reader facts: speed, the current (or next) stretch on duty, the read in hand."""

    def __init__(self) -> None:
        self.ids: list[Hashable] = []
        self.index: dict[Hashable, int] = {}
        self.rights: list[Rights] = []
        self.speed = np.ones(0)
        self.shift_start = np.full(0, math.inf)  # current stretch if on duty, else the next
        self.shift_end = np.full(0, math.inf)
        self.available = np.ones(0, dtype=bool)  # not logged out or on a break
        self.busy_until = np.full(0, -math.inf)  # expected end of the read in hand
        self.idle_since = np.zeros(0)
        self.reading = np.zeros(0, dtype=np.int64)  # study index in hand, or NOBODY

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, reader_id: Hashable, speed: float, rights: Rights) -> int:
        reader = len(self.ids)
        self.ids.append(reader_id)
        self.index[reader_id] = reader
        self.rights.append(rights)
        size = reader + 1
        self.speed = _grow(self.speed, size, 1.0)
        self.shift_start = _grow(self.shift_start, size, math.inf)
        self.shift_end = _grow(self.shift_end, size, math.inf)
        self.available = _grow(self.available, size, True)
        self.busy_until = _grow(self.busy_until, size, -math.inf)
        self.idle_since = _grow(self.idle_since, size, 0.0)
        self.speed[reader] = speed
        self.shift_start[reader] = self.shift_end[reader] = math.inf
        self.available[reader] = True
        self.busy_until[reader] = -math.inf
        self.reading = _grow(self.reading, size, NOBODY)
        self.reading[reader] = NOBODY
        return reader

    def on_duty(self, reader: int, now: float) -> bool:
        return bool(
            self.available[reader] and self.shift_start[reader] <= now < self.shift_end[reader]
        )


class Classes:
    """Study classes and, per class and reader, until when the reader may read it."""

    def __init__(self) -> None:
        self.keys: list[ClassKey] = []
        self.index: dict[ClassKey, int] = {}
        self.until = np.full((0, 0), NEVER)  # (K, R)
        self.readers: list[np.ndarray] = []  # per class: readers who may ever read it
        self.reach = np.zeros(0)  # per reader: how many classes they may read (versatility)

    def of(self, key: ClassKey, readers: Readers) -> int:
        found = self.index.get(key)
        if found is not None:
            return found
        klass = len(self.keys)
        self.keys.append(key)
        self.index[key] = klass
        self._fit(len(readers))
        row = np.array([rights.until(*key) for rights in readers.rights], dtype=float)
        if self.until.shape[0] <= klass:
            grown = np.full((max(2 * klass, 16), self.until.shape[1]), NEVER)
            grown[: self.until.shape[0]] = self.until
            self.until = grown
        self.until[klass, : len(row)] = row
        self.readers.append(np.flatnonzero(row > NEVER))
        self.reach[: len(row)] += row > NEVER
        return klass

    def refresh_reader(self, reader: int, rights: Rights, readers: Readers) -> None:
        """A reader joined or their rights changed: recompute their column."""
        self._fit(len(readers))
        column = np.array([rights.until(*key) for key in self.keys], dtype=float)
        before = self.until[: len(self.keys), reader] > NEVER
        self.until[: len(self.keys), reader] = column
        after = column > NEVER
        self.reach[reader] = float(after.sum())
        for klass in np.flatnonzero(before != after).tolist():
            self.readers[klass] = np.flatnonzero(self.until[klass, : len(readers)] > NEVER)

    def _fit(self, reader_count: int) -> None:
        if self.until.shape[1] < reader_count:
            self.until = _grow(self.until, reader_count, NEVER)
            self.reach = _grow(self.reach, reader_count, 0.0)


class Studies:
    """Per-study facts and status, indexed in arrival order."""

    def __init__(self) -> None:
        self.ids: list[Hashable] = []
        self.index: dict[Hashable, int] = {}
        self.klass = np.zeros(0, dtype=np.int64)
        self.rank = np.zeros(0, dtype=np.int64)
        self.arrival = np.zeros(0)
        self.due = np.zeros(0)
        self.expected = np.zeros(0)
        self.status = np.zeros(0, dtype=np.int8)
        # A study held for one reader: pinned (a manual override: only they read it) or
        # offered (they are free and it is their next; others leave it while they are free).
        self.holder = np.zeros(0, dtype=np.int64)  # reader, or NOBODY
        self.offered = np.zeros(0, dtype=bool)
        self.subspecialty: list[str | None] = []
        self.patient: list[str | None] = []
        self.excluded: dict[int, set[int]] = {}  # readers who handed it back

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, facts: StudyFacts, klass: int) -> int:
        study = len(self.ids)
        self.ids.append(facts.id)
        self.index[facts.id] = study
        size = study + 1
        self.klass = _grow(self.klass, size, 0)
        self.rank = _grow(self.rank, size, 0)
        self.arrival = _grow(self.arrival, size, 0.0)
        self.due = _grow(self.due, size, 0.0)
        self.expected = _grow(self.expected, size, 0.0)
        self.status = _grow(self.status, size, 0)
        self.holder = _grow(self.holder, size, NOBODY)
        self.offered = _grow(self.offered, size, False)
        self.klass[study] = klass
        self.rank[study] = facts.rank
        self.arrival[study] = facts.arrival
        self.due[study] = facts.due
        self.expected[study] = facts.expected_minutes
        self.status[study] = WAITING
        self.holder[study] = NOBODY
        self.offered[study] = False
        self.subspecialty.append(facts.subspecialty)
        self.patient.append(facts.patient)
        return study
