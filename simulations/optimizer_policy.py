"""The `optimizer` policy: the service's live dispatcher, driven by the simulator's clock.

This file only translates: simulated events become the dispatcher's deltas (an arrival, a
start, a finish, a shift starting or ending) and the dispatcher's answers become the loop's
actions. Every decision is `nighthawk.live.Dispatcher`'s, the same code the service runs, so a
figure measured here is a promise about the service.
"""

from __future__ import annotations

from models.priority import Modality
from nighthawk.kernel import facility_zone_of, rights_of
from nighthawk.live import Dispatcher, DispatchSettings, StudyFacts
from nighthawk.live.state import ClassKey
from simulations.engine import NOBODY, Policy, Simulation
from simulations.world import MODALITIES


class OptimizerPolicy(Policy):
    name = "optimizer"
    settings = DispatchSettings()

    def attach(self, sim: Simulation) -> None:
        super().attach(sim)
        scenario = self.world.scenario
        zones = {f.id: f.timezone for f in scenario.facilities}
        self.dispatcher = Dispatcher(self.settings)
        for r, profile in enumerate(scenario.radiologists):
            rights = rights_of(profile, scenario.start, lambda f: facility_zone_of(f, zones))
            self.dispatcher.add_reader(r, speed=float(self.world.speed[r]), rights=rights)
            self._shift(r)
        self._keys: dict[int, ClassKey] = {}

    def _class_key(self, klass: int) -> ClassKey:
        key = self._keys.get(klass)
        if key is None:
            facility, modality, subspecialty = self.world.class_keys[klass]
            key = self._keys[klass] = (
                self.world.facility_states[facility],
                self.world.facility_ids[facility],
                Modality(MODALITIES[modality]),
                subspecialty,
            )
        return key

    def _shift(self, reader: int) -> None:
        sim = self.sim
        self.dispatcher.set_shift(reader, float(sim.stretch_start[reader]), sim.stretch_end[reader])

    # ----- events -----------------------------------------------------------------------
    def on_arrival(self, study: int) -> None:
        s = self.studies
        facts = StudyFacts(
            id=study,
            klass=self._class_key(int(s.klass[study])),
            rank=int(s.priority[study]),
            arrival=float(s.arrival[study]),
            due=float(s.due[study]),
            expected_minutes=float(s.expected[study]),
            subspecialty=s.subspecialty[study],
        )
        taker = self.dispatcher.arrive(facts, self.sim.now)
        if taker != NOBODY:
            self.sim.wake(taker)

    def next_for(self, reader: int) -> int:
        choice = self.dispatcher.choose(reader, self.sim.now)
        if choice is None:
            return NOBODY
        study = int(self.dispatcher.studies.ids[choice.study])  # type: ignore[call-overload]
        self.dispatcher.start(study, reader, self.sim.now)
        self.sim.mark_assigned(study, reader, wake=False)
        return study

    def on_finish(self, reader: int, study: int) -> None:
        self.dispatcher.finish(reader, self.sim.now)

    def on_shift_start(self, reader: int) -> None:
        self._shift(reader)

    def on_shift_end(self, reader: int) -> None:
        self._shift(reader)
