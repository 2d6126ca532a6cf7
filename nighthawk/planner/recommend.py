"""Which license, credential or subspecialty would close the most gaps, checked by re-solving.

Everything is measured against one *reference roster*: the problem re-solved from the greedy
roster the way verification re-solves (coverage and capacity only, one worker, a fixed seed, a
deterministic limit). It does not depend on what the main search found in its wall-clock time
on several workers, so the same scenario and seed give the same recommendations on every run.

Candidates come from the reference's gaps: a reader who is (or could be) on shift while demand
they may not read goes uncovered or unmet lacks exactly the license in its state, the
privileges at its facility, or the required subspecialty. A quick estimate ranks them (the
uncovered facility-hours they would be eligible for, counting hours they work in the reference
in full and hours they could work at half). Candidates that make exactly the same structural
gaps coverable (`structural.opened_by`, exact) are interchangeable: one recommendation, the
one needing fewest papers verified and the others listed as its alternatives. The groups
with the best estimates are verified: the reader gets the addition, the model is solved again
from the reference roster (which stays feasible, so the answer is never worse) and the exact
evaluation says how many uncovered hours and unmet minutes the addition really closes. Only
verified, positive results are reported, ranked by what they close, ties by fewer additions
and then by the reader's id. `combine` builds the set of additions that closes them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.domain import Credential, License
from models.scenario import RadiologistSpec
from nighthawk.class_eligibility import MODALITIES, ClassEligibility
from nighthawk.planner.evaluate import Evaluation, Roster
from nighthawk.planner.instance import Instance, with_reader
from nighthawk.planner.result import Recommendation
from nighthawk.planner.structural import opened_by, structural_cells, workable

Addition = tuple[str, str]  # ("license", "WY"), ("credential", "wy-1"), ("subspecialty", "neuro")
Candidate = tuple[int, tuple[Addition, ...]]
Resolve = Callable[[Instance, Roster], tuple[Roster, Evaluation]]


@dataclass(frozen=True)
class Option:
    """A candidate, its estimate, and which structural class-cells it makes coverable."""

    candidate: Candidate
    estimate: float
    opens: np.ndarray  # bool, over `Structure.cells` / `Structure.nodes`
    reader_id: str

    @property
    def order(self) -> tuple[float, int, str, tuple[Addition, ...]]:
        """Best first: the estimate, then fewer additions, then the reader's id."""
        return (-self.estimate, len(self.candidate[1]), self.reader_id, self.candidate[1])

    @property
    def label(self) -> str:
        return f"{self.reader_id} + {' + '.join(describe(a) for a in self.candidate[1])}"


@dataclass(frozen=True)
class Structure:
    """The structural class-cells of the unchanged problem, as parallel index arrays."""

    cells: np.ndarray
    nodes: np.ndarray
    can_work: np.ndarray  # (R, C), see `structural.workable`

    @classmethod
    def of(cls, instance: Instance) -> Structure:
        can_work = workable(instance)
        cells, nodes = np.nonzero(structural_cells(instance, can_work))
        return cls(cells=cells, nodes=nodes, can_work=can_work)


def candidates(instance: Instance, evaluation: Evaluation) -> dict[Candidate, float]:
    """Each plausible addition and its estimated uncovered facility-hours closed."""
    inst = instance
    eligibility = inst.eligibility
    assert eligibility is not None
    allowed_covering = inst.allowed.astype(np.int8) @ inst.covers.T.astype(np.int8)  # (R, C)
    could_work = allowed_covering.T > 0
    score: dict[Candidate, float] = defaultdict(float)
    hours = inst.cell_minutes / 60
    short = evaluation.uncovered | (evaluation.served < inst.demand - 1e-6)
    for c, n in zip(*np.nonzero(short), strict=True):
        end = inst.cells[c, 1]
        weight = hours[c] if evaluation.uncovered[c, n] else hours[c] * 0.1
        for r in np.flatnonzero(could_work[c] & (inst.until[n] < end)):
            additions = _missing(inst, int(r), n, end)
            if additions:
                on = evaluation.on[c, r]
                score[int(r), additions] += weight * (1.0 if on else 0.5)
    return dict(score)


def _missing(inst: Instance, reader: int, node_index: int, end: float) -> tuple[Addition, ...]:
    """What the reader lacks to read this class here then; () when it cannot be added
    (a modality they do not read is a skill, not a paper)."""
    eligibility = inst.eligibility
    assert eligibility is not None
    node = inst.nodes[node_index]
    if not eligibility.modality_ok[reader, MODALITIES.index(node.modality)]:
        return ()
    needed: list[Addition] = []
    if eligibility.license[reader, eligibility.facility_state[node.facility]] < end:
        needed.append(("license", inst.facility_states[node.facility]))
    if eligibility.credential[reader, node.facility] < end:
        needed.append(("credential", inst.facility_ids[node.facility]))
    if node.subspecialty and node.subspecialty not in inst.readers[reader].subspecialties:
        needed.append(("subspecialty", node.subspecialty))
    return tuple(needed)


def describe(addition: Addition) -> str:
    kind, value = addition
    return {"license": f"license in {value}", "credential": f"credential at {value}"}.get(
        kind, f"subspecialty {value}"
    )


def granted(spec: RadiologistSpec, additions: tuple[Addition, ...]) -> RadiologistSpec:
    """The reader's record with the additions granted (no expiry)."""
    licenses = list(spec.licenses)
    credentials = list(spec.credentials)
    subspecialties = list(spec.subspecialties)
    for kind, value in additions:
        if kind == "license":
            licenses = [lic for lic in licenses if lic.state != value] + [License(state=value)]
        elif kind == "credential":
            credentials = [c for c in credentials if c.facility != value]
            credentials.append(Credential(facility=value))
        elif value not in subspecialties:
            subspecialties.append(value)
    return spec.model_copy(
        update={
            "licenses": licenses,
            "credentials": credentials,
            "subspecialties": subspecialties,
        }
    )


def apply(instance: Instance, candidate: Candidate) -> Instance:
    """The instance with the candidate's additions granted (no expiry)."""
    reader_index, additions = candidate
    return with_reader(instance, granted(instance.readers[reader_index], additions))


def apply_all(instance: Instance, chosen: list[Candidate]) -> Instance:
    for candidate in chosen:
        instance = apply(instance, candidate)
    return instance


def reader_until(instance: Instance, candidate: Candidate) -> np.ndarray:
    """(N,) until when the candidate's reader may read each node once granted the additions
    (their row of `Instance.until`, without recompiling everyone's)."""
    reader_index, additions = candidate
    spec = granted(instance.readers[reader_index], additions)
    alone = instance.scenario.model_copy(update={"radiologists": [spec]})
    eligibility = ClassEligibility(alone, instance.facility_ids, instance.facility_states)
    return np.array(
        [eligibility.until(n.facility, n.modality, n.subspecialty)[0] for n in instance.nodes],
        dtype=float,
    )


def ranked_options(instance: Instance, reference: Evaluation, structure: Structure) -> list[Option]:
    """Every candidate with its estimate and what it opens, best first."""
    found = [
        Option(
            candidate=candidate,
            estimate=estimate,
            opens=opened_by(
                instance,
                candidate[0],
                reader_until(instance, candidate),
                structure.cells,
                structure.nodes,
                structure.can_work,
            ),
            reader_id=instance.reader_ids[candidate[0]],
        )
        for candidate, estimate in candidates(instance, reference).items()
    ]
    return sorted(found, key=lambda o: o.order)


def interchangeable(ranked: list[Option]) -> list[list[Option]]:
    """Options that open exactly the same structural class-cells, together; one that opens
    none stands alone (what it does is only seen by re-solving). Groups come in the order of
    their best estimate; within one, the fewest papers first (the same gaps for less), then
    the estimate, then the reader's id."""
    groups: dict[object, list[Option]] = {}
    for option in ranked:
        key: object = option.opens.tobytes() if option.opens.any() else option.candidate
        groups.setdefault(key, []).append(option)
    return [
        sorted(group, key=lambda o: (len(o.candidate[1]), *o.order)) for group in groups.values()
    ]


class Verifier:
    """The problem re-solved with a set of additions from the reference roster, once per set:
    single recommendations and the combined set's steps ask for some of the same sets."""

    def __init__(
        self, instance: Instance, reference: tuple[Roster, Evaluation], resolve: Resolve
    ) -> None:
        self.instance = instance
        self.roster, self.base = reference
        self.resolve = resolve
        self._done: dict[frozenset[Candidate], Evaluation] = {}

    def after(self, chosen: list[Candidate]) -> Evaluation:
        key = frozenset(chosen)
        if key not in self._done:
            # Sorted: the order papers are granted in changes no array, but keep it fixed.
            changed = apply_all(self.instance, sorted(key))
            self._done[key] = self.resolve(changed, self.roster)[1]
        return self._done[key]


def recommend(
    verifier: Verifier, ranked: list[Option], *, limit: int = 10, verify: int = 15
) -> list[Recommendation]:
    """The `limit` best verified additions among the `verify` best estimated groups of
    interchangeable ones, each re-solved from the reference roster."""
    instance, base = verifier.instance, verifier.base
    verified = []
    for group in interchangeable(ranked)[:verify]:
        best = group[0]
        after = verifier.after([best.candidate])
        closes = base.uncovered_hours - after.uncovered_hours
        reduces = base.unmet_minutes - after.unmet_minutes
        # Only what closes something, and never what opens uncovered hours elsewhere.
        if closes < -1e-9 or (closes <= 1e-9 and reduces <= 1e-6):
            continue
        reader, additions = best.candidate
        verified.append(
            Recommendation(
                radiologist=instance.reader_ids[reader],
                additions=tuple(describe(a) for a in additions),
                closes_uncovered_hours=round(closes, 2),
                closes_uncovered_hours_per_week=round(closes / instance.weeks, 2),
                reduces_unmet_minutes=round(reduces, 2),
                predicted_hours=round(float(best.estimate), 2),
                uncovered_hours_after=round(after.uncovered_hours, 2),
                alternatives=tuple(o.label for o in group[1:]),
            )
        )
    verified.sort(
        key=lambda r: (
            -r.closes_uncovered_hours,
            -r.reduces_unmet_minutes,
            len(r.additions),
            r.radiologist,
            r.additions,
        )
    )
    return verified[:limit]
