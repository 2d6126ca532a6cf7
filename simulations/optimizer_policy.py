"""The `optimizer` policy: the real engine driving the simulation, as the service runs it.

At arrival the fast path (`LivePlan.assign_one`) slots the study into the live plan. The
optimizer re-plans every unstarted study every `replan_minutes` and at every shift change;
between re-plans a reader who frees up binds late, as a shared worklist would: they take work
they could start now that waits in someone else's queue (see `_choose`). CP-SAT runs on
deterministic time, so a seed reproduces a run.
"""

from __future__ import annotations

import math

from models.domain import Facility, RadiologistProfile
from models.priority import Modality
from models.snapshot import Settings, Snapshot, SnapshotRadiologist, SnapshotStudy
from models.types import MAX_READ_MINUTES, MAX_SHIFT_HOURS
from nighthawk.fastpath import LivePlan
from nighthawk.optimizer import SolveOptions, optimize
from simulations.engine import NOBODY, Policy, Simulation
from simulations.world import MODALITIES, PRIORITIES

# Readers coming on within this many minutes are planned for, as greedy plans for them.
LOOKAHEAD_MINUTES = 12 * 60.0


class OptimizerPolicy(Policy):
    name = "optimizer"

    def attach(self, sim: Simulation) -> None:
        super().attach(sim)
        scenario = self.world.scenario
        self.options = scenario.policy
        self.facilities: list[Facility] = list(scenario.facilities)
        self.settings = Settings(sla_minutes=scenario.sla_minutes)
        # Profile fields as they are (License and Credential objects, not dicts): the
        # snapshot is built with model_construct, which does not convert.
        self.profiles = [
            {name: getattr(r, name) for name in RadiologistProfile.model_fields}
            for r in scenario.radiologists
        ]
        self.open: dict[int, None] = {}  # unstarted studies, in arrival order
        self.origin = 0.0
        self.live = LivePlan(self._snapshot([]))
        self.replans = 0
        self.last_replan = -math.inf
        sim.schedule_tick(self.options.replan_minutes)

    # ----- events -----------------------------------------------------------------------
    def on_arrival(self, study: int) -> None:
        self.open[study] = None
        self.live.catch_up(self.sim.now - self.origin)
        placement = self.live.assign_one(self._study(study, None, None))
        if placement.radiologist is not None:
            reader = self.world.reader_index[placement.radiologist]
            self.sim.mark_assigned(study, reader)
        # Someone idle may take it now if its planned reader cannot (see `_choose`).
        idle = self.sim.idle_who_can_start(study)
        if idle != NOBODY:
            self.sim.wake(idle)

    def next_for(self, reader: int) -> int:
        reader_id = self.world.reader_ids[reader]
        if not self.live.has_reader(reader_id):
            if self.last_replan >= self.sim.now:
                return NOBODY
            self.replan()  # on shift but not in the plan yet: plan with them
            if not self.live.has_reader(reader_id):
                return NOBODY
        self.live.catch_up(self.sim.now - self.origin)
        study = self._choose(reader, reader_id)
        if study == NOBODY:
            return NOBODY
        self._begin(reader, study)
        # Work this reader took may have been ahead of studies now left waiting for them:
        # anyone idle gets to look again, as a shared worklist would let them.
        for other in self.sim.idle_readers():
            if other != reader:
                self.sim.wake(other)
        return study

    def _choose(self, reader: int, reader_id: str) -> int:
        """What this free reader starts: from their own queue or, binding late as a shared
        worklist does, a study they could start now that would otherwise wait for its planned
        reader (or for nobody). Among those, the engine's own order: the most urgent class
        first; a STAT that can still meet its contract before one already lost (the
        objective's STAT-breach tier); then the earliest due. Only STATs are triaged: a lost
        URGENT or ROUTINE study kept behind saveable ones would starve while new ones arrive
        (the objective's late minutes keep growing for it, so it reads earliest-due first)."""
        sim, studies = self.sim, self.studies
        candidates = [int(s) for s in self.live.queue(reader_id)]
        if self.options.rebind_when_idle:
            candidates += [s for s in self.open if self._waits(s, reader_id)]
        best, best_key = NOBODY, (9, True, math.inf, 0)
        for study in candidates:
            if not sim.can_start_now(reader, study):
                continue
            priority = int(studies.priority[study])
            lost = priority == 0 and sim.now + sim.minutes_for(study, reader) > studies.due[study]
            key = (priority, bool(lost), float(studies.due[study]), study)
            if key < best_key:
                best, best_key = study, key
        return best

    def on_finish(self, reader: int, study: int) -> None:
        reader_id = self.world.reader_ids[reader]
        if self.live.has_reader(reader_id):  # else the read ran past the end of the shift
            self.live.release_reader(reader_id, self.sim.now - self.origin)

    def on_shift_start(self, reader: int) -> None:
        self.replan()

    def on_shift_end(self, reader: int) -> None:
        self.replan()

    def on_tick(self) -> None:
        self.replan()
        upcoming = self.sim.now + self.options.replan_minutes
        if upcoming <= self.world.run_until:
            self.sim.schedule_tick(upcoming)

    # ----- re-planning ------------------------------------------------------------------
    def replan(self) -> None:
        """Optimize every unstarted study from the current plan; wake idle readers."""
        sim = self.sim
        current = {
            study: (self.live.owner(str(study)), position)
            for reader_id in self.world.reader_ids
            if self.live.has_reader(reader_id)
            for position, study in enumerate(map(int, self.live.queue(reader_id)))
        }
        studies = [self._study(s, *current.get(s, (None, None))) for s in self.open]
        snapshot = self._snapshot(studies)
        queues: dict[str, list[str]] = {}
        if studies and snapshot.radiologists:
            options = SolveOptions(
                time_limit=self.options.solver_budget,
                deterministic=True,
                explain=False,
                keep_current=True,
                search_only_if_late=True,
            )
            result = optimize(snapshot, options)
            ids, readers = result.problem.studies.ids, result.problem.readers.ids
            queues = {
                readers[r]: [ids[i] for i in queue]
                for r, queue in enumerate(result.schedule.queues)
                if queue
            }
        self.live = LivePlan(snapshot, queues)
        self.origin = self.last_replan = sim.now
        self.replans += 1
        for reader_id, queue in queues.items():
            reader = self.world.reader_index[reader_id]
            for study_id in queue:
                sim.mark_assigned(int(study_id), reader, wake=False)
        for reader in sim.idle_readers():
            sim.wake(reader)

    def _waits(self, study: int, reader_id: str) -> bool:
        """Planned for nobody, or for someone else who cannot start it within a minute: still
        reading (however long the read overruns its expectation) or with work before it."""
        owner = self.live.owner(str(study))
        if owner is None:
            return True
        if owner == reader_id:
            return False
        if self.sim.busy[self.world.reader_index[owner]]:
            return True
        planned = self.live.planned_start(str(study))
        return planned is None or planned + self.origin > self.sim.now + 1.0

    def _begin(self, reader: int, study: int) -> None:
        minutes = self.sim.minutes_for(study, reader)
        reader_id = self.world.reader_ids[reader]
        self.live.begin(str(study), self.sim.now - self.origin, minutes, reader_id)
        del self.open[study]

    # ----- snapshots ----------------------------------------------------------------------
    def _snapshot(self, studies: list[SnapshotStudy]) -> Snapshot:
        """The practice as the engine sees it now; built without re-validating what the
        scenario already validated (a re-plan runs hundreds of times per simulated day)."""
        sim = self.sim
        now = sim.now
        readers = []
        for r, profile in enumerate(self.profiles):
            start, end = float(sim.stretch_start[r]), float(sim.stretch_end[r])
            if start - now > LOOKAHEAD_MINUTES or math.isinf(start):
                continue
            end = min(end, max(start, now) + MAX_SHIFT_HOURS * 60 - 1)
            backlog = 0.0
            if sim.busy[r]:
                # An overrunning read still holds the reader; assume a minute more at least.
                backlog = min(max(float(sim.expected_free[r]) - now, 1.0), MAX_READ_MINUTES)
            readers.append(
                SnapshotRadiologist.model_construct(
                    **profile,
                    shift_start=self.world.at(start),
                    shift_end=self.world.at(end),
                    backlog_minutes=backlog,
                )
            )
        return Snapshot.model_construct(
            now=self.world.at(now),
            radiologists=readers,
            studies=studies,
            facilities=self.facilities,
            settings=self.settings,
        )

    def _study(self, study: int, assigned_to: str | None, position: int | None) -> SnapshotStudy:
        s = self.studies
        facility = int(s.facility[study])
        return SnapshotStudy.model_construct(
            id=str(study),
            facility=self.world.facility_ids[facility],
            state=self.world.facility_states[facility],
            modality=Modality(MODALITIES[int(s.modality[study])]),
            subspecialty=s.subspecialty[study],
            subspecialty_required=bool(s.required[study]),
            priority=PRIORITIES[int(s.priority[study])],
            arrived_at=self.world.at(float(s.arrival[study])),
            due_at=self.world.at(float(s.due[study])),
            expected_minutes=float(s.expected[study]),
            assigned_to=assigned_to,
            queue_position=position,
        )
