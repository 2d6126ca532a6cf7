"""What of a replication is measured: studies that arrived after the warm-up, and the hours
from the end of the warm-up until arrivals stop (the drain after it would dilute utilization)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulations.results import ReplicationResult

__all__ = ["Measured", "measured_column", "measured_hours"]


def measured_column(result: ReplicationResult, column: str) -> np.ndarray:
    """One column of the measured studies (warm-up arrivals left out) as a numpy array.

    Cheaper than ``result.measured[column]``, which copies every column of the frame first.
    """
    return result.studies[column].to_numpy()[~result.studies["warmup"].to_numpy(dtype=bool)]


def measured_hours(result: ReplicationResult) -> np.ndarray:
    """Boolean mask over ``result.hours``: the hours that start inside the measured window
    (after the warm-up, before arrivals stop)."""
    inside = result.hours >= result.measured_from
    if result.measured_until is not None:
        inside &= result.hours < result.measured_until
    return np.asarray(inside, dtype=bool)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes (in order of first appearance) and names; a missing value becomes ""."""
    codes, uniques = pd.factorize(values)
    names = [str(name) for name in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names.append("")
    return codes, names


@dataclass(frozen=True)
class Measured:
    """The columns the statistics need, for the measured studies of one replication."""

    tat: np.ndarray
    wait: np.ndarray
    met: np.ndarray
    priority_codes: np.ndarray
    priorities: list[str]
    facility_codes: np.ndarray
    facilities: list[str]
    facility_states: list[str]

    @classmethod
    def of(cls, result: ReplicationResult) -> Measured:
        studies = result.studies
        keep = ~studies["warmup"].to_numpy(dtype=bool)
        # A study nobody finished counts as not met, whatever its flag says.
        met = studies["met_sla"].to_numpy(dtype=bool) & studies["finished_at"].notna().to_numpy()
        priority_codes, priorities = _factorize(studies["priority"].to_numpy()[keep])
        facility_codes, facilities = _factorize(studies["facility"].to_numpy()[keep])
        # Codes are numbered in order of first appearance, so these are each one's first row.
        first_rows = pd.Series(facility_codes).drop_duplicates().index.to_numpy()
        states = studies["state"].to_numpy()[keep][first_rows]
        return cls(
            tat=studies["tat_minutes"].to_numpy(dtype=float)[keep],
            wait=studies["wait_minutes"].to_numpy(dtype=float)[keep],
            met=met[keep],
            priority_codes=priority_codes,
            priorities=priorities,
            facility_codes=facility_codes,
            facilities=facilities,
            facility_states=[str(state) for state in states],
        )

    def is_priority(self, name: str) -> np.ndarray:
        if name not in self.priorities:
            return np.zeros(len(self.priority_codes), dtype=bool)
        return self.priority_codes == self.priorities.index(name)
