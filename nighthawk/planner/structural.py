"""Structural gaps, exactly and whatever the roster: demand no roster can cover.

A class of demand at a facility is *coverable* in a time cell when some reader may read it
through the cell's end and may work (availability, leave, weekly limit) some shift that covers
the whole cell. Demand that is not coverable is a structural gap: only a new license,
credential, subspecialty, availability or shift template closes it. The gap report, the
recommendations and the smallest set of additions all ask this one question.
"""

from __future__ import annotations

import numpy as np

from nighthawk.kernel import holds_through
from nighthawk.planner.instance import Instance


def workable(instance: Instance) -> np.ndarray:
    """(R, C) bool: the reader may work some shift on duty for the whole cell."""
    allowed = instance.allowed.astype(np.int32)
    return (allowed @ instance.covers.T.astype(np.int32)) > 0


def structural_cells(instance: Instance, can_work: np.ndarray | None = None) -> np.ndarray:
    """(C, N) bool: demand in the cell that no roster can cover."""
    inst = instance
    can_work = workable(inst) if can_work is None else can_work
    ends = inst.cells[:, 1]
    coverable = np.zeros(inst.demand.shape, dtype=bool)
    for n in range(len(inst.nodes)):
        eligible = holds_through(inst.until[n][:, None], ends[None, :])  # (R, C)
        coverable[:, n] = (eligible & can_work).any(axis=0)
    return (inst.demand > 0) & ~coverable


def opened_by(
    instance: Instance,
    reader: int,
    until: np.ndarray,
    cells: np.ndarray,
    nodes: np.ndarray,
    can_work: np.ndarray,
) -> np.ndarray:
    """Which of the structural (cells[i], nodes[i]) become coverable when `reader` may read
    each node until `until` (N,): they may read it through the cell's end and may work then."""
    ends = instance.cells[cells, 1]
    return holds_through(until[nodes], ends) & can_work[reader, cells]
