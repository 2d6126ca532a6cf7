"""Arrival-time fast path: slot one new study into the live plan in well under a millisecond.

`LivePlan` keeps each reader's queue with the running numbers needed to price an insertion
without re-scoring the queue: finish times, the running maximum of dispatch keys (so the slot
"after everything more urgent" is a bisection even in an optimizer-ordered queue) and the suffix
minimum of slack to each read's finish limit (so "would it push a read past the shift end" is
one lookup). Eligibility is checked for every reader at once with numpy.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from models.priority import Modality
from models.snapshot import Snapshot, SnapshotStudy
from nighthawk.clock import at_minutes, minutes_between, state_time_zone, valid_until_minutes
from nighthawk.objective import compare_keys
from nighthawk.schedule import FINISH_SLACK_MINUTES

_KEY_SPAN = 1e7  # dispatch key = class rank * span + due minutes

# study id, dispatch key, reading minutes, due, priority weight, is STAT, finish limit
_Entry = tuple[str, float, float, float, float, bool, float]


@dataclass
class _Queue:
    """One reader's queue in reading order, with running numbers for O(log n) pricing."""

    ready: float
    studies: list[str] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)
    running_max_key: list[float] = field(default_factory=list)
    minutes: list[float] = field(default_factory=list)
    due: list[float] = field(default_factory=list)
    weight: list[float] = field(default_factory=list)
    stat: list[bool] = field(default_factory=list)
    limit: list[float] = field(default_factory=list)
    finish: list[float] = field(default_factory=list)
    suffix_slack: list[float] = field(default_factory=list)  # min(limit - finish) from i on

    @property
    def tail(self) -> float:
        return self.finish[-1] if self.finish else self.ready

    def append(self, entry: _Entry) -> None:
        """Add at the end without recomputing; call `_recompute` once after a batch."""
        self.insert(len(self.studies), entry, recompute=False)

    def pop(self, position: int) -> float:
        """Take one read out of the queue; returns its minutes."""
        for column in (self.studies, self.keys, self.due, self.weight, self.stat, self.limit):
            column.pop(position)
        minutes = self.minutes.pop(position)
        self._recompute()
        return minutes

    def insert(self, position: int, entry: _Entry, *, recompute: bool = True) -> None:
        study, key, minutes, due, weight, stat, limit = entry
        self.studies.insert(position, study)
        self.keys.insert(position, key)
        self.minutes.insert(position, minutes)
        self.due.insert(position, due)
        self.weight.insert(position, weight)
        self.stat.insert(position, stat)
        self.limit.insert(position, limit)
        if recompute:
            self._recompute()

    def _recompute(self) -> None:
        clock, top = self.ready, -np.inf
        self.finish, self.running_max_key = [], []
        for key, minutes in zip(self.keys, self.minutes, strict=True):
            clock += minutes
            top = max(top, key)
            self.finish.append(clock)
            self.running_max_key.append(top)
        slack, running = [], np.inf
        for finish, limit in zip(reversed(self.finish), reversed(self.limit), strict=True):
            running = min(running, limit - finish)
            slack.append(running)
        self.suffix_slack = slack[::-1]


@dataclass(frozen=True)
class Placement:
    """Where the fast path put a study (radiologist None: nobody eligible could take it)."""

    study: str
    radiologist: str | None
    position: int
    start: datetime | None
    finish: datetime | None
    late_minutes: float
    eligible_radiologists: int


@dataclass(frozen=True)
class _Price:
    key: tuple[float, ...]
    position: int
    start: float
    finish: float


class LivePlan:
    """The current plan, ready to take one arrival at a time."""

    def __init__(self, snapshot: Snapshot, queues: dict[str, list[str]] | None = None) -> None:
        self.now = snapshot.now
        self.settings = snapshot.settings
        self.facility_zone = {f.id: f.timezone for f in snapshot.facilities}
        self.facility_sla = {f.id: f.sla_minutes for f in snapshot.facilities}
        readers = snapshot.radiologists
        self.reader_ids = [r.id for r in readers]
        self._reader_index = {rid: i for i, rid in enumerate(self.reader_ids)}
        self.speed = np.array([r.speed for r in readers], dtype=float)
        self.backlog = np.array([r.backlog_minutes for r in readers], dtype=float)
        self.shift_end = np.array([minutes_between(self.now, r.shift_end) for r in readers])
        ready = np.maximum(
            self.backlog, np.array([minutes_between(self.now, r.shift_start) for r in readers])
        )
        self.modalities = [frozenset(r.modalities) for r in readers]
        self.subspecialties = [frozenset(r.subspecialties) for r in readers]
        self._modality_ok = {
            m: np.array([not held or m in held for held in self.modalities], dtype=bool)
            for m in Modality
        }
        self._credentials = [{c.facility: c.expires_on for c in r.credentials} for r in readers]
        self._license_until = self._validity_table(
            [
                [(lic.state, lic.expires_on, state_time_zone(lic.state)) for lic in r.licenses]
                for r in readers
            ]
        )
        self._credential_until = self._validity_table(
            [
                [
                    (c.facility, c.expires_on, self._facility_zone(c.facility, None))
                    for c in r.credentials
                ]
                for r in readers
            ]
        )
        self._ready = ready
        self._shift_start = [r.shift_start for r in readers]
        self._queues = [_Queue(float(t)) for t in ready]
        self.load = self.backlog.copy()
        self._studies = {s.id: s for s in snapshot.studies}
        self._owner: dict[str, int] = {}
        for reader_id, study_ids in (queues or {}).items():
            reader = self._reader_index[reader_id]
            queue = self._queues[reader]
            for study_id in study_ids:
                entry = self._entry(self._studies[study_id], reader)
                queue.append(entry)
                self.load[reader] += entry[2]
                self._owner[study_id] = reader
            queue._recompute()

    def queue(self, reader_id: str) -> list[str]:
        return list(self._queues[self._reader_index[reader_id]].studies)

    def overrunning(self) -> list[str]:
        """Studies whose place in a queue now ends past the reader's limit (shift end,
        license or privileges): the clock moved on, a shift was shortened, a license lapsed."""
        late = []
        for queue in self._queues:
            for study, finish, limit in zip(queue.studies, queue.finish, queue.limit, strict=True):
                if finish > limit + FINISH_SLACK_MINUTES:
                    late.append(study)
        return late

    def planned_start(self, study_id: str) -> float | None:
        """When the plan expects the study to start, in minutes after the plan's `now`."""
        reader = self._owner.get(study_id)
        if reader is None:
            return None
        queue = self._queues[reader]
        position = queue.studies.index(study_id)
        return queue.finish[position] - queue.minutes[position]

    def has_reader(self, reader_id: str) -> bool:
        return reader_id in self._reader_index

    def owner(self, study_id: str) -> str | None:
        reader = self._owner.get(study_id)
        return None if reader is None else self.reader_ids[reader]

    def remove(self, study_id: str) -> str | None:
        """Take a study out of its reader's queue (handed back, moved or started)."""
        reader = self._owner.pop(study_id, None)
        if reader is None:
            return None
        queue = self._queues[reader]
        self.load[reader] -= queue.pop(queue.studies.index(study_id))
        return self.reader_ids[reader]

    def begin(
        self,
        study_id: str,
        minutes_from_now: float,
        reading_minutes: float,
        reader_id: str | None = None,
    ) -> None:
        """A reader started this study: it leaves its queue and occupies the reader.

        `reader_id` names who started it when that is not the reader it was planned for (a
        free reader took it from another queue): they are free, so they start it now.
        """
        owner = self._owner.get(study_id)
        if reader_id is not None and reader_id in self._reader_index:
            reader = self._reader_index[reader_id]
            start = (
                minutes_from_now if reader != owner else max(self._ready[reader], minutes_from_now)
            )
        elif owner is not None:
            reader, start = owner, max(self._ready[owner], minutes_from_now)
        else:
            return
        if owner is not None:
            self.remove(study_id)
        self._occupy(reader, start + reading_minutes)
        self.load[reader] += reading_minutes

    def release_reader(self, reader_id: str, minutes_from_now: float) -> None:
        """The reader finished what they were reading: free from now (not before shift)."""
        reader = self._reader_index.get(reader_id)
        if reader is None:
            return
        start = minutes_between(self.now, self._shift_start[reader])
        self.load[reader] = float(sum(self._queues[reader].minutes))
        self._occupy(reader, max(minutes_from_now, start))

    def catch_up(self, minutes_from_origin: float) -> None:
        """Time moved on: a reader idle since the plan was built is free from now, not then.

        Keeps a cached plan honest without rebuilding it from the database.
        """
        for reader in np.flatnonzero(self._ready < minutes_from_origin).tolist():
            self._occupy(reader, minutes_from_origin)

    def _occupy(self, reader: int, ready: float) -> None:
        self._ready[reader] = ready
        queue = self._queues[reader]
        queue.ready = ready
        queue._recompute()

    def place(self, study: SnapshotStudy, reader_id: str) -> Placement | None:
        """Put a study with one named reader, after everything more urgent; None if it cannot go.

        Used to keep one patient's studies together and for a manual override.
        """
        reader = self._reader_index.get(reader_id)
        if reader is None:
            return None
        minutes = study.expected_minutes / self.speed
        limits = self._limits(study)
        candidates = self._eligible(study, minutes, limits)
        if not candidates[reader]:
            return None
        entry = self._entry(study, reader, limit=float(limits[reader]))
        price = self._price(study, reader, entry)
        if price is None:
            return None
        self._studies[study.id] = study
        return self._commit(study.id, reader, price, entry, int(candidates.sum()))

    def assign_one(self, study: SnapshotStudy, *, exclude: str | None = None) -> Placement:
        """Insert one arrival where it costs the plan least, and say where.

        `exclude` names a reader who must not get it (they just handed it back).
        """
        self._studies[study.id] = study
        minutes = study.expected_minutes / self.speed
        limits = self._limits(study)
        candidates = self._eligible(study, minutes, limits)
        if exclude is not None and exclude in self._reader_index:
            candidates[self._reader_index[exclude]] = False
        due = self._due(study)
        key = study.priority.rank * _KEY_SPAN + due
        weight = self.settings.priority_weights.weight(study.priority)
        stat = study.priority.value == "STAT"
        best: tuple[int, _Price] | None = None
        for reader in np.flatnonzero(candidates).tolist():
            entry = (
                study.id,
                key,
                float(minutes[reader]),
                due,
                weight,
                stat,
                float(limits[reader]),
            )
            price = self._price(study, reader, entry)
            if price is not None and (best is None or compare_keys(price.key, best[1].key) < 0):
                best = (reader, price)
        eligible = int(candidates.sum())
        if best is None:
            return Placement(study.id, None, -1, None, None, 0.0, eligible)
        reader, price = best
        entry = (study.id, key, float(minutes[reader]), due, weight, stat, float(limits[reader]))
        return self._commit(study.id, reader, price, entry, eligible)

    def _commit(
        self, study_id: str, reader: int, price: _Price, entry: _Entry, eligible: int
    ) -> Placement:
        self._queues[reader].insert(price.position, entry)
        self.load[reader] += entry[2]
        self._owner[study_id] = reader
        return Placement(
            study=study_id,
            radiologist=self.reader_ids[reader],
            position=price.position,
            start=at_minutes(self.now, price.start),
            finish=at_minutes(self.now, price.finish),
            late_minutes=max(0.0, price.finish - entry[3]),
            eligible_radiologists=eligible,
        )

    def _facility_zone(self, facility: str, state: str | None) -> str:
        zone = self.facility_zone.get(facility)
        if zone:
            return zone
        return state_time_zone(state) if state else "America/New_York"

    def _validity_table(
        self, held: list[list[tuple[str, date | None, str]]]
    ) -> dict[str, np.ndarray]:
        """key (state or facility) -> per-reader 'valid until' minutes (-inf: not held)."""
        table: dict[str, np.ndarray] = {}
        for reader, items in enumerate(held):
            for key, expires_on, zone in items:
                column = table.setdefault(key, np.full(len(held), -np.inf))
                column[reader] = max(
                    column[reader], valid_until_minutes(self.now, expires_on, zone)
                )
        return table

    def _limits(self, study: SnapshotStudy) -> np.ndarray:
        """Per reader, the latest finish: shift end, license in the state, facility privileges."""
        missing = np.full(len(self.reader_ids), -np.inf)
        license_until = self._license_until.get(study.state, missing)
        credential_until = self._credential_until.get(study.facility, missing)
        if study.facility not in self.facility_zone and study.facility in self._credential_until:
            # Privileges are dated in the facility's zone; without a contract, its state's.
            credential_until = self._credentials_in_state_zone(study)
        return np.minimum(np.minimum(license_until, credential_until), self.shift_end)

    def _credentials_in_state_zone(self, study: SnapshotStudy) -> np.ndarray:
        zone = state_time_zone(study.state)
        return np.array(
            [
                valid_until_minutes(self.now, creds[study.facility], zone)
                if study.facility in creds
                else -np.inf
                for creds in self._credentials
            ]
        )

    def _eligible(
        self, study: SnapshotStudy, minutes: np.ndarray, limits: np.ndarray
    ) -> np.ndarray:
        """Readers passing every hard rule at their earliest finish, as a boolean vector."""
        earliest = self._ready + minutes
        ok = (earliest <= limits + FINISH_SLACK_MINUTES) & self._modality_ok[
            Modality(study.modality)
        ]
        if study.subspecialty_required:
            ok &= np.array([study.subspecialty in held for held in self.subspecialties], dtype=bool)
        return ok

    def _minutes(self, study: SnapshotStudy, reader: int) -> float:
        return study.expected_minutes / float(self.speed[reader])

    def _due(self, study: SnapshotStudy) -> float:
        if study.due_at is not None:
            return minutes_between(self.now, study.due_at)
        contract = self.facility_sla.get(study.facility)
        defaults = self.settings.sla_defaults()
        sla = contract.minutes(study.priority, defaults) if contract else defaults[study.priority]
        return minutes_between(self.now, study.arrived_at) + sla

    def _entry(self, study: SnapshotStudy, reader: int, limit: float | None = None) -> _Entry:
        due = self._due(study)
        return (
            study.id,
            study.priority.rank * _KEY_SPAN + due,
            self._minutes(study, reader),
            due,
            self.settings.priority_weights.weight(study.priority),
            study.priority.value == "STAT",
            float(self._limits(study)[reader]) if limit is None else limit,
        )

    def _price(self, study: SnapshotStudy, reader: int, entry: _Entry) -> _Price | None:
        """Cost of slotting the study after everything more urgent in this reader's queue."""
        queue = self._queues[reader]
        _, key, minutes, due, weight, stat, limit = entry
        position = bisect.bisect_right(queue.running_max_key, key)
        fits_later = position == len(queue.finish) or queue.suffix_slack[position] >= minutes
        if not fits_later:
            position = len(queue.finish)  # would push a later read past its limit: go last
        start = queue.finish[position - 1] if position else queue.ready
        finish = start + minutes
        if finish > limit + FINISH_SLACK_MINUTES:
            return None
        late = max(0.0, finish - due)
        breaches = int(stat and late > FINISH_SLACK_MINUTES)
        weighted_late = weight * late
        for j in range(position, len(queue.finish)):
            before = queue.finish[j] - queue.due[j]
            after = before + minutes
            if after > 0:
                weighted_late += queue.weight[j] * (after - max(before, 0.0))
                if queue.stat[j] and before <= FINISH_SLACK_MINUTES < after:
                    breaches += 1
        load = float(self.load[reader])
        balance = ((load + minutes) ** 2 - load**2) / 3600.0
        preference = self.settings.preference_weights.workload_balance * balance
        if study.subspecialty and study.subspecialty not in self.subspecialties[reader]:
            preference += self.settings.preference_weights.subspecialty_mismatch
        return _Price((float(breaches), weighted_late, preference, finish), position, start, finish)
