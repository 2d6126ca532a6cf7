"""The `nighthawk` command end to end, as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.nighthawk.builders import NOW, reader, study
from tests.validator import validate_plan


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nighthawk.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot_data(**changes: Any) -> dict[str, Any]:
    data = {
        "now": NOW,
        "radiologists": [reader("rad-1"), reader("rad-2", licenses=["CA", "WY"])],
        "studies": [study("st-1"), study("st-2", priority="STAT", due_at="2026-12-05T07:50:00Z")],
    }
    data.update(changes)
    return data


def write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_solve_prints_a_plan_that_validates(tmp_path: Path) -> None:
    from models.snapshot import Snapshot

    data = snapshot_data()
    result = run("solve", write(tmp_path, data), "--time-limit", "1", "--deterministic")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert {a["study"] for a in plan["assignments"]} == {"st-1", "st-2"}
    assert plan["solver"]["status"] == "OPTIMAL"
    assert "why" in plan["assignments"][0]
    assert validate_plan(Snapshot.model_validate(data), plan).valid


def test_solve_reads_stdin_and_writes_out(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = run("solve", "-", "--out", str(out), stdin=json.dumps(snapshot_data()))
    assert result.returncode == 0, result.stderr
    assert "2 assigned, 0 unassigned" in result.stdout
    assert json.loads(out.read_text())["objective"]["unassigned_weight"] == 0


def test_demo_snapshot_then_solve(tmp_path: Path) -> None:
    snap = tmp_path / "demo.json"
    made = run(
        "demo-snapshot", "--studies", "60", "--radiologists", "6", "--seed", "4", "--out", str(snap)
    )
    assert made.returncode == 0, made.stderr
    again = run("demo-snapshot", "--studies", "60", "--radiologists", "6", "--seed", "4")
    assert json.loads(again.stdout) == json.loads(snap.read_text())
    solved = run("solve", str(snap), "--time-limit", "0.5")
    assert solved.returncode == 0, solved.stderr
    plan = json.loads(solved.stdout)
    assert len(plan["assignments"]) + len(plan["unassigned"]) == 60


def bad_study(**changes: Any) -> dict[str, Any]:
    fourth = {**study("st-3"), **changes}
    return snapshot_data(studies=[study("st-0"), study("st-1"), study("st-2"), fourth])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bad_study(due_at="tomorrow"), "studies[3].due_at: not an ISO-8601 time"),
        (bad_study(assigned_to="rad-9"), "studies[3].assigned_to: unknown radiologist 'rad-9'"),
        (bad_study(id="st-1"), "studies[3].id: duplicate id 'st-1'"),
        (bad_study(priority="HIGH"), "studies[3].priority: must be one of STAT, URGENT or ROUTINE"),
        (bad_study(state="XX"), "studies[3].state: 'XX' is not a US state code"),
        (bad_study(expected_minutes=-3), "studies[3].expected_minutes: must be greater than 0"),
        (bad_study(colour="red"), "studies[3].colour: unknown field"),
        (bad_study(expected_minutes=1e300), "studies[3].expected_minutes: must be at most 1440"),
        (
            snapshot_data(radiologists=[reader(shift_end="2027-12-05T07:00:00Z")]),
            "radiologists[0].shift_end: shift longer than 168 hours",
        ),
        (
            snapshot_data(radiologists=[reader(shift_end="9999-12-05T07:00:00Z")]),
            "radiologists[0].shift_end: time outside 1900-2200",
        ),
        (
            snapshot_data(radiologists=[reader(speed=0.0)]),
            "radiologists[0].speed: must be at least 0.1",
        ),
        (
            bad_study(arrived_at="2026-12-05T07:00:00"),
            "studies[3].arrived_at: time has no UTC offset",
        ),
        (
            snapshot_data(radiologists=[reader(shift_end="2026-12-05T06:00:00Z")]),
            "radiologists[0].shift_end: must be after shift_start",
        ),
        (
            snapshot_data(radiologists=[reader(speed="fast")]),
            "radiologists[0].speed: must be a number",
        ),
        ({"now": NOW, "studies": []}, "radiologists: required field is missing"),
        ("{not json", "not valid JSON (line 1, column 2"),
        ("[1, 2]", "a snapshot must be a JSON object"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(
    tmp_path: Path, data: Any, message: str
) -> None:
    result = run("solve", write(tmp_path, data))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run("solve", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("nope.json: no such file")


def test_bad_option_is_a_usage_error() -> None:
    result = run("solve", "-", "--time-limit", "-1", stdin="{}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_unwritable_out_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "plan.json"
    result = run("solve", "-", "--out", str(target), stdin=json.dumps(snapshot_data()))
    assert result.returncode == 2
    assert result.stderr.startswith("--out: cannot write")
    assert "Traceback" not in result.stderr
