"""One objective term, one pair of cases: penalized / not penalized, by size not by a flat 1."""

from __future__ import annotations

import pytest

from models.snapshot import Snapshot
from nighthawk.eligibility import Eligibility
from nighthawk.objective import TERMS, Score, compare_keys
from nighthawk.problem import build_problem
from nighthawk.schedule import Schedule, ScoringContext, score_schedule
from tests.nighthawk.builders import reader, snapshot, study


def score(snap: Snapshot, queues: list[list[int]]) -> Score:
    problem = build_problem(snap)
    return score_schedule(ScoringContext(problem, Eligibility(problem)), Schedule(queues))


def test_every_term_is_registered_with_a_tier() -> None:
    names = {t.name: t.tier for t in TERMS}
    assert names["unassigned_weight"] == 1
    assert names["stat_breaches"] == 2
    assert names["weighted_late_minutes"] == 3
    assert {names["workload_balance"], names["subspecialty_mismatch"], names["moved_study"]} == {4}


def test_the_registry_is_what_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    import nighthawk.objective as objective
    from models.snapshot import PreferenceWeights

    plan = Score(
        unassigned_weight=1.0,
        stat_breaches=2,
        weighted_late_minutes=3.0,
        workload_sq_hours=4.0,
        subspecialty_mismatches=5,
        moved_studies=6,
    )
    weights = PreferenceWeights(workload_balance=1.0, subspecialty_mismatch=2.0, moved_study=3.0)
    assert plan.key(weights) == (1.0, 2.0, 3.0, 4.0 + 10.0 + 18.0)
    # A term dropped from the registry is no longer scored anywhere.
    kept = tuple(t for t in objective.TERMS if t.name != "moved_study")
    monkeypatch.setattr(objective, "TERMS", kept)
    assert plan.key(weights) == (1.0, 2.0, 3.0, 4.0 + 10.0)


@pytest.mark.parametrize(("priority", "weight"), [("STAT", 100), ("URGENT", 10), ("ROUTINE", 1)])
def test_unassigned_weight_is_the_priority_weight(priority: str, weight: float) -> None:
    snap = snapshot([reader()], [study(priority=priority)])
    assert score(snap, [[]]).unassigned_weight == weight
    assert score(snap, [[0]]).unassigned_weight == 0


def test_priority_weights_are_configuration() -> None:
    settings = {"priority_weights": {"STAT": 50.0}}
    snap = snapshot([reader()], [study(priority="STAT")], settings=settings)
    assert score(snap, [[]]).unassigned_weight == 50.0


def test_stat_breach_counts_a_stat_finishing_after_due() -> None:
    on_time = study(priority="STAT", due_at="2026-12-05T07:45:00Z", expected_minutes=15)
    late = study(priority="STAT", due_at="2026-12-05T07:44:00Z", expected_minutes=15)
    assert score(snapshot([reader()], [on_time]), [[0]]).stat_breaches == 0
    assert score(snapshot([reader()], [late]), [[0]]).stat_breaches == 1


def test_a_late_urgent_study_is_not_a_stat_breach() -> None:
    late = study(priority="URGENT", due_at="2026-12-05T07:35:00Z", expected_minutes=15)
    result = score(snapshot([reader()], [late]), [[0]])
    assert result.stat_breaches == 0
    assert result.weighted_late_minutes == pytest.approx(10 * 10.0)


def test_weighted_late_minutes_grow_with_minutes_and_priority() -> None:
    # Ready 07:30, 15-minute read finishes 07:45; due 07:40: five minutes late.
    stat = study(priority="STAT", due_at="2026-12-05T07:40:00Z", expected_minutes=15)
    routine = study(priority="ROUTINE", due_at="2026-12-05T07:40:00Z", expected_minutes=15)
    assert score(snapshot([reader()], [stat]), [[0]]).weighted_late_minutes == pytest.approx(500)
    assert score(snapshot([reader()], [routine]), [[0]]).weighted_late_minutes == pytest.approx(5)


def test_reading_order_decides_lateness() -> None:
    first = study("st-1", due_at="2026-12-05T07:41:00Z", expected_minutes=10)
    second = study("st-2", due_at="2026-12-05T08:30:00Z", expected_minutes=10)
    snap = snapshot([reader()], [first, second])
    assert score(snap, [[0, 1]]).weighted_late_minutes == 0
    assert score(snap, [[1, 0]]).weighted_late_minutes == pytest.approx(9)


def test_workload_balance_is_squared_queue_hours_including_backlog() -> None:
    readers = [reader("rad-1", backlog_minutes=30), reader("rad-2")]
    studies = [study("st-1", expected_minutes=30), study("st-2", expected_minutes=30)]
    snap = snapshot(readers, studies)
    lopsided = score(snap, [[0, 1], []]).workload_sq_hours  # 1.5h and 0h
    even = score(snap, [[0], [1]]).workload_sq_hours  # 1h and 0.5h
    assert lopsided == pytest.approx(1.5**2)
    assert even == pytest.approx(1.0 + 0.25)


def test_subspecialty_mismatch_counts_reads_outside_the_subspecialty() -> None:
    readers = [reader("rad-1", subspecialties=["neuro"]), reader("rad-2")]
    snap = snapshot(readers, [study(subspecialty="neuro")])
    assert score(snap, [[0], []]).subspecialty_mismatches == 0
    assert score(snap, [[], [0]]).subspecialty_mismatches == 1


def test_moving_an_assigned_study_counts_as_a_move() -> None:
    snap = snapshot([reader("rad-1"), reader("rad-2")], [study(assigned_to="rad-1")])
    assert score(snap, [[0], []]).moved_studies == 0
    assert score(snap, [[], [0]]).moved_studies == 1
    assert score(snap, [[], []]).moved_studies == 1


def test_preference_penalty_uses_configured_weights() -> None:
    settings = {"preference_weights": {"moved_study": 7.0, "workload_balance": 0.0}}
    snap = snapshot(
        [reader("rad-1"), reader("rad-2")], [study(assigned_to="rad-1")], settings=settings
    )
    weights = snap.settings.preference_weights
    assert score(snap, [[], [0]]).preference_penalty(weights) == pytest.approx(7.0)


def test_a_queue_breaking_a_hard_rule_is_refused() -> None:
    snap = snapshot([reader(licenses=["NV"])], [study(state="CA")])
    with pytest.raises(ValueError, match="breaks a hard rule"):
        score(snap, [[0]])


def test_tiers_compare_lexicographically() -> None:
    # One fewer STAT breach beats any amount of late minutes on the lower tier.
    assert compare_keys((0, 1, 0.0, 0.0), (0, 2, 0.0, 0.0)) < 0
    assert compare_keys((0, 1, 9e9, 0.0), (0, 2, 0.0, 0.0)) < 0
    assert compare_keys((1, 0, 0.0, 0.0), (0, 9, 9e9, 9e9)) > 0
    assert compare_keys((0, 0, 1.0, 5.0), (0, 0, 1.0 + 1e-12, 5.0)) == 0
