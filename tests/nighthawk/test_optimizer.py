"""Hand-built cases where the answer is known, and the optimizer's promises."""

from __future__ import annotations

import pytest

import nighthawk.optimizer as optimizer_module
from models.plan import Plan
from nighthawk.demo import generate_snapshot
from nighthawk.optimizer import SolveOptions, optimize, solve
from tests.nighthawk.builders import reader, snapshot, study
from tests.validator import validate_plan

EXACT = SolveOptions(time_limit=5.0, seed=0, deterministic=True)


def placed(plan: Plan) -> dict[str, str]:
    return {a.study: a.radiologist for a in plan.assignments}


def order(plan: Plan, radiologist: str) -> list[str]:
    return [
        a.study
        for a in sorted(plan.assignments, key=lambda a: a.start)
        if a.radiologist == radiologist
    ]


def test_sacrificing_a_hopeless_stat_saves_another() -> None:
    # Greedy reads by due time: B (ok), A (late), C (late). Reading C before A saves C.
    studies = [
        study("A", priority="STAT", expected_minutes=20, due_at="2026-12-05T07:45:00Z"),
        study("B", priority="STAT", expected_minutes=10, due_at="2026-12-05T07:42:00Z"),
        study("C", priority="STAT", expected_minutes=10, due_at="2026-12-05T07:52:00Z"),
    ]
    plan = solve(snapshot([reader()], studies), EXACT)
    assert plan.baseline.stat_breaches == 2
    assert plan.objective.stat_breaches == 1
    assert order(plan, "rad-1") == ["B", "C", "A"]
    assert validate_plan(snapshot([reader()], studies), plan).valid


def test_the_only_reader_licensed_in_a_state_is_kept_free_for_it() -> None:
    # Greedy gives the CA study to rad-1 (a tie); the NV study, only rad-1's, then waits.
    readers = [reader("rad-1", licenses=["CA", "NV"]), reader("rad-2", licenses=["CA"])]
    studies = [
        study("ca", priority="STAT", expected_minutes=20, due_at="2026-12-05T07:55:00Z"),
        study(
            "nv", state="NV", priority="STAT", expected_minutes=20, due_at="2026-12-05T07:56:00Z"
        ),
    ]
    plan = solve(snapshot(readers, studies), EXACT)
    assert plan.baseline.stat_breaches == 1
    assert plan.objective.stat_breaches == 0
    assert placed(plan) == {"ca": "rad-2", "nv": "rad-1"}


def test_an_assigned_study_stays_put_without_a_gain() -> None:
    studies = [study("st-1", assigned_to="rad-2")]
    plan = solve(snapshot([reader("rad-1"), reader("rad-2")], studies), EXACT)
    assert placed(plan) == {"st-1": "rad-2"}
    assert plan.objective.moved_studies == 0


def test_an_assigned_study_moves_when_it_saves_a_breach() -> None:
    readers = [reader("rad-1", backlog_minutes=30), reader("rad-2")]
    studies = [study("st-1", priority="STAT", due_at="2026-12-05T07:50:00Z", assigned_to="rad-1")]
    plan = solve(snapshot(readers, studies), EXACT)
    assert placed(plan) == {"st-1": "rad-2"}
    assert plan.objective.moved_studies == 1


def test_subspecialty_match_is_preferred() -> None:
    readers = [reader("rad-1"), reader("rad-2", subspecialties=["neuro"])]
    plan = solve(snapshot(readers, [study(subspecialty="neuro")]), EXACT)
    assert placed(plan) == {"st-1": "rad-2"}
    assert plan.assignments[0].why is not None
    assert plan.assignments[0].why.subspecialty_match is True


def test_work_is_spread_across_equal_readers() -> None:
    studies = [study(f"st-{i}", expected_minutes=30) for i in range(4)]
    plan = solve(snapshot([reader("rad-1"), reader("rad-2")], studies), EXACT)
    assert sorted(placed(plan).values()) == ["rad-1", "rad-1", "rad-2", "rad-2"]


def test_a_study_nobody_can_fit_before_shift_end_is_unassigned_with_the_reason() -> None:
    short = reader(shift_end="2026-12-05T08:00:00Z")
    studies = [study("a", expected_minutes=25), study("b", expected_minutes=25)]
    plan = solve(snapshot([short], studies), EXACT)
    assert len(plan.assignments) == 1
    assert plan.unassigned[0].reason_codes == ["NO_CAPACITY"]
    assert "booked" in plan.unassigned[0].reason


def test_explanation_names_eligible_count_alternatives_and_barred_readers() -> None:
    readers = [
        reader("rad-1"),
        reader("rad-2", backlog_minutes=20),
        reader("rad-3", licenses=["NV"]),
    ]
    plan = solve(snapshot(readers, [study(priority="STAT", due_at="2026-12-05T07:50:00Z")]), EXACT)
    why = plan.assignments[0].why
    assert why is not None
    assert why.eligible_radiologists == 2
    assert why.summary.startswith("rad-1 is one of 2 eligible readers")
    # Local time at the facility (fac-1 is in CA: Pacific time).
    assert "(23:40 PST at fac-1)" in why.summary
    by_reader = {alt.radiologist: alt for alt in why.alternatives}
    assert by_reader["rad-2"].reason_codes == ["LATER_FINISH"]
    assert by_reader["rad-2"].minutes_later == pytest.approx(20.0)
    assert by_reader["rad-3"].eligible is False
    assert by_reader["rad-3"].reasons == ["not licensed in CA"]
    assert why.ineligible == {"NOT_LICENSED": 1}


def test_solver_failure_falls_back_to_the_greedy_plan(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(optimizer_module, "solve_neighbourhood", broken)
    snap = snapshot([reader()], [study("a"), study("b")])
    plan = solve(snap, EXACT)
    assert plan.solver.status == "FALLBACK_GREEDY"
    # The user sees one warning line, not a traceback.
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.exc_info for r in warnings] == [None]
    assert "solver crashed" in warnings[0].getMessage()
    assert "solver crashed" in (plan.solver.message or "")
    assert len(plan.assignments) == 2
    assert validate_plan(snap, plan).valid


def test_zero_time_limit_returns_the_greedy_plan() -> None:
    snap = generate_snapshot(120, 10, seed=3, contested=True)
    plan = solve(snap, SolveOptions(time_limit=0))
    assert plan.solver.status == "GREEDY"
    assert plan.objective == plan.baseline


def test_search_cuts_stat_breaches_on_a_contested_pool() -> None:
    snap = generate_snapshot(150, 12, seed=0, contested=True)
    plan = solve(snap, SolveOptions(time_limit=1.0, seed=0, deterministic=True))
    assert plan.solver.method == "lns"
    assert plan.baseline.stat_breaches > 0
    assert plan.objective.stat_breaches < plan.baseline.stat_breaches
    assert validate_plan(snap, plan).valid


def test_empty_snapshot_gives_an_empty_plan() -> None:
    plan = solve(snapshot([reader()], []), EXACT)
    assert plan.assignments == [] and plan.unassigned == []


def _with_current_plan(snapshot_in: object, plan: Plan) -> object:
    """The snapshot as a live service sends it: each study with its reader and queue place."""
    owner = placed(plan)
    position = {
        study: index
        for radiologist in set(owner.values())
        for index, study in enumerate(order(plan, radiologist))
    }
    return snapshot_in.model_copy(  # type: ignore[attr-defined]
        update={
            "studies": [
                s.model_copy(
                    update={"assigned_to": owner.get(s.id), "queue_position": position.get(s.id)}
                )
                for s in snapshot_in.studies  # type: ignore[attr-defined]
            ]
        }
    )


def test_replanning_starts_from_the_current_plan_and_never_loses_ground() -> None:
    pool = generate_snapshot(150, 12, 3, contested=True)
    options = SolveOptions(time_limit=0.3, deterministic=True, explain=False)
    first = solve(pool, options)
    again = solve(_with_current_plan(pool, first), options)  # type: ignore[arg-type]
    tiers = ("unassigned_weight", "stat_breaches", "weighted_late_minutes")
    before = tuple(getattr(first.objective, t) for t in tiers)
    after = tuple(getattr(again.objective, t) for t in tiers)
    assert after <= before
    assert again.objective.moved_studies < 0.1 * len(pool.studies)


def test_the_current_reading_order_is_kept_when_nothing_is_gained() -> None:
    pool = snapshot(
        readers=[reader("r1")],
        studies=[
            study("a", assigned_to="r1", queue_position=1),
            study("b", assigned_to="r1", queue_position=0),
        ],
    )
    plan = solve(pool, SolveOptions(time_limit=0.2, deterministic=True))
    assert order(plan, "r1") == ["b", "a"]  # dispatch order alone would read a first


def test_keeping_the_current_plan_improves_it_in_place() -> None:
    pool = generate_snapshot(150, 12, 5, contested=True)
    greedy_first = solve(pool, SolveOptions(time_limit=0, explain=False))
    # A poor live plan: every study with the reader greedy would give the *next* study.
    owners = [placed(greedy_first).get(s.id) for s in pool.studies]
    rotated = owners[1:] + owners[:1]
    live = pool.model_copy(
        update={
            "studies": [
                s.model_copy(update={"assigned_to": owner})
                for s, owner in zip(pool.studies, rotated, strict=True)
            ]
        }
    )
    as_is = solve(live, SolveOptions(time_limit=0, explain=False, keep_current=True))
    improved = solve(
        live, SolveOptions(time_limit=0.5, deterministic=True, explain=False, keep_current=True)
    )
    assert as_is.solver.status == "CURRENT"
    tiers = ("unassigned_weight", "stat_breaches", "weighted_late_minutes")
    assert tuple(getattr(improved.objective, t) for t in tiers) <= tuple(
        getattr(as_is.objective, t) for t in tiers
    )
    assert (
        improved.objective.moved_studies <= as_is.objective.moved_studies + len(pool.studies) // 2
    )


def test_search_only_if_late_skips_the_search_when_nothing_is_late() -> None:
    easy = snapshot([reader("r1")], [study("s1")])
    lazy = SolveOptions(time_limit=1, deterministic=True, search_only_if_late=True)
    assert optimize(easy, lazy).info.method == "greedy"
    assert optimize(easy, SolveOptions(time_limit=1, deterministic=True)).info.method == "exact"
    # Two STATs due in 10 minutes, one reader: one is late, so the search runs.
    late = [study(f"s{i}", priority="STAT", due_at="2026-12-05T07:40:00Z") for i in range(2)]
    tight = snapshot([reader("r1")], late)
    assert optimize(tight, lazy).info.method == "exact"
