"""Tests for ``simulations.report``: a self-contained HTML page with every plot section."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from simulations.plots import utilization_grid, waiting_by_hour
from simulations.report import write_report
from simulations.results import ReplicationResult
from simulations.summary import build_summary
from tests.simulations.test_summary import HAND_STUDIES, Study, make_result

IMAGE = '<img src="data:image/png;base64,'
PLOT_SECTIONS = (
    "Turnaround time",
    "Backlog by hour",
    "Reader utilization",
    "SLA compliance by facility",
)
COMPARISON_TITLE = "Policy vs baseline: difference and 95% CI"
SMART = "smart <v2> & co"  # a policy name that must be escaped
SMART_HTML = "smart &lt;v2&gt; &amp; co"


def sections(page: str) -> dict[str, str]:
    """Section title -> its HTML."""
    found = re.findall(r"<section><h2>(.*?)</h2>(.*?)</section>", page, flags=re.S)
    return dict(found)


def render(results: list[ReplicationResult], path: Path) -> str:
    summary = build_summary(results, scenario_name="Night <shift> & co", seed=11)
    write_report(results, summary, path)
    return path.read_text(encoding="utf-8")


def policy_runs(policy: str, misses: list[int]) -> list[ReplicationResult]:
    """A few replications of HAND_STUDIES plus STAT studies, `misses[i]` of them late."""
    runs = []
    for replication, missed in enumerate(misses, start=1):
        extra = [
            Study("STAT", 65.0 + i, 100.0 + i, 120.0 + i, facility="F3") for i in range(missed)
        ]
        runs.append(make_result(policy, replication, [*HAND_STUDIES, *extra]))
    return runs


@pytest.fixture(scope="module")
def single_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    plt.close("all")
    return render(policy_runs("fifo", [1, 2]), tmp_path_factory.mktemp("single") / "report.html")


@pytest.fixture(scope="module")
def pair_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    runs = policy_runs("fifo", [3, 4, 5]) + policy_runs(SMART, [1, 2, 3])
    return render(runs, tmp_path_factory.mktemp("pair") / "report.html")


def test_single_policy_page(single_page: str) -> None:
    assert single_page.startswith("<!DOCTYPE html>")
    assert single_page.rstrip().endswith("</html>")
    found = sections(single_page)
    for title in PLOT_SECTIONS:
        assert IMAGE in found[title], title
    assert single_page.count(IMAGE) == len(PLOT_SECTIONS)
    assert "<h3>fifo</h3>" in found["Summary"]
    assert COMPARISON_TITLE not in single_page


def test_every_figure_is_closed(single_page: str) -> None:
    assert single_page
    assert plt.get_fignums() == []


def test_summary_table_shows_figures_with_intervals(single_page: str) -> None:
    summary_html = sections(single_page)["Summary"]
    # STAT met 1 of 4 and 1 of 5: pooled 2 of 9, 22.2%.
    assert "22.2% [" in summary_html
    for heading in ("STAT", "URGENT", "ROUTINE", "ALL", "TAT p90 (min)", "Met SLA"):
        assert f">{heading}<" in summary_html


def test_two_policies_add_the_comparison_table(pair_page: str) -> None:
    found = sections(pair_page)
    for title in PLOT_SECTIONS:
        assert IMAGE in found[title], title
    assert pair_page.count(IMAGE) == len(PLOT_SECTIONS)
    comparison = found[COMPARISON_TITLE]
    assert f"{SMART_HTML} vs fifo" in comparison
    for label in ("STAT breaches", "STAT met SLA", "STAT TAT p90 (min)", "All met SLA"):
        assert f"<td>{label}</td>" in comparison
    # Two fewer breaches in every replication: a significant difference, marked.
    assert '<tr class="significant"><td>STAT breaches</td>' in comparison
    assert "<td>-2.00</td>" in comparison
    assert "<h3>fifo</h3>" in found["Summary"]
    assert f"<h3>{SMART_HTML}</h3>" in found["Summary"]


def test_text_is_escaped(pair_page: str) -> None:
    assert SMART not in pair_page
    assert SMART_HTML in pair_page
    assert "Night &lt;shift&gt; &amp; co" in pair_page
    assert "<shift>" not in pair_page


def test_empty_results_are_refused(tmp_path: Path) -> None:
    summary = build_summary(policy_runs("fifo", [1]), scenario_name="s", seed=1)
    with pytest.raises(ValueError, match="no replication"):
        write_report([], summary, tmp_path / "report.html")


def test_backlog_counts_arrived_and_not_started() -> None:
    studies = [
        Study("STAT", 10.0, 70.0, 80.0),  # waits over hour 1 (minute 60)
        Study("STAT", 60.0, 60.0, 70.0),  # starts at the hour: not waiting then
        Study("URGENT", 90.0, 150.0, 160.0),  # waits over hour 2
        Study("ROUTINE", 100.0),  # never started: waits to the end
    ]
    backlog = waiting_by_hour(make_result("fifo", 1, studies))
    assert list(backlog) == [0, 1, 2, 1]


def test_utilization_grid_by_utc_hour_blank_off_shift() -> None:
    busy = [[60, 30, 15, 0], [0, 0, 60, 0]]
    shift = [[60, 60, 60, 0], [0, 0, 60, 0]]
    first = make_result("fifo", 1, HAND_STUDIES, busy=busy, shift=shift)
    second = make_result("fifo", 2, HAND_STUDIES, busy=[[0, 60, 45, 0], [0, 0, 30, 0]], shift=shift)
    grid = utilization_grid([first, second], ["r1", "r2"])
    assert grid.shape == (2, 24)
    assert np.isnan(grid[0, 0])  # hour 0 is the warm-up: not measured
    assert grid[0, 1] == pytest.approx((30 + 60) / 120)
    assert grid[0, 2] == pytest.approx((15 + 45) / 120)
    assert grid[1, 2] == pytest.approx((60 + 30) / 120)
    assert np.isnan(grid[1, 1]) and np.isnan(grid[0, 3])
    assert np.isnan(grid[:, 4:]).all()


def test_many_facilities_show_the_worst_30(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    size = 3_000
    arrived = rng.uniform(60, 60 * 47, size)
    started = arrived + rng.exponential(20, size)
    finished = started + rng.exponential(10, size)
    priorities = rng.choice(["STAT", "URGENT", "ROUTINE"], size)
    studies = [
        Study(str(p), float(a), float(s), float(f), facility=f"F{i % 40}")
        for i, (p, a, s, f) in enumerate(zip(priorities, arrived, started, finished, strict=True))
    ]
    run = make_result("fifo", 1, studies, hours=48)
    page = render([run], tmp_path / "report.html")
    assert page.count(IMAGE) == len(PLOT_SECTIONS)
    assert "the worst 30 of 40" in page


def test_the_page_warns_about_few_replications(single_page: str) -> None:
    assert '<p class="warning">Warning: 2 replications (fifo), fewer than 5' in single_page


def test_worst_facilities_say_which_are_ranked(single_page: str) -> None:
    summary_html = sections(single_page)["Summary"]
    assert "with at least 30 measured STAT and URGENT studies" in summary_html
    assert "STAT+URGENT met SLA" in summary_html
