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
from nighthawk.planner.times import local_texts, utc_texts

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
    unmet_scaled = np.zeros((cells, nodes), dtype=np.int64)
    facility_of = np.array([n.facility for n in inst.nodes], dtype=np.int64)
    facilities = len(inst.facility_ids)
    hours = int(inst.cell_hour.max(initial=-1)) + 1
    # Per UTC hour and facility, who may read some of its work: a reader on shift for part
    # of the hour counts, as their minutes count in the hour's capacity.
    eligible_in_hour = np.zeros((hours, facilities, len(inst.reader_ids)), dtype=bool)
    capacity = np.zeros((cells, facilities))
    for c in np.flatnonzero(inst.demand_scaled.sum(axis=1) > 0):
        readers = np.flatnonzero(on[c])
        demand_nodes, flow = inst.cell_flow(int(c), readers)
        eligible = holds_through(inst.until[demand_nodes][:, readers], inst.cells[c, 1])
        uncovered[c, demand_nodes] = ~eligible.any(axis=1)
        # Unmet in the model's own units (demand rounded up, capacity down), so the report,
        # coverage.csv and the solver's objective are one figure.
        unmet_scaled[c, demand_nodes] = inst.demand_scaled[c, demand_nodes] - flow.served
        # A reader's time counts once per facility, however many of its classes they read.
        any_class = np.zeros((facilities, readers.size), dtype=bool)
        np.logical_or.at(any_class, facility_of[demand_nodes], eligible)
        capacity[c] = any_class @ (inst.capacity_scaled[c, readers] / SCALE)
        eligible_in_hour[int(inst.cell_hour[c])][:, readers] |= any_class
    unmet = unmet_scaled / SCALE
    served = np.clip(inst.demand - unmet, 0, None)
    frame = _hourly(inst, uncovered, served, unmet, eligible_in_hour.sum(axis=2), capacity)
    return Evaluation(
        on=on,
        uncovered=uncovered,
        served=served,
        coverage=frame,
        uncovered_hours=facility_hours_of(inst, uncovered),
        unmet_minutes=int(unmet_scaled.sum()) / SCALE,
        demand_minutes=float(inst.demand.sum()),
    )


def facility_hours_of(instance: Instance, short: np.ndarray) -> float:
    """Facility-hours of a (C, N) mask of demand: a facility counts once in a cell however
    many kinds of its work the mask holds."""
    facility_of = np.array([n.facility for n in instance.nodes], dtype=np.int64)
    per_facility = np.zeros((len(instance.cells), len(instance.facility_ids)), dtype=bool)
    rows, columns = np.nonzero(short)
    per_facility[rows, facility_of[columns]] = True
    return float((per_facility * instance.cell_minutes[:, None]).sum() / 60)


def _hourly(
    inst: Instance,
    uncovered: np.ndarray,
    served: np.ndarray,
    unmet: np.ndarray,
    eligible_count: np.ndarray,
    capacity: np.ndarray,
) -> pd.DataFrame:
    cells, nodes = np.nonzero(inst.demand > 0)
    facility_of = np.array([n.facility for n in inst.nodes], dtype=np.int64)
    needs = np.array([n.need for n in inst.nodes], dtype=object)
    long = pd.DataFrame(
        {
            "hour_index": inst.cell_hour[cells],
            "cell": cells,
            "facility_index": facility_of[nodes],
            "demand_studies": inst.studies[cells, nodes],
            "demand_minutes": inst.demand[cells, nodes],
            "served_minutes": served[cells, nodes],
            "unmet_minutes": unmet[cells, nodes],
            "uncovered": uncovered[cells, nodes],
            "need": needs[nodes],
        }
    )
    keys = ["hour_index", "facility_index"]
    hourly = (
        long.groupby(keys, sort=True)
        .agg(
            demand_studies=("demand_studies", "sum"),
            demand_minutes=("demand_minutes", "sum"),
            served_minutes=("served_minutes", "sum"),
            unmet_minutes=("unmet_minutes", "sum"),
            uncovered=("uncovered", "any"),
        )
        .reset_index()
    )
    short = long[long["uncovered"]].groupby(keys)["need"].agg(lambda n: "; ".join(sorted(set(n))))
    hourly = hourly.join(short.rename("uncovered_work"), on=keys)
    hourly["uncovered_work"] = hourly["uncovered_work"].fillna("")
    per_hour = np.zeros(eligible_count.shape)
    np.add.at(per_hour, inst.cell_hour, capacity)
    hours, facilities = hourly["hour_index"].to_numpy(), hourly["facility_index"].to_numpy()
    hourly["capacity_minutes"] = per_hour[hours, facilities]
    hourly["eligible_on_shift"] = eligible_count[hours, facilities]
    return _labelled(inst, hourly)


def _labelled(inst: Instance, hourly: pd.DataFrame) -> pd.DataFrame:
    hours = pd.Timestamp(inst.start) + pd.to_timedelta(hourly["hour_index"], unit="h")
    facility = hourly["facility_index"].to_numpy()
    frame = pd.DataFrame(
        {
            "hour": utc_texts(hours),
            "hour_local": "",
            "hour_of_week": 0,
            "facility": np.array(inst.facility_ids, dtype=object)[facility],
            "state": np.array(inst.facility_states, dtype=object)[facility],
            "demand_studies": hourly["demand_studies"].round(4),
            "demand_minutes": hourly["demand_minutes"].round(2),
            "eligible_on_shift": hourly["eligible_on_shift"].astype(np.int64),
            "capacity_minutes": hourly["capacity_minutes"].round(2),
            "served_minutes": hourly["served_minutes"].round(2),
            "unmet_minutes": hourly["unmet_minutes"].round(2),
            "uncovered": hourly["uncovered"].astype(bool),
            "uncovered_work": hourly["uncovered_work"].astype(object),
        }
    )
    zones = np.array(inst.facility_zones, dtype=object)[facility]
    for zone in np.unique(zones):
        rows = zones == zone
        local = hours[rows].dt.tz_convert(zone)
        frame.loc[rows, "hour_local"] = local_texts(hours[rows], zone).to_numpy()
        frame.loc[rows, "hour_of_week"] = (local.dt.day_of_week * 24 + local.dt.hour).to_numpy()
    return frame[COVERAGE_COLUMNS]
