"""`nighthawk simulate` end to end, as a user runs it: a process, files in, files out."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from nighthawk.cli import app
from simulations.results import STUDY_COLUMNS

SCENARIO = """\
name: cli-test
start: 2026-12-01T00:00:00Z
days: 1
warmup_hours: 2
drain_hours: 12
facilities:
  - {id: fac-1, state: WY, timezone: America/Denver, sla_minutes: {STAT: 30}}
  - {id: fac-2, state: CO, timezone: America/Denver}
arrivals:
  - {facility: fac-1, modality: CT, priority: STAT, per_hour: 3}
  - {facility: fac-2, modality: XR, priority: ROUTINE, per_hour: 4,
     hourly_profile: [2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]}
read_minutes:
  CT: {distribution: lognormal, mean: 12, sd: 6}
  XR: {distribution: exponential, mean: 3}
radiologists:
  - {id: rad-1, licenses: [WY, CO], credentials: [fac-1, fac-2],
     shifts: [{start: 22:00, end: "08:00", timezone: America/Denver}]}
  - {id: rad-2, licenses: [WY], credentials: [fac-1],
     shifts: [{start: "06:00", end: "24:00", timezone: America/Denver}]}
  - {id: rad-3, licenses: [CO], credentials: [fac-2], speed: 1.2,
     shifts: [{start: "00:00", end: "00:00", timezone: UTC, days: [tue, wed]}]}
events:
  - {type: absence, radiologist: rad-2, from: 2026-12-01T15:00:00Z, to: 2026-12-01T17:00:00Z}
  - {type: surge, factor: 2, from: 2026-12-01T03:00:00Z, to: 2026-12-01T05:00:00Z, facility: fac-1}
policy: {replan_minutes: 60, solver_budget: 0.02}
"""


def simulate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nighthawk.cli", "simulate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        # Wide enough that rich does not wrap a table cell across lines.
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "practice.yaml"
    path.write_text(SCENARIO)
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "wall_seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_a_comparison_writes_studies_summary_and_report(
    scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = simulate(
        scenario_file, "--compare", "greedy,pull,cherry_pick", "--replications", "2", "--out", out
    )
    assert done.returncode == 0, done.stderr
    studies = rows(out / "studies.csv")
    assert list(studies[0])[: len(STUDY_COLUMNS)] == list(STUDY_COLUMNS)
    assert {(r["policy"], r["replication"]) for r in studies} == {
        (p, str(k)) for p in ("greedy", "pull", "cherry_pick") for k in (0, 1)
    }
    assert all(r["arrived_at"].endswith("Z") for r in studies)
    read = [r for r in studies if r["finished_at"]]
    assert read and all(r["radiologist"] for r in read)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["baseline"] == "greedy"
    assert set(summary["policies"]) == {"greedy", "pull", "cherry_pick"}
    stat = summary["policies"]["pull"]["by_priority"]["STAT"]
    assert 0 <= stat["met_sla_share"]["mean"] <= 1 and len(stat["met_sla_share"]["values"]) == 2
    assert set(summary["comparisons"]) == {"pull", "cherry_pick"}
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") >= 4
    assert "cherry_pick" in report and "difference" in report.lower()
    assert "greedy" in done.stdout and "report.html" in done.stdout
    # Before: the paired differences were only in the files.
    for policy in ("pull", "cherry_pick"):
        assert f"{policy} vs greedy: paired difference" in done.stdout
    for label in ("STAT breaches", "STAT met", "Difference", "95% CI", "Significant"):
        assert label in done.stdout
    assert " pp " in done.stdout
    # Two replications: said on stderr and in the summary.
    assert "warning: 2 replications (greedy, pull, cherry_pick), fewer than 5" in done.stderr
    assert summary["warnings"] and "fewer than 5" in summary["warnings"][0]


def test_the_same_seed_gives_identical_output(scenario_file: Path, tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((first, "4"), (second, "4"), (other, "5")):
        done = simulate(
            scenario_file, "--policy", "greedy", "--replications", "2", "--seed", seed, "--out", out
        )
        assert done.returncode == 0, done.stderr
    assert (first / "studies.csv").read_bytes() == (second / "studies.csv").read_bytes()
    summaries = [json.loads((d / "summary.json").read_text()) for d in (first, second)]
    assert without_timings(summaries[0]) == without_timings(summaries[1])
    assert (first / "studies.csv").read_bytes() != (other / "studies.csv").read_bytes()


def test_the_optimizer_policy_runs_and_reproduces(scenario_file: Path, tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        done = simulate(scenario_file, "--replications", "1", "--out", tmp_path / name)
        assert done.returncode == 0, done.stderr
        outputs.append((tmp_path / name / "studies.csv").read_bytes())
    assert outputs[0] == outputs[1]
    assert {r["policy"] for r in rows(tmp_path / "a" / "studies.csv")} == {"optimizer"}


@pytest.mark.slow
def test_replications_on_a_dask_cluster_match_the_serial_run(
    scenario_file: Path, tmp_path: Path
) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "dask"
    common = ("--compare", "greedy,round_robin", "--replications", "3", "--seed", "9")
    assert simulate(scenario_file, *common, "--out", serial).returncode == 0
    done = simulate(scenario_file, *common, "--workers", "2", "--out", parallel)
    assert done.returncode == 0, done.stderr
    assert (serial / "studies.csv").read_bytes() == (parallel / "studies.csv").read_bytes()


@pytest.mark.slow
def test_replications_run_on_an_existing_dask_scheduler(
    scenario_file: Path, tmp_path: Path
) -> None:
    from dask.distributed import LocalCluster

    serial, remote = tmp_path / "serial", tmp_path / "remote"
    common = ("--policy", "pull", "--replications", "2", "--seed", "2")
    assert simulate(scenario_file, *common, "--out", serial).returncode == 0
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
        done = simulate(
            scenario_file, *common, "--scheduler", cluster.scheduler_address, "--out", remote
        )
    assert done.returncode == 0, done.stderr
    assert (serial / "studies.csv").read_bytes() == (remote / "studies.csv").read_bytes()


def test_a_json_scenario_works(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "practice.json"
    data = yaml.safe_load(SCENARIO.replace("start: 22:00", 'start: "22:00"'))
    path.write_text(json.dumps(data, default=str))
    done = simulate(path, "--policy", "pull", "--replications", "1", "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--policy", "fifo"), "--policy: unknown policy 'fifo'"),
        (("--compare", "greedy"), "--compare: name at least two policies"),
        (("--compare", "greedy,greedy"), "--compare: a policy is named twice"),
        (("--replications", "0"), "--replications: must be between 1 and"),
        (("--workers", "2", "--scheduler", "tcp://127.0.0.1:1"), "--workers: give --workers or"),
        (("--workers", "0"), "--workers: must be between 1 and"),
        (("--days", "0"), "--days: must be more than 0"),
        (("--seed", "-1"), "--seed: must be zero or positive"),
    ],
)
def test_bad_options_are_one_line_errors(
    scenario_file: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = simulate(scenario_file, *args, "--out", tmp_path / "o")
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        (
            SCENARIO.replace("facility: fac-2, modality: XR", "facility: fac-9, modality: XR"),
            "arrivals[1].facility: unknown facility 'fac-9'",
        ),
        (SCENARIO.replace("days: 1", "days: -1"), "days: must be greater than 0"),
        (SCENARIO.replace("mean: 12, sd: 6", "mean: 12"), "sd: required for a lognormal"),
        (SCENARIO.replace("start: 22:00", "start: 10pm"), "shifts[0].start: "),
        ("- just\n- a list\n", "must be a mapping of fields"),
    ],
)
def test_bad_scenarios_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    done = simulate(path, "--out", tmp_path / "o")
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o" / "studies.csv").exists()


def test_a_missing_scenario_file_is_named(tmp_path: Path) -> None:
    done = simulate(tmp_path / "nowhere.yaml", "--out", tmp_path / "o")
    assert done.returncode == 2
    assert "nowhere.yaml: cannot read" in done.stderr


def test_an_unreachable_scheduler_is_a_clear_error(scenario_file: Path, tmp_path: Path) -> None:
    done = simulate(
        scenario_file,
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--policy",
        "greedy",
        "--out",
        tmp_path / "o",
    )
    assert done.returncode == 2
    assert "--scheduler: cannot run on tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


# ----- in process (typer's runner): the checks that stop before any simulation ------------
def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["simulate", *map(str, args)])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--days", "0.05"),
            "--days 0.05 (1.2 h) must be longer than the warm-up of 2 h (the scenario's "
            "warmup_hours; set another with --warmup-hours)",
        ),
        (
            ("--days", "0.5", "--warmup-hours", "12"),
            "--days 0.5 (12 h) must be longer than the warm-up of 12 h (--warmup-hours)",
        ),
        (
            ("--warmup-hours", "24"),
            "--warmup-hours 24 must be shorter than the scenario's 1 day (24 h)",
        ),
        (("--warmup-hours", "-1"), "--warmup-hours: must be between 0 and"),
    ],
)
def test_days_and_warmup_errors_name_both_values(
    scenario_file: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    # Before: "--days: shorter than the scenario's warmup_hours", and no --warmup-hours.
    done = invoke(scenario_file, *args, "--out", tmp_path / "o")
    assert done.exit_code == 2
    assert done.stderr.startswith(message)


def test_a_misspelled_field_is_not_also_reported_missing(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        SCENARIO.replace("per_hour: 4,", "per_huor: 4,").replace("speed: 1.2", "sped: 1.2")
    )
    done = invoke(path, "--out", tmp_path / "o")
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [
        f"{path}: arrivals[1].per_huor: unknown field (did you mean per_hour?)",
        f"{path}: radiologists[2].sped: unknown field (did you mean speed?)",
    ]


def test_a_yaml_syntax_error_names_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(SCENARIO.replace("days: 1", "days: 1: 2"))
    done = invoke(path, "--out", tmp_path / "o")
    assert done.exit_code == 2
    assert done.stderr.startswith(f"{path}: not valid YAML (line 3, column 8: mapping values")


def test_likely_mistakes_are_warned_about_and_strict_refuses_them(
    scenario_file: Path, tmp_path: Path
) -> None:
    scenario_file.write_text(
        SCENARIO.replace(
            "{id: fac-2, state: CO, timezone: America/Denver}",
            "{id: fac-2, state: CO, timezone: America/New_York}",
        )
    )
    expected = [
        f"{scenario_file}: facilities[1].timezone: America/New_York is not a time zone of CO "
        "(one of America/Denver); local hours would run on another clock",
        f"{scenario_file}: radiologists[2].shifts[0]: end equals start (00:00): read as 24 "
        'hours on duty; write end: "24:00" for a whole day from midnight',
    ]
    strict = invoke(scenario_file, "--strict", "--out", tmp_path / "strict")
    assert strict.exit_code == 2
    assert strict.stderr.splitlines() == [
        *expected,
        "--strict: refused for 2 warning(s); fix them or drop --strict",
    ]
    assert not (tmp_path / "strict").exists()
    out = tmp_path / "o"
    warned = invoke(
        scenario_file,
        "--policy",
        "pull",
        "--replications",
        "5",
        "--warmup-hours",
        "6",
        "--out",
        out,
        "--no-progress",
    )
    assert warned.exit_code == 0, warned.stderr
    assert warned.stderr.splitlines() == [f"warning: {line}" for line in expected]
    # --warmup-hours moved the warm-up: arrivals before 06:00 are left out, none after.
    studies = rows(out / "studies.csv")
    early = {row["warmup"] for row in studies if row["arrived_at"] < "2026-12-01T06"}
    late = {row["warmup"] for row in studies if row["arrived_at"] >= "2026-12-01T06"}
    assert early == {"True"} and late == {"False"}
