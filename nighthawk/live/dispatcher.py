"""The live dispatcher: one object the service and the simulator both drive.

It holds the practice as arrays (`state.py`), the waiting studies (`pool.py`) and studies
pinned to a reader by a manual override, and answers three questions:
- `choose(reader, now)`: what a free reader should start now (`choice.py`);
- `arrive(study, now)`: who, among readers idle now, should take a new study at once;
- `forecast(now)`: who is expected to read what, and when, if nothing else arrives
  (`forecast.py`): each reader's worklist, predictions and at-risk marks.

The service is its persistence adapter (it feeds deltas read from and written to the database)
and the simulator its clock adapter (it feeds simulated events); neither decides anything the
dispatcher does not. It knows nothing of SQL, HTTP or simulated time.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from nighthawk.kernel import FINISH_SLACK_MINUTES, MIN_REMAINING_MINUTES, Rights
from nighthawk.live.choice import Board, Choice, ChoiceRules, choose, free_times
from nighthawk.live.pool import Pool
from nighthawk.live.state import (
    DONE,
    NOBODY,
    READING,
    WAITING,
    Classes,
    Readers,
    Studies,
    StudyFacts,
)


@dataclass(frozen=True)
class DispatchSettings:
    rules: ChoiceRules = field(default_factory=ChoiceRules)
    # Who of several idle readers takes an arrival: the one who may read the fewest classes
    # ("narrowest"), or the one idle longest ("longest_idle", as a shared worklist does).
    route_arrivals: str = "narrowest"
    # A STAT goes to the fastest of them (on a tie, the narrowest): its clock is short, and a
    # faster reader finishes it sooner and more surely.
    route_stat_to_fastest: bool = True


class Dispatcher:
    def __init__(self, settings: DispatchSettings | None = None) -> None:
        self.settings = settings or DispatchSettings()
        self.readers = Readers()
        self.classes = Classes()
        self.studies = Studies()
        self.pool = Pool()
        self.held: list[list[int]] = []  # per reader: studies pinned or offered to them
        self.board = Board(
            self.readers, self.classes, self.studies, self.pool, self.held, self.settings.rules
        )

    # ----- the roster ---------------------------------------------------------------------
    def add_reader(self, reader_id: Hashable, *, speed: float, rights: Rights) -> int:
        reader = self.readers.add(reader_id, speed, rights)
        self.held.append([])
        self.classes.refresh_reader(reader, rights, self.readers)
        return reader

    def set_rights(self, reader_id: Hashable, rights: Rights, speed: float | None = None) -> None:
        reader = self.readers.index[reader_id]
        self.readers.rights[reader] = rights
        if speed is not None:
            self.readers.speed[reader] = speed
        self.classes.refresh_reader(reader, rights, self.readers)

    def set_shift(self, reader_id: Hashable, start: float, end: float) -> None:
        """The reader's current stretch on duty, else their next (inf, inf: none ahead)."""
        reader = self.readers.index[reader_id]
        self.readers.shift_start[reader] = start
        self.readers.shift_end[reader] = end

    def set_backlog(self, reader_id: Hashable, until: float) -> None:
        """Work in hand that is no study of ours (a snapshot's backlog): busy until then."""
        reader = self.readers.index[reader_id]
        if self.readers.reading[reader] == NOBODY:
            self.readers.busy_until[reader] = until

    def set_available(self, reader_id: Hashable, available: bool) -> None:
        self.readers.available[self.readers.index[reader_id]] = available

    # ----- studies ------------------------------------------------------------------------
    def arrive(self, facts: StudyFacts, now: float) -> int:
        """Register a waiting study; returns the idle reader who should start it now, or
        NOBODY. Among idle readers who could start it, the one who may read the fewest
        classes of work takes it, keeping the versatile free for what only they can read."""
        klass = self.classes.of(facts.klass, self.readers)
        study = self.studies.add(facts, klass)
        self.pool.add(study, self.studies)
        return self._idle_taker(study, now)

    def _idle_taker(self, study: int, now: float) -> int:
        readers = self.classes.readers[int(self.studies.klass[study])]
        if not len(readers):
            return NOBODY
        state = self.readers
        idle = (state.reading[readers] == NOBODY) & state.available[readers]
        idle &= (state.shift_start[readers] <= now) & (now < state.shift_end[readers])
        waiting = [r for r in readers[idle].tolist() if not self._has_offer(r)]
        if not waiting:
            return NOBODY
        candidates = np.array(waiting, dtype=np.int64)
        finish = now + float(self.studies.expected[study]) / state.speed[candidates]
        limit = np.minimum(
            self.classes.until[self.studies.klass[study], candidates],
            state.shift_end[candidates],
        )
        candidates = candidates[finish <= limit + FINISH_SLACK_MINUTES]
        if not len(candidates):
            return NOBODY
        if self.settings.route_arrivals == "longest_idle":
            return int(candidates[np.argmin(self.readers.idle_since[candidates])])
        # Versatility: the classes seen so far that they may read, then their rights' breadth.
        reach = self.classes.reach[candidates]
        breadth = np.array([state.rights[r].breadth for r in candidates.tolist()])
        if self.settings.route_stat_to_fastest and self.studies.rank[study] == 0:
            order = np.lexsort((breadth, reach, -state.speed[candidates]))
        else:
            order = np.lexsort((breadth, reach))
        return int(candidates[order[0]])

    def _has_offer(self, reader: int) -> bool:
        """Already given their next (a free reader with an offer is not waiting for work)."""
        offered = self.studies.offered
        return any(offered[s] for s in self.held[reader])

    def pin(self, study_id: Hashable, reader_id: Hashable) -> None:
        """A manual override: only this reader takes the study."""
        self._hold(self.studies.index[study_id], self.readers.index[reader_id], offered=False)

    def offer(self, study_id: Hashable, reader_id: Hashable) -> None:
        """The study is this free reader's next: others leave it to them until they start
        something (their other offers then go back to everyone) or it is withdrawn."""
        self._hold(self.studies.index[study_id], self.readers.index[reader_id], offered=True)

    def withdraw_offers(self, reader_id: Hashable) -> None:
        """The reader is no longer free to take what was offered: back to everyone."""
        self._withdraw(self.readers.index[reader_id])

    def offers(self, reader_id: Hashable) -> list[Hashable]:
        reader = self.readers.index[reader_id]
        return [self.studies.ids[s] for s in self.held[reader] if self.studies.offered[s]]

    def release_unworkable_holds(self, now: float) -> list[Hashable]:
        """Held studies whose reader can no longer take them go back to everyone: a pinned
        one whose reader logged out, has no stretch ahead, or would now end it past their
        shift or rights; an offered one whose reader is no longer free to start it now.
        Returns the pinned ones released (their rows say pinned)."""
        released = []
        studies = self.studies
        for reader, held in enumerate(self.held):
            for study in list(held):
                offered = bool(studies.offered[study])
                if self._workable(study, reader, now, offered=offered):
                    continue
                self._unqueue(study)
                self.pool.add(study, studies)
                if not offered:
                    released.append(studies.ids[study])
        return released

    def _workable(self, study: int, reader: int, now: float, *, offered: bool) -> bool:
        readers, studies = self.readers, self.studies
        busy = readers.reading[reader] != NOBODY
        if offered and (busy or not readers.on_duty(reader, now)):
            return False
        start = max(now, float(readers.shift_start[reader]))
        if start == math.inf:
            return False  # no stretch on duty ahead
        if busy:
            start = max(start, float(readers.busy_until[reader]))
        finish = start + float(studies.expected[study]) / float(readers.speed[reader])
        limit = min(
            float(self.classes.until[studies.klass[study], reader]),
            float(readers.shift_end[reader]),
        )
        return bool(readers.available[reader]) and finish <= limit + FINISH_SLACK_MINUTES

    def _hold(self, study: int, reader: int, *, offered: bool) -> None:
        self._unqueue(study)
        self.studies.holder[study] = reader
        self.studies.offered[study] = offered
        self.held[reader].append(study)

    def _withdraw(self, reader: int) -> None:
        for study in [s for s in self.held[reader] if self.studies.offered[s]]:
            self._unqueue(study)
            self.pool.add(study, self.studies)

    def exclude(self, study_id: Hashable, reader_id: Hashable) -> None:
        """The reader handed the study back: never offer it to them again."""
        study, reader = self.studies.index[study_id], self.readers.index[reader_id]
        self.studies.excluded.setdefault(study, set()).add(reader)

    def _unqueue(self, study: int) -> None:
        if study in self.pool:
            self.pool.remove(study, self.studies)
        holder = int(self.studies.holder[study])
        if holder != NOBODY:
            self.held[holder].remove(study)
            self.studies.holder[study] = NOBODY
            self.studies.offered[study] = False

    # ----- the reading workflow -------------------------------------------------------------
    def choose(self, reader_id: Hashable, now: float) -> Choice | None:
        """What this reader, free at `now`, should start (None: nothing they may start)."""
        reader = self.readers.index[reader_id]
        if self.readers.reading[reader] != NOBODY:
            return None
        free = free_times(self.readers, now, MIN_REMAINING_MINUTES)
        return choose(self.board, reader, now, free)

    def start(self, study_id: Hashable, reader_id: Hashable, now: float) -> None:
        study, reader = self.studies.index[study_id], self.readers.index[reader_id]
        self._unqueue(study)
        self._withdraw(reader)
        self.studies.status[study] = READING
        self.readers.reading[reader] = study
        minutes = float(self.studies.expected[study]) / float(self.readers.speed[reader])
        self.readers.busy_until[reader] = now + minutes

    def finish(self, reader_id: Hashable, now: float) -> None:
        """The read in hand is done (reported)."""
        reader = self.readers.index[reader_id]
        self.readers.idle_since[reader] = now
        study = int(self.readers.reading[reader])
        if study != NOBODY:
            self.studies.status[study] = DONE
        self.readers.reading[reader] = NOBODY
        self.readers.busy_until[reader] = -math.inf

    def give_back(self, study_id: Hashable) -> None:
        """A study being read goes back to waiting (its reader handed it back)."""
        study = self.studies.index[study_id]
        for reader in np.flatnonzero(self.readers.reading[: len(self.readers)] == study).tolist():
            self.readers.reading[reader] = NOBODY
            self.readers.busy_until[reader] = -math.inf
        self.studies.status[study] = WAITING
        self.pool.add(study, self.studies)

    def return_to_pool(self, study_id: Hashable) -> None:
        """A waiting study held for someone (pinned or offered) goes back to everyone."""
        study = self.studies.index[study_id]
        self._unqueue(study)
        self.pool.add(study, self.studies)

    def cancel(self, study_id: Hashable) -> None:
        """The order was cancelled: it leaves every queue."""
        study = self.studies.index[study_id]
        self._unqueue(study)
        self.studies.status[study] = DONE

    def facts(self, study_id: Hashable) -> StudyFacts:
        """What the dispatcher was told of a study (to replay it into another dispatcher)."""
        studies = self.studies
        study = studies.index[study_id]
        return StudyFacts(
            id=study_id,
            klass=self.classes.keys[int(studies.klass[study])],
            rank=int(studies.rank[study]),
            arrival=float(studies.arrival[study]),
            due=float(studies.due[study]),
            expected_minutes=float(studies.expected[study]),
            subspecialty=studies.subspecialty[study],
            patient=studies.patient[study],
        )

    def waiting(self) -> list[Hashable]:
        ids = self.studies.ids
        return [ids[s] for s in np.flatnonzero(self.studies.status[: len(ids)] == WAITING)]
