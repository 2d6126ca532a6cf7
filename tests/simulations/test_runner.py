"""Tests for ``simulations.runner``'s reader hours: busy minutes only while on shift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulations.runner import on_duty_parts, run_replication
from simulations.summary import build_summary
from simulations.world import Stretch
from tests.simulations.practice import reader, trace_scenario


def test_a_read_inside_a_stretch_is_kept_whole() -> None:
    rows, starts, ends = on_duty_parts(
        np.array([0]), np.array([10.0]), np.array([20.0]), [[Stretch(0.0, 60.0)]]
    )
    assert (rows.tolist(), starts.tolist(), ends.tolist()) == ([0], [10.0], [20.0])


def test_a_read_past_the_end_of_its_stretch_counts_to_the_end_only() -> None:
    stretches = [[Stretch(0.0, 60.0), Stretch(90.0, 120.0)], [Stretch(0.0, 30.0)]]
    rows, starts, ends = on_duty_parts(
        np.array([0, 1, 0]),
        np.array([50.0, 25.0, 100.0]),
        np.array([100.0, 45.0, 110.0]),  # reader 0's first read runs into the next stretch
        stretches,
    )
    parts = sorted(zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True))
    assert parts == [(0, 50.0, 60.0), (0, 90.0, 100.0), (0, 100.0, 110.0), (1, 25.0, 30.0)]


def test_a_reader_without_stretches_is_never_busy() -> None:
    rows, _, _ = on_duty_parts(np.array([1]), np.array([5.0]), np.array([9.0]), [[], []])
    assert len(rows) == 0


def test_a_read_that_overruns_the_shift_keeps_utilization_within_one(tmp_path: Path) -> None:
    # The reader is on duty 00:00-01:00 UTC; a read expected to take 10 minutes (what the
    # dispatcher sees) starts at 00:45 and takes 50, to 01:35: 15 minutes on shift.
    scenario = trace_scenario(
        tmp_path,
        [(45.0, "CT", "STAT", 50.0)],
        radiologists=[reader("r1", shifts=[{"start": "00:00", "end": "01:00", "timezone": "UTC"}])],
    )
    result = run_replication(scenario, "pull", 0, seed=1)
    assert result.studies["finished_at"].notna().all()
    assert result.busy_minutes.sum() == pytest.approx(15.0)  # before: 50
    assert (result.busy_minutes <= result.shift_minutes + 1e-9).all()
    utilization = build_summary([result], scenario_name="s", seed=1)["policies"]["pull"][
        "utilization"
    ]
    assert utilization["mean"] == pytest.approx(15.0 / 60.0)
    assert utilization["by_reader"] == {"r1": pytest.approx(0.25)}
