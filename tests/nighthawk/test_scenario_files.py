"""Tests for ``nighthawk.scenario_files``: a file's syntax errors say where they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.scenario import ScenarioError
from nighthawk.scenario_files import load_scenario


def test_yaml_syntax_errors_name_their_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ndays: 1\nfacilities:\n  - id: f1\n    state: WY: CO\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    # libyaml and PyYAML word the problem a little differently; the place is the same.
    assert str(caught.value).startswith(
        f"{path}: not valid YAML (line 5, column 14: mapping values are not allowed"
    )
