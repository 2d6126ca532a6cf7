"""The reading workflow: what a free reader should start next, start, complete, hand back,
and a coverage manager's manual assignment.

Each call locks the one study it changes, then the plan lock (see assignment.py), applies the
change to the row and to the live dispatcher, and audits it. A reader reads one study at a
time. A study may be started by the reader it is assigned to, or by a free reader whose `next`
it is: the dispatcher binds late, so work planned for a reader who is still busy goes to
whoever is free first, by the same rules the simulator's `optimizer` policy runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from models.api import NextOut, StudyOut
from models.plan import Explanation
from models.tables import STUDY, UNSTARTED, StudyStatus
from nighthawk.live import NOBODY
from nighthawk.live.forecast import place_at
from nighthawk.live.why import explain_choice
from nighthawk.service import audit
from nighthawk.service.auth import Principal
from nighthawk.service.db import lock_plan, write_transaction
from nighthawk.service.errors import Conflict, NotFound, Unprocessable
from nighthawk.service.live import Live, ineligibility
from nighthawk.service.views import study_out

if TYPE_CHECKING:
    from nighthawk.service.assignment import AssignmentService


def audit_entry(
    now: datetime,
    actor: str,
    study_id: str,
    before: str | None,
    values: dict[str, Any],
    reason: str,
) -> dict[str, Any]:
    """An audit record of a study placed (or left uncovered) by a decision."""
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


_STUDY_BY_ID = select(STUDY).where(STUDY.c.id == bindparam("study_id"))
_FIRST_RANK = select(func.min(STUDY.c.queue_rank)).where(
    STUDY.c.assigned_to == bindparam("reader"),
    STUDY.c.status.in_([s.value for s in UNSTARTED]),
)


def next_for(service: AssignmentService, principal: Principal, radiologist: str) -> NextOut:
    """The study this reader should start now, with why; it is theirs while they are free."""
    principal.act_as(radiologist)
    now = service.clock.now()
    with write_transaction(service.engine) as connection, service.cache.lock:
        service.require_reader(connection, radiologist)
        epoch = lock_plan(connection)
        live = service.live(connection, epoch, now)
        dispatcher = live.dispatcher
        reader = dispatcher.readers.index[radiologist]
        reading = int(dispatcher.readers.reading[reader])
        if reading != NOBODY:
            return _nothing(radiologist, now, str(dispatcher.studies.ids[reading]), "reading")
        choice = dispatcher.choose(radiologist, live.minutes(now))
        if choice is None:
            return _nothing(radiologist, now, None, _why_nothing(live, reader, now))
        study_id = str(dispatcher.studies.ids[choice.study])
        why = explain_choice(dispatcher, choice, reader, live.minutes(now), live.origin)
        row = connection.execute(_STUDY_BY_ID, {"study_id": study_id}).first()
        with service.cache.changing(connection, epoch) as change:
            if dispatcher.studies.holder[choice.study] != reader:
                dispatcher.withdraw_offers(radiologist)
                dispatcher.offer(study_id, radiologist)
            written = _bind(service, connection, live, row, radiologist, now, why)
            change.changed = written is not row
    service.changed.set()
    return NextOut(
        radiologist=radiologist,
        now=now,
        study=study_out(written, why=why),
        reading=None,
        reason=None,
    )


def _bind(
    service: AssignmentService,
    connection: Connection,
    live: Live,
    row: Any,
    radiologist: str,
    now: datetime,
    why: Explanation,
) -> Any:
    """Make the chosen study the head of the reader's worklist in the database, keeping why
    it was handed to them (the explanation it is read under)."""
    dispatcher = live.dispatcher
    study = dispatcher.studies.index[row.id]
    reader = dispatcher.readers.index[radiologist]
    place_at(live.forecast, study, reader, 0)
    first = connection.execute(_FIRST_RANK, {"reader": radiologist}).scalar()
    first = 1.0 if first is None else float(first)
    predicted = live.forecast.predicted(study)
    assert predicted is not None
    values: dict[str, Any] = {
        "assigned_to": radiologist,
        "status": (StudyStatus.AT_RISK if predicted.late else StudyStatus.ASSIGNED).value,
        "queue_rank": min(first, row.queue_rank if row.assigned_to == radiologist else first) - 1.0,
        "predicted_start": now,
        "predicted_finish": live.at(predicted.finish - predicted.start + live.minutes(now)),
        "uncovered_reason": None,
        "why": why.model_dump(mode="json"),
    }
    if row.assigned_to == radiologist and row.queue_rank <= first:
        # Already their head: the plan is unchanged, only its explanation is kept.
        connection.execute(update(STUDY).where(STUDY.c.id == row.id).values(why=values["why"]))
        return row
    if row.assigned_to != radiologist:
        values["assigned_at"] = now
    written = service.update_study(connection, row, values)
    live.ranks[row.id] = values["queue_rank"]
    if row.assigned_to != radiologist:
        audit.record(
            connection,
            at=now,
            actor=audit.ENGINE_ACTOR,
            action="study.assigned",
            study_id=row.id,
            before={"assigned_to": row.assigned_to},
            after={"assigned_to": radiologist, "status": values["status"]},
            reason=f"late binding: {radiologist} is free and this is their next",
        )
    return written


def _nothing(radiologist: str, now: datetime, reading: str | None, reason: str) -> NextOut:
    return NextOut(radiologist=radiologist, now=now, study=None, reading=reading, reason=reason)


def _why_nothing(live: Live, reader: int, now: datetime) -> str:
    readers = live.dispatcher.readers
    minute = live.minutes(now)
    if not readers.available[reader]:
        return "not available"
    if not readers.on_duty(reader, minute):
        return "not on shift"
    return "nothing waiting that this reader may start and finish before the shift ends"


def start(
    service: AssignmentService, principal: Principal, study_id: str, radiologist: str
) -> StudyOut:
    now = service.clock.now()
    with service.study_change(principal, study_id, radiologist) as (connection, row):
        status = StudyStatus(row.status)
        if status is StudyStatus.READING:
            who = "you" if row.assigned_to == radiologist else row.assigned_to
            raise Conflict(f"study {study_id} is already being read by {who}")
        if status is StudyStatus.REPORTED:
            raise Conflict(f"study {study_id} is already reported")
        if status is StudyStatus.CANCELLED:
            raise Conflict(f"study {study_id} was cancelled")
        epoch = lock_plan(connection)
        live = service.live(connection, epoch, now)
        dispatcher = live.dispatcher
        reader = dispatcher.readers.index[radiologist]
        reading = int(dispatcher.readers.reading[reader])
        if reading != NOBODY:
            raise Conflict(
                f"{radiologist} is already reading study {dispatcher.studies.ids[reading]}; "
                "complete or release it first"
            )
        if row.assigned_to != radiologist:
            choice = dispatcher.choose(radiologist, live.minutes(now))
            if choice is None or dispatcher.studies.ids[choice.study] != study_id:
                raise Conflict(
                    f"study {study_id} is assigned to {row.assigned_to or 'nobody'}, not "
                    f"{radiologist}; only the assigned reader may start it (or ask "
                    f"GET /v1/radiologists/{radiologist}/next)"
                )
        values = {
            "status": StudyStatus.READING.value,
            "started_at": now,
            "pinned": True,
            "assigned_to": radiologist,
        }
        with service.cache.changing(connection, epoch):
            dispatcher.start(study_id, radiologist, live.minutes(now))
            live.forecast.remove(dispatcher.studies.index[study_id])
            written = service.update_study(connection, row, values)
            audit.record(
                connection,
                at=now,
                actor=principal.name,
                action="study.started",
                study_id=study_id,
                before={"status": row.status, "assigned_to": row.assigned_to},
                after={"status": "reading", "radiologist": radiologist},
                on_behalf_of=radiologist,
            )
    return study_out(written)


def complete(
    service: AssignmentService,
    principal: Principal,
    study_id: str,
    radiologist: str,
    report: str,
) -> StudyOut:
    now = service.clock.now()
    with service.study_change(principal, study_id, radiologist) as (connection, row):
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
        live = service.live(connection, epoch, now)
        with service.cache.changing(connection, epoch):
            if status is StudyStatus.READING:
                live.dispatcher.finish(radiologist, live.minutes(now))
            elif status is not StudyStatus.REPORTED:
                live.dispatcher.cancel(study_id)
                live.forecast.remove(live.dispatcher.studies.index[study_id])
            written = service.update_study(connection, row, values)
            audit.record(
                connection,
                at=now,
                actor=principal.name,
                action="study.reported",
                study_id=study_id,
                before={"status": row.status, "report": row.report},
                after={"status": "reported", "report": report, "radiologist": radiologist},
                on_behalf_of=radiologist,
            )
    return study_out(written)


def release(
    service: AssignmentService,
    principal: Principal,
    study_id: str,
    radiologist: str,
    reason: str,
) -> StudyOut:
    """Hand a study back: it never comes back to this reader unless assigned by hand."""
    now = service.clock.now()
    with service.study_change(principal, study_id, radiologist) as (connection, row):
        status = StudyStatus(row.status)
        if status is StudyStatus.REPORTED:
            raise Conflict(f"study {study_id} is already reported")
        _require_assignee(row, radiologist, "only its reader may hand it back")
        epoch = lock_plan(connection)
        live = service.live(connection, epoch, now)
        dispatcher = live.dispatcher
        with service.cache.changing(connection, epoch):
            if status is StudyStatus.READING:
                dispatcher.give_back(study_id)
            else:
                dispatcher.return_to_pool(study_id)
            dispatcher.exclude(study_id, radiologist)
            released = sorted({*(row.released_by or []), radiologist})
            item = live.view.studies.get(study_id)
            if item is not None:
                item.released_by = tuple(released)
            live.forecast.remove(dispatcher.studies.index[study_id])
            audit.record(
                connection,
                at=now,
                actor=principal.name,
                action="study.released",
                study_id=study_id,
                before={"status": row.status, "assigned_to": row.assigned_to},
                after={"status": "received", "assigned_to": None},
                reason=reason,
                on_behalf_of=radiologist,
            )
            values = service.placement_values(live, study_id, now)
            values.update(started_at=None, pinned=False, released_by=released)
            written = service.update_study(connection, row, values)
            audit.record_many(
                connection,
                [audit_entry(now, audit.ENGINE_ACTOR, study_id, radiologist, values, reason)],
            )
    return study_out(written)


def assign(
    service: AssignmentService,
    principal: Principal,
    study_id: str,
    radiologist: str,
    reason: str,
) -> StudyOut:
    """Manual override: the named reader gets the study, pinned there, if eligible."""
    now = service.clock.now()
    with service.study_change(principal, study_id, radiologist) as (connection, row):
        if StudyStatus(row.status) not in UNSTARTED:
            raise Conflict(f"study {study_id} is {row.status}; only unstarted work can move")
        epoch = lock_plan(connection)
        live = service.live(connection, epoch, now)
        item = live.view.studies.get(study_id)
        if item is None:
            raise NotFound(f"study {study_id} not found")
        reasons = ineligibility(live.view, item.study, radiologist)
        if reasons:
            raise Unprocessable(
                "radiologist", f"{radiologist} may not read study {study_id}", reasons=reasons
            )
        dispatcher = live.dispatcher
        study = dispatcher.studies.index[study_id]
        reader = dispatcher.readers.index[radiologist]
        with service.cache.changing(connection, epoch):
            live.forecast.remove(study)
            if not place_at(live.forecast, study, reader, None):
                raise Unprocessable(
                    "radiologist",
                    f"{radiologist} cannot finish study {study_id} before their shift "
                    "ends with the work already queued",
                )
            dispatcher.pin(study_id, radiologist)
            predicted = live.forecast.predicted(study)
            assert predicted is not None
            values = {
                "status": (StudyStatus.AT_RISK if predicted.late else StudyStatus.ASSIGNED).value,
                "assigned_to": radiologist,
                "assigned_at": now,
                "queue_rank": live.rank_at(radiologist, study_id),
                "predicted_start": max(now, live.at(predicted.start)),
                "predicted_finish": live.at(predicted.finish),
                "uncovered_reason": None,
                "pinned": True,
                "why": Explanation(
                    summary=f"assigned to {radiologist} by hand by {principal.name}: {reason}",
                    eligible_radiologists=len(
                        dispatcher.classes.readers[int(dispatcher.studies.klass[study])]
                    ),
                    due_at=live.at(float(dispatcher.studies.due[study])),
                    slack_minutes=round(float(dispatcher.studies.due[study]) - predicted.finish, 3),
                    kept_current_assignment=row.assigned_to == radiologist,
                ).model_dump(mode="json"),
            }
            written = service.update_study(connection, row, values)
            audit.record_many(
                connection,
                [audit_entry(now, principal.name, study_id, row.assigned_to, values, reason)],
            )
    return study_out(written)


def _require_assignee(row: Any, radiologist: str, rule: str) -> None:
    if row.assigned_to != radiologist:
        raise Conflict(
            f"study {row.id} is assigned to {row.assigned_to or 'nobody'}, "
            f"not {radiologist}; {rule}"
        )
