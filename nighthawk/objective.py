"""The objective: a registry of terms, each with its tier and weight, and the plan score.

Tiers are compared lexicographically: (1) priority-weighted unassigned studies, (2) STAT
breaches, (3) priority-weighted late minutes, (4) the soft preferences, summed with weights.
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


TERMS: tuple[Term, ...] = (
    Term("unassigned_weight", 1, "Priority weight of every study left without a reader."),
    Term("stat_breaches", 2, "STAT studies predicted to finish after their due time."),
    Term("weighted_late_minutes", 3, "Minutes past due, times the study's priority weight."),
    Term("workload_balance", 4, "Sum over readers of (backlog + assigned reading hours) squared."),
    Term("subspecialty_mismatch", 4, "Studies read by a reader outside their subspecialty."),
    Term("moved_study", 4, "Studies taken from the reader they were already assigned to."),
)


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

    def preference_penalty(self, weights: PreferenceWeights) -> float:
        return (
            weights.workload_balance * self.workload_sq_hours
            + weights.subspecialty_mismatch * self.subspecialty_mismatches
            + weights.moved_study * self.moved_studies
        )

    def key(self, weights: PreferenceWeights) -> tuple[float, int, float, float]:
        return (
            self.unassigned_weight,
            self.stat_breaches,
            self.weighted_late_minutes,
            self.preference_penalty(weights),
        )

    def primary_key(self) -> tuple[float, int, float]:
        """Tiers (1)-(3), the ones a plan must never lose against the greedy baseline."""
        return (self.unassigned_weight, self.stat_breaches, self.weighted_late_minutes)


def compare_keys(a: tuple[float, ...], b: tuple[float, ...], tolerance: float = TOLERANCE) -> int:
    """-1 if a is better (smaller), 1 if worse, 0 if equal tier by tier within tolerance."""
    for left, right in zip(a, b, strict=True):
        if math.isclose(left, right, rel_tol=1e-12, abs_tol=tolerance):
            continue
        return -1 if left < right else 1
    return 0


def is_better(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return compare_keys(a, b) < 0
