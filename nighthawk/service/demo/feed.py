"""The demo's traffic: a steady trickle of realistic studies, and readers who read them.

A newcomer should see a living practice within seconds, so studies arrive (CT-heavy, with
second studies from the same patient) and simulated radiologists start and finish them, so
queues drain as well as fill. All of it goes through the real AssignmentService.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.api import StudyIn
from models.priority import Modality, Priority
from models.tables import AUDIT, FACILITY, RADIOLOGIST, SHIFT, STUDY, StudyStatus
from nighthawk.demo import _MODALITY_SHARE, _reading_minutes
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.db import read_transaction
from nighthawk.service.demo.practice import DEMO_ACTOR, facility_size
from nighthawk.service.errors import ServiceError

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# --- feed shape -----------------------------------------------------------------------------

_MODALITIES = list(Modality)
_MODALITY_P = np.array([_MODALITY_SHARE[m.value] for m in _MODALITIES])
_PRIORITIES = (Priority.STAT, Priority.URGENT, Priority.ROUTINE)
_PRIORITY_P = np.array([0.20, 0.25, 0.55])
# What each modality images (DICOM Body Part Examined) and the subspecialty it leans to.
_BODY_PARTS: dict[Modality, tuple[tuple[str, str | None, float], ...]] = {
    Modality.CT: (
        ("HEAD", "neuro", 0.30),
        ("CSPINE", "neuro", 0.08),
        ("CHEST", None, 0.18),
        ("ABDOMEN", "body", 0.30),
        ("EXTREMITY", "msk", 0.10),
        ("HEART", "cardiac", 0.04),
    ),
    Modality.MR: (
        ("BRAIN", "neuro", 0.45),
        ("SPINE", "neuro", 0.15),
        ("KNEE", "msk", 0.13),
        ("SHOULDER", "msk", 0.08),
        ("ABDOMEN", "body", 0.13),
        ("BREAST", "breast", 0.03),
        ("HEART", "cardiac", 0.03),
    ),
    Modality.XR: (
        ("CHEST", None, 0.45),
        ("EXTREMITY", "msk", 0.35),
        ("SPINE", "msk", 0.12),
        ("ABDOMEN", "body", 0.08),
    ),
    Modality.US: (
        ("ABDOMEN", "body", 0.55),
        ("PELVIS", "body", 0.20),
        ("VASCULAR", None, 0.15),
        ("BREAST", "breast", 0.10),
    ),
    Modality.NM: (("HEART", "cardiac", 0.40), ("BONE", "msk", 0.30), ("THYROID", None, 0.30)),
    Modality.PET: (("WHOLEBODY", "body", 0.80), ("BRAIN", "neuro", 0.20)),
    Modality.MG: (("BREAST", "breast", 1.0),),
    Modality.FL: (("ABDOMEN", "body", 0.70), ("ESOPHAGUS", None, 0.30)),
}
_SUBSPECIALTY_SET_SHARE = 0.35  # the sender names the study's subspecialty
_REQUIRED_SHARE = 0.06  # of those: the contract insists on the subspecialist
_PEDS_SHARE = (0.04, 0.60)  # pediatric patients at other hospitals / at children's hospitals
_SECOND_STUDY_SHARE = 0.10  # a study from a patient who already sent one (CT head + C-spine)
_ESTIMATE_SHARE = 0.15  # the sender estimates reading minutes; otherwise the service defaults
_RECENT_PATIENTS = 50
# Studies an hour the feed posts by default: about two thirds of what the ~13 readers on shift
# at a time can read (12 min a study on average, speed ~1.05), so queues stay busy but bounded.
DEMO_STUDIES_PER_HOUR = 45.0


# --- the feed -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadingStep:
    started: int
    completed: int


DEMO_READERS_REFRESH = timedelta(minutes=5)


class DemoReaders:
    """The practice's radiologists at work: each reads their worklist top down, one at a time.

    A step finishes every read whose time is up (`expected_minutes / speed` after it started,
    on the assignment service's clock), whether or not the reader's shift has ended since,
    as a radiologist finishes the study they opened; then every reader on shift, available
    and reading nothing starts the first study of their worklist. Everything goes through
    AssignmentService.start/complete, as a PACS integration would, so the audit trail,
    re-planning and reports see ordinary traffic. Refusals (a re-plan moved the study a
    moment ago: 409) are logged and retried on the next step.

    Only the demo practice's own readers act (those the demo put last): a reader the user
    creates, or takes over by putting it again, is the user's to drive.
    """

    def __init__(self, assignments: AssignmentService) -> None:
        self.assignments = assignments
        self._demo_readers: frozenset[str] = frozenset()
        self._known_at: datetime | None = None

    def step(self) -> ReadingStep:
        """Finish due reads and start idle readers' next studies; never raises."""
        try:
            now = self.assignments.clock.now()
            reading, on_shift = self._state(now)
        except Exception:
            logger.exception("demo readers: could not load the reading state")
            return ReadingStep(started=0, completed=0)
        completed = 0
        busy: set[str] = set()
        for study_id, reader, finish in reading:
            if finish > now or not self._complete(study_id, reader):
                busy.add(reader)
            else:
                completed += 1
        started = 0
        # A free reader asks for their next, as a reading platform would: it may be work
        # planned for someone still busy (the dispatcher binds late).
        for reader in sorted(on_shift - busy):
            started += self._start_next(reader, now)
        return ReadingStep(started=started, completed=completed)

    def _state(self, now: datetime) -> tuple[list[tuple[str, str, datetime]], set[str]]:
        """Reads in progress with their finish, and the readers on shift now."""
        with read_transaction(self.assignments.engine) as connection:
            rows = connection.execute(
                select(
                    STUDY.c.id,
                    STUDY.c.assigned_to,
                    STUDY.c.started_at,
                    STUDY.c.expected_minutes,
                    RADIOLOGIST.c.speed,
                )
                .join_from(STUDY, RADIOLOGIST, STUDY.c.assigned_to == RADIOLOGIST.c.id)
                .where(STUDY.c.status == StudyStatus.READING.value)
                .order_by(STUDY.c.started_at)
            ).all()
            on_shift = connection.execute(
                select(SHIFT.c.radiologist_id)
                .distinct()
                .join_from(SHIFT, RADIOLOGIST, SHIFT.c.radiologist_id == RADIOLOGIST.c.id)
                .where(SHIFT.c.start <= now, SHIFT.c.end > now, RADIOLOGIST.c.available)
            ).scalars()
            on = set(on_shift)
            demo = self._readers(connection, now)
        rows = [row for row in rows if row.assigned_to in demo]
        on &= demo
        reading = [
            (
                row.id,
                row.assigned_to,
                (row.started_at or now) + timedelta(minutes=row.expected_minutes / row.speed),
            )
            for row in rows
        ]
        return reading, on

    def _readers(self, connection: Connection, now: datetime) -> frozenset[str]:
        """The readers the demo put last, re-read every few minutes (a user may take one over)."""
        if self._known_at is not None and now - self._known_at < DEMO_READERS_REFRESH:
            return self._demo_readers
        puts = connection.execute(
            select(AUDIT.c.entity, AUDIT.c.actor)
            .where(AUDIT.c.action == "radiologist.put")
            .order_by(AUDIT.c.seq)
        ).all()
        last = {entity.removeprefix("radiologist:"): actor for entity, actor in puts}
        self._demo_readers = frozenset(r for r, actor in last.items() if actor == DEMO_ACTOR.name)
        self._known_at = now
        return self._demo_readers

    def _complete(self, study_id: str, reader: str) -> bool:
        try:
            self.assignments.complete(DEMO_ACTOR, study_id, reader, report="prelim")
        except ServiceError as error:
            logger.info("demo readers: %s could not report %s: %s", reader, study_id, error.detail)
            return False
        except Exception:
            logger.exception("demo readers: %s reporting %s failed", reader, study_id)
            return False
        return True

    def _start_next(self, reader: str, now: datetime) -> int:
        """Start what the dispatcher hands this free reader next; 1 if one was started."""
        del now
        try:
            offered = self.assignments.next_for(DEMO_ACTOR, reader).study
            if offered is None:
                return 0
            self.assignments.start(DEMO_ACTOR, offered.id, reader)
        except ServiceError as error:
            logger.info("demo readers: %s could not start: %s", reader, error.detail)
            return 0
        except Exception:
            logger.exception("demo readers: %s could not start their next study", reader)
            return 0
        return 1


class DemoFeed:
    """Posts synthetic studies as a hospital's worklist would, at a Poisson rate.

    Accessions carry a per-run tag (random unless given) so a restarted server never re-posts
    an accession an earlier run used with different content, which the service refuses (409).
    With `readers` (the default) each tick also lets the radiologists on shift read
    (`DemoReaders`), so queues drain as well as fill. The default rate keeps a demo practice
    busy but bounded: about 13 readers on at a time read some 65 studies an hour.
    """

    def __init__(
        self,
        assignments: AssignmentService,
        *,
        seed: int = 7,
        studies_per_hour: float = DEMO_STUDIES_PER_HOUR,
        run_tag: str | None = None,
        readers: bool = True,
    ) -> None:
        if studies_per_hour < 0:
            raise ValueError("studies_per_hour must not be negative")
        self.assignments = assignments
        self.studies_per_hour = studies_per_hour
        self.rng = np.random.default_rng(seed)
        self.run_tag = run_tag or secrets.token_hex(3)
        self.readers = DemoReaders(assignments) if readers else None
        self._counter = 0
        self._recent: deque[tuple[str, str]] = deque(maxlen=_RECENT_PATIENTS)

    def tick(self, seconds: float) -> int:
        """Let readers read, then post `seconds` of arrivals; returns the studies posted.

        Never raises: it runs in the background.
        """
        if self.readers is not None:
            self.readers.step()
        try:
            bodies = self.studies_for(seconds)
        except Exception:
            logger.exception("demo feed: could not draw studies")
            return 0
        return self._post(bodies)

    def warm_up(self, minutes: float = 60.0) -> int:
        """Post the last `minutes` of arrivals at once, received across that span, so a
        newcomer sees a working practice straight away rather than one study a minute."""
        now = self.assignments.clock.now()
        bodies = self.studies_for(minutes * 60.0)
        spread = [
            body.model_copy(
                update={"received_at": now - timedelta(minutes=minutes * (1 - i / len(bodies)))}
            )
            for i, body in enumerate(bodies)
        ]
        return self._post(spread)

    def _post(self, bodies: list[StudyIn]) -> int:
        """Ingest each body, logging where it went; refusals are logged, never raised."""
        posted = 0
        for body in bodies:
            try:
                study = self.assignments.ingest(DEMO_ACTOR, body).study
                logger.info(
                    "%-7s %-3s from %s (%s) -> %s, due %s UTC%s",
                    study.priority.value,
                    study.modality.value,
                    study.facility,
                    study.state,
                    study.assigned_to or "nobody",
                    f"{study.due_at:%a %H:%M}",
                    _predicted(study.predicted_finish),
                )
            except ServiceError as error:
                logger.warning("demo feed: %s refused: %s", body.accession, error.detail)
                continue
            except Exception:
                logger.exception("demo feed: posting %s failed", body.accession)
                continue
            posted += 1
        return posted

    def studies_for(self, seconds: float) -> list[StudyIn]:
        """The bodies `tick` would post for `seconds` of arrivals (advances the generator)."""
        facilities = self._facilities()
        if not facilities or seconds <= 0:
            return []
        sizes = np.array([size for _, size, _ in facilities])
        weights = sizes / sizes.sum()
        count = int(self.rng.poisson(self.studies_per_hour * seconds / 3600.0))
        return [self._study(facilities, weights) for _ in range(count)]

    def _facilities(self) -> list[tuple[str, float, bool]]:
        """(id, size, children's hospital) of every facility, read fresh so roster edits show."""
        with read_transaction(self.assignments.engine) as connection:
            rows = connection.execute(
                select(FACILITY.c.id, FACILITY.c.name).order_by(FACILITY.c.id)
            ).all()
        return [(row.id, facility_size(row.name), "Children's" in (row.name or "")) for row in rows]

    def _study(self, facilities: list[tuple[str, float, bool]], weights: FloatArray) -> StudyIn:
        self._counter += 1
        facility, patient = self._patient(facilities, weights)
        modality = _MODALITIES[int(self.rng.choice(len(_MODALITIES), p=_MODALITY_P))]
        priority = _PRIORITIES[int(self.rng.choice(len(_PRIORITIES), p=_PRIORITY_P))]
        body_part, subspecialty = self._anatomy(modality, facility, facilities)
        required = subspecialty is not None and bool(self.rng.random() < _REQUIRED_SHARE)
        return StudyIn(
            facility=facility,
            accession=f"DEMO-{self._counter:08d}-{self.run_tag}",
            modality=modality,
            priority=priority,
            subspecialty=subspecialty,
            subspecialty_required=required,
            body_part=body_part,
            patient_ref=patient,
            expected_minutes=self._estimate(modality),
        )

    def _patient(
        self, facilities: list[tuple[str, float, bool]], weights: FloatArray
    ) -> tuple[str, str]:
        """A recent patient's next study now and then; otherwise a new patient, by size."""
        if self._recent and self.rng.random() < _SECOND_STUDY_SHARE:
            index = int(self.rng.integers(len(self._recent)))
            facility, patient = self._recent[index]
            del self._recent[index]  # two studies per patient is plenty for a demo
            return facility, patient
        facility = facilities[int(self.rng.choice(len(facilities), p=weights))][0]
        patient = f"PT-{self.run_tag}-{self._counter:08d}"
        self._recent.append((facility, patient))
        return facility, patient

    def _anatomy(
        self, modality: Modality, facility: str, facilities: list[tuple[str, float, bool]]
    ) -> tuple[str, str | None]:
        """Body part for the modality; sometimes the subspecialty it leans to (peds for kids)."""
        parts = _BODY_PARTS[modality]
        share = np.array([p for _, _, p in parts])
        body_part, lean, _ = parts[int(self.rng.choice(len(parts), p=share / share.sum()))]
        childrens = next(kids for fid, _, kids in facilities if fid == facility)
        if self.rng.random() < _PEDS_SHARE[1 if childrens else 0]:
            lean = "peds"
        if lean is None or self.rng.random() >= _SUBSPECIALTY_SET_SHARE:
            return body_part, None
        return body_part, lean

    def _estimate(self, modality: Modality) -> float | None:
        """Usually None: most senders give no estimate and the service defaults by modality."""
        if self.rng.random() >= _ESTIMATE_SHARE:
            return None
        index = np.array([_MODALITIES.index(modality)], dtype=np.int64)
        return float(_reading_minutes(self.rng, index)[0])


def _predicted(finish: datetime | None) -> str:
    return f", predicted {finish:%a %H:%M}" if finish is not None else ""
