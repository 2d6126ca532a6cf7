"""Exact coverage of a roster, hour by hour and facility by facility.

Independent of how the roster was found: who is on shift in each cell, which classes of demand
have nobody eligible on shift, and the best split of the on-shift readers' time over the
demand (a max flow per cell), summed to UTC hours for `coverage.csv`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nighthawk.kernel import holds_through
from nighthawk.planner.instance import SCALE, Instance
from nighthawk.planner.result import COVERAGE_COLUMNS

Roster = list[tuple[int, int]]  # (reader, slot)


@dataclass
class Evaluation:
    on: np.ndarray  # (C, R) reader on shift for the whole cell
    uncovered: np.ndarray  # (C, N) demand with nobody eligible on shift
    served: np.ndarray  # (C, N) reading minutes served
    coverage: pd.DataFrame
    uncovered_hours: float  # facility-hours (a facility counts once per hour of time)
    unmet_minutes: float
    demand_minutes: float


def on_shift(instance: Instance, roster: Roster) -> np.ndarray:
    on = np.zeros((len(instance.cells), len(instance.reader_ids)), dtype=bool)
    for reader, slot in roster:
        on[instance.covers[:, slot], reader] = True
    return on


def evaluate(instance: Instance, roster: Roster) -> Evaluation:
    inst = instance
    on = on_shift(inst, roster)
    cells, nodes = inst.demand.shape
    uncovered = np.zeros((cells, nodes), dtype=bool)
    served = np.zeros((cells, nodes))
    facility_of = np.array([n.facility for n in inst.nodes], dtype=np.int64)
    facilities = len(inst.facility_ids)
    eligible_count = np.full((cells, facilities), np.iinfo(np.int64).max)
    capacity = np.zeros((cells, facilities))
    unmet_scaled = 0
    for c in np.flatnonzero(inst.demand_scaled.sum(axis=1) > 0):
        readers = np.flatnonzero(on[c])
        demand_nodes, flow = inst.cell_flow(int(c), readers)
        eligible = holds_through(inst.until[demand_nodes][:, readers], inst.cells[c, 1])
        uncovered[c, demand_nodes] = ~eligible.any(axis=1)
        # Served in scaled units can exceed the unscaled demand by the rounding; clip it.
        served[c, demand_nodes] = np.minimum(flow.served / SCALE, inst.demand[c, demand_nodes])
        unmet_scaled += flow.unmet
        owners = facility_of[demand_nodes]
        np.minimum.at(eligible_count[c], owners, eligible.sum(axis=1))
        # A reader's time counts once per facility, however many of its classes they read.
        any_class = np.zeros((facilities, readers.size), dtype=bool)
        np.logical_or.at(any_class, owners, eligible)
        capacity[c] = any_class @ (inst.capacity_scaled[c, readers] / SCALE)
    frame = _hourly(inst, uncovered, served, eligible_count, capacity, facility_of)
    return Evaluation(
        on=on,
        uncovered=uncovered,
        served=served,
        coverage=frame,
        uncovered_hours=float(_uncovered_facility_minutes(inst, uncovered, facility_of) / 60),
        unmet_minutes=unmet_scaled / SCALE,
        demand_minutes=float(inst.demand.sum()),
    )


def _uncovered_facility_minutes(
    inst: Instance, uncovered: np.ndarray, facility_of: np.ndarray
) -> float:
    per_facility = np.zeros((len(inst.cells), len(inst.facility_ids)), dtype=bool)
    rows, columns = np.nonzero(uncovered)
    per_facility[rows, facility_of[columns]] = True
    return float((per_facility * inst.cell_minutes[:, None]).sum())


def _hourly(
    inst: Instance,
    uncovered: np.ndarray,
    served: np.ndarray,
    eligible_count: np.ndarray,
    capacity: np.ndarray,
    facility_of: np.ndarray,
) -> pd.DataFrame:
    cells, nodes = np.nonzero(inst.demand > 0)
    long = pd.DataFrame(
        {
            "hour_index": inst.cell_hour[cells],
            "cell": cells,
            "facility_index": facility_of[nodes],
            "demand_studies": inst.studies[cells, nodes],
            "demand_minutes": inst.demand[cells, nodes],
            "served_minutes": served[cells, nodes],
            "uncovered": uncovered[cells, nodes],
        }
    )
    per_cell = long.groupby(["cell", "facility_index"], sort=False).agg(
        hour_index=("hour_index", "first"),
        demand_studies=("demand_studies", "sum"),
        demand_minutes=("demand_minutes", "sum"),
        served_minutes=("served_minutes", "sum"),
        uncovered=("uncovered", "any"),
    )
    index_cells = per_cell.index.get_level_values("cell").to_numpy()
    index_facilities = per_cell.index.get_level_values("facility_index").to_numpy()
    per_cell["eligible_on_shift"] = eligible_count[index_cells, index_facilities]
    per_cell["capacity_minutes"] = capacity[index_cells, index_facilities]
    hourly = (
        per_cell.reset_index()
        .groupby(["hour_index", "facility_index"], sort=True)
        .agg(
            demand_studies=("demand_studies", "sum"),
            demand_minutes=("demand_minutes", "sum"),
            served_minutes=("served_minutes", "sum"),
            capacity_minutes=("capacity_minutes", "sum"),
            eligible_on_shift=("eligible_on_shift", "min"),
            uncovered=("uncovered", "any"),
        )
        .reset_index()
    )
    return _labelled(inst, hourly)


def _labelled(inst: Instance, hourly: pd.DataFrame) -> pd.DataFrame:
    start = pd.Timestamp(inst.start)
    hours = start + pd.to_timedelta(hourly["hour_index"], unit="h")
    facility = hourly["facility_index"].to_numpy()
    frame = pd.DataFrame(
        {
            "hour": hours.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "hour_local": "",
            "hour_of_week": 0,
            "facility": np.array(inst.facility_ids, dtype=object)[facility],
            "state": np.array(inst.facility_states, dtype=object)[facility],
            "demand_studies": hourly["demand_studies"].round(4),
            "demand_minutes": hourly["demand_minutes"].round(2),
            "eligible_on_shift": hourly["eligible_on_shift"].astype(np.int64),
            "capacity_minutes": hourly["capacity_minutes"].round(2),
            "served_minutes": hourly["served_minutes"].round(2),
            "unmet_minutes": (hourly["demand_minutes"] - hourly["served_minutes"])
            .clip(lower=0)
            .round(2),
            "uncovered": hourly["uncovered"].astype(bool),
        }
    )
    zones = np.array(inst.facility_zones, dtype=object)[facility]
    for zone in np.unique(zones):
        rows = zones == zone
        local = hours[rows].dt.tz_convert(zone)
        frame.loc[rows, "hour_local"] = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z").to_numpy()
        frame.loc[rows, "hour_of_week"] = (local.dt.day_of_week * 24 + local.dt.hour).to_numpy()
    return frame[COVERAGE_COLUMNS]
