"""Who may read which class of study (facility, modality, required subspecialty), as arrays.

Per class, each reader gets the minute (after the scenario's start) until which they may read
it, from the kernel's rights (`nighthawk.kernel.Rights.until`): license in the facility's
state and privileges there, whichever expires first; -inf where the reader never may (no
license, no privileges, another modality, missing subspecialty). The simulator checks a reader
with one lookup; the coverage planner compares whole columns.
"""

from __future__ import annotations

import numpy as np

from models.priority import Modality
from models.scenario import Scenario
from nighthawk.kernel import NEVER, Rights, facility_zone_of, rights_of

MODALITIES = tuple(Modality)


class ClassEligibility:
    """The kernel's rights of every reader of a scenario, asked one class at a time."""

    def __init__(self, scenario: Scenario, facility_ids: list[str], states: list[str]) -> None:
        zones = {f.id: f.timezone for f in scenario.facilities}
        self.facility_ids = facility_ids
        self.states = states
        self.rights: list[Rights] = [
            rights_of(reader, scenario.start, lambda f: facility_zone_of(f, zones))
            for reader in scenario.radiologists
        ]
        # The same rights laid out per rule, for explaining a gap (which document is missing).
        state_index = {state: i for i, state in enumerate(sorted(set(states)))}
        self.facility_state = np.array([state_index[s] for s in states], dtype=np.int64)
        self.license = np.array(
            [[r.licenses.get(s, NEVER) for s in state_index] for r in self.rights], dtype=float
        ).reshape(len(self.rights), len(state_index))
        self.credential = np.array(
            [[r.credentials.get(f, NEVER) for f in facility_ids] for r in self.rights],
            dtype=float,
        ).reshape(len(self.rights), len(facility_ids))
        self.modality_ok = np.array(
            [[not r.modalities or m in r.modalities for m in MODALITIES] for r in self.rights],
            dtype=bool,
        ).reshape(len(self.rights), len(MODALITIES))
        self.subspecialties = [r.subspecialties for r in self.rights]

    def until(self, facility: int, modality: Modality, subspecialty: str | None) -> np.ndarray:
        state, facility_id = self.states[facility], self.facility_ids[facility]
        return np.array(
            [rights.until(state, facility_id, modality, subspecialty) for rights in self.rights],
            dtype=float,
        )
