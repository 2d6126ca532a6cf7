"""Recommendations a coverage manager can act on: the same list on every run, interchangeable
readers named together, and one set of additions that closes every structural gap papers can
close, each checked by re-solving and by the independent checker.

The practices run on UTC clocks: tx-1 (Texas) sends CT all day, readers are licensed in Texas
only, so wy-1's work (CT and MR, 00:00-12:00) has nobody who may read it. Shifts are 00-12 and
12-24 with 10 hours' rest and five shifts a week, so one reader given Wyoming papers can work
at most five of its seven mornings: a second one is needed to close them all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from models.scenario import Scenario
from nighthawk.planner.instance import build_instance
from nighthawk.planner.outputs import recommendations_frame
from nighthawk.planner.planner import (
    PlanOptions,
    PlanResult,
    plan,
    reference_roster,
    roster_shifts,
    verifying_resolve,
)
from nighthawk.planner.recommend import apply_all
from nighthawk.planner.result import CombinedRecommendation
from nighthawk.planner.structural import structural_cells
from tests.planner import cases
from tests.planner.checker import arrival_demand_hours, roster_violations, uncovered_hours

# The default search: several CP-SAT workers on the wall clock, so the main roster may differ
# from run to run; the recommendations must not.
OPTIONS = PlanOptions(time_limit=1.0, recommendations=2, verify=3, verify_seconds=0.5)
MORNINGS = cases.hours_profile(*range(12))
WY_PAPERS = ("license in WY", "credential at wy-1")


def practice(*readers: dict[str, Any], **extra: Any) -> Scenario:
    stream = {"priority": "STAT", "per_hour": 1, "hourly_profile": MORNINGS}
    return cases.planning(
        facilities=[
            {"id": "tx-1", "state": "TX", "timezone": "UTC"},
            {"id": "wy-1", "state": "WY", "timezone": "UTC"},
            *extra.get("facilities", []),
        ],
        arrivals=[
            {"facility": "tx-1", "modality": "CT", "priority": "STAT", "per_hour": 2},
            {**stream, "facility": "wy-1", "modality": "CT"},
            {**stream, "facility": "wy-1", "modality": "MR"},
            *extra.get("arrivals", []),
        ],
        radiologists=list(readers),
        shift_templates=[
            cases.template("day", "00:00", "12:00"),
            cases.template("night", "12:00", "24:00"),
        ],
        rules={
            "min_rest_hours": 10,
            "max_shifts_per_week": 5,
            "max_consecutive_nights": 7,
            "target_utilization": 0.8,
        },
    )


def texan(rid: str, **fields: Any) -> dict[str, Any]:
    return cases.reader(rid, **{"licenses": ["TX"], "credentials": ["tx-1"], **fields})


FIVE_TEXANS = practice(*(texan(f"r{i}") for i in range(1, 6)))


@pytest.fixture(scope="module")
def planned() -> PlanResult:
    return plan(FIVE_TEXANS, OPTIONS)


def test_identical_runs_give_identical_recommendations(planned: PlanResult) -> None:
    """Before, the reader named first followed whoever the main search happened to put on
    shift (r1 and r2 on one run, r2 and r3 or r4 and r5 on the next)."""
    again = plan(FIVE_TEXANS, OPTIONS)
    alone = plan(FIVE_TEXANS, replace(OPTIONS, deterministic=True))
    assert planned.recommendations
    for other in (again, alone):
        assert other.recommendations == planned.recommendations
        assert other.combined == planned.combined
        assert other.reference_uncovered_hours == planned.reference_uncovered_hours


def test_interchangeable_readers_are_one_recommendation(planned: PlanResult) -> None:
    wyoming = [r for r in planned.recommendations if r.additions == WY_PAPERS]
    assert len(wyoming) == 1
    (first,) = wyoming
    others = [alternative.split(" + ", 1) for alternative in first.alternatives]
    assert all(papers == " + ".join(WY_PAPERS) for _, papers in others)
    readers = [first.radiologist] + [reader for reader, _ in others]
    assert sorted(readers) == ["r1", "r2", "r3", "r4", "r5"]
    assert first.alternatives_text() == ", ".join(readers[1:])
    assert first.closes_uncovered_hours == 5 * 12  # five mornings of the seven
    row = recommendations_frame(planned).iloc[0]
    assert row["alternatives"] == "; ".join(first.alternatives)


def test_the_combined_set_closes_every_structural_gap(planned: PlanResult) -> None:
    """One reader cannot work all seven mornings: the smallest set is two readers' papers."""
    combined = planned.combined
    assert combined is not None
    assert [papers for _, papers in combined.additions] == [WY_PAPERS, WY_PAPERS]
    assert combined.papers == 4
    assert combined.structural_hours_before == 7 * 12
    assert combined.structural_hours_after == 0
    assert combined.uncovered_hours_after == 0
    reverified(FIVE_TEXANS, planned, combined)


def test_the_combined_set_spans_different_gaps() -> None:
    """Also a neuro contract at tx-2 in the afternoons: r1 holds neuro but no privileges there,
    r2 the privileges but not neuro. The set adds papers for both gaps, and re-solving with
    them (checked against the scenario text with the papers written in) closes them all."""
    scenario = practice(
        texan("r1", subspecialties=["neuro"]),
        texan("r2", credentials=["tx-1", "tx-2"]),
        texan("r3"),
        texan("r4"),
        facilities=[{"id": "tx-2", "state": "TX", "timezone": "UTC"}],
        arrivals=[
            {
                "facility": "tx-2",
                "modality": "MR",
                "priority": "STAT",
                "per_hour": 1,
                "subspecialty": "neuro",
                "subspecialty_required": True,
                "hourly_profile": cases.hours_profile(*range(12, 18)),
            }
        ],
    )
    result = plan(scenario, OPTIONS)
    combined = result.combined
    assert combined is not None
    papers = {paper for _, added in combined.additions for paper in added}
    assert set(WY_PAPERS) <= papers
    assert {"credential at tx-2", "subspecialty neuro"} & papers
    assert combined.structural_hours_before == 7 * 12 + 7 * 6
    assert combined.structural_hours_after == 0
    assert combined.uncovered_hours_after == 0
    reverified(scenario, result, combined)


def reverified(scenario: Scenario, result: PlanResult, combined: CombinedRecommendation) -> None:
    """Re-solve with the set's additions from the reference roster, as single recommendations
    are verified: the figures are the set's; the roster, held to the scenario with the papers
    written in, keeps every rule and leaves what the set says."""
    instance = build_instance(scenario, result.forecast, 1)
    resolve = verifying_resolve(OPTIONS)
    reference, before = reference_roster(instance, resolve)
    assert round(before.uncovered_hours, 2) == result.reference_uncovered_hours
    chosen = [
        cases.candidate(instance.reader_ids.index(reader), added)
        for reader, added in combined.additions
    ]
    changed = apply_all(instance, chosen)
    roster, after = resolve(changed, reference)
    assert round(after.uncovered_hours, 2) == combined.uncovered_hours_after
    assert combined.closes_uncovered_hours == round(
        before.uncovered_hours - after.uncovered_hours, 2
    )
    written = scenario
    for reader, added in combined.additions:
        written = cases.with_additions(written, reader, added)
    shifts = roster_shifts(changed, roster)
    assert roster_violations(written, shifts) == []
    demand = arrival_demand_hours(written)
    assert uncovered_hours(written, shifts, demand) == combined.uncovered_hours_after
    recompiled = build_instance(written, result.forecast, 1)
    assert not structural_cells(recompiled).any() or combined.structural_hours_after > 0


def test_the_cover_is_the_smallest_where_greedy_is_not() -> None:
    """The textbook case: greedy takes the candidate opening four cells and then needs two
    more; two candidates open all six between them."""
    from nighthawk.planner.combine import _greedy_cover, smallest_cover
    from nighthawk.planner.recommend import Option

    def option(reader: int, cells: list[int]) -> Option:
        opens = np.zeros(6, dtype=bool)
        opens[cells] = True
        return Option((reader, (("license", f"S{reader}"),)), 1.0, opens, f"r{reader}")

    ranked = [option(1, [0, 1, 2, 3]), option(2, [0, 1, 4]), option(3, [2, 3, 5])]
    universe = np.ones(6, dtype=bool)
    assert len(_greedy_cover(ranked, universe)) == 3
    cover = smallest_cover(ranked, universe)
    assert cover is not None
    assert sorted(o.reader_id for o in cover) == ["r2", "r3"]


def test_a_paper_a_reader_already_gets_is_not_counted_twice() -> None:
    """Two candidates of one reader sharing a paper cost three papers, not four: cheaper than
    two other readers' two papers each."""
    from nighthawk.planner.combine import smallest_cover
    from nighthawk.planner.recommend import Option

    wy, cred_a, cred_b = ("license", "WY"), ("credential", "a"), ("credential", "b")

    def option(reader: int, additions: tuple, cells: list[int]) -> Option:
        opens = np.zeros(2, dtype=bool)
        opens[cells] = True
        return Option((reader, additions), 1.0, opens, f"r{reader}")

    ranked = [
        option(1, (wy, cred_a), [0]),
        option(1, (wy, cred_b), [1]),
        option(2, (wy, cred_a), [0]),
        option(3, (wy, cred_b), [1]),
    ]
    cover = smallest_cover(ranked, np.ones(2, dtype=bool))
    assert cover is not None
    assert {o.reader_id for o in cover} == {"r1"}
