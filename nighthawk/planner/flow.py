"""Reading capacity against demand in one time cell: a max flow from demand to readers.

Demand nodes (classes of work at facilities) send their reading minutes to the on-shift
readers eligible for them, each reader taking at most their capacity. By max-flow/min-cut
(Hall's theorem with capacities) the demand left unmet equals the largest *deficiency*
d(S) - cap(N(S)) over sets S of demand nodes, N(S) being the readers eligible for any of them;
the source side of a minimum cut is such a set. The planner turns it into a cut for CP-SAT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow


@dataclass(frozen=True)
class FlowResult:
    unmet: int  # demand beyond what the readers can serve
    served: np.ndarray  # (n,) per demand node
    hall_set: np.ndarray  # (n,) bool: a set of nodes with the largest deficiency


def allocate(demand: np.ndarray, eligible: np.ndarray, capacity: np.ndarray) -> FlowResult:
    """demand (n,) and capacity (m,) are non-negative integers; eligible is (n, m) bool."""
    n, m = eligible.shape
    demand = np.asarray(demand, dtype=np.int64)
    capacity = np.asarray(capacity, dtype=np.int64)
    if n == 0:
        return FlowResult(0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
    reachable = eligible & (capacity[None, :] > 0)
    if m == 0 or not reachable.any():
        return FlowResult(int(demand.sum()), np.zeros(n, dtype=np.int64), demand > 0)
    size = n + m + 2
    source, sink = 0, size - 1
    graph = np.zeros((size, size), dtype=np.int64)
    graph[source, 1 : n + 1] = demand
    big = int(demand.sum()) + 1
    graph[1 : n + 1, n + 1 : n + m + 1] = np.where(reachable, big, 0)
    graph[n + 1 : n + m + 1, sink] = capacity
    if graph.max() >= 2**31:  # scipy's max flow is int32
        raise OverflowError("demand or capacity too large for one cell")
    result = maximum_flow(csr_matrix(graph.astype(np.int32)), source, sink)
    flow = result.flow.toarray()
    served = flow[source, 1 : n + 1].astype(np.int64)
    residual = graph - flow
    side = _reachable_from(residual, source)
    hall = side[1 : n + 1] & (demand > 0)
    return FlowResult(int(demand.sum() - result.flow_value), served, hall)


def _reachable_from(residual: np.ndarray, source: int) -> np.ndarray:
    seen = np.zeros(residual.shape[0], dtype=bool)
    seen[source] = True
    frontier = np.array([source])
    while frontier.size:
        nxt = np.flatnonzero((residual[frontier] > 0).any(axis=0) & ~seen)
        seen[nxt] = True
        frontier = nxt
    return seen
