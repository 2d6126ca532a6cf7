"""The coverage-planning scenarios: they load, have the intended shape, and regenerate.

`simulations/scenarios/make_planning.py` writes `planning.yaml` (the small example with its
deliberate gaps) and `planning_national.yaml` (the benchmark); the committed files must be
exactly what the generator writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulations.scenario import load_scenario
from simulations.scenarios import make_planning

SCENARIOS = Path(make_planning.__file__).resolve().parent
EXAMPLE = SCENARIOS / "planning.yaml"
NATIONAL = SCENARIOS / "planning_national.yaml"


@pytest.mark.parametrize("path", [EXAMPLE, NATIONAL], ids=lambda p: p.name)
def test_loads_as_a_planning_scenario(path: Path) -> None:
    scenario = load_scenario(path)
    assert len(scenario.shift_templates) == 3
    assert {t.timezone for t in scenario.shift_templates} == {"America/Chicago"}
    assert scenario.rules.max_shifts_per_week == 5
    assert scenario.rules.target_utilization == 0.8
    assert scenario.start.isoformat() == "2026-12-07T00:00:00+00:00"
    assert scenario.start.weekday() == 0  # a Monday
    # The planner fills in the shifts: none are given.
    assert all(not r.shifts for r in scenario.radiologists)
    assert scenario.arrivals
    header = path.read_text(encoding="utf-8").splitlines()[:6]
    assert any("make_planning.py; edit that, not this file" in line for line in header)


def test_national_has_the_benchmark_shape() -> None:
    scenario = load_scenario(NATIONAL)
    assert scenario.days == 28
    assert len(scenario.radiologists) == 60
    assert len(scenario.facilities) == 200
    states = {f.state for f in scenario.facilities}
    assert len(states) == 30
    assert [t.id for t in scenario.shift_templates] == ["day", "swing", "night"]
    for reader in scenario.radiologists:
        held = {lic.state for lic in reader.licenses}
        assert 6 <= len(held) <= 12
        assert 0.8 <= reader.speed <= 1.3
    for state in states:
        assert sum(state in {lic.state for lic in r.licenses} for r in scenario.radiologists) >= 4
    assert NATIONAL.stat().st_size < 1_500_000


def test_example_has_its_deliberate_gaps() -> None:
    scenario = load_scenario(EXAMPLE)
    assert scenario.name == "planning-example"
    assert scenario.days == 14
    assert len(scenario.radiologists) == 12
    assert len(scenario.facilities) == 24
    assert len({f.state for f in scenario.facilities}) == 8
    licensed = {lic.state for r in scenario.radiologists for lic in r.licenses}
    assert "WY" in {f.state for f in scenario.facilities} and "WY" not in licensed
    # A neuro contract where no neuroradiologist holds privileges: co-3, and only co-3.
    required = {s.facility for s in scenario.arrivals or [] if s.subspecialty_required}
    neuro_privileged = {
        c.facility
        for r in scenario.radiologists
        if "neuro" in r.subspecialties
        for c in r.credentials
    }
    assert required - neuro_privileged == {"co-3"}
    assert any(r.availability for r in scenario.radiologists)
    assert any(r.unavailable for r in scenario.radiologists)
    assert any(r.preferences.avoids for r in scenario.radiologists)


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    written = make_planning.main(tmp_path)
    assert [p.name for p in written] == [EXAMPLE.name, NATIONAL.name]
    for path in written:
        assert path.read_bytes() == (SCENARIOS / path.name).read_bytes(), path.name
    assert not list(tmp_path.glob(".*draft"))  # drafts are replaced, not left behind
