"""The README's snapshot example is a real snapshot, and solving it gives what the README says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from models.snapshot import Snapshot
from nighthawk.optimizer import SolveOptions, solve
from tests.validator import validate_plan

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_snapshot() -> Snapshot:
    block = re.search(r"```json snapshot\n(.*?)```", README.read_text(), re.DOTALL)
    assert block, "README lost its snapshot example"
    return Snapshot.model_validate(json.loads(block.group(1)))


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text()
    first_block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "run"],
        ["make", "test"],
    ]


def test_readme_example_solves_as_described() -> None:
    snapshot = readme_snapshot()
    plan = solve(snapshot, SolveOptions(time_limit=2, deterministic=True))
    assert validate_plan(snapshot, plan).valid
    placed = {a.study: a.radiologist for a in plan.assignments}
    assert placed["st-1"] == "rad-2"
    assert plan.unassigned[0].study == "st-3"
    assert plan.unassigned[0].reason == "no radiologist on shift is licensed in MT"
    assert plan.solver.status == "OPTIMAL"
