"""The referee: a solver-independent validator and objective for any nighthawk plan.

Plain Python over `models` only, written apart from the engine so that the two can be held
to each other. A plan is read as, per radiologist, the ordered list of study ids they read
back to back; every study not in any queue is unassigned.

Time is measured in minutes (float) since `snapshot.now`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import us

from models.plan import Assignment, Plan
from models.priority import Priority
from models.snapshot import Snapshot, SnapshotRadiologist, SnapshotStudy

# A study is late (and a STAT breached) only when it finishes more than this after its due time.
LATE_TOLERANCE_MINUTES = 1e-6
# Hard time limits (shift end, expiry) are compared with this much float slack, so that a
# finish computed by summing durations is not failed by rounding alone (it is 60 ns).
HARD_LIMIT_SLACK_MINUTES = 1e-9
# A plan's reported start, finish and late minutes must match the recomputed ones this closely.
REPORT_TOLERANCE_MINUTES = 0.01
# Used when a state lacks a capital time zone in the `us` package.
FALLBACK_TIME_ZONE = "America/New_York"

# Reason codes, in the order they are listed for one study-reader pair.
NOT_LICENSED = "NOT_LICENSED"
LICENSE_EXPIRED = "LICENSE_EXPIRED"
NOT_CREDENTIALED = "NOT_CREDENTIALED"
CREDENTIAL_EXPIRED = "CREDENTIAL_EXPIRED"
MODALITY_NOT_READ = "MODALITY_NOT_READ"
SUBSPECIALTY_REQUIRED = "SUBSPECIALTY_REQUIRED"
SHIFT_ENDS = "SHIFT_ENDS"
# Plan-shape problems.
DUPLICATE_STUDY = "DUPLICATE_STUDY"
UNKNOWN_STUDY = "UNKNOWN_STUDY"
UNKNOWN_RADIOLOGIST = "UNKNOWN_RADIOLOGIST"
# Problems of a Plan's own report (only from validate_plan).
REPORTED_TIME_MISMATCH = "REPORTED_TIME_MISMATCH"
REPORTED_UNASSIGNED_MISMATCH = "REPORTED_UNASSIGNED_MISMATCH"
REPORTED_NOW_MISMATCH = "REPORTED_NOW_MISMATCH"

Queues = Mapping[str, Sequence[str]]
ObjectiveKey = tuple[float, int, float, float]


# --------------------------------------------------------------------------- time


def minutes_since(now: datetime, moment: datetime) -> float:
    """Minutes from `now` to `moment` (negative when `moment` is in the past)."""
    return (moment - now).total_seconds() / 60.0


@cache
def state_time_zone(state: str) -> ZoneInfo:
    """The time zone of a state's capital, which dates a state license's expiry."""
    found = us.states.lookup(state)
    name = getattr(found, "capital_tz", None) if found is not None else None
    return ZoneInfo(name or FALLBACK_TIME_ZONE)


def facility_time_zone(snapshot: Snapshot, study: SnapshotStudy) -> ZoneInfo:
    """The facility's own time zone if the snapshot lists it, else its state capital's."""
    for facility in snapshot.facilities:
        if facility.id == study.facility:
            return ZoneInfo(facility.timezone)
    return state_time_zone(study.state)


def end_of_day(expires_on: date, zone: ZoneInfo) -> datetime:
    """A license or privilege dated D is valid until midnight at the end of day D, local time."""
    return datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def ready_minutes(snapshot: Snapshot, radiologist: SnapshotRadiologist) -> float:
    """A reader starts new work once their backlog is done and their shift has begun."""
    return max(radiologist.backlog_minutes, minutes_since(snapshot.now, radiologist.shift_start))


def read_minutes(study: SnapshotStudy, radiologist: SnapshotRadiologist) -> float:
    """Reading takes the study's expected minutes divided by the reader's speed."""
    return study.expected_minutes / radiologist.speed


def due_minutes(snapshot: Snapshot, study: SnapshotStudy) -> float:
    """The study's due time (given, else arrival plus contract SLA), in minutes since now."""
    return minutes_since(snapshot.now, snapshot.due_at(study))


def priority_weight(snapshot: Snapshot, study: SnapshotStudy) -> float:
    """How much one unread study, or one late minute, of this priority weighs."""
    return snapshot.settings.priority_weights.weight(study.priority)


# --------------------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class PairLimits:
    """What limits one reader reading one study: static failures and latest allowed finishes.

    `license_until` / `credential_until` are minutes since now: None when no matching license
    (credential) exists at all, math.inf when one never expires.
    """

    study: str
    radiologist: str
    read_minutes: float
    static_codes: tuple[str, ...]
    license_until: float | None
    credential_until: float | None
    shift_end: float

    @property
    def statically_eligible(self) -> bool:
        """Eligible ignoring time: licensed, credentialed, reads the modality and subspecialty."""
        return not self.static_codes

    @property
    def latest_finish(self) -> float:
        """The latest finish at which every time-bound rule still holds (-inf if ineligible)."""
        if self.static_codes:
            return -math.inf
        assert self.license_until is not None and self.credential_until is not None
        return min(self.license_until, self.credential_until, self.shift_end)

    def fits(self, finish: float) -> bool:
        """True when a read finishing at `finish` breaks no rule."""
        return finish <= self.latest_finish + HARD_LIMIT_SLACK_MINUTES

    def failures(self, finish: float) -> list[str]:
        """Reason codes of every rule a read finishing at `finish` breaks, in listing order."""
        slack = HARD_LIMIT_SLACK_MINUTES
        codes: list[str] = []
        if NOT_LICENSED in self.static_codes:
            codes.append(NOT_LICENSED)
        elif self.license_until is not None and finish > self.license_until + slack:
            codes.append(LICENSE_EXPIRED)
        if NOT_CREDENTIALED in self.static_codes:
            codes.append(NOT_CREDENTIALED)
        elif self.credential_until is not None and finish > self.credential_until + slack:
            codes.append(CREDENTIAL_EXPIRED)
        codes.extend(
            c for c in self.static_codes if c in (MODALITY_NOT_READ, SUBSPECIALTY_REQUIRED)
        )
        if finish > self.shift_end + slack:
            codes.append(SHIFT_ENDS)
        return codes


def license_until_minutes(
    snapshot: Snapshot, study: SnapshotStudy, radiologist: SnapshotRadiologist
) -> float | None:
    """Hard: a radiologist reads only studies from states where they hold an active license.

    Returns the latest valid instant over the reader's licenses in the study's state (minutes
    since now; inf if one never expires), or None when they hold no license there.
    """
    matching = [lic for lic in radiologist.licenses if lic.state == study.state]
    if not matching:
        return None
    if any(lic.expires_on is None for lic in matching):
        return math.inf
    zone = state_time_zone(study.state)
    return max(
        minutes_since(snapshot.now, end_of_day(lic.expires_on, zone))
        for lic in matching
        if lic.expires_on is not None
    )


def credential_until_minutes(
    snapshot: Snapshot, study: SnapshotStudy, radiologist: SnapshotRadiologist
) -> float | None:
    """Hard: a radiologist reads only for facilities that have granted them current privileges.

    Returns the latest valid instant over the reader's credentials at the study's facility
    (dated in the facility's time zone), or None when they hold none there.
    """
    matching = [cred for cred in radiologist.credentials if cred.facility == study.facility]
    if not matching:
        return None
    if any(cred.expires_on is None for cred in matching):
        return math.inf
    zone = facility_time_zone(snapshot, study)
    return max(
        minutes_since(snapshot.now, end_of_day(cred.expires_on, zone))
        for cred in matching
        if cred.expires_on is not None
    )


def reads_modality(study: SnapshotStudy, radiologist: SnapshotRadiologist) -> bool:
    """Hard: a reader restricted to some modalities reads only those (empty list: all)."""
    return not radiologist.modalities or study.modality in radiologist.modalities


def holds_required_subspecialty(study: SnapshotStudy, radiologist: SnapshotRadiologist) -> bool:
    """Hard: a study that requires a subspecialty goes only to a reader who holds it."""
    if not study.subspecialty_required:
        return True
    return study.subspecialty is not None and study.subspecialty in radiologist.subspecialties


def pair_limits(
    snapshot: Snapshot, study: SnapshotStudy, radiologist: SnapshotRadiologist
) -> PairLimits:
    """Everything the rules say about this reader reading this study, at any time."""
    license_until = license_until_minutes(snapshot, study, radiologist)
    credential_until = credential_until_minutes(snapshot, study, radiologist)
    static: list[str] = []
    if license_until is None:
        static.append(NOT_LICENSED)
    if credential_until is None:
        static.append(NOT_CREDENTIALED)
    if not reads_modality(study, radiologist):
        static.append(MODALITY_NOT_READ)
    if not holds_required_subspecialty(study, radiologist):
        static.append(SUBSPECIALTY_REQUIRED)
    return PairLimits(
        study=study.id,
        radiologist=radiologist.id,
        read_minutes=read_minutes(study, radiologist),
        static_codes=tuple(static),
        license_until=license_until,
        credential_until=credential_until,
        shift_end=minutes_since(snapshot.now, radiologist.shift_end),
    )


def eligibility_failures(
    snapshot: Snapshot,
    study: SnapshotStudy,
    radiologist: SnapshotRadiologist,
    finish_minutes: float,
) -> list[str]:
    """Reason codes for why this reader may not read this study finishing at that time.

    Empty when all hold: licensed in the study's state until the read finishes, credentialed at
    its facility until then, reads its modality, holds a required subspecialty, and finishes by
    the end of the shift.
    """
    return pair_limits(snapshot, study, radiologist).failures(finish_minutes)


def _describe(
    snapshot: Snapshot, code: str, study: SnapshotStudy, limits: PairLimits, finish: float
) -> str:
    def at(minutes: float) -> str:
        return (snapshot.now + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")

    reader = limits.radiologist
    if code == NOT_LICENSED:
        return f"{reader} holds no license in {study.state}"
    if code == LICENSE_EXPIRED:
        assert limits.license_until is not None
        return (
            f"{reader}'s {study.state} license is valid until {at(limits.license_until)}, "
            f"the read would finish {at(finish)}"
        )
    if code == NOT_CREDENTIALED:
        return f"{reader} is not credentialed at {study.facility}"
    if code == CREDENTIAL_EXPIRED:
        assert limits.credential_until is not None
        return (
            f"{reader}'s privileges at {study.facility} are valid until "
            f"{at(limits.credential_until)}, the read would finish {at(finish)}"
        )
    if code == MODALITY_NOT_READ:
        return f"{reader} does not read {study.modality}"
    if code == SUBSPECIALTY_REQUIRED:
        return f"{study.id} requires a {study.subspecialty} subspecialist"
    if code == SHIFT_ENDS:
        return f"{reader}'s shift ends {at(limits.shift_end)}, the read would finish {at(finish)}"
    return code


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StudyTiming:
    """When a queued study is read, recomputed from the reader's queue."""

    study: str
    radiologist: str
    position: int
    start_minutes: float
    finish_minutes: float
    due_minutes: float
    start: datetime
    finish: datetime
    due_at: datetime

    @property
    def late_minutes(self) -> float:
        """Minutes past the due time at finish (0 when on time)."""
        return max(0.0, self.finish_minutes - self.due_minutes)

    @property
    def is_late(self) -> bool:
        return self.finish_minutes > self.due_minutes + LATE_TOLERANCE_MINUTES


@dataclass(frozen=True)
class Violation:
    """One broken rule: a reason code and a sentence a coverage manager can read."""

    code: str
    message: str
    study: str | None = None
    radiologist: str | None = None


@dataclass(frozen=True)
class Objective:
    """The objective, lexicographic: unassigned weight, STAT breaches, weighted lateness,
    then the weighted soft preferences."""

    unassigned_weight: float
    stat_breaches: int
    weighted_late_minutes: float
    preference_penalty: float
    workload_sq_hours: float
    subspecialty_mismatches: int
    moved_studies: int
    unassigned_studies: int
    late_studies: int
    late_by_priority: dict[str, int]

    def key(self) -> ObjectiveKey:
        """The lexicographic key; smaller is better."""
        return (
            self.unassigned_weight,
            self.stat_breaches,
            self.weighted_late_minutes,
            self.preference_penalty,
        )


@dataclass
class ValidationResult:
    """The referee's verdict on one plan; the objective is meaningful only when valid."""

    valid: bool
    violations: list[str]
    issues: list[Violation]
    timings: dict[str, StudyTiming]
    queues: dict[str, list[str]]
    unassigned: list[str]
    objective: Objective
    codes: set[str] = field(default_factory=set)

    def key(self) -> ObjectiveKey:
        return self.objective.key()

    def codes_for(self, study: str) -> list[str]:
        """Reason codes of violations concerning one study."""
        return [issue.code for issue in self.issues if issue.study == study]


def compare_keys(a: Sequence[float], b: Sequence[float], tol: float = 1e-6) -> int:
    """Compare two objective keys tier by tier: -1 if a is better, 1 if b is, 0 if equal.

    Values within tolerance (math.isclose, rel 1e-9, abs `tol`) are equal on that tier and the
    next tier decides.
    """
    for x, y in zip(a, b, strict=True):
        if math.isclose(x, y, rel_tol=1e-9, abs_tol=tol):
            continue
        return -1 if x < y else 1
    return 0


# --------------------------------------------------------------------------- validation


def validate_queues(snapshot: Snapshot, queues: Queues) -> ValidationResult:
    """Check a plan given as reader id -> ordered study ids, and compute its objective.

    Valid iff every reader and study id exists, no study is queued twice, and every queued study
    is eligible for its reader at its computed finish. Readers read back to back from
    max(now + backlog, shift start). Studies in no queue are unassigned.
    """
    readers = {r.id: r for r in snapshot.radiologists}
    studies = {s.id: s for s in snapshot.studies}
    issues: list[Violation] = []
    timings: dict[str, StudyTiming] = {}
    read_by: dict[str, str] = {}
    busy_minutes = {r.id: r.backlog_minutes for r in snapshot.radiologists}
    clean_queues: dict[str, list[str]] = {r.id: [] for r in snapshot.radiologists}
    seen: set[str] = set()

    for reader_id, queue in queues.items():
        reader = readers.get(reader_id)
        if reader is None:
            issues.append(
                Violation(
                    UNKNOWN_RADIOLOGIST,
                    f"unknown radiologist {reader_id!r} has a queue of {len(queue)} studies",
                    radiologist=reader_id,
                )
            )
        clock = ready_minutes(snapshot, reader) if reader is not None else 0.0
        for study_id in queue:
            study = studies.get(study_id)
            if study is None:
                issues.append(
                    Violation(
                        UNKNOWN_STUDY,
                        f"unknown study {study_id!r} in {reader_id}'s queue",
                        study_id,
                        reader_id,
                    )
                )
                continue
            if study_id in seen:
                issues.append(
                    Violation(
                        DUPLICATE_STUDY,
                        f"{study_id} is queued more than once (again on {reader_id})",
                        study_id,
                        reader_id,
                    )
                )
                continue
            seen.add(study_id)
            if reader is None:
                continue
            limits = pair_limits(snapshot, study, reader)
            start, finish = clock, clock + limits.read_minutes
            clock = finish
            busy_minutes[reader.id] += limits.read_minutes
            for code in limits.failures(finish):
                message = _describe(snapshot, code, study, limits, finish)
                issues.append(
                    Violation(
                        code, f"{study_id} on {reader_id}: {code}: {message}", study_id, reader_id
                    )
                )
            due = due_minutes(snapshot, study)
            timings[study_id] = StudyTiming(
                study=study_id,
                radiologist=reader.id,
                position=len(clean_queues[reader.id]),
                start_minutes=start,
                finish_minutes=finish,
                due_minutes=due,
                start=snapshot.now + timedelta(minutes=start),
                finish=snapshot.now + timedelta(minutes=finish),
                due_at=snapshot.due_at(study),
            )
            read_by[study_id] = reader.id
            clean_queues[reader.id].append(study_id)

    # Studies queued to an unknown reader will never be read: they count as unassigned.
    unassigned = [s.id for s in snapshot.studies if s.id not in read_by]
    objective = compute_objective(snapshot, timings, unassigned, busy_minutes)
    return ValidationResult(
        valid=not issues,
        violations=[issue.message for issue in issues],
        issues=issues,
        timings=timings,
        queues=clean_queues,
        unassigned=unassigned,
        objective=objective,
        codes={issue.code for issue in issues},
    )


def compute_objective(
    snapshot: Snapshot,
    timings: Mapping[str, StudyTiming],
    unassigned: Sequence[str],
    busy_minutes: Mapping[str, float],
) -> Objective:
    """Every objective term, from recomputed times.

    - unassigned weight: priority weights of studies nobody reads;
    - STAT breaches: STAT studies finishing after their due time;
    - weighted late minutes: priority weight times minutes past due, over read studies;
    - workload: sum over every reader of (backlog plus queued reading hours) squared;
    - subspecialty mismatches: read studies whose subspecialty the reader does not hold;
    - moved studies: studies already assigned that now go elsewhere or nowhere.
    """
    studies = {s.id: s for s in snapshot.studies}
    readers = {r.id: r for r in snapshot.radiologists}
    weights = snapshot.settings.preference_weights

    unassigned_weight = sum(priority_weight(snapshot, studies[s]) for s in unassigned)
    stat_breaches = 0
    weighted_late = 0.0
    mismatches = 0
    late_by_priority = {p.value: 0 for p in Priority}
    for study_id, timing in timings.items():
        study = studies[study_id]
        weighted_late += priority_weight(snapshot, study) * timing.late_minutes
        if timing.is_late:
            late_by_priority[study.priority.value] += 1
            if study.priority == Priority.STAT:
                stat_breaches += 1
        reader = readers[timing.radiologist]
        if study.subspecialty is not None and study.subspecialty not in reader.subspecialties:
            mismatches += 1

    moved = sum(
        1
        for s in snapshot.studies
        if s.assigned_to is not None
        and (s.id not in timings or timings[s.id].radiologist != s.assigned_to)
    )
    workload = sum((busy_minutes[r.id] / 60.0) ** 2 for r in snapshot.radiologists)
    penalty = (
        weights.workload_balance * workload
        + weights.subspecialty_mismatch * mismatches
        + weights.moved_study * moved
    )
    return Objective(
        unassigned_weight=unassigned_weight,
        stat_breaches=stat_breaches,
        weighted_late_minutes=weighted_late,
        preference_penalty=penalty,
        workload_sq_hours=workload,
        subspecialty_mismatches=mismatches,
        moved_studies=moved,
        unassigned_studies=len(unassigned),
        late_studies=sum(late_by_priority.values()),
        late_by_priority=late_by_priority,
    )


# --------------------------------------------------------------------------- plans


def as_plan(plan: Plan | Mapping[str, Any]) -> Plan:
    """A Plan, from the model itself or its JSON dict."""
    return plan if isinstance(plan, Plan) else Plan.model_validate(plan)


def queues_from_plan(plan: Plan | Mapping[str, Any]) -> dict[str, list[str]]:
    """Each radiologist's reading order in a plan: their assignments sorted by start."""
    plan = as_plan(plan)
    by_reader: dict[str, list[tuple[datetime, int, str]]] = {}
    for index, assignment in enumerate(plan.assignments):
        by_reader.setdefault(assignment.radiologist, []).append(
            (assignment.start, index, assignment.study)
        )
    return {reader: [study for _, _, study in sorted(rows)] for reader, rows in by_reader.items()}


def validate_plan(snapshot: Snapshot, plan: Plan | Mapping[str, Any]) -> ValidationResult:
    """Validate a Plan as its reading orders, and check what it reports against the referee.

    Beyond validate_queues: every assignment's reported start, finish and late minutes must equal
    the recomputed ones within 0.01 minutes, the plan's `now` must be the snapshot's, and its
    unassigned list must be exactly the studies it does not assign. The reported objective is
    checked separately by check_reported_objective.
    """
    plan = as_plan(plan)
    result = validate_queues(snapshot, queues_from_plan(plan))
    extra: list[Violation] = []
    if plan.now != snapshot.now:
        extra.append(
            Violation(
                REPORTED_NOW_MISMATCH, f"plan is for {plan.now}, snapshot is at {snapshot.now}"
            )
        )
    for assignment in plan.assignments:
        timing = result.timings.get(assignment.study)
        if timing is None or timing.radiologist != assignment.radiologist:
            continue
        extra.extend(_reported_time_mismatches(snapshot, assignment, timing))
    extra.extend(_unassigned_mismatches(snapshot, plan))
    if extra:
        result.issues.extend(extra)
        result.violations.extend(issue.message for issue in extra)
        result.codes.update(issue.code for issue in extra)
        result.valid = False
    return result


def _reported_time_mismatches(
    snapshot: Snapshot, assignment: Assignment, timing: StudyTiming
) -> list[Violation]:
    found: list[Violation] = []
    pairs = (
        ("start", minutes_since(snapshot.now, assignment.start), timing.start_minutes),
        ("finish", minutes_since(snapshot.now, assignment.finish), timing.finish_minutes),
        ("late_minutes", float(assignment.late_minutes), timing.late_minutes),
    )
    for name, reported, recomputed in pairs:
        if abs(reported - recomputed) > REPORT_TOLERANCE_MINUTES:
            found.append(
                Violation(
                    REPORTED_TIME_MISMATCH,
                    f"{assignment.study} on {assignment.radiologist}: reported {name} "
                    f"{reported:.4f} min after now, recomputed {recomputed:.4f}",
                    assignment.study,
                    assignment.radiologist,
                )
            )
    return found


def _unassigned_mismatches(snapshot: Snapshot, plan: Plan) -> list[Violation]:
    assigned = {a.study for a in plan.assignments}
    listed = [u.study for u in plan.unassigned]
    found: list[Violation] = []
    known = {s.id for s in snapshot.studies}
    for study_id in listed:
        if study_id in assigned:
            found.append(
                Violation(
                    REPORTED_UNASSIGNED_MISMATCH,
                    f"{study_id} is both assigned and listed unassigned",
                    study_id,
                )
            )
        elif study_id not in known:
            found.append(
                Violation(UNKNOWN_STUDY, f"unknown study {study_id!r} listed unassigned", study_id)
            )
    if len(set(listed)) != len(listed):
        found.append(Violation(REPORTED_UNASSIGNED_MISMATCH, "a study is listed unassigned twice"))
    for study_id in sorted(known - assigned - set(listed)):
        found.append(
            Violation(
                REPORTED_UNASSIGNED_MISMATCH,
                f"{study_id} is neither assigned nor listed unassigned",
                study_id,
            )
        )
    return found


def validate(snapshot: Snapshot, plan: Plan | Queues | Mapping[str, Any]) -> ValidationResult:
    """Validate a Plan, a Plan's JSON dict, or a mapping of reader id -> ordered study ids."""
    if isinstance(plan, Plan):
        return validate_plan(snapshot, plan)
    if isinstance(plan, Mapping) and "assignments" in plan and "objective" in plan:
        return validate_plan(snapshot, plan)
    return validate_queues(snapshot, plan)


_OBJECTIVE_FIELDS = (
    "unassigned_weight",
    "stat_breaches",
    "weighted_late_minutes",
    "preference_penalty",
    "workload_sq_hours",
    "subspecialty_mismatches",
    "moved_studies",
    "unassigned_studies",
    "late_studies",
)


def check_reported_objective(
    plan: Plan | Mapping[str, Any], result: ValidationResult, tol: float = 1e-6
) -> list[str]:
    """Where the plan's reported objective differs from the referee's (empty when it agrees).

    Numbers agree within math.isclose(rel 1e-9, abs `tol`); late_by_priority is compared per
    priority, a missing entry counting as 0.
    """
    reported = as_plan(plan).objective
    mine = result.objective
    problems: list[str] = []
    for name in _OBJECTIVE_FIELDS:
        theirs, ours = float(getattr(reported, name)), float(getattr(mine, name))
        if not math.isclose(theirs, ours, rel_tol=1e-9, abs_tol=tol):
            problems.append(
                f"objective.{name}: plan reports {theirs!r}, validator computes {ours!r}"
            )
    for priority in sorted(set(reported.late_by_priority) | set(mine.late_by_priority)):
        theirs_count = reported.late_by_priority.get(priority, 0)
        ours_count = mine.late_by_priority.get(priority, 0)
        if theirs_count != ours_count:
            problems.append(
                f"objective.late_by_priority[{priority}]: plan reports {theirs_count}, "
                f"validator computes {ours_count}"
            )
    return problems
