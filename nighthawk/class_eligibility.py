"""Who may read which class of study (facility, modality, required subspecialty), as arrays.

Per class, each reader gets the minute (after the scenario's start) until which they may read
it: license in the facility's state and privileges there, whichever expires first; -inf where
the reader never may (no license, no privileges, another modality, missing subspecialty).
The simulator checks a reader with one lookup; the coverage planner compares whole columns.
"""

from __future__ import annotations

import numpy as np

from models.priority import Modality
from models.scenario import Scenario
from nighthawk.clock import state_time_zone, valid_until_minutes

MODALITIES = tuple(Modality)


class ClassEligibility:
    """License in the facility's state, privileges at the facility, modality, subspecialty,
    as per-reader arrays, so a class's column is a few vector operations."""

    def __init__(self, scenario: Scenario, facility_ids: list[str], states: list[str]) -> None:
        start = scenario.start
        zones = {f.id: f.timezone for f in scenario.facilities}
        readers = scenario.radiologists
        state_index = {state: i for i, state in enumerate(sorted(set(states)))}
        facility_index = {fid: i for i, fid in enumerate(facility_ids)}
        self.facility_state = np.array([state_index[s] for s in states], dtype=np.int64)
        self.license = np.full((len(readers), len(state_index)), -np.inf)
        self.credential = np.full((len(readers), len(facility_ids)), -np.inf)
        self.modality_ok = np.ones((len(readers), len(MODALITIES)), dtype=bool)
        for r, spec in enumerate(readers):
            for lic in spec.licenses:
                if lic.state in state_index:
                    until = valid_until_minutes(start, lic.expires_on, state_time_zone(lic.state))
                    column = state_index[lic.state]
                    self.license[r, column] = max(self.license[r, column], until)
            for cred in spec.credentials:
                until = valid_until_minutes(start, cred.expires_on, zones[cred.facility])
                column = facility_index[cred.facility]
                self.credential[r, column] = max(self.credential[r, column], until)
            if spec.modalities:
                self.modality_ok[r] = [m in spec.modalities for m in MODALITIES]
        self.subspecialties = [frozenset(r.subspecialties) for r in readers]

    def until(self, facility: int, modality: Modality, subspecialty: str | None) -> np.ndarray:
        until = np.minimum(
            self.license[:, self.facility_state[facility]], self.credential[:, facility]
        )
        allowed = self.modality_ok[:, MODALITIES.index(modality)].copy()
        if subspecialty is not None:
            allowed &= np.array([subspecialty in held for held in self.subspecialties])
        until[~allowed] = -np.inf
        return until
