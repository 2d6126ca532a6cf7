"""The assignment service: studies arrive, are placed at once, read, handed back, overridden.

Every decision is the live dispatcher's (`nighthawk.live`); this service is its persistence
adapter: each request applies its change to the database row and, as a delta, to the cached
dispatcher, under the plan lock, and writes what the dispatcher decided.

Locking discipline (what keeps PostgreSQL free of deadlocks with several API processes):
- an operation on *one* study locks that study's row first (`FOR UPDATE SKIP LOCKED`: if
  someone else holds it, the caller gets a 409 to retry rather than a queue of waiters), then
  the plan lock;
- an operation on *many* studies (ingest, roster changes, re-plan, watchdog) takes the plan
  lock first and then only touches rows it can lock without waiting (`SKIP LOCKED`).
So nobody ever waits for a study row while holding the plan lock. SQLite has one writer at a
time (`BEGIN IMMEDIATE`), so the same code is trivially safe there.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from models.api import NextOut, StudyIn, StudyOut, StudyPatch
from models.priority import DEFAULT_READ_MINUTES
from models.snapshot import SnapshotStudy
from models.tables import RADIOLOGIST, STUDY, UNSTARTED, Role, StudyStatus
from nighthawk.kernel import due_at
from nighthawk.live import NOBODY
from nighthawk.live.forecast import place
from nighthawk.live.why import explain_placement
from nighthawk.service import audit, corrections, workflow
from nighthawk.service.auth import Principal
from nighthawk.service.clock import Clock
from nighthawk.service.db import lock_plan, write_transaction
from nighthawk.service.errors import Conflict, NotFound, Unprocessable
from nighthawk.service.live import Live, LiveCache, study_facts, uncovered_why, why_nobody
from nighthawk.service.patients import PatientKey
from nighthawk.service.practice import OpenStudy
from nighthawk.service.refresh import apply_forecast
from nighthawk.service.views import study_out
from nighthawk.service.workflow import audit_entry

# A sender's clock may run a little ahead of ours; further than this is an error.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# Older arrivals are a sender replaying history, not work to assign.
MAX_BACKDATING = timedelta(days=30)
_UNSTARTED = [s.value for s in UNSTARTED]

# Statements built once (see db.py): parameters are bound at execution.
_BY_ACCESSION = select(STUDY).where(
    STUDY.c.facility == bindparam("facility"), STUDY.c.accession == bindparam("accession")
)
_INSERT_STUDY = insert(STUDY)
_PATIENT_READER = (
    select(STUDY.c.assigned_to)
    .where(
        STUDY.c.patient_ref == bindparam("patient_ref"),
        STUDY.c.assigned_to.is_not(None),
        STUDY.c.status.in_([*_UNSTARTED, StudyStatus.READING.value]),
    )
    .limit(1)
)
_STUDY_BY_ID = select(STUDY).where(STUDY.c.id == bindparam("study_id"))
_LOCK_STUDY = _STUDY_BY_ID.with_for_update(skip_locked=True)
_STUDY_FACILITY = select(STUDY.c.facility).where(STUDY.c.id == bindparam("study_id"))
_READER_EXISTS = select(RADIOLOGIST.c.id).where(RADIOLOGIST.c.id == bindparam("radiologist"))
# SET comes from the parameters' keys; b_ names keep the WHERE values apart from them.
_UPDATE_STUDY = update(STUDY).where(
    STUDY.c.id == bindparam("b_id"), STUDY.c.version == bindparam("b_version")
)


@dataclass(frozen=True)
class Ingested:
    study: StudyOut
    created: bool


def content_hash(body: StudyIn) -> str:
    """Fingerprint of what the sender said; a retry with the same body is the same study."""
    payload = json.dumps(body.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class AssignmentService:
    def __init__(self, engine: Engine, clock: Clock, patient_key: str | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.patients = PatientKey(engine, patient_key)
        self.cache = LiveCache()
        self.changed = threading.Event()  # set on every plan change; the re-plan job clears it

    # --- arrivals ---------------------------------------------------------------------------

    def ingest(self, principal: Principal, body: StudyIn) -> Ingested:
        # Before anything else, even the content hash: the sender's reference is not kept.
        body = body.model_copy(update={"patient_ref": self.patients.pseudonym(body.patient_ref)})
        if not principal.sees_facility(body.facility):
            raise Unprocessable("facility", f"unknown facility {body.facility!r}")
        now = self.clock.now()
        if body.received_at is not None and body.received_at > now + MAX_CLOCK_SKEW:
            raise Unprocessable("received_at", "is in the future")
        if body.received_at is not None and body.received_at < now - MAX_BACKDATING:
            raise Unprocessable(
                "received_at", f"more than {MAX_BACKDATING.days} days ago; send current work"
            )
        digest = content_hash(body)
        try:
            return self._ingest(principal, body, digest, now)
        except IntegrityError:
            # Another process inserted the same accession between our check and insert.
            with write_transaction(self.engine) as connection:
                existing = self._by_accession(connection, body.facility, body.accession)
            if existing is None:
                raise
            return self._replay(principal, existing, body, digest)

    def _ingest(self, principal: Principal, body: StudyIn, digest: str, now: datetime) -> Ingested:
        with write_transaction(self.engine) as connection, self.cache.lock:
            epoch = lock_plan(connection)
            existing = self._by_accession(connection, body.facility, body.accession)
            if existing is not None:
                return self._replay(principal, existing, body, digest)
            live = self.cache.get(connection, epoch, now)
            if body.facility not in live.view.facilities:
                # Refused before the live plan is touched, so bad input never costs a rebuild.
                raise Unprocessable("facility", f"unknown facility {body.facility!r}")
            with self.cache.changing(connection, epoch):
                row = self._place_new(connection, live, principal, body, digest, now)
        self.changed.set()
        return Ingested(study_out(row, site=principal.role is Role.SITE), created=True)

    def _replay(
        self, principal: Principal, existing: Row[Any], body: StudyIn, digest: str
    ) -> Ingested:
        """The same study again is a retry (200). One that says any field differently from
        the study as it stands is a 409 naming each field and the study: a correction is a
        PATCH, not a re-post."""
        fields = corrections.differences(existing, body)
        if existing.content_hash != digest and fields:
            raise Conflict(
                f"accession {existing.accession!r} at {existing.facility} was already received "
                f"as study {existing.id} with different content; to correct an unstarted "
                f"study, PATCH /v1/studies/{existing.id}",
                fields=fields,
                study=existing.id,
            )
        return Ingested(study_out(existing, site=principal.role is Role.SITE), created=False)

    def _by_accession(self, connection: Connection, facility: str, accession: str) -> Any:
        return connection.execute(
            _BY_ACCESSION, {"facility": facility, "accession": accession}
        ).first()

    def _place_new(
        self,
        connection: Connection,
        live: Live,
        principal: Principal,
        body: StudyIn,
        digest: str,
        now: datetime,
    ) -> Any:
        facility = live.view.facilities[body.facility]
        received = body.received_at or now
        study = SnapshotStudy.model_construct(
            id=uuid.uuid4().hex,
            facility=body.facility,
            state=facility.state,
            modality=body.modality,
            subspecialty=body.subspecialty,
            subspecialty_required=body.subspecialty_required,
            priority=body.priority,
            arrived_at=received,
            due_at=due_at(received, body.priority, facility.sla_minutes),
            expected_minutes=body.expected_minutes or DEFAULT_READ_MINUTES[body.modality],
            assigned_to=None,
        )
        sibling = self._patient_reader(connection, principal, body.patient_ref)
        live.view.studies[study.id] = OpenStudy(
            study, StudyStatus.RECEIVED, 0.0, False, 1, None, body.patient_ref
        )
        taker = live.dispatcher.arrive(
            study_facts(study, live.origin, body.patient_ref), live.minutes(now)
        )
        values = {
            "id": study.id,
            "facility": study.facility,
            "accession": body.accession,
            "state": study.state,
            "modality": body.modality.value,
            "priority": body.priority.value,
            "subspecialty": body.subspecialty,
            "subspecialty_required": body.subspecialty_required,
            "body_part": body.body_part,
            "procedure": body.procedure,
            "patient_ref": body.patient_ref,
            "expected_minutes": study.expected_minutes,
            "received_at": received,
            "due_at": study.due_at,
            "content_hash": digest,
            "version": 1,
            "pinned": False,
            "released_by": [],
            **self.placement_values(live, study.id, now, prefer=sibling, taker=taker),
        }
        connection.execute(_INSERT_STUDY, values)
        received_entry = {
            "at": now,
            "actor": principal.name,
            "action": "study.received",
            "study_id": study.id,
            "entity": None,
            "before": None,
            "after": {"facility": study.facility, "accession": body.accession},
            "reason": None,
        }
        placed_entry = audit_entry(now, audit.ENGINE_ACTOR, study.id, None, values, "arrival")
        audit.record_many(connection, [received_entry, placed_entry])
        # The response is built from what was written: no read-back on the hot path.
        return SimpleNamespace(**values, started_at=None, reported_at=None, report=None)

    def _patient_reader(
        self, connection: Connection, principal: Principal, patient_ref: str | None
    ) -> str | None:
        """The reader already holding this patient's unread studies, if any, among the
        studies the caller may see: a site's token must not learn, by where its study goes,
        that the patient has an open study at another facility."""
        if patient_ref is None:
            return None
        query = _PATIENT_READER
        if principal.role is Role.SITE:
            query = query.where(STUDY.c.facility.in_(sorted(principal.facilities)))
        return connection.execute(query, {"patient_ref": patient_ref}).scalar()

    def placement_values(
        self,
        live: Live,
        study_id: str,
        now: datetime,
        *,
        prefer: str | None = None,
        taker: int = NOBODY,
    ) -> dict[str, Any]:
        """Slot a waiting study into the forecast (the idle reader the dispatcher routes it to,
        else the queue that finishes it first after everything more urgent) and say so as the
        row's values. A free reader's first study is offered to them: theirs while free."""
        dispatcher = live.dispatcher
        study = dispatcher.studies.index[study_id]
        preferred = dispatcher.readers.index.get(prefer) if prefer is not None else None
        reader = place(live.forecast, study, prefer=preferred if preferred is not None else taker)
        if reader is None:
            item = live.view.studies[study_id]
            reason = _uncovered(live, item)
            return {
                "status": StudyStatus.UNCOVERED.value,
                "assigned_to": None,
                "assigned_at": None,
                "queue_rank": 0.0,
                "predicted_start": None,
                "predicted_finish": None,
                "uncovered_reason": reason,
                "why": uncovered_why(live, study, reason, now),
            }
        reader_id = str(dispatcher.readers.ids[reader])
        predicted = live.forecast.predicted(study)
        assert predicted is not None  # it was just placed
        if (
            live.forecast.queues[reader].studies[0] == study
            and dispatcher.readers.on_duty(reader, live.minutes(now))
            and dispatcher.readers.reading[reader] == NOBODY
        ):
            dispatcher.withdraw_offers(reader_id)
            dispatcher.offer(study_id, reader_id)
        start, finish = _not_before(now, live.at(predicted.start), live.at(predicted.finish))
        return {
            "status": (StudyStatus.AT_RISK if predicted.late else StudyStatus.ASSIGNED).value,
            "assigned_to": reader_id,
            "assigned_at": now,
            "queue_rank": live.rank_at(reader_id, study_id),
            "predicted_start": start,
            "predicted_finish": finish,
            "uncovered_reason": None,
            "why": explain_placement(
                live.forecast, study, reader, live.origin, with_patient=preferred == reader
            ).model_dump(mode="json"),
        }

    # --- the reading workflow (workflow.py) ----------------------------------------------

    def next_for(self, principal: Principal, radiologist: str) -> NextOut:
        return workflow.next_for(self, principal, radiologist)

    def start(self, principal: Principal, study_id: str, radiologist: str) -> StudyOut:
        return workflow.start(self, principal, study_id, radiologist)

    def complete(
        self, principal: Principal, study_id: str, radiologist: str, report: str
    ) -> StudyOut:
        return workflow.complete(self, principal, study_id, radiologist, report)

    def release(
        self, principal: Principal, study_id: str, radiologist: str, reason: str
    ) -> StudyOut:
        return workflow.release(self, principal, study_id, radiologist, reason)

    def assign(
        self, principal: Principal, study_id: str, radiologist: str, reason: str
    ) -> StudyOut:
        return workflow.assign(self, principal, study_id, radiologist, reason)

    def correct(self, principal: Principal, study_id: str, body: StudyPatch) -> StudyOut:
        return corrections.correct(self, principal, study_id, body)

    def cancel(self, principal: Principal, study_id: str, reason: str | None) -> StudyOut:
        return corrections.cancel(self, principal, study_id, reason)

    @contextmanager
    def study_change(
        self, principal: Principal, study_id: str, radiologist: str
    ) -> Iterator[tuple[Connection, Any]]:
        """A write transaction holding one study's row, for a named (and known) reader whom
        the caller may act as."""
        principal.act_as(radiologist)
        with write_transaction(self.engine) as connection, self.cache.lock:
            row = self.lock_study(connection, principal, study_id)
            self.require_reader(connection, radiologist)
            yield connection, row
        self.changed.set()

    def live(self, connection: Connection, epoch: int, now: datetime) -> Live:
        return self.cache.get(connection, epoch, now)

    def lock_study(self, connection: Connection, principal: Principal, study_id: str) -> Any:
        query = _LOCK_STUDY if connection.dialect.name == "postgresql" else _STUDY_BY_ID
        row = connection.execute(query, {"study_id": study_id}).first()
        if row is None:
            exists = connection.execute(_STUDY_FACILITY, {"study_id": study_id}).first()
            if exists is None or not principal.sees_facility(exists.facility):
                raise NotFound(f"study {study_id} not found")
            raise Conflict(f"study {study_id} is being changed by another request; retry")
        if not principal.sees_facility(row.facility):
            raise NotFound(f"study {study_id} not found")
        return row

    def require_reader(self, connection: Connection, radiologist: str) -> None:
        found = connection.execute(_READER_EXISTS, {"radiologist": radiologist}).first()
        if found is None:
            raise Unprocessable("radiologist", f"unknown radiologist {radiologist!r}")

    def update_study(self, connection: Connection, row: Any, values: dict[str, Any]) -> Any:
        """Write `values` if the row is unchanged since read; returns the row as written."""
        result = connection.execute(
            _UPDATE_STUDY,
            {**values, "b_id": row.id, "b_version": row.version, "version": row.version + 1},
        )
        if result.rowcount != 1:
            raise Conflict(f"study {row.id} changed meanwhile; retry")
        return SimpleNamespace(**{**row._mapping, **values, "version": row.version + 1})

    # --- many studies at once (plan lock held, rows skipped if locked) ----------------------

    def reconsider(
        self,
        connection: Connection,
        epoch: int,
        now: datetime,
        *,
        actor: str,
        reason: str,
        readers: set[str] | None = None,
        roster_changed: bool = True,
    ) -> int:
        """After a roster change: re-read the practice, forecast, write what moved.

        Work a reader can no longer do goes to someone else, uncovered studies are retried, and
        with `roster_changed=False` the epoch moves only if a study moved. Returns how many
        studies changed reader. The caller holds the plan lock.
        """
        del readers  # the forecast re-decides every unstarted study; none is special
        live = self.cache.rebuild(connection, epoch, now)
        with self.cache.changing(connection, epoch) as change:
            applied = apply_forecast(connection, live, now, actor=actor, reason=reason)
            change.changed = roster_changed or applied.applied > 0
        if roster_changed or applied.moved:
            self.changed.set()
        return applied.moved

    # --- reads ------------------------------------------------------------------------------

    def get(self, principal: Principal, study_id: str) -> StudyOut:
        from nighthawk.service.db import read_transaction

        with read_transaction(self.engine) as connection:
            row = connection.execute(select(STUDY).where(STUDY.c.id == study_id)).first()
        if row is None or not principal.sees_facility(row.facility):
            raise NotFound(f"study {study_id} not found")
        return study_out(row)


def _uncovered(live: Live, item: OpenStudy) -> str:
    if item.released_by:
        return (
            f"handed back by {', '.join(item.released_by)}; no other eligible radiologist on "
            "shift can take it"
        )
    return why_nobody(live.view, item.study)[1]


def _not_before(
    now: datetime, start: datetime | None, finish: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """A prediction never starts in the past (the forecast's clock may be seconds old)."""
    if start is None or finish is None or start >= now:
        return start, finish
    return now, finish + (now - start)
