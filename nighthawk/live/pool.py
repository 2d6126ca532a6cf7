"""The waiting studies, in buckets of one class, priority and length, each sorted by due time.

Within a bucket every study has the same eligibility and the same expected reading minutes, so
one check of its head answers for the whole bucket, and "the first that can still make its
contract" is a bisection. Bucket heads are mirrored in arrays (class, priority, length, head's
due, size), so a free reader's candidates are a few vector operations over the non-empty
buckets rather than a loop over every waiting study.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from nighthawk.live.state import Studies, _grow


class Pool:
    def __init__(self) -> None:
        self.bucket_of: dict[tuple[int, int, float], int] = {}
        self.klass = np.zeros(0, dtype=np.int64)
        self.rank = np.zeros(0, dtype=np.int64)
        self.head_due = np.full(0, math.inf)
        self.head_arrival = np.zeros(0)
        self.head_minutes = np.zeros(0)  # expected minutes of every study in it, at speed 1.0
        self.size = np.zeros(0, dtype=np.int64)
        self.items: list[list[int]] = []  # study indices, by due
        self.dues: list[list[float]] = []
        self.where: dict[int, int] = {}  # study -> bucket
        self._active: np.ndarray | None = None  # non-empty buckets, cached until a change

    def __len__(self) -> int:
        return len(self.where)

    def __contains__(self, study: int) -> bool:
        return study in self.where

    def bucket(self, klass: int, rank: int, minutes: float) -> int:
        found = self.bucket_of.get((klass, rank, minutes))
        if found is not None:
            return found
        bucket = len(self.items)
        self.bucket_of[(klass, rank, minutes)] = bucket
        size = bucket + 1
        self.klass = _grow(self.klass, size, 0)
        self.rank = _grow(self.rank, size, 0)
        self.head_due = _grow(self.head_due, size, math.inf)
        self.head_arrival = _grow(self.head_arrival, size, 0.0)
        self.head_minutes = _grow(self.head_minutes, size, 0.0)
        self.size = _grow(self.size, size, 0)
        self.klass[bucket], self.rank[bucket] = klass, rank
        self.head_due[bucket], self.size[bucket] = math.inf, 0
        self.head_minutes[bucket] = minutes
        self.items.append([])
        self.dues.append([])
        return bucket

    def add(self, study: int, studies: Studies) -> None:
        bucket = self.bucket(
            int(studies.klass[study]), int(studies.rank[study]), float(studies.expected[study])
        )
        due = float(studies.due[study])
        position = bisect.bisect_right(self.dues[bucket], due)
        self.items[bucket].insert(position, study)
        self.dues[bucket].insert(position, due)
        self.where[study] = bucket
        self._changed(bucket, studies)

    def remove(self, study: int, studies: Studies) -> None:
        bucket = self.where.pop(study)
        items = self.items[bucket]
        position = items.index(study) if items[0] != study else 0
        items.pop(position)
        self.dues[bucket].pop(position)
        self._changed(bucket, studies)

    def _changed(self, bucket: int, studies: Studies) -> None:
        items = self.items[bucket]
        size = len(items)
        if (self.size[bucket] == 0) != (size == 0):
            self._active = None
        self.size[bucket] = size
        self.head_due[bucket] = self.dues[bucket][0] if size else math.inf
        if size:
            self.head_arrival[bucket] = studies.arrival[items[0]]

    def active(self) -> np.ndarray:
        """Indices of the non-empty buckets."""
        if self._active is None:
            self._active = np.flatnonzero(self.size[: len(self.items)] > 0)
        return self._active

    def first_due_after(self, bucket: int, moment: float) -> int:
        """Position of the first study in the bucket due at or after `moment` (size if none)."""
        return bisect.bisect_left(self.dues[bucket], moment)

    def copy(self) -> Pool:
        """An independent copy for a forecast to consume (bucket ids are kept)."""
        twin = Pool.__new__(Pool)
        twin.bucket_of = self.bucket_of
        twin.klass, twin.rank = self.klass, self.rank
        twin.head_due = self.head_due.copy()
        twin.head_arrival = self.head_arrival.copy()
        twin.head_minutes = self.head_minutes.copy()
        twin.size = self.size.copy()
        twin.items = [list(items) for items in self.items]
        twin.dues = [list(dues) for dues in self.dues]
        twin.where = dict(self.where)
        twin._active = None
        return twin
