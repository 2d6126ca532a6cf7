"""A scenario compiled for the event loop: indexed arrays, UTC minutes, eligibility by class.

Times are minutes after the scenario's start. A study *class* is what eligibility depends on
(facility, modality, subspecialty when required); each class carries, per reader, the minute
until which that reader may read it (license and privileges; -inf: never), so checking a
reader is one array lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from models.priority import Priority
from nighthawk.class_eligibility import MODALITIES
from nighthawk.class_eligibility import ClassEligibility as Eligibility
from nighthawk.clock import minutes_between
from nighthawk.kernel import FINISH_SLACK_MINUTES, sla_minutes
from nighthawk.weekly import merge_pieces, pattern_pieces, subtract_piece
from simulations.scenario import Absence, Scenario

PRIORITIES = (Priority.STAT, Priority.URGENT, Priority.ROUTINE)  # index = priority rank
__all__ = ["FINISH_SLACK_MINUTES", "MODALITIES", "PRIORITIES", "World", "compile_world"]

ClassKey = tuple[int, int, str | None]  # facility index, modality index, required subspecialty


@dataclass(frozen=True)
class Stretch:
    """One continuous time on duty, in minutes after the start."""

    start: float
    end: float


@dataclass
class World:
    scenario: Scenario
    facility_ids: list[str]
    facility_states: list[str]
    facility_zones: list[str]
    sla: np.ndarray  # (F, 3) minutes by priority rank
    reader_ids: list[str]
    speed: np.ndarray  # (R,)
    stretches: list[list[Stretch]]  # per reader, sorted, disjoint, absences cut out
    horizon: float  # arrivals stop here (minutes)
    run_until: float  # the drain ends here
    measured_from: float
    expected_minutes: np.ndarray  # (M,) mean read minutes at speed 1.0, by modality index
    eligibility: Eligibility
    _class_index: dict[ClassKey, int] = field(default_factory=dict)
    class_until: list[np.ndarray] = field(default_factory=list)  # per class: (R,) valid until
    class_keys: list[ClassKey] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader_index = {rid: i for i, rid in enumerate(self.reader_ids)}

    @property
    def reader_count(self) -> int:
        return len(self.reader_ids)

    def at(self, minutes: float) -> datetime:
        return self.scenario.start + timedelta(minutes=float(minutes))

    def class_of(self, facility: int, modality: int, subspecialty: str | None) -> int:
        """The class id of studies like this; `subspecialty` only when it is required."""
        key = (facility, modality, subspecialty)
        found = self._class_index.get(key)
        if found is None:
            found = len(self.class_keys)
            self._class_index[key] = found
            self.class_keys.append(key)
            self.class_until.append(self._until(key))
        return found

    def _until(self, key: ClassKey) -> np.ndarray:
        facility, modality, subspecialty = key
        return self.eligibility.until(facility, MODALITIES[modality], subspecialty)


def compile_world(scenario: Scenario) -> World:
    facility_ids = [f.id for f in scenario.facilities]
    states = [f.state for f in scenario.facilities]
    defaults = {p: sla_minutes(p, scenario.sla_minutes) for p in PRIORITIES}
    sla = np.array(
        [[sla_minutes(p, f.sla_minutes, defaults) for p in PRIORITIES] for f in scenario.facilities]
    )
    horizon = scenario.days * 24 * 60
    run_until = horizon + scenario.drain_hours * 60
    world = World(
        scenario=scenario,
        facility_ids=facility_ids,
        facility_states=states,
        facility_zones=[f.timezone for f in scenario.facilities],
        sla=sla,
        reader_ids=[r.id for r in scenario.radiologists],
        speed=np.array([r.speed for r in scenario.radiologists], dtype=float),
        stretches=reader_stretches(scenario, run_until),
        horizon=horizon,
        run_until=run_until,
        measured_from=scenario.warmup_hours * 60,
        expected_minutes=np.array(
            [scenario.read_distribution(m).mean for m in MODALITIES], dtype=float
        ),
        eligibility=Eligibility(scenario, facility_ids, states),
    )
    return world


def reader_stretches(scenario: Scenario, run_until: float) -> list[list[Stretch]]:
    """Each reader's weekly shifts laid out in UTC minutes, joined where they touch, with
    absences cut out. Local wall-clock times go through zoneinfo, so DST moves them."""
    absences: dict[str, list[tuple[float, float]]] = {}
    for event in scenario.events:
        if isinstance(event, Absence):
            window = (
                minutes_between(scenario.start, event.from_),
                minutes_between(scenario.start, event.to),
            )
            absences.setdefault(event.radiologist, []).append(window)
    result = []
    for reader in scenario.radiologists:
        pieces: list[tuple[float, float]] = []
        for pattern in reader.shifts:
            pieces.extend(pattern_pieces(scenario.start, pattern, run_until))
        merged = merge_pieces(pieces)
        for cut in absences.get(reader.id, []):
            merged = subtract_piece(merged, cut)
        result.append([Stretch(a, b) for a, b in merged if b > 0 and a < run_until])
    return result
