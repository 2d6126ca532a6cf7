"""Reading scenarios and traces from files; the contract itself is `models.scenario`."""

from __future__ import annotations

import pandas as pd

from models.scenario import (  # noqa: F401  (re-exported: the simulator's vocabulary)
    MAX_DAYS,
    TRACE_COLUMNS,
    WEEKDAYS,
    Absence,
    ArrivalStream,
    Event,
    PolicySettings,
    RadiologistSpec,
    ReadDistribution,
    Scenario,
    ScenarioError,
    ShiftPattern,
    Surge,
    Window,
    parse_clock,
    parse_scenario,
)
from nighthawk.records import read_studies_csv
from nighthawk.scenario_files import load_scenario, read_scenario  # noqa: F401


def load_trace(scenario: Scenario) -> pd.DataFrame:
    """The trace's studies as a frame: arrived_at (UTC), facility, modality, priority,
    subspecialty, read_minutes; rows outside the simulated days are dropped."""
    assert scenario.trace is not None
    frame = read_studies_csv(
        scenario.trace, {f.id for f in scenario.facilities}, label="trace", columns=TRACE_COLUMNS
    )
    inside = (frame["arrived_at"] >= scenario.start) & (frame["arrived_at"] < scenario.end)
    return frame.loc[inside].reset_index(drop=True)
