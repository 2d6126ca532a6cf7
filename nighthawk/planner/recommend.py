"""Which license, credential or subspecialty would close the most gaps, checked by re-solving.

Candidates come from the gaps themselves: a reader who is (or could be) on shift while demand
they may not read goes uncovered or unmet lacks exactly the license in its state, the
privileges at its facility, or the required subspecialty. A quick estimate ranks them (the
uncovered facility-hours they would be eligible for, counting hours they already work in full
and hours they could work at half); the best are then verified: the reader gets the addition,
the model is solved again from the current roster (which stays feasible, so the answer is
never worse) and the exact evaluation says how many uncovered hours and unmet minutes the
addition really closes. Only verified, positive results are reported, ranked by what they close.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from models.domain import Credential, License
from nighthawk.class_eligibility import MODALITIES
from nighthawk.planner.evaluate import Evaluation, Roster
from nighthawk.planner.instance import Instance, with_reader
from nighthawk.planner.result import Recommendation

Addition = tuple[str, str]  # ("license", "WY"), ("credential", "wy-1"), ("subspecialty", "neuro")
Candidate = tuple[int, tuple[Addition, ...]]
Resolve = Callable[[Instance, Roster], tuple[Roster, Evaluation]]


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


def apply(instance: Instance, candidate: Candidate) -> Instance:
    """The instance with the candidate's additions granted (no expiry)."""
    reader_index, additions = candidate
    spec = instance.readers[reader_index]
    licenses = list(spec.licenses)
    credentials = list(spec.credentials)
    subspecialties = list(spec.subspecialties)
    for kind, value in additions:
        if kind == "license":
            licenses = [lic for lic in licenses if lic.state != value] + [License(state=value)]
        elif kind == "credential":
            credentials = [c for c in credentials if c.facility != value]
            credentials.append(Credential(facility=value))
        else:
            subspecialties.append(value)
    updated = spec.model_copy(
        update={
            "licenses": licenses,
            "credentials": credentials,
            "subspecialties": subspecialties,
        }
    )
    return with_reader(instance, updated)


PER_ADDITION = 2  # readers verified (and reported) for the same papers


def _varied(ranked: list[tuple[Candidate, float]]) -> list[tuple[Candidate, float]]:
    """At most PER_ADDITION readers for the same papers: ten readers who could each take a
    WY license say less than the WY license and a neuro credential elsewhere."""
    seen: dict[tuple[Addition, ...], int] = defaultdict(int)
    kept = []
    for (reader, additions), estimate in ranked:
        if seen[additions] < PER_ADDITION:
            seen[additions] += 1
            kept.append(((reader, additions), estimate))
    return kept


def recommend(
    instance: Instance,
    evaluation: Evaluation,
    roster: Roster,
    resolve: Resolve,
    *,
    limit: int = 10,
    verify: int = 15,
) -> list[Recommendation]:
    """The `limit` best verified additions among the `verify` best estimates.

    Each is measured against a control: the unchanged problem re-solved the same way from the
    same roster (or the roster itself, if better), so what a longer search would have found
    anyway is not credited to the addition."""
    estimates = candidates(instance, evaluation)
    ranked = _varied(sorted(estimates.items(), key=lambda kv: (-kv[1], kv[0])))[:verify]
    if not ranked:
        return []
    _, control = resolve(instance, roster)
    base_hours = min(evaluation.uncovered_hours, control.uncovered_hours)
    base_unmet = min(evaluation.unmet_minutes, control.unmet_minutes)
    verified = []
    for candidate, predicted in ranked:
        changed = apply(instance, candidate)
        _, after = resolve(changed, roster)
        closes = base_hours - after.uncovered_hours
        reduces = base_unmet - after.unmet_minutes
        # Only what closes something, and never what opens uncovered hours elsewhere.
        if closes < -1e-9 or (closes <= 1e-9 and reduces <= 1e-6):
            continue
        reader, additions = candidate
        verified.append(
            Recommendation(
                radiologist=instance.reader_ids[reader],
                additions=tuple(describe(a) for a in additions),
                closes_uncovered_hours=round(closes, 2),
                closes_uncovered_hours_per_week=round(closes / instance.weeks, 2),
                reduces_unmet_minutes=round(reduces, 1),
                predicted_hours=round(float(predicted), 2),
                uncovered_hours_after=round(after.uncovered_hours, 2),
            )
        )
    verified.sort(
        key=lambda r: (-r.closes_uncovered_hours, -r.reduces_unmet_minutes, r.radiologist)
    )
    return verified[:limit]
