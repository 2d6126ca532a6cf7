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
from scipy.sparse.csgraph import breadth_first_order, maximum_flow


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
    # Demand nodes with the same eligible readers are one node to the flow (their demand
    # adds up): a national practice has hundreds of classes but a few dozen distinct rows.
    rows, group = np.unique(reachable, axis=0, return_inverse=True)
    group = group.ravel()
    grouped = np.bincount(group, weights=demand, minlength=len(rows)).astype(np.int64)
    served_group, side = _max_flow(grouped, rows, capacity)
    unmet = int(grouped.sum() - served_group.sum())
    # Split each group's flow over its members in order (any split is a valid allocation):
    # a member gets what is left of the group's flow after the members before it.
    order = np.argsort(group, kind="stable")
    before = np.cumsum(demand[order]) - demand[order]
    first = np.searchsorted(group[order], np.arange(len(rows)))
    before -= before[first][group[order]]
    served = np.zeros(n, dtype=np.int64)
    served[order] = np.clip(served_group[group[order]] - before, 0, demand[order])
    hall = side[group] & (demand > 0) if unmet else np.zeros(n, dtype=bool)
    return FlowResult(unmet, served, hall)


def _max_flow(
    demand: np.ndarray, eligible: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per demand node: the flow it sends, and whether it is on the source side of a
    minimum cut."""
    n, m = eligible.shape
    size = n + m + 2
    source, sink = 0, size - 1
    big = int(demand.sum()) + 1
    if big >= 2**31 or int(capacity.max(initial=0)) >= 2**31:  # scipy's max flow is int32
        raise OverflowError("demand or capacity too large for one cell")
    node_ids = np.arange(1, n + 1)
    reader_ids = np.arange(n + 1, n + m + 1)
    pair_rows, pair_columns = np.nonzero(eligible)
    tails = np.concatenate([np.zeros(n, dtype=np.int64), node_ids[pair_rows], reader_ids])
    heads = np.concatenate([node_ids, reader_ids[pair_columns], np.full(m, sink)])
    limits = np.concatenate([demand, np.full(pair_rows.size, big), capacity])
    graph = csr_matrix((limits.astype(np.int32), (tails, heads)), shape=(size, size))
    result = maximum_flow(graph, source, sink)
    flow = result.flow.tocsr()
    sent = np.asarray(flow[source, 1 : n + 1].todense()).ravel().astype(np.int64)
    if result.flow_value == int(demand.sum()):
        return sent, np.zeros(n, dtype=bool)  # nothing unmet: no deficient set to find
    # The residual graph: forward capacity left, and backward along any positive flow.
    residual = (graph - flow).tocsr()
    residual.data = np.where(residual.data > 0, 1, 0).astype(np.int8)
    residual.eliminate_zeros()
    side = _reachable_from(residual, source)
    return sent, side[1 : n + 1]


def _reachable_from(residual: csr_matrix, source: int) -> np.ndarray:
    order = breadth_first_order(residual, source, directed=True, return_predecessors=False)
    seen = np.zeros(residual.shape[0], dtype=bool)
    seen[order] = True
    return seen
