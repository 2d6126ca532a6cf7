"""Tests for ``simulations.facilities``: compliance per facility, the worst ranked only on
enough STAT and URGENT studies, each with its interval."""

from __future__ import annotations

import pytest

from simulations.facilities import MIN_RANKED_STUDIES, facility_compliance
from simulations.summary import build_summary
from tests.simulations.test_summary import Study, make_result


def critical_studies(facility: str, *, met: int, missed: int) -> list[Study]:
    """STAT and URGENT studies at one facility: `met` read in 10 minutes, `missed` in 200."""
    studies = [Study("STAT", 60.0 + i, 60.0 + i, 70.0 + i, facility=facility) for i in range(met)]
    studies += [
        Study("URGENT", 60.0 + i, 60.0 + i, 260.0 + i, facility=facility) for i in range(missed)
    ]
    return studies


def test_worst_facilities_rank_only_facilities_with_enough_studies() -> None:
    # Before: every facility was ranked, however few its studies, and without an interval.
    few = [Study("STAT", 70.0, 100.0, 200.0, facility="F-few")] * 4  # all missed, but only 4
    first = make_result("fifo", 1, [*critical_studies("F-many", met=15, missed=5), *few])
    second = make_result("fifo", 2, critical_studies("F-many", met=12, missed=8))
    worst = build_summary([first, second], scenario_name="s", seed=1)["policies"]["fifo"][
        "worst_facilities"
    ]
    assert worst["minimum_stat_urgent_studies"] == MIN_RANKED_STUDIES
    assert worst["facilities_ranked"] == 1
    assert worst["facilities_with_too_few_studies"] == 1
    [row] = worst["rows"]
    assert row["facility"] == "F-many"
    assert row["stat_urgent_studies"] == 40
    assert row["stat_urgent_met_share"] == pytest.approx(27 / 40)
    low, high = row["ci95"]
    assert 0 <= low < 27 / 40 < high <= 1


def test_worst_facilities_are_the_ten_lowest_of_those_ranked() -> None:
    runs = [
        make_result(
            "fifo",
            rep,
            [
                study
                for index in range(14)
                for study in critical_studies(f"F{index:02d}", met=20 - index, missed=index)
            ],
        )
        for rep in (1, 2)
    ]
    worst = build_summary(runs, scenario_name="s", seed=1)["policies"]["fifo"]["worst_facilities"]
    assert worst["facilities_ranked"] == 14
    assert [row["facility"] for row in worst["rows"]] == [f"F{i:02d}" for i in range(13, 3, -1)]
    assert all(row["ci95"] is not None for row in worst["rows"])


def test_facility_compliance_lists_every_facility_worst_first() -> None:
    studies = [
        Study("STAT", 60.0 + i, 60.0 + i, 70.0 + i + (i % 3) * 30, facility=f"F{i:02d}")
        for i in range(14)
    ]
    table = facility_compliance([make_result("fifo", 1, studies)])
    assert len(table) == 14
    assert list(table["met_sla_share"]) == sorted(table["met_sla_share"])
