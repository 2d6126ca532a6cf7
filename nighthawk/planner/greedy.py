"""The simple baseline: fill the most-demanded hours first, one shift at a time.

Repeatedly take the time cell with the most demand still unserved and staff, among the
shifts that cover it and fit the reader's labour rules, the one that serves the most unserved
demand over its whole length. It stops when all demand is served or nothing more fits. It is
the benchmark's baseline and the CP-SAT model's first hint.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from nighthawk.kernel import holds_through
from nighthawk.planner.instance import SCALE, Instance


class LabourState:
    """The shifts each reader already works, to check a new one against the hard rules."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.rest = instance.scenario.rules.min_rest_hours * 60
        self.nights_limit = instance.scenario.rules.max_consecutive_nights
        self.slots: dict[int, list[int]] = defaultdict(list)
        self.per_week: dict[tuple[int, int], int] = defaultdict(int)
        self.night_days: dict[int, list[int]] = defaultdict(list)

    def fits(self, reader: int, slot: int) -> bool:
        inst = self.instance
        if not inst.allowed[reader, slot]:
            return False
        new = inst.slots[slot]
        if self.per_week[reader, new.week] >= inst.max_per_week[reader]:
            return False
        for other in self.slots[reader]:
            old = inst.slots[other]
            if new.start < old.end + self.rest and old.start < new.end + self.rest:
                return False
        if new.night:
            days = [*self.night_days[reader], new.day.toordinal()]
            day = new.day.toordinal()
            for first in range(day - self.nights_limit, day + 1):
                inside = sum(first <= d <= first + self.nights_limit for d in days)
                if inside > self.nights_limit:
                    return False
        return True

    def add(self, reader: int, slot: int) -> None:
        new = self.instance.slots[slot]
        self.slots[reader].append(slot)
        self.per_week[reader, new.week] += 1
        if new.night:
            self.night_days[reader].append(new.day.toordinal())


def greedy_roster(instance: Instance) -> list[tuple[int, int]]:
    """(reader, slot) pairs of the baseline roster."""
    inst = instance
    utilization = inst.scenario.rules.target_utilization
    remaining = inst.demand * SCALE
    cells_of_slot = [np.flatnonzero(inst.covers[:, k]) for k in range(len(inst.slots))]
    exhausted = np.zeros(len(inst.cells), dtype=bool)
    state = LabourState(inst)
    roster: list[tuple[int, int]] = []
    while True:
        totals = np.where(exhausted, 0.0, remaining.sum(axis=1))
        cell = int(np.argmax(totals)) if totals.size else 0
        if totals.size == 0 or totals[cell] <= 0:
            return roster
        best, best_gain = None, 0.0
        for k in np.flatnonzero(inst.covers[cell]):
            cells = cells_of_slot[k]
            here = int(np.searchsorted(cells, cell))
            for r in range(len(inst.reader_ids)):
                if not inst.allowed[r, k] or not state.fits(r, int(k)):
                    continue
                served = _served(inst, remaining, cells, r, utilization)
                if served[here] > 0 and served.sum() > best_gain:
                    best, best_gain = (r, int(k)), float(served.sum())
        if best is None:
            exhausted[cell] = True
            continue
        reader, slot = best
        state.add(reader, slot)
        roster.append(best)
        _serve(inst, remaining, cells_of_slot[slot], reader, utilization)


def _served(
    inst: Instance, remaining: np.ndarray, cells: np.ndarray, reader: int, utilization: float
) -> np.ndarray:
    eligible = holds_through(inst.until[:, reader][None, :], inst.cells[cells, 1][:, None])
    wanted = (remaining[cells] * eligible).sum(axis=1)
    capacity = inst.cell_minutes[cells] * inst.speed[reader] * utilization * SCALE
    return np.minimum(wanted, capacity)


def _serve(
    inst: Instance, remaining: np.ndarray, cells: np.ndarray, reader: int, utilization: float
) -> None:
    """Spend the reader's capacity in each cell on eligible demand, largest first."""
    for c in cells:
        capacity = inst.cell_minutes[c] * inst.speed[reader] * utilization * SCALE
        eligible = np.flatnonzero(
            holds_through(inst.until[:, reader], inst.cells[c, 1]) & (remaining[c] > 0)
        )
        for n in eligible[np.argsort(-remaining[c, eligible])]:
            take = min(capacity, remaining[c, n])
            remaining[c, n] -= take
            capacity -= take
            if capacity <= 0:
                break
