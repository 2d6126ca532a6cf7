"""`nighthawk plan` end to end, as a coverage manager runs it: a process, files in, files out."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nighthawk.scenario_files import load_scenario

SCENARIO = """\
name: plan-cli
start: 2026-12-07T00:00:00Z
days: 7
facilities:
  - {id: tx-1, state: TX, timezone: America/Chicago}
  - {id: wy-1, state: WY, timezone: America/Denver}
arrivals:
  - {facility: tx-1, modality: CT, priority: STAT, per_hour: 1.5}
  - {facility: wy-1, modality: XR, priority: ROUTINE, per_hour: 1}
radiologists:
  - {id: rad-1, licenses: [TX, WY], credentials: [tx-1], prefers: [night]}
  - {id: rad-2, licenses: [TX], credentials: [tx-1], max_shifts_per_week: 4}
  - {id: rad-3, licenses: [TX], credentials: [tx-1],
     unavailable: [{from: 2026-12-09T00:00:00Z, to: 2026-12-11T00:00:00Z}]}
shift_templates:
  - {id: day, start: "08:00", end: "20:00", timezone: America/Chicago, cost: 1.0}
  - {id: night, start: "20:00", end: "08:00", timezone: America/Chicago, cost: 1.3}
rules: {min_rest_hours: 10, max_consecutive_nights: 4, max_shifts_per_week: 5}
"""


def plan(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nighthawk.cli", "plan", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "practice.yaml"
    path.write_text(SCENARIO)
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_plan_writes_every_output_with_the_contract_columns(
    scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = plan(scenario_file, "--time-limit", "5", "--out", out, "--deterministic")
    assert run.returncode == 0, run.stderr
    roster = rows(out / "roster.csv")
    assert list(roster[0]) == [
        "radiologist",
        "template",
        "start",
        "end",
        "start_local",
        "end_local",
    ]
    for shift in roster:
        start = datetime.fromisoformat(shift["start"])
        assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
        assert datetime.fromisoformat(shift["start_local"]) == start  # same instant, local
        assert shift["start"].endswith("Z")
    coverage = rows(out / "coverage.csv")
    assert {"hour", "facility", "eligible_on_shift", "capacity_minutes", "uncovered"} <= set(
        coverage[0]
    )
    # WY's work: rad-1 holds the license but no privileges at wy-1, so it is a structural gap
    # with the reason a credentialing office would give, and the recommendation fixes it.
    gaps = (out / "gaps.md").read_text()
    assert "nobody licensed in WY is credentialed at wy-1" in gaps
    assert "[structural]" in gaps
    recommendations = rows(out / "recommendations.csv")
    assert recommendations[0]["radiologist"] == "rad-1"
    assert recommendations[0]["addition"] == "credential at wy-1"
    assert float(recommendations[0]["closes_uncovered_hours"]) > 0
    assert (out / "coverage.png").stat().st_size > 1000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["shifts"] == len(roster)
    assert "Coverage plan" in (out / "report.md").read_text()


def test_planned_scenario_holds_the_roster_and_simulates(
    scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = plan(
        scenario_file,
        "--time-limit",
        "4",
        "--out",
        out,
        "--simulate",
        "2",
        "--recommendations",
        "0",
    )
    assert run.returncode == 0, run.stderr
    planned = load_scenario(out / "planned.yaml")
    roster = rows(out / "roster.csv")
    dated = sum(len(p.dates or []) for r in planned.radiologists for p in r.shifts)
    assert dated == len(roster)
    simulation = json.loads((out / "summary.json").read_text())["simulation"]
    assert simulation["replications"] == 2
    assert 0 <= simulation["met_sla_share"]["STAT"]["mean"] <= 1
    assert "Predicted service" in (out / "report.md").read_text()
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "nighthawk.cli",
            "simulate",
            out / "planned.yaml",
            "--policy",
            "pull",
            "--replications",
            "1",
            "--out",
            tmp_path / "sim",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr


def test_history_forecasts_the_demand(scenario_file: Path, tmp_path: Path) -> None:
    """Two weeks of recorded studies at tx-1 only, every day 02:00-03:00 local: the forecast
    has tx-1 demand at that hour of the week and none at wy-1."""
    history = tmp_path / "history.csv"
    lines = ["arrived_at,facility,modality,priority,subspecialty,read_minutes"]
    start = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # 02:30 in Chicago
    for day in range(14):
        moment = (start + timedelta(days=day)).isoformat().replace("+00:00", "Z")
        lines += [f"{moment},tx-1,CT,STAT,,20", f"{moment},tx-1,CT,STAT,,20"]
    history.write_text("\n".join(lines) + "\n")
    text = scenario_file.read_text().replace("arrivals:", "history: history.csv\nunused:")
    text = text.split("unused:")[0] + "radiologists:" + text.split("radiologists:")[1]
    scenario_file.write_text(text)
    out = tmp_path / "out"
    run = plan(scenario_file, "--time-limit", "3", "--out", out, "--recommendations", "0")
    assert run.returncode == 0, run.stderr
    forecast = rows(out / "forecast.csv")
    assert {row["facility"] for row in forecast} == {"tx-1"}
    assert {float(row["studies_per_hour"]) for row in forecast} == {2.0}
    assert {float(row["read_minutes"]) for row in forecast} == {20.0}
    hours = {int(row["hour_of_week"]) % 24 for row in forecast}
    assert hours == {2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weeks", "0"], "--weeks: must be between 1 and 52"),
        (["--time-limit", "0"], "--time-limit: must be more than 0"),
        (["--policy", "fastest"], "--policy: must be one of"),
        (["--simulate", "-1"], "--simulate: must be between"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    scenario_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    run = plan(scenario_file, "--out", tmp_path / "out", *args)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("prefers: [night]", "prefers: [evening]"),
            "radiologists[0].prefers[0]: unknown shift template 'evening'",
        ),
        (lambda t: t.replace('end: "20:00"', 'end: "25:00"'), "shift_templates[0].end"),
        (
            lambda t: t.replace("max_shifts_per_week: 4", "max_shifts_per_week: -1"),
            "radiologists[1].max_shifts_per_week",
        ),
        (
            lambda t: t.replace("rules: {", "rules: {target_utilization: 0, "),
            "rules.target_utilization",
        ),
        (
            lambda t: t.split("shift_templates:")[0].replace(", prefers: [night]", ""),
            "shift_templates: the planner needs",
        ),
        (
            lambda t: t.replace("per_hour: 1.5}", "per_hour: 10000}").replace(
                "radiologists:",
                "read_minutes: {CT: {distribution: fixed, mean: 1440}}\nradiologists:",
            ),
            "reading minutes forecast in one hour; the planner handles at most",
        ),
    ],
)
def test_bad_scenarios_exit_2_naming_the_field(
    scenario_file: Path, tmp_path: Path, edit: object, message: str
) -> None:
    scenario_file.write_text(edit(SCENARIO))  # type: ignore[operator]
    run = plan(scenario_file, "--out", tmp_path / "out", "--time-limit", "2")
    assert run.returncode == 2, run.stdout
    assert message in run.stderr
    assert "Traceback" not in run.stderr
