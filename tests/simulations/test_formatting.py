"""Tests for ``simulations.formatting``: the figures as the console and the report show them."""

from __future__ import annotations

from simulations.formatting import (
    SUMMARY_TABLE_COLUMNS,
    comparison_rows,
    format_ci,
    format_difference,
    summary_table,
)
from simulations.summary import build_summary
from tests.simulations.test_summary import stat_run


def test_format_ci() -> None:
    share = {"mean": 0.931, "ci95": [0.912, 0.95], "values": []}
    assert format_ci(share, percent=True) == "93.1% [91.2, 95.0]"
    assert format_ci({"mean": 12.4, "ci95": [11.0, 13.8], "values": []}) == "12.4 [11.0, 13.8]"
    assert format_ci({"mean": 12.44, "ci95": None, "values": []}, 2) == "12.44"
    assert format_ci({"mean": None, "ci95": None, "values": []}) == "n/a"


def test_format_difference_in_percentage_points() -> None:
    stat = {"mean": -0.0417, "ci95": [-0.0638, -0.0196]}
    assert format_difference(stat, percent=True) == ("-4.17 pp", "[-6.38, -1.96]")
    assert format_difference({"mean": 5.5, "ci95": None}, percent=False) == (
        "+5.50",
        "n/a (one replication)",
    )


def test_summary_table_rows_show_asymmetric_intervals() -> None:
    runs = [stat_run("fifo", rep, met=3, missed=1) for rep in (1, 2)]
    runs += [stat_run("smart", rep, met=2 + rep, missed=2 - rep) for rep in (1, 2)]
    rows = summary_table(build_summary(runs, scenario_name="s", seed=1))
    assert [row[0] for row in rows] == ["fifo", "smart"]
    assert all(len(row) == len(SUMMARY_TABLE_COLUMNS) for row in rows)
    assert rows[0][2:5] == ["38.0 [38.0, 38.0]", "1.0 [1.0, 1.0]", rows[0][1]]
    assert rows[0][5] == "50.0% [50.0, 50.0]"
    # Pooled 6 of 8 met, its Wilson interval not centred on the share.
    assert rows[1][1].startswith("87.5% [")
    low, high = (float(bound) for bound in rows[1][1][7:-1].split(", "))
    assert 0 <= low < 87.5 < high <= 100
    assert high - 87.5 != 87.5 - low


def test_comparison_rows_hold_both_values_the_difference_and_significance() -> None:
    runs = [stat_run("fifo", rep, met=2, missed=2) for rep in (1, 2, 3)]
    runs += [stat_run("smart", rep, met=4, missed=0) for rep in (1, 2, 3)]
    rows = comparison_rows(build_summary(runs, scenario_name="s", seed=1), "smart")
    cells, significant = rows[0]
    assert cells == [
        "STAT breaches",
        "2.0 [2.0, 2.0]",
        "0.0 [0.0, 0.0]",
        "-2.00",
        "[-2.00, -2.00]",
        "yes",
    ]
    assert significant is True
    share_cells, _ = rows[1]
    assert share_cells[0] == "STAT met SLA" and share_cells[3] == "+50.00 pp"
