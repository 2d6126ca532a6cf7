"""The planner's files agree with each other and with the independent checker, as a coverage
manager reads them: one count of uncovered facility-hours in gaps.md, per-reader totals that
are roster.csv's, one time format, coverage.csv's capacity and unmet minutes consistent with
the report, and a heat map that says what it shows.

One `nighthawk plan` run (a process, files in, files out) serves the file tests; the practice:
tx-1 sends CT all day and MR needing neuro nobody holds (so readers are on shift while some of
its work is uncovered); wy-1, where nobody is licensed, sends CT all day, US and XR half the
day (several kinds of work short in the same hours, over different spans); reading minutes are
not round, so rounding shows.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.colors import to_rgba

from models.scenario import parse_scenario
from nighthawk.planner.heatmap import NO_DEMAND, heatmap_figure, unmet_share_grid
from nighthawk.planner.markdown import gaps_markdown
from tests.planner import cases
from tests.planner.checker import (
    Shift,
    arrival_demand_hours,
    nights_per_reader,
    preference_misses_per_reader,
    uncovered_hours,
    weekend_shifts_per_reader,
)

HALF = [1.0] * 12 + [0.0] * 12
SCENARIO = f"""\
name: plan-outputs
start: 2026-12-07T00:00:00Z
days: 7
facilities:
  - {{id: tx-1, state: TX, timezone: America/Chicago}}
  - {{id: wy-1, state: WY, timezone: America/Denver}}
read_minutes:
  CT: {{distribution: fixed, mean: 11.7}}
  MR: {{distribution: fixed, mean: 23.3}}
  XR: {{distribution: fixed, mean: 4.3}}
  US: {{distribution: fixed, mean: 9.1}}
arrivals:
  - {{facility: tx-1, modality: CT, priority: STAT, per_hour: 1.37}}
  - {{facility: tx-1, modality: MR, priority: URGENT, per_hour: 0.31, subspecialty: neuro,
     subspecialty_required: true}}
  - {{facility: wy-1, modality: CT, priority: STAT, per_hour: 0.83}}
  - {{facility: wy-1, modality: XR, priority: ROUTINE, per_hour: 1.1, hourly_profile: {HALF}}}
  - {{facility: wy-1, modality: US, priority: ROUTINE, per_hour: 0.7, hourly_profile: {HALF}}}
radiologists:
  - {{id: rad-1, licenses: [TX], credentials: [tx-1], prefers: [night]}}
  - {{id: rad-2, licenses: [TX], credentials: [tx-1], max_shifts_per_week: 4}}
  - {{id: rad-3, licenses: [TX], credentials: [tx-1], preferences: {{avoids: [day]}},
     unavailable: [{{from: 2026-12-09T00:00:00Z, to: 2026-12-11T00:00:00Z}}]}}
shift_templates:
  - {{id: day, start: "08:00", end: "20:00", timezone: America/Chicago, cost: 1.0}}
  - {{id: night, start: "20:00", end: "08:00", timezone: America/Chicago, cost: 1.3}}
rules: {{min_rest_hours: 10, max_consecutive_nights: 4, max_shifts_per_week: 5}}
"""
UTC_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LOCAL_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
SCENARIO_DATA = yaml.safe_load(SCENARIO)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    (folder / "practice.yaml").write_text(SCENARIO)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "nighthawk.cli",
            "plan",
            str(folder / "practice.yaml"),
            "--out",
            str(folder / "out"),
            "--time-limit",
            "4",
            "--deterministic",
            "--recommendations",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return folder / "out"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())


def roster_shifts(out: Path) -> list[Shift]:
    return [
        Shift(
            row["radiologist"],
            row["template"],
            datetime.fromisoformat(row["start"]),
            datetime.fromisoformat(row["end"]),
        )
        for row in rows(out / "roster.csv")
    ]


def headline_and_sections(text: str) -> tuple[float, dict[str, float]]:
    headline = re.search(r"^([\d.]+) facility-hours stay uncovered", text, re.MULTILINE)
    assert headline, text
    sections = re.findall(r"^## (\S+) \(\w+\): ([\d.]+) facility-hours$", text, re.MULTILINE)
    return float(headline.group(1)), {name: float(hours) for name, hours in sections}


# ----- gaps.md: one count ---------------------------------------------------------------------
def test_gaps_md_counts_each_facility_hour_once(out: Path) -> None:
    """wy-1 is short of CT all day and of US and XR half the day: 168 facility-hours, not
    168 + 84 + 84; the headline is the sum of the sections, the report's and the checker's."""
    scenario = parse_scenario(SCENARIO_DATA)
    text = (out / "gaps.md").read_text()
    headline, sections = headline_and_sections(text)
    assert sections["wy-1"] == 168
    assert headline == pytest.approx(sum(sections.values()))
    assert headline == summary(out)["metrics"]["uncovered_hours"]
    checked = uncovered_hours(scenario, roster_shifts(out), arrival_demand_hours(scenario))
    assert headline == checked
    # The per-kind hours are there as detail, said not to add up.
    assert "CT 168 h, US 84 h, XR 84 h" in text
    assert "do not add up to the facility-hours" in text
    # Kinds of work short over the same hours for the same reason share one line.
    assert re.search(r"\(12 h\), US, XR: nobody is licensed in WY \[structural\]", text)


def test_gaps_md_with_several_modalities_short_in_the_same_hour() -> None:
    """In memory, on UTC clocks: f2, where nobody is licensed, is short of CT and MR every
    hour and of MR needing neuro half the day: one facility-hour each, whatever is short."""
    half = cases.hours_profile(*range(12))
    stream = {"facility": "f2", "priority": "STAT", "per_hour": 1}
    scenario = cases.planning(
        facilities=[
            {"id": "f1", "state": "WY", "timezone": "UTC"},
            {"id": "f2", "state": "TX", "timezone": "UTC"},
        ],
        arrivals=[
            {"facility": "f1", "modality": "CT", "priority": "STAT", "per_hour": 1},
            {**stream, "modality": "CT"},
            {**stream, "modality": "MR"},
            {
                **stream,
                "modality": "MR",
                "subspecialty": "neuro",
                "subspecialty_required": True,
                "hourly_profile": half,
            },
        ],
        radiologists=[cases.reader("r1"), cases.reader("r2")],
        shift_templates=[cases.template("all", "00:00", "24:00")],
    )
    result = cases.run_plan(scenario)
    headline, sections = headline_and_sections(gaps_markdown(result))
    assert sections == {"f2": 7 * 24}
    assert headline == sum(sections.values()) == result.metrics.uncovered_hours
    assert headline == uncovered_hours(scenario, result.shifts, arrival_demand_hours(scenario))
    assert "CT 168 h, MR 168 h, MR needing neuro 84 h" in gaps_markdown(result)


# ----- per reader ---------------------------------------------------------------------------
def test_readers_csv_totals_are_the_rosters(out: Path) -> None:
    scenario = parse_scenario(SCENARIO_DATA)
    shifts = roster_shifts(out)
    readers = {row["radiologist"]: row for row in rows(out / "readers.csv")}
    assert set(readers) == {"rad-1", "rad-2", "rad-3"}
    nights = nights_per_reader(scenario, shifts)
    weekends = weekend_shifts_per_reader(scenario, shifts)
    misses = preference_misses_per_reader(scenario, shifts)
    for reader, row in readers.items():
        mine = [s for s in shifts if s.radiologist == reader]
        assert int(row["shifts"]) == len(mine)
        hours = sum((s.end - s.start).total_seconds() / 3600 for s in mine)
        assert float(row["hours"]) == pytest.approx(hours)
        assert int(row["nights"]) == nights[reader]
        assert int(row["weekend_shifts"]) == weekends[reader]
        assert int(row["preference_misses"]) == misses[reader]
        assert int(row["preference_misses"]) == (
            int(row["avoided_shifts"]) + int(row["unpreferred_shifts"])
        )
        assert int(row["busiest_week_shifts"]) <= int(row["max_shifts_per_week"])
    # rad-3 avoids days but the practice needs their days: the broken preference is named.
    assert int(readers["rad-3"]["avoided_shifts"]) > 0
    assert readers["rad-3"]["broken_preferences"].startswith("avoids day: ")
    assert readers["rad-2"]["max_shifts_per_week"] == "4"
    assert sum(misses.values()) == summary(out)["metrics"]["preference_misses"]
    assert [r["radiologist"] for r in summary(out)["readers"]] == ["rad-1", "rad-2", "rad-3"]
    assert summary(out)["readers"][2]["avoided_shifts"] == int(readers["rad-3"]["avoided_shifts"])
    report = (out / "report.md").read_text()
    assert "## Readers" in report
    assert f"| rad-3 | {readers['rad-3']['shifts']} |" in report


# ----- coverage.csv -------------------------------------------------------------------------
def test_coverage_and_roster_share_one_time_format(out: Path) -> None:
    for name, utc, local in (
        ("coverage.csv", "hour", "hour_local"),
        ("roster.csv", "start", "start_local"),
    ):
        for row in rows(out / name):
            assert UTC_TEXT.match(row[utc]), (name, row[utc])
            assert LOCAL_TEXT.match(row[local]), (name, row[local])
            assert datetime.fromisoformat(row[local]) == datetime.fromisoformat(row[utc])


def test_eligible_on_shift_is_zero_exactly_when_capacity_is(out: Path) -> None:
    coverage = rows(out / "coverage.csv")
    for row in coverage:
        assert (int(row["eligible_on_shift"]) == 0) == (float(row["capacity_minutes"]) == 0), row
    # tx-1's neuro MR is never covered, yet its CT readers are on shift and counted.
    tx = [row for row in coverage if row["facility"] == "tx-1"]
    assert all(row["uncovered"] == "True" for row in tx)
    staffed = [row for row in tx if int(row["eligible_on_shift"]) > 0]
    assert len(staffed) > len(tx) / 2
    assert {row["uncovered_work"] for row in staffed} == {"MR needing neuro"}
    wy = [row for row in coverage if row["facility"] == "wy-1"]
    assert {row["eligible_on_shift"] for row in wy} == {"0"}


def test_coverage_unmet_minutes_add_up_to_the_reports(out: Path) -> None:
    coverage = rows(out / "coverage.csv")
    unmet = sum(float(row["unmet_minutes"]) for row in coverage)
    reported = summary(out)["metrics"]["unmet_minutes"]
    assert unmet > 0
    assert unmet == pytest.approx(reported, abs=0.005)
    assert f"unmet reading minutes at the target utilization: {reported:g} of" in (
        (out / "report.md").read_text()
    )
    for row in coverage:  # served and unmet split each row's demand
        served, short = float(row["served_minutes"]), float(row["unmet_minutes"])
        assert served + short == pytest.approx(float(row["demand_minutes"]), abs=0.011)


# ----- coverage.png -------------------------------------------------------------------------
def heat_rows(*cells: tuple[str, int, float, float, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        cells, columns=["state", "hour_of_week", "demand_minutes", "unmet_minutes", "uncovered"]
    )


def test_heat_map_tells_no_demand_from_nothing_unmet() -> None:
    """WY has demand, all served, on Monday 00:00 and half unmet at 01:00 (two weeks, pooled);
    the rest of the week has no demand at all."""
    coverage = heat_rows(
        ("WY", 0, 10.0, 0.0, False),
        ("WY", 0, 10.0, 0.0, False),
        ("WY", 1, 10.0, 10.0, True),
        ("WY", 1, 10.0, 0.0, False),
    )
    states, share, crossed = unmet_share_grid(coverage)
    assert states == ["WY"]
    assert share[0, 0] == 0.0 and share[0, 1] == 0.5
    assert np.isnan(share[0, 2:]).all()
    assert crossed[0].tolist() == [False, True] + [False] * 166
    fig = heatmap_figure(coverage, weeks=2)
    try:
        ax, bar = fig.axes
        image = ax.images[0]
        nothing_unmet, no_demand = image.to_rgba(np.ma.masked_invalid([0.0, np.nan]))
        assert tuple(no_demand) != tuple(nothing_unmet)
        assert no_demand[3] == 1.0  # opaque: drawn grey, not left as the white background
        assert tuple(no_demand) == pytest.approx(to_rgba(NO_DEMAND))
        assert bar.get_ylabel() == "forecast reading minutes unmet"
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels[:5] == ["Mon 00:00", "Mon 06:00", "Mon 12:00", "Mon 18:00", "Tue 00:00"]
        assert "local hour of week" in ax.get_xlabel()
        assert "pooled over the plan's 2 week(s)" in ax.get_title()
        assert "no demand" in [t.get_text() for t in ax.get_legend().get_texts()]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
