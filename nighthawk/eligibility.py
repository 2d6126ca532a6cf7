"""Hard rules of eligibility: who may read which study, and why not.

Each rule is one small function over the indexed problem that returns an S x R boolean matrix
("this pair passes the rule"). The eligibility matrix is their conjunction. Reasons for a single
pair, or for a study nobody can read, are derived on demand from the same rules, so the
explanation can never disagree with the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from models.types import format_utc_time
from nighthawk.clock import at_minutes
from nighthawk.kernel import FINISH_SLACK_MINUTES
from nighthawk.problem import BoolArray, FloatArray, Problem


def _earliest_finish(problem: Problem) -> FloatArray:
    return problem.readers.ready[None, :] + problem.duration


def licensed_in_state(problem: Problem) -> BoolArray:
    """Hard: a radiologist reads only studies from states where they hold a license."""
    return problem.license_until > -np.inf


def _by(finish: FloatArray, limit: FloatArray) -> BoolArray:
    """The kernel's `fits`, on whole matrices: done by the limit, give or take float noise."""
    return finish <= limit + FINISH_SLACK_MINUTES


def license_current(problem: Problem) -> BoolArray:
    """Hard: the license must still be valid when the read finishes (licenses expire)."""
    held = licensed_in_state(problem)
    return ~held | _by(_earliest_finish(problem), problem.license_until)


def credentialed_at_facility(problem: Problem) -> BoolArray:
    """Hard: a radiologist reads only for facilities that granted them privileges."""
    return problem.credential_until > -np.inf


def credential_current(problem: Problem) -> BoolArray:
    """Hard: facility privileges must still be valid when the read finishes."""
    held = credentialed_at_facility(problem)
    return ~held | _by(_earliest_finish(problem), problem.credential_until)


def reads_modality(problem: Problem) -> BoolArray:
    """Hard: a reader restricted to some modalities reads only those (empty list: all)."""
    modalities = sorted({m for m in problem.studies.modality})
    bit = {m: 1 << i for i, m in enumerate(modalities)}
    everything = (1 << len(modalities)) - 1
    reader_mask = np.array(
        [
            sum(bit.get(m, 0) for m in held) if held else everything
            for held in problem.readers.modalities
        ],
        dtype=np.int64,
    )
    study_bit = np.array([bit[m] for m in problem.studies.modality], dtype=np.int64)
    return (study_bit[:, None] & reader_mask[None, :]) != 0


def holds_required_subspecialty(problem: Problem) -> BoolArray:
    """Hard: a study that requires a subspecialty goes only to a reader who holds it."""
    studies = problem.studies
    held = np.array(
        [
            [
                sub is not None and sub in reader_subs
                for reader_subs in problem.readers.subspecialties
            ]
            for sub in studies.subspecialty
        ],
        dtype=bool,
    ).reshape(problem.study_count, problem.reader_count)
    return ~studies.subspecialty_required[:, None] | held


def fits_in_shift(problem: Problem) -> BoolArray:
    """Hard: the reader must be able to finish the read before the shift ends."""
    return _by(_earliest_finish(problem), problem.readers.shift_end[None, :])


def prefers_subspecialty(problem: Problem) -> BoolArray:
    """Soft: a study naming a subspecialty is better read by a reader who holds it."""
    return np.array(
        [
            [sub is None or sub in reader_subs for reader_subs in problem.readers.subspecialties]
            for sub in problem.studies.subspecialty
        ],
        dtype=bool,
    ).reshape(problem.study_count, problem.reader_count)


@dataclass(frozen=True)
class Rule:
    code: str
    check: Callable[[Problem], BoolArray]
    clause: str  # how "no radiologist ... is <clause>" reads for an unassigned study
    refines: str | None = None  # a rule whose clause this one's replaces when both apply


# Order matters: it is the order in which reasons are listed and unassigned studies explained.
RULES: tuple[Rule, ...] = (
    Rule("SHIFT_ENDS", fits_in_shift, "on shift long enough to finish it"),
    Rule("NOT_LICENSED", licensed_in_state, "licensed in {state}"),
    Rule("LICENSE_EXPIRED", license_current, "licensed in {state} at reading time", "NOT_LICENSED"),
    Rule("NOT_CREDENTIALED", credentialed_at_facility, "credentialed at {facility}"),
    Rule(
        "CREDENTIAL_EXPIRED",
        credential_current,
        "credentialed at {facility} at reading time",
        "NOT_CREDENTIALED",
    ),
    Rule("MODALITY_NOT_READ", reads_modality, "reading {modality}"),
    Rule("SUBSPECIALTY_REQUIRED", holds_required_subspecialty, "a {subspecialty} subspecialist"),
)


@dataclass(frozen=True)
class Reason:
    code: str
    text: str


class Eligibility:
    """The eligibility matrix of a problem, with per-rule matrices kept for explanations."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.by_rule: dict[str, BoolArray] = {rule.code: rule.check(problem) for rule in RULES}

    @cached_property
    def matrix(self) -> BoolArray:
        """S x R: True where the reader may read the study (at its earliest possible finish)."""
        combined = np.ones((self.problem.study_count, self.problem.reader_count), dtype=bool)
        for passes in self.by_rule.values():
            combined &= passes
        return combined

    @cached_property
    def eligible_counts(self) -> np.ndarray:
        return self.matrix.sum(axis=1)

    def reasons(self, study: int, reader: int) -> list[Reason]:
        """Why `reader` may not read `study`; empty when eligible."""
        return [
            Reason(rule.code, self._describe(rule.code, study, reader))
            for rule in RULES
            if not self.by_rule[rule.code][study, reader]
        ]

    def why_nobody(self, study: int) -> Reason:
        """A sentence for a study that no reader on shift can take.

        Rules are applied in order; a rule's clause is named only if it rules someone out, so
        the sentence names exactly the combination nobody on shift holds.
        """
        if self.problem.reader_count == 0:
            return Reason("NO_READER_ON_SHIFT", "no radiologist is on shift")
        remaining = np.ones(self.problem.reader_count, dtype=bool)
        clauses: dict[str, str] = {}
        for rule in RULES:
            passing = remaining & self.by_rule[rule.code][study]
            if passing.sum() < remaining.sum():
                clauses.pop(rule.refines or "", None)
                clauses[rule.code] = self._clause(rule, study)
            remaining = passing
            if not remaining.any():
                return Reason(f"NO_READER_{rule.code}", _nobody_sentence(clauses))
        count = int(remaining.sum())
        return Reason(
            "NO_CAPACITY",
            f"all {count} eligible radiologist{'s' if count != 1 else ''} are booked with more "
            "urgent work until their shifts end",
        )

    def _clause(self, rule: Rule, study: int) -> str:
        studies = self.problem.studies
        return rule.clause.format(
            state=studies.state[study],
            facility=studies.facility[study],
            modality=studies.modality[study].value,
            subspecialty=studies.subspecialty[study],
        )

    def _describe(self, code: str, study: int, reader: int) -> str:
        problem, studies = self.problem, self.problem.studies
        state, facility = studies.state[study], studies.facility[study]
        minutes = problem.duration[study, reader]
        if code == "NOT_LICENSED":
            return f"not licensed in {state}"
        if code == "LICENSE_EXPIRED":
            return _expiry_text(
                f"license in {state}", problem, problem.license_until[study, reader]
            )
        if code == "NOT_CREDENTIALED":
            return f"not credentialed at {facility}"
        if code == "CREDENTIAL_EXPIRED":
            return _expiry_text(
                f"privileges at {facility}", problem, problem.credential_until[study, reader]
            )
        if code == "MODALITY_NOT_READ":
            return f"does not read {studies.modality[study].value}"
        if code == "SUBSPECIALTY_REQUIRED":
            return f"not a {studies.subspecialty[study]} subspecialist, which this study requires"
        end = problem.readers.shift_end[reader]
        if end <= 0:
            return f"off shift (shift ended at {_clock(problem, end)})"
        return (
            f"shift ends at {_clock(problem, end)}, "
            f"before the {minutes:.0f}-minute read could finish"
        )


def _nobody_sentence(clauses: dict[str, str]) -> str:
    if not clauses:
        return "no radiologist is on shift"
    if "SHIFT_ENDS" in clauses and len(clauses) == 1:
        return f"no radiologist is {clauses['SHIFT_ENDS']}"
    named = [text for code, text in clauses.items() if code != "SHIFT_ENDS"]
    return "no radiologist on shift is " + " and ".join(named)


def _clock(problem: Problem, minutes: float) -> str:
    return format_utc_time(at_minutes(problem.now, float(minutes)))


def _expiry_text(what: str, problem: Problem, until: float) -> str:
    if until <= 0:
        return f"{what} expired (valid until {_clock(problem, until)})"
    return f"{what} expires at {_clock(problem, until)}, before the read could finish"
