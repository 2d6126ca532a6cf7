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


# --- the service's contract: complete enough to write a client from ---------------------------

CONTRACT = README.parent / "docs" / "contract.md"


def _readme_contract_rows() -> dict[tuple[str, str], str]:
    """(method, path with {placeholders} blanked) -> the row's body column, from the table."""
    text = README.read_text()
    table = text.split("**Contract v1**", 1)[1].split("\n\n| endpoint |", 1)[1].split("\n\n")[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        method, path = cells[0].strip("`").split(" ", 1)
        rows[(method, _blank(path.split("?")[0]))] = cells[1]
    return rows


def _blank(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_readme_lists_every_operation_with_every_body_field() -> None:
    from api.app import create_app

    schema = create_app().openapi()
    components = schema["components"]["schemas"]
    rows = _readme_contract_rows()
    operations = {
        (method.upper(), _blank(path)): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert set(rows) == set(operations), (
        f"missing from the README: {sorted(set(operations) - set(rows))}; "
        f"in the README but not served: {sorted(set(rows) - set(operations))}"
    )
    for key, operation in operations.items():
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None or key == ("POST", "/v1/plans"):  # the planner's section shows its body
            continue
        name = body["schema"]["$ref"].rsplit("/", 1)[-1]
        for field in components[name].get("properties", {}):
            assert re.search(rf"\b{field}\b", rows[key]), f"{key}: body field {field} not shown"


def test_the_generated_contract_is_current() -> None:
    from api.contract import contract_markdown

    assert CONTRACT.read_text() == contract_markdown(), "run: nighthawk contract > docs/contract.md"
