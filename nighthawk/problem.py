"""Index a snapshot into arrays: the engine works on numbers, never on pydantic objects.

Studies are indexed 0..S-1 and radiologists 0..R-1; all times are float minutes from `now`.
Pair-wise facts (duration, eligibility, the latest finish each pair allows) are S x R arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from models.priority import Modality, Priority
from models.snapshot import PreferenceWeights, Snapshot
from nighthawk.clock import minutes_between, state_time_zone
from nighthawk.kernel import due_at, facility_zone_of, rights_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NO_RADIOLOGIST = -1


@dataclass(frozen=True)
class Readers:
    """Per-radiologist facts, indexed by radiologist."""

    ids: list[str]
    ready: FloatArray  # earliest start of new work: max(now + backlog, shift_start)
    shift_end: FloatArray
    speed: FloatArray
    backlog: FloatArray
    subspecialties: list[frozenset[str]]
    modalities: list[frozenset[Modality]]  # empty: reads everything
    licenses: list[dict[str, float]]  # state -> valid until (minutes)
    credentials: list[dict[str, float]]  # facility -> valid until (minutes)


@dataclass(frozen=True)
class Studies:
    """Per-study facts, indexed by study."""

    ids: list[str]
    facility: list[str]
    state: list[str]
    modality: list[Modality]
    subspecialty: list[str | None]
    subspecialty_required: BoolArray
    priority: list[Priority]
    rank: IntArray  # 0 STAT, 1 URGENT, 2 ROUTINE
    weight: FloatArray
    arrived: FloatArray
    due: FloatArray
    expected_minutes: FloatArray
    current: IntArray  # index of the reader it is assigned to now, or NO_RADIOLOGIST
    position: FloatArray  # place in the current reader's queue (inf: not given)

    @property
    def is_stat(self) -> BoolArray:
        return self.rank == 0


@dataclass(frozen=True)
class Problem:
    now: datetime
    readers: Readers
    studies: Studies
    preference_weights: PreferenceWeights
    # S x R
    duration: FloatArray = field(repr=False)
    license_until: FloatArray = field(repr=False)
    credential_until: FloatArray = field(repr=False)
    facility_zone: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def study_count(self) -> int:
        return len(self.studies.ids)

    @property
    def reader_count(self) -> int:
        return len(self.readers.ids)

    @property
    def finish_limit(self) -> FloatArray:
        """Latest finish each pair allows: shift end, license and privileges all still valid."""
        return np.minimum(
            np.minimum(self.license_until, self.credential_until),
            self.readers.shift_end[None, :],
        )


def build_problem(snapshot: Snapshot) -> Problem:
    """Index a validated snapshot. Cost is O(S x R) numpy work plus O(licenses + credentials)."""
    now = snapshot.now
    facility_zone = _facility_zones(snapshot)
    readers = _index_readers(snapshot, facility_zone)
    studies = _index_studies(snapshot, readers)
    duration = studies.expected_minutes[:, None] / readers.speed[None, :]
    license_until = _pair_validity(studies.state, readers.licenses)
    credential_until = _pair_validity(studies.facility, readers.credentials)
    return Problem(
        now=now,
        readers=readers,
        studies=studies,
        preference_weights=snapshot.settings.preference_weights,
        duration=duration,
        license_until=license_until,
        credential_until=credential_until,
        facility_zone=facility_zone,
    )


def _facility_zones(snapshot: Snapshot) -> dict[str, str]:
    """Each facility's time zone: its contract's, else its state's."""
    zones = {study.facility: state_time_zone(study.state) for study in snapshot.studies}
    zones.update({facility.id: facility.timezone for facility in snapshot.facilities})
    return zones


def _index_readers(snapshot: Snapshot, facility_zone: dict[str, str]) -> Readers:
    now = snapshot.now
    radiologists = snapshot.radiologists
    backlog = np.array([r.backlog_minutes for r in radiologists], dtype=float)
    shift_start = np.array([minutes_between(now, r.shift_start) for r in radiologists], dtype=float)
    # The kernel's rights: a license dated in its state's zone, privileges in the facility's.
    rights = [rights_of(r, now, lambda f: facility_zone_of(f, facility_zone)) for r in radiologists]
    return Readers(
        ids=[r.id for r in radiologists],
        ready=np.maximum(backlog, shift_start),
        shift_end=np.array([minutes_between(now, r.shift_end) for r in radiologists], dtype=float),
        speed=np.array([r.speed for r in radiologists], dtype=float),
        backlog=backlog,
        subspecialties=[frozenset(r.subspecialties) for r in radiologists],
        modalities=[frozenset(r.modalities) for r in radiologists],
        licenses=[dict(r.licenses) for r in rights],
        credentials=[dict(r.credentials) for r in rights],
    )


def _index_studies(snapshot: Snapshot, readers: Readers) -> Studies:
    now = snapshot.now
    reader_index = {rid: i for i, rid in enumerate(readers.ids)}
    weights = snapshot.settings.priority_weights
    studies = snapshot.studies
    facility_by_id = {f.id: f for f in snapshot.facilities}
    defaults = snapshot.settings.sla_defaults()

    def due_minutes(study_index: int) -> float:
        study = studies[study_index]
        if study.due_at is not None:
            return minutes_between(now, study.due_at)
        facility = facility_by_id.get(study.facility)
        contract = facility.sla_minutes if facility else None
        return minutes_between(now, due_at(study.arrived_at, study.priority, contract, defaults))

    return Studies(
        ids=[s.id for s in studies],
        facility=[s.facility for s in studies],
        state=[s.state for s in studies],
        modality=[s.modality for s in studies],
        subspecialty=[s.subspecialty for s in studies],
        subspecialty_required=np.array([s.subspecialty_required for s in studies], dtype=bool),
        priority=[s.priority for s in studies],
        rank=np.array([s.priority.rank for s in studies], dtype=np.int64),
        weight=np.array([weights.weight(s.priority) for s in studies], dtype=float),
        arrived=np.array([minutes_between(now, s.arrived_at) for s in studies], dtype=float),
        due=np.array([due_minutes(i) for i in range(len(studies))], dtype=float),
        expected_minutes=np.array([s.expected_minutes for s in studies], dtype=float),
        current=np.array(
            [
                reader_index.get(s.assigned_to, NO_RADIOLOGIST) if s.assigned_to else NO_RADIOLOGIST
                for s in studies
            ],
            dtype=np.int64,
        ),
        position=np.array(
            [np.inf if s.queue_position is None else s.queue_position for s in studies],
            dtype=float,
        ),
    )


def _pair_validity(keys: list[str], per_reader: list[dict[str, float]]) -> FloatArray:
    """S x R matrix of 'valid until' minutes for the study's state or facility (-inf: none)."""
    vocabulary = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    table = np.full((len(per_reader), len(vocabulary)), -np.inf)
    for reader, held in enumerate(per_reader):
        for key, until in held.items():
            column = vocabulary.get(key)
            if column is not None:
                table[reader, column] = until
    columns = np.fromiter((vocabulary[k] for k in keys), dtype=np.int64, count=len(keys))
    return np.ascontiguousarray(table[:, columns].T)
