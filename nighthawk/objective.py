"""The objective: a registry of terms, each with its tier and weight, and the plan score.

Tiers are compared lexicographically: (1) priority-weighted unassigned studies, (2) STAT
breaches, (3) priority-weighted late minutes, (4) the soft preferences, summed with weights.
The registry is what scores: a plan's key is built from `TERMS` (each term names the score
field it reads and the setting that weighs it), so a term added there is scored everywhere.
Weights come from the snapshot's settings; nothing here hard-codes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from models.snapshot import PreferenceWeights

# Two plans whose tiers differ by less than this are equally good on that tier.
TOLERANCE = 1e-7


@dataclass(frozen=True)
class Term:
    name: str
    tier: int
    description: str
    field: str  # the Score field it reads
    weight: str | None = None  # the PreferenceWeights setting that weighs it (None: 1)

    def value(self, score: Score, weights: PreferenceWeights) -> float:
        amount = float(getattr(score, self.field))
        return amount * (getattr(weights, self.weight) if self.weight else 1.0)


TERMS: tuple[Term, ...] = (
    Term(
        "unassigned_weight",
        1,
        "Priority weight of every study left without a reader.",
        "unassigned_weight",
    ),
    Term(
        "stat_breaches",
        2,
        "STAT studies predicted to finish after their due time.",
        "stat_breaches",
    ),
    Term(
        "weighted_late_minutes",
        3,
        "Minutes past due, times the study's priority weight.",
        "weighted_late_minutes",
    ),
    Term(
        "workload_balance",
        4,
        "Sum over readers of (backlog + assigned reading hours) squared.",
        "workload_sq_hours",
        "workload_balance",
    ),
    Term(
        "subspecialty_mismatch",
        4,
        "Studies read by a reader outside their subspecialty.",
        "subspecialty_mismatches",
        "subspecialty_mismatch",
    ),
    Term(
        "moved_study",
        4,
        "Studies taken from the reader they were already assigned to.",
        "moved_studies",
        "moved_study",
    ),
)
TIERS: tuple[int, ...] = tuple(sorted({term.tier for term in TERMS}))
PREFERENCE_TIER = 4


@dataclass(frozen=True, slots=True)
class Score:
    """Additive plan score: per-reader parts plus the unassigned part add up to the plan's."""

    unassigned_weight: float = 0.0
    stat_breaches: int = 0
    weighted_late_minutes: float = 0.0
    workload_sq_hours: float = 0.0
    subspecialty_mismatches: int = 0
    moved_studies: int = 0
    unassigned_studies: int = 0
    late_studies: int = 0

    def __add__(self, other: Score) -> Score:
        return Score(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Score)))

    def __sub__(self, other: Score) -> Score:
        return Score(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(Score)))

    def tier(self, tier: int, weights: PreferenceWeights) -> float:
        """The weighted sum of the registry's terms in one tier."""
        return sum(term.value(self, weights) for term in TERMS if term.tier == tier)

    def preference_penalty(self, weights: PreferenceWeights) -> float:
        return self.tier(PREFERENCE_TIER, weights)

    def key(self, weights: PreferenceWeights) -> tuple[float, ...]:
        """Every tier of the registry, most important first (compared lexicographically)."""
        return tuple(self.tier(tier, weights) for tier in TIERS)

    def primary_key(self) -> tuple[float, ...]:
        """The tiers above the preferences: the ones a plan must never lose to the baseline."""
        weights = PreferenceWeights()
        return tuple(self.tier(tier, weights) for tier in TIERS if tier < PREFERENCE_TIER)


def compare_keys(a: tuple[float, ...], b: tuple[float, ...], tolerance: float = TOLERANCE) -> int:
    """-1 if a is better (smaller), 1 if worse, 0 if equal tier by tier within tolerance."""
    for left, right in zip(a, b, strict=True):
        if math.isclose(left, right, rel_tol=1e-12, abs_tol=tolerance):
            continue
        return -1 if left < right else 1
    return 0


def is_better(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return compare_keys(a, b) < 0
