"""What the optimizer answers: assignments with explanations, the unassigned, and scores."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from models.types import UtcDateTime


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alternative(Output):
    """Another reader, and why the study did not go to them."""

    radiologist: str
    eligible: bool
    predicted_finish: UtcDateTime | None = None
    minutes_later: float | None = Field(
        default=None, description="How much later than the chosen reader it would finish there."
    )
    reasons: list[str] = Field(
        default_factory=list, description="Why this reader lost or was barred."
    )
    reason_codes: list[str] = Field(default_factory=list)


class Explanation(Output):
    """Answers "why did this study go to Dr. X and not Dr. Y?"."""

    summary: str
    eligible_radiologists: int
    due_at: UtcDateTime
    slack_minutes: float = Field(description="Minutes between predicted finish and due time.")
    subspecialty_match: bool | None = None
    kept_current_assignment: bool | None = None
    alternatives: list[Alternative] = Field(default_factory=list)
    ineligible: dict[str, int] = Field(
        default_factory=dict, description="How many readers each hard rule ruled out."
    )


class Assignment(Output):
    study: str
    radiologist: str
    start: UtcDateTime
    finish: UtcDateTime
    late_minutes: float
    why: Explanation | None = None


class Unassigned(Output):
    study: str
    reason: str
    reason_codes: list[str] = Field(default_factory=list)


class ObjectiveReport(Output):
    """The objective, lexicographic in this order: the first three terms decide, then the rest."""

    unassigned_weight: float = Field(description="(1) priority-weighted unassigned studies")
    stat_breaches: int = Field(description="(2) STAT studies finishing after their due time")
    weighted_late_minutes: float = Field(description="(3) priority-weighted minutes late")
    preference_penalty: float = Field(description="(4) weighted sum of the soft terms below")
    workload_sq_hours: float = Field(description="sum over readers of (queue hours)^2")
    subspecialty_mismatches: int
    moved_studies: int
    unassigned_studies: int
    late_studies: int
    late_by_priority: dict[str, int]


class SolverInfo(Output):
    status: str = Field(
        description="OPTIMAL, IMPROVED, GREEDY or CURRENT (the starting plan was kept), "
        "FALLBACK_GREEDY or FALLBACK_CURRENT (the solver failed; the starting plan was kept)"
    )
    seconds: float
    first_plan_seconds: float
    method: str
    iterations: int = 0
    improvements: int = 0
    seed: int
    time_limit_seconds: float
    message: str | None = None


class Plan(Output):
    now: UtcDateTime
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    objective: ObjectiveReport
    baseline: ObjectiveReport
    solver: SolverInfo
