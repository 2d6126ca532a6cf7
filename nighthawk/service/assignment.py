"""The assignment service: studies arrive, are placed at once, read, handed back, overridden.

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

from sqlalchemy import Engine, and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from models.api import StudyIn, StudyOut
from models.priority import DEFAULT_READ_MINUTES, DEFAULT_SLA_MINUTES, Priority
from models.snapshot import SnapshotStudy
from models.tables import RADIOLOGIST, STUDY, UNSTARTED, StudyStatus
from nighthawk.clock import minutes_between
from nighthawk.fastpath import Placement
from nighthawk.service import audit
from nighthawk.service.auth import Principal
from nighthawk.service.clock import Clock
from nighthawk.service.db import bump_epoch, lock_plan, write_transaction
from nighthawk.service.errors import Conflict, NotFound, Unprocessable
from nighthawk.service.live import Live, LiveCache, ineligibility, place_study, why_nobody
from nighthawk.service.practice import OpenStudy
from nighthawk.service.views import study_out

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
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.cache = LiveCache()
        self.changed = threading.Event()  # set on every plan change; the re-plan job clears it

    # --- arrivals ---------------------------------------------------------------------------

    def ingest(self, principal: Principal, body: StudyIn) -> Ingested:
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
            return self._replay(existing, digest)

    def _ingest(self, principal: Principal, body: StudyIn, digest: str, now: datetime) -> Ingested:
        with write_transaction(self.engine) as connection, self.cache.lock:
            epoch = lock_plan(connection)
            existing = self._by_accession(connection, body.facility, body.accession)
            if existing is not None:
                return self._replay(existing, digest)
            live = self.cache.get(connection, epoch, now)
            if body.facility not in live.view.facilities:
                # Refused before the live plan is touched, so bad input never costs a rebuild.
                raise Unprocessable("facility", f"unknown facility {body.facility!r}")
            try:
                row = self._place_new(connection, live, principal, body, digest, now)
                self.cache.advance(bump_epoch(connection, epoch))
            except BaseException:
                self.cache.invalidate()
                raise
        self.changed.set()
        return Ingested(study_out(row), created=True)

    def _replay(self, existing: Row[Any], digest: str) -> Ingested:
        if existing.content_hash != digest:
            raise Conflict(
                f"accession {existing.accession!r} at {existing.facility} was already received "
                "with different content"
            )
        return Ingested(study_out(existing), created=False)

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
        sla = facility.sla_minutes.minutes(body.priority, DEFAULT_SLA_MINUTES)
        study = SnapshotStudy.model_construct(
            id=uuid.uuid4().hex,
            facility=body.facility,
            state=facility.state,
            modality=body.modality,
            subspecialty=body.subspecialty,
            subspecialty_required=body.subspecialty_required,
            priority=body.priority,
            arrived_at=received,
            due_at=received + timedelta(minutes=sla),
            expected_minutes=body.expected_minutes or DEFAULT_READ_MINUTES[body.modality],
            assigned_to=None,
        )
        sibling = self._patient_reader(connection, body.patient_ref)
        placement = place_study(live, study, prefer=sibling)
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
            "patient_ref": body.patient_ref,
            "expected_minutes": study.expected_minutes,
            "received_at": received,
            "due_at": study.due_at,
            "content_hash": digest,
            "version": 1,
            "pinned": False,
            **self._placement_values(live, study, placement, now),
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
        placed_entry = _audit_entry(now, audit.ENGINE_ACTOR, study.id, None, values, "arrival")
        audit.record_many(connection, [received_entry, placed_entry])
        # The response is built from what was written: no read-back on the hot path.
        return SimpleNamespace(**values, started_at=None, reported_at=None, report=None)

    def _patient_reader(self, connection: Connection, patient_ref: str | None) -> str | None:
        """The reader already holding this patient's unread studies, if any."""
        if patient_ref is None:
            return None
        return connection.execute(_PATIENT_READER, {"patient_ref": patient_ref}).scalar()

    def _placement_values(
        self, live: Live, study: SnapshotStudy, placement: Placement, now: datetime
    ) -> dict[str, Any]:
        if placement.radiologist is None:
            _, reason = why_nobody(live.view, study)
            return {
                "status": StudyStatus.UNCOVERED.value,
                "assigned_to": None,
                "assigned_at": None,
                "queue_rank": 0.0,
                "predicted_start": None,
                "predicted_finish": None,
                "uncovered_reason": reason,
            }
        start, finish = _not_before(now, placement.start, placement.finish)
        late = placement.late_minutes > 1e-6
        return {
            "status": (StudyStatus.AT_RISK if late else StudyStatus.ASSIGNED).value,
            "assigned_to": placement.radiologist,
            "assigned_at": now,
            "queue_rank": live.rank_at(placement.radiologist, study.id),
            "predicted_start": start,
            "predicted_finish": finish,
            "uncovered_reason": None,
        }

    def _audit_placement(
        self,
        connection: Connection,
        now: datetime,
        study_id: str,
        before: str | None,
        values: dict[str, Any],
        reason: str,
        actor: str = audit.ENGINE_ACTOR,
    ) -> None:
        audit.record_many(connection, [_audit_entry(now, actor, study_id, before, values, reason)])

    # --- the reading workflow ---------------------------------------------------------------

    def start(self, principal: Principal, study_id: str, radiologist: str) -> StudyOut:
        now = self.clock.now()
        with self._study_change(principal, study_id, radiologist) as (connection, row):
            status = StudyStatus(row.status)
            if status is StudyStatus.READING:
                who = "you" if row.assigned_to == radiologist else row.assigned_to
                raise Conflict(f"study {study_id} is already being read by {who}")
            if status is StudyStatus.REPORTED:
                raise Conflict(f"study {study_id} is already reported")
            _require_assignee(row, radiologist, "only the assigned reader may start it")
            epoch = lock_plan(connection)
            values = {"status": StudyStatus.READING.value, "started_at": now, "pinned": True}
            written = self._update_study(connection, row, values)
            audit.record(
                connection,
                at=now,
                actor=principal.name,
                action="study.started",
                study_id=study_id,
                before={"status": row.status},
                after={"status": "reading", "radiologist": radiologist},
            )
            self._after_workflow_change(connection, epoch, now, row, radiologist, "start")
        return study_out(written)

    def complete(
        self, principal: Principal, study_id: str, radiologist: str, report: str
    ) -> StudyOut:
        now = self.clock.now()
        with self._study_change(principal, study_id, radiologist) as (connection, row):
            status = StudyStatus(row.status)
            _require_assignee(row, radiologist, "only its reader may report it")
            if status is StudyStatus.REPORTED and (row.report == "final" or report == "prelim"):
                raise Conflict(f"study {study_id} already has a {row.report} report")
            if status not in (StudyStatus.READING, StudyStatus.REPORTED, *UNSTARTED):
                raise Conflict(f"study {study_id} cannot be completed from {row.status}")
            epoch = lock_plan(connection)
            values: dict[str, Any] = {"status": StudyStatus.REPORTED.value, "report": report}
            if row.reported_at is None:
                values["reported_at"] = now  # TAT runs to the first report, prelim or final
            if row.started_at is None:
                values["started_at"] = now
            written = self._update_study(connection, row, values)
            audit.record(
                connection,
                at=now,
                actor=principal.name,
                action="study.reported",
                study_id=study_id,
                before={"status": row.status, "report": row.report},
                after={"status": "reported", "report": report, "radiologist": radiologist},
            )
            self._after_workflow_change(connection, epoch, now, row, radiologist, "complete")
        return study_out(written)

    def release(
        self, principal: Principal, study_id: str, radiologist: str, reason: str
    ) -> StudyOut:
        now = self.clock.now()
        with self._study_change(principal, study_id, radiologist) as (connection, row):
            status = StudyStatus(row.status)
            if status is StudyStatus.REPORTED:
                raise Conflict(f"study {study_id} is already reported")
            _require_assignee(row, radiologist, "only its reader may hand it back")
            epoch = lock_plan(connection)
            live = self._live(connection, epoch, now)
            try:
                live.plan.remove(study_id)
                if status is StudyStatus.READING:
                    live.plan.release_reader(radiologist, minutes_between(live.now, now))
                audit.record(
                    connection,
                    at=now,
                    actor=principal.name,
                    action="study.released",
                    study_id=study_id,
                    before={"status": row.status, "assigned_to": row.assigned_to},
                    after={"status": "received", "assigned_to": None},
                    reason=reason,
                )
                study = live.view.studies[study_id].study if study_id in live.view.studies else None
                study = study or _snapshot_study(row)
                placement = live.plan.assign_one(study, exclude=radiologist)
                values = self._placement_values(live, study, placement, now)
                if placement.radiologist is None:
                    values["uncovered_reason"] = (
                        f"handed back by {radiologist} ({reason}); no other eligible "
                        "radiologist on shift can take it"
                    )
                values.update(started_at=None, pinned=False)
                written = self._update_study(connection, row, values)
                self._audit_placement(connection, now, study_id, radiologist, values, reason)
                self.cache.advance(bump_epoch(connection, epoch))
            except BaseException:
                self.cache.invalidate()
                raise
        return study_out(written)

    def assign(
        self, principal: Principal, study_id: str, radiologist: str, reason: str
    ) -> StudyOut:
        """Manual override: the named reader gets the study, pinned there, if eligible."""
        now = self.clock.now()
        with self._study_change(principal, study_id, radiologist) as (connection, row):
            if StudyStatus(row.status) not in UNSTARTED:
                raise Conflict(f"study {study_id} is {row.status}; only unstarted work can move")
            epoch = lock_plan(connection)
            live = self._live(connection, epoch, now)
            study = _snapshot_study(row)
            reasons = ineligibility(live.view, study, radiologist)
            if reasons:
                raise Unprocessable(
                    "radiologist", f"{radiologist} may not read study {study_id}", reasons=reasons
                )
            try:
                live.plan.remove(study_id)
                placement = live.plan.place(study, radiologist)
                if placement is None:
                    raise Unprocessable(
                        "radiologist",
                        f"{radiologist} cannot finish study {study_id} before their shift "
                        "ends with the work already queued",
                    )
                values = self._placement_values(live, study, placement, now)
                values["pinned"] = True
                written = self._update_study(connection, row, values)
                self._audit_placement(
                    connection, now, study_id, row.assigned_to, values, reason, principal.name
                )
                self.cache.advance(bump_epoch(connection, epoch))
            except BaseException:
                self.cache.invalidate()
                raise
        return study_out(written)

    def _after_workflow_change(
        self,
        connection: Connection,
        epoch: int,
        now: datetime,
        row: Any,
        radiologist: str,
        change: str,
    ) -> None:
        """Keep this process's live plan in step with a start or a completion."""
        live = self.cache.get(connection, epoch, now)
        try:
            offset = minutes_between(live.now, now)
            if change == "start":
                reader = live.view.radiologists.get(radiologist)
                speed = reader.speed if reader is not None else 1.0
                live.plan.begin(row.id, offset, row.expected_minutes / speed)
            elif row.status == StudyStatus.READING.value:
                live.plan.release_reader(radiologist, offset)
            else:
                live.plan.remove(row.id)
            self.cache.advance(bump_epoch(connection, epoch))
        except BaseException:
            self.cache.invalidate()
            raise

    @contextmanager
    def _study_change(
        self, principal: Principal, study_id: str, radiologist: str
    ) -> Iterator[tuple[Connection, Any]]:
        """A write transaction holding one study's row, for a named (and known) reader."""
        with write_transaction(self.engine) as connection, self.cache.lock:
            row = self._lock_study(connection, principal, study_id)
            self._require_reader(connection, radiologist)
            yield connection, row
        self.changed.set()

    def _live(self, connection: Connection, epoch: int, now: datetime) -> Live:
        return self.cache.get(connection, epoch, now)

    def _lock_study(self, connection: Connection, principal: Principal, study_id: str) -> Any:
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

    def _require_reader(self, connection: Connection, radiologist: str) -> None:
        found = connection.execute(_READER_EXISTS, {"radiologist": radiologist}).first()
        if found is None:
            raise Unprocessable("radiologist", f"unknown radiologist {radiologist!r}")

    def _update_study(self, connection: Connection, row: Any, values: dict[str, Any]) -> Any:
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
        """After a roster change: hand off work readers can no longer do, retry the uncovered.

        With `roster_changed=False` (the watchdog's periodic look) the epoch moves only if a
        study moved, so other processes keep their live plans when nothing happened.

        Moves: work of readers who left the board, work that would now end past its reader's
        shift or license, and (with `readers`) the whole queue of readers whose eligibility
        changed. Pinned work stays unless its reader left or can no longer finish it.
        Returns how many studies moved. The caller holds the plan lock.
        """
        live = self.cache.rebuild(connection, epoch, now)
        try:
            board = {r.id for r in live.view.on_board}
            overrunning = set(live.plan.overrunning())
            moving = [
                item
                for item in live.view.studies.values()
                if _must_move(item, board, overrunning, readers)
            ]
            moved = self.replace_studies(connection, live, moving, now, actor, reason)
            if roster_changed or moved:
                self.cache.advance(bump_epoch(connection, epoch))
        except BaseException:
            self.cache.invalidate()
            raise
        if roster_changed or moved:
            self.changed.set()
        return moved

    def replace_studies(
        self,
        connection: Connection,
        live: Live,
        items: list[Any],
        now: datetime,
        actor: str,
        reason: str,
    ) -> int:
        """Re-place studies through the fast path, most urgent first; write what changed."""
        lockable = lock_free_studies(connection, [i.study.id for i in items])
        items = [i for i in items if i.study.id in lockable]
        for item in items:
            live.plan.remove(item.study.id)
        items.sort(key=lambda i: (Priority(i.study.priority).rank, i.study.due_at))
        updates, entries = [], []
        for item in items:
            before = item.study.assigned_to
            placement = live.plan.assign_one(item.study)
            values = self._placement_values(live, item.study, placement, now)
            if values["assigned_to"] == before and item.status.value == values["status"]:
                continue
            updates.append({"b_id": item.study.id, "b_version": item.version, **values})
            entries.append(_audit_entry(now, actor, item.study.id, before, values, reason))
        if updates:
            connection.execute(
                update(STUDY)
                .where(
                    and_(
                        STUDY.c.id == bindparam("b_id"),
                        STUDY.c.version == bindparam("b_version"),
                    )
                )
                .values(
                    {key: bindparam(key) for key in updates[0] if not key.startswith("b_")}
                    | {"version": STUDY.c.version + 1, "pinned": False}
                ),
                updates,
            )
            audit.record_many(connection, entries)
        return len(updates)

    # --- reads ------------------------------------------------------------------------------

    def get(self, principal: Principal, study_id: str) -> StudyOut:
        from nighthawk.service.db import read_transaction

        with read_transaction(self.engine) as connection:
            row = connection.execute(select(STUDY).where(STUDY.c.id == study_id)).first()
        if row is None or not principal.sees_facility(row.facility):
            raise NotFound(f"study {study_id} not found")
        return study_out(row)


def _require_assignee(row: Any, radiologist: str, rule: str) -> None:
    if row.assigned_to != radiologist:
        raise Conflict(
            f"study {row.id} is assigned to {row.assigned_to or 'nobody'}, "
            f"not {radiologist}; {rule}"
        )


def _must_move(
    item: OpenStudy, board: set[str], overrunning: set[str], readers: set[str] | None
) -> bool:
    """Unstarted work goes back through the fast path when its reader can no longer do it."""
    if item.status is StudyStatus.READING:
        return False
    if item.study.id in overrunning:
        return True  # even pinned work: its reader cannot finish it in time any more
    reader = item.study.assigned_to
    if reader is None or reader not in board:
        return True
    return not item.pinned and readers is not None and reader in readers


def lock_free_studies(connection: Connection, study_ids: list[str]) -> set[str]:
    """The subset of studies this transaction could lock without waiting (all, on SQLite)."""
    return set(_lock_without_waiting(connection, study_ids))


def lock_unchanged(connection: Connection, expected: dict[str, int]) -> set[str]:
    """Studies still unstarted at the version a plan was made from, locked for this transaction.

    Whatever is returned can be updated with certainty, so the audit written beside the
    update records exactly what changed.
    """
    unstarted = set(_UNSTARTED)
    return {
        study_id
        for study_id, (version, status) in _lock_without_waiting(connection, list(expected)).items()
        if version == expected[study_id] and status in unstarted
    }


def _lock_without_waiting(
    connection: Connection, study_ids: list[str]
) -> dict[str, tuple[int, str]]:
    locked: dict[str, tuple[int, str]] = {}
    for chunk in range(0, len(study_ids), 1000):  # keep IN lists within driver limits
        query = select(STUDY.c.id, STUDY.c.version, STUDY.c.status).where(
            STUDY.c.id.in_(study_ids[chunk : chunk + 1000])
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        locked.update({row.id: (row.version, row.status) for row in connection.execute(query)})
    return locked


def _snapshot_study(row: Any) -> SnapshotStudy:
    from nighthawk.service.practice import open_study

    return open_study(row).study


def _not_before(
    now: datetime, start: datetime | None, finish: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """A prediction never starts in the past (the live plan's clock may be seconds old)."""
    if start is None or finish is None or start >= now:
        return start, finish
    return now, finish + (now - start)


def _audit_entry(
    now: datetime,
    actor: str,
    study_id: str,
    before: str | None,
    values: dict[str, Any],
    reason: str,
) -> dict[str, Any]:
    after: dict[str, Any] = {"assigned_to": values["assigned_to"], "status": values["status"]}
    if values.get("predicted_finish") is not None:
        after["predicted_finish"] = values["predicted_finish"].isoformat()
    if values.get("uncovered_reason"):
        after["uncovered_reason"] = values["uncovered_reason"]
    return {
        "at": now,
        "actor": actor,
        "action": "study.assigned" if values["assigned_to"] else "study.uncovered",
        "study_id": study_id,
        "entity": None,
        "before": {"assigned_to": before},
        "after": after,
        "reason": reason,
    }
