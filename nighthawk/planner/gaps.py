"""Why demand stays uncovered, in the coverage manager's words.

For each class of demand at a facility left with nobody eligible on shift, the reason is the
first of these that holds in that hour:

* *structural*: nobody may read it at all ("nobody is licensed in WY"; "nobody licensed in WY
  is credentialed at wy-1"; "... holds neuro"), or no shift template runs then, or everyone
  who may read it is unavailable ("nobody licensed in WY and credentialed at wy-1 is available:
  rad-4 on leave"). No roster can cover such an hour;
* *competing*: some reader could have covered it, but the labour rules (shifts per week, rest,
  consecutive nights) spend them on other hours, or the search ran out of time.

Consecutive hours with the same reason are reported as one gap.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from nighthawk.class_eligibility import MODALITIES
from nighthawk.kernel import holds_through
from nighthawk.planner.evaluate import Evaluation
from nighthawk.planner.instance import Instance, Node
from nighthawk.planner.result import Gap
from nighthawk.planner.structural import workable

SHOW_READERS = 4


def find_gaps(instance: Instance, evaluation: Evaluation, *, proven: bool) -> list[Gap]:
    inst = instance
    cells, nodes = np.nonzero(evaluation.uncovered)
    order = np.lexsort((cells, nodes))
    can_work = workable(inst)
    gaps: list[Gap] = []
    current: dict[str, object] | None = None
    for c, n in zip(cells[order], nodes[order], strict=True):
        kind, reason = explain(inst, int(c), int(n), proven=proven, can_work=can_work)
        begin, end = float(inst.cells[c, 0]), float(inst.cells[c, 1])
        if (
            current is not None
            and current["node"] == n
            and current["reason"] == reason
            and current["end"] == begin
        ):
            current["end"] = end
            continue
        if current is not None:
            gaps.append(_gap(inst, current))
        current = {"node": n, "kind": kind, "reason": reason, "start": begin, "end": end}
    if current is not None:
        gaps.append(_gap(inst, current))
    return sorted(gaps, key=lambda g: (g.facility, g.start, g.need))


def facility_hours(gaps: list[Gap]) -> float:
    """Facility-hours the gaps span, each hour of a facility counted once however many kinds
    of its work are uncovered (the measure `uncovered_hours` uses)."""
    total = 0.0
    by_facility: dict[str, list[Gap]] = {}
    for gap in gaps:
        by_facility.setdefault(gap.facility, []).append(gap)
    for spans in by_facility.values():
        spans.sort(key=lambda g: g.start)
        reach = spans[0].start
        for gap in spans:
            begin = max(gap.start, reach)
            if gap.end > begin:
                total += (gap.end - begin).total_seconds() / 3600
                reach = gap.end
    return total


def _gap(inst: Instance, run: dict[str, object]) -> Gap:
    node = inst.nodes[int(run["node"])]  # type: ignore[call-overload]
    start, end = float(run["start"]), float(run["end"])  # type: ignore[arg-type]
    return Gap(
        facility=inst.facility_ids[node.facility],
        state=inst.facility_states[node.facility],
        need=node.need,
        start=inst.start + timedelta(minutes=start),
        end=inst.start + timedelta(minutes=end),
        timezone=inst.facility_zones[node.facility],
        hours=(end - start) / 60,
        kind=run["kind"],  # type: ignore[arg-type]
        reason=str(run["reason"]),
    )


def explain(
    inst: Instance, cell: int, node: int, *, proven: bool, can_work: np.ndarray | None = None
) -> tuple[str, str]:
    """(kind, reason) for demand of `node` uncovered in `cell`; structural exactly when
    `structural.structural_cells` says so (`can_work`: `structural.workable`)."""
    end = inst.cells[cell, 1]
    eligible = holds_through(inst.until[node], end)
    if not eligible.any():
        return "structural", _nobody_may_read(inst, inst.nodes[node], end)
    on_possible = (workable(inst) if can_work is None else can_work)[:, cell]
    who = _who(inst, inst.nodes[node])
    if not inst.covers[cell].any():
        return "structural", "no shift template runs then"
    candidates = np.flatnonzero(eligible & on_possible)
    if candidates.size == 0:
        excuses = [
            f"{inst.reader_ids[r]} {_excuse(inst, int(r), cell)}" for r in np.flatnonzero(eligible)
        ]
        return "structural", f"nobody {who} is available then ({_listed(excuses)})"
    names = [inst.reader_ids[r] for r in candidates]
    if not proven:
        return (
            "competing",
            f"{_listed(names)} could work then but the search stopped at its time limit "
            "with them on other shifts",
        )
    return (
        "competing",
        f"{_listed(names)} could work then but are needed on other shifts under the "
        "labour rules (shifts per week, rest, consecutive nights)",
    )


def _who(inst: Instance, node: Node) -> str:
    state = inst.facility_states[node.facility]
    facility = inst.facility_ids[node.facility]
    words = f"licensed in {state} and credentialed at {facility}"
    if node.subspecialty:
        words += f" holding {node.subspecialty}"
    return words


def _nobody_may_read(inst: Instance, node: Node, end: float) -> str:
    """Name the first requirement nobody meets, the way a credentialing office would."""
    eligibility = inst.eligibility
    assert eligibility is not None
    state = inst.facility_states[node.facility]
    facility = inst.facility_ids[node.facility]
    column = eligibility.facility_state[node.facility]
    licensed_ever = eligibility.license[:, column] > -np.inf
    licensed = eligibility.license[:, column] >= end
    if not licensed.any():
        if licensed_ever.any():
            names = [inst.reader_ids[r] for r in np.flatnonzero(licensed_ever)]
            return f"every license in {state} has expired by then ({_listed(names)})"
        return f"nobody is licensed in {state}"
    credentialed = licensed & (eligibility.credential[:, node.facility] >= end)
    if not credentialed.any():
        lapsed = licensed & (eligibility.credential[:, node.facility] > -np.inf)
        if lapsed.any():
            names = [inst.reader_ids[r] for r in np.flatnonzero(lapsed)]
            return f"the privileges at {facility} have expired by then ({_listed(names)})"
        return f"nobody licensed in {state} is credentialed at {facility}"
    reads = credentialed & eligibility.modality_ok[:, MODALITIES.index(node.modality)]
    if not reads.any():
        return f"nobody licensed in {state} and credentialed at {facility} reads {node.modality}"
    return (
        f"nobody licensed in {state} and credentialed at {facility} "
        f"holds the {node.subspecialty} subspecialty"
    )


def _excuse(inst: Instance, reader: int, cell: int) -> str:
    spec = inst.readers[reader]
    if inst.max_per_week[reader] == 0:
        return "works no shifts"
    shifts = [inst.slots[k] for k in np.flatnonzero(inst.covers[cell])]
    spans = [(inst.at(s.start), inst.at(s.end)) for s in shifts]
    if any(w.from_ < end and begin < w.to for w in spec.unavailable for begin, end in spans):
        return "is on leave"
    if spec.availability is not None:
        return "is outside their availability"
    return "is unavailable for every shift then"


def _listed(names: list[str]) -> str:
    if len(names) <= SHOW_READERS:
        return ", ".join(names)
    return ", ".join(names[:SHOW_READERS]) + f" and {len(names) - SHOW_READERS} more"
