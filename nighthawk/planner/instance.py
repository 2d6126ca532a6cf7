"""A planning problem compiled to indexed arrays: readers, shift slots, time cells, demand.

Times are minutes after the plan's start (UTC). A *slot* is one day's occurrence of a shift
template; a reader works a slot or not. The horizon is cut into *cells*: UTC hours, split
further wherever a slot starts or ends, so within a cell every reader is either on shift for
all of it or for none of it. A *node* is a class of demand at a facility (modality, and the
subspecialty when it is required); per node each reader has the minute until which they may
read it (license and privileges expire), so "eligible in this cell" is one comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from models.priority import Modality
from models.scenario import RadiologistSpec, Scenario, ScenarioError, ShiftTemplate
from nighthawk.class_eligibility import ClassEligibility
from nighthawk.clock import minutes_between
from nighthawk.kernel import holds_through
from nighthawk.planner.demand import hour_of_week_index, surge_factors
from nighthawk.planner.flow import FlowResult, allocate
from nighthawk.weekly import merge_pieces, pattern_instances, pattern_pieces

MINUTES_PER_WEEK = 7 * 24 * 60
# Demand and capacity are integers in hundredths of a reading minute (CP-SAT is integral);
# demand rounds up and capacity down, so a plan that fits in integers fits in minutes.
SCALE = 100


@dataclass(frozen=True)
class Slot:
    """One occurrence of a shift template, in minutes after the plan's start."""

    template: int
    day: date  # local date the shift starts, in the template's time zone
    start: float
    end: float
    night: bool
    weekend: bool
    week: int  # planning week the shift starts in
    cost: float  # the template's hourly cost times the hours on duty

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 60


@dataclass(frozen=True)
class Node:
    """Demand of one class at one facility: what a reader must hold to serve it."""

    facility: int
    modality: Modality
    subspecialty: str | None  # set only when the subspecialty is required

    @property
    def need(self) -> str:
        """The kind of work, as the reports name it: "MR", "MR needing neuro"."""
        if self.subspecialty:
            return f"{self.modality.value} needing {self.subspecialty}"
        return self.modality.value


@dataclass
class Instance:
    scenario: Scenario
    start: datetime
    weeks: int
    horizon: float
    reader_ids: list[str]
    readers: list[RadiologistSpec]
    speed: np.ndarray  # (R,)
    max_per_week: np.ndarray  # (R,) int
    templates: list[ShiftTemplate]
    slots: list[Slot]
    allowed: np.ndarray  # (R, K) bool: reader may work slot (availability, leave, limits)
    preference: np.ndarray  # (R, K) int: 0 neutral/preferred, 1 not preferred, 2 avoided
    cells: np.ndarray  # (C, 2) start, end minutes
    cell_hour: np.ndarray  # (C,) UTC hour index the cell lies in
    covers: np.ndarray  # (C, K) bool: slot is on duty for the whole cell
    nodes: list[Node]
    until: np.ndarray  # (N, R) minutes each reader may read the node until (-inf: never)
    demand: np.ndarray  # (C, N) expected reading minutes at speed 1.0
    studies: np.ndarray  # (C, N) expected studies
    facility_ids: list[str] = field(default_factory=list)
    facility_states: list[str] = field(default_factory=list)
    facility_zones: list[str] = field(default_factory=list)
    eligibility: ClassEligibility | None = None

    @property
    def cell_minutes(self) -> np.ndarray:
        return self.cells[:, 1] - self.cells[:, 0]

    @cached_property
    def demand_scaled(self) -> np.ndarray:
        """(C, N) demand in hundredths of a minute, rounded up (the safe side)."""
        return np.ceil(self.demand * SCALE - 1e-9).astype(np.int64)

    @cached_property
    def capacity_scaled(self) -> np.ndarray:
        """(C, R) reading capacity in hundredths of a minute, rounded down (the safe side)."""
        utilization = self.scenario.rules.target_utilization
        minutes = self.cell_minutes[:, None] * self.speed[None, :] * utilization
        return np.floor(minutes * SCALE + 1e-9).astype(np.int64)

    def cell_flow(self, cell: int, readers: np.ndarray) -> tuple[np.ndarray, FlowResult]:
        """The cell's demand nodes and the exact best split of `readers`' time over them."""
        nodes = np.flatnonzero(self.demand_scaled[cell] > 0)
        eligible = holds_through(self.until[nodes][:, readers], self.cells[cell, 1])
        flow = allocate(
            self.demand_scaled[cell, nodes], eligible, self.capacity_scaled[cell, readers]
        )
        return nodes, flow

    def eligible(self, cell: int, node: int) -> np.ndarray:
        """(R,) readers who may read the node for the whole cell."""
        return holds_through(self.until[node], self.cells[cell, 1])

    def at(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=float(minutes))


def build_instance(scenario: Scenario, forecast: pd.DataFrame, weeks: int) -> Instance:
    """Compile the scenario and a forecast (see `demand`) for `weeks` weeks from its start."""
    if not scenario.shift_templates:
        raise ScenarioError("shift_templates: the planner needs at least one shift template")
    start = scenario.start
    horizon = float(weeks * MINUTES_PER_WEEK)
    templates = list(scenario.shift_templates)
    slots = _slots(start, templates, horizon)
    readers = list(scenario.radiologists)
    facility_ids = [f.id for f in scenario.facilities]
    states = [f.state for f in scenario.facilities]
    cells = _cells(slots, horizon)
    eligibility = ClassEligibility(scenario, facility_ids, states)
    nodes, demand, studies = _demand(scenario, forecast, cells, facility_ids)
    _require_countable(demand)
    return Instance(
        scenario=scenario,
        start=start,
        weeks=weeks,
        horizon=horizon,
        reader_ids=[r.id for r in readers],
        readers=readers,
        speed=np.array([r.speed for r in readers], dtype=float),
        max_per_week=np.array(
            [
                min(scenario.rules.max_shifts_per_week, r.max_shifts_per_week)
                if r.max_shifts_per_week is not None
                else scenario.rules.max_shifts_per_week
                for r in readers
            ],
            dtype=np.int64,
        ),
        templates=templates,
        slots=slots,
        allowed=_allowed(scenario, readers, slots, horizon),
        preference=_preference(readers, templates, slots),
        cells=cells,
        cell_hour=(cells[:, 0] // 60).astype(np.int64),
        covers=_covers(cells, slots),
        nodes=nodes,
        until=_until(eligibility, nodes, len(readers)),
        demand=demand,
        studies=studies,
        facility_ids=facility_ids,
        facility_states=states,
        facility_zones=[f.timezone for f in scenario.facilities],
        eligibility=eligibility,
    )


def _require_countable(demand: np.ndarray) -> None:
    """The max flow counts hundredths of a minute in 32 bits: refuse, with the reason, a
    forecast beyond that rather than fail inside the solver."""
    most = float(demand.sum(axis=1).max(initial=0.0))
    limit = (2**31 - 1) / SCALE / 2  # headroom: the flow's own bound is demand + 1
    if most > limit:
        raise ScenarioError(
            f"arrivals: {most:,.0f} reading minutes forecast in one hour; "
            f"the planner handles at most {limit:,.0f}"
        )


def with_reader(instance: Instance, reader: RadiologistSpec) -> Instance:
    """The same problem with one radiologist's licenses, credentials or skills changed."""
    index = instance.reader_ids.index(reader.id)
    readers = [*instance.readers]
    readers[index] = reader
    scenario = instance.scenario.model_copy(update={"radiologists": readers})
    eligibility = ClassEligibility(scenario, instance.facility_ids, instance.facility_states)
    return replace(
        instance,
        scenario=scenario,
        readers=readers,
        until=_until(eligibility, instance.nodes, len(readers)),
        eligibility=eligibility,
    )


def _until(eligibility: ClassEligibility, nodes: list[Node], readers: int) -> np.ndarray:
    if not nodes:
        return np.zeros((0, readers))
    return np.stack([eligibility.until(n.facility, n.modality, n.subspecialty) for n in nodes])


def _slots(start: datetime, templates: list[ShiftTemplate], horizon: float) -> list[Slot]:
    """Occurrences that start inside the horizon, and the one running into its first hour
    (a night shift starting the evening before), so coverage begins at the start."""
    slots = []
    for index, template in enumerate(templates):
        for day, begin, end in pattern_instances(start, template.pattern, horizon):
            if end <= 0 or begin >= horizon:
                continue
            slots.append(
                Slot(
                    template=index,
                    day=day,
                    start=begin,
                    end=end,
                    night=template.is_night,
                    weekend=day.weekday() >= 5,
                    week=max(0, int(begin // MINUTES_PER_WEEK)),
                    cost=template.cost * (end - begin) / 60,
                )
            )
    slots.sort(key=lambda s: (s.start, s.template))
    return slots


def _cells(slots: list[Slot], horizon: float) -> np.ndarray:
    hours = np.arange(0.0, horizon + 1, 60.0)
    edges = [s.start for s in slots] + [s.end for s in slots]
    bounds = np.unique(np.concatenate([hours, [e for e in edges if 0 < e < horizon]]))
    return np.stack([bounds[:-1], bounds[1:]], axis=1)


def _covers(cells: np.ndarray, slots: list[Slot]) -> np.ndarray:
    starts = np.array([s.start for s in slots])
    ends = np.array([s.end for s in slots])
    return (starts[None, :] <= cells[:, :1]) & (cells[:, 1:] <= ends[None, :])


def _allowed(
    scenario: Scenario, readers: list[RadiologistSpec], slots: list[Slot], horizon: float
) -> np.ndarray:
    """A slot is allowed when it lies inside the reader's availability (if given), touches
    none of their unavailable windows, and the reader may work at least one shift a week."""
    starts = np.array([s.start for s in slots])
    ends = np.array([s.end for s in slots])
    allowed = np.ones((len(readers), len(slots)), dtype=bool)
    if scenario.rules.max_consecutive_nights == 0:
        allowed[:, [s.night for s in slots]] = False
    reach = horizon + 2 * 24 * 60  # a shift starting near the end runs past the horizon
    for r, reader in enumerate(readers):
        if reader.max_shifts_per_week == 0 or scenario.rules.max_shifts_per_week == 0:
            allowed[r] = False
            continue
        if reader.availability is not None:
            # Laid out from a week early: a shift running into the start may lie in a
            # window (or a run of joined windows) that opened days before it.
            early = scenario.start - timedelta(days=7)
            lead = 7 * 24 * 60
            windows = merge_pieces(
                [
                    (begin - lead, end - lead)
                    for pattern in reader.availability
                    for begin, end in pattern_pieces(early, pattern, reach + lead)
                ]
            )
            inside = np.zeros(len(slots), dtype=bool)
            for begin, end in windows:
                inside |= (begin <= starts) & (ends <= end)
            allowed[r] &= inside
        for window in reader.unavailable:
            begin = minutes_between(scenario.start, window.from_)
            end = minutes_between(scenario.start, window.to)
            allowed[r] &= (ends <= begin) | (starts >= end)
    return allowed


def _preference(
    readers: list[RadiologistSpec], templates: list[ShiftTemplate], slots: list[Slot]
) -> np.ndarray:
    ids = np.array([templates[s.template].id for s in slots], dtype=object)
    penalty = np.zeros((len(readers), len(slots)), dtype=np.int64)
    for r, reader in enumerate(readers):
        preferred = reader.preferred_templates
        if preferred:
            penalty[r] = [0 if t in preferred else 1 for t in ids]
        avoided = reader.avoided_templates
        if avoided:
            penalty[r] = np.where([t in avoided for t in ids], 2, penalty[r])
    return penalty


def _demand(
    scenario: Scenario,
    forecast: pd.DataFrame,
    cells: np.ndarray,
    facility_ids: list[str],
) -> tuple[list[Node], np.ndarray, np.ndarray]:
    """Per node and cell: expected studies and reading minutes, the hour's rate spread
    evenly over the hour's cells."""
    hours = math.ceil(cells[-1, 1] / 60)
    facility_index = {fid: i for i, fid in enumerate(facility_ids)}
    zones = {f.id: f.timezone for f in scenario.facilities}
    fraction = (cells[:, 1] - cells[:, 0]) / 60
    cell_hour = (cells[:, 0] // 60).astype(np.int64)
    nodes: list[Node] = []
    node_index: dict[Node, int] = {}
    minutes_columns: list[np.ndarray] = []
    studies_columns: list[np.ndarray] = []
    how_cache: dict[str, np.ndarray] = {}
    surge_cache: dict[str, np.ndarray] = {}
    for key, rows in forecast.groupby(["facility", "modality", "subspecialty"], dropna=False):
        facility, modality, subspecialty = key
        subspecialty = subspecialty if isinstance(subspecialty, str) else None
        zone = zones[facility]
        if zone not in how_cache:
            how_cache[zone] = hour_of_week_index(scenario.start, hours, zone)
        if facility not in surge_cache:
            surge_cache[facility] = surge_factors(scenario, facility, scenario.start, hours)
        rate = np.zeros(168)
        minutes = np.zeros(168)
        np.add.at(rate, rows["hour_of_week"].to_numpy(), rows["studies_per_hour"].to_numpy())
        np.add.at(
            minutes,
            rows["hour_of_week"].to_numpy(),
            (rows["studies_per_hour"] * rows["read_minutes"]).to_numpy(),
        )
        hourly = surge_cache[facility]
        per_hour_studies = rate[how_cache[zone]] * hourly
        per_hour_minutes = minutes[how_cache[zone]] * hourly
        node = Node(facility_index[facility], Modality(modality), subspecialty)
        if node not in node_index:
            node_index[node] = len(nodes)
            nodes.append(node)
            minutes_columns.append(np.zeros(len(cells)))
            studies_columns.append(np.zeros(len(cells)))
        column = node_index[node]
        minutes_columns[column] += per_hour_minutes[cell_hour] * fraction
        studies_columns[column] += per_hour_studies[cell_hour] * fraction
    demand = np.stack(minutes_columns, axis=1) if nodes else np.zeros((len(cells), 0))
    studies = np.stack(studies_columns, axis=1) if nodes else np.zeros((len(cells), 0))
    return nodes, demand, studies
