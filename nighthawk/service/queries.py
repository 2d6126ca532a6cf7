"""Read paths of the API: study pages, one study with its why, a reader's worklist.

Predictions are computed at read time by walking the reader's queue from now, so a worklist
never shows a start time that has already passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select

from models.api import StudyOut, StudyPage, WorklistItem, WorklistOut
from models.plan import Explanation
from models.priority import Priority
from models.snapshot import SnapshotRadiologist
from models.tables import ABSENCE, OPEN, RADIOLOGIST, SHIFT, STUDY, UNSTARTED, Role, StudyStatus
from nighthawk.clock import at_minutes, minutes_between
from nighthawk.eligibility import Eligibility
from nighthawk.explain import Explainer
from nighthawk.kernel import ready_at, remaining_minutes, walk
from nighthawk.problem import build_problem
from nighthawk.schedule import Schedule, ScoringContext, reader_timeline
from nighthawk.service.auth import Principal
from nighthawk.service.db import read_transaction
from nighthawk.service.errors import NotFound, Unprocessable
from nighthawk.service.practice import (
    STUDY_COLUMNS,
    OpenStudy,
    PracticeView,
    current_stretch,
    cut,
    load_view,
    open_study,
)
from nighthawk.service.views import study_out

MAX_PAGE = 500


def walk_queue(
    reader: SnapshotRadiologist, items: list[OpenStudy], now: datetime
) -> list[tuple[datetime, datetime]]:
    """Back-to-back (start, finish) of a queue from when the reader is next free (the kernel's
    `ready_at` and `walk`)."""
    ready = ready_at(0.0, minutes_between(now, reader.shift_start), reader.backlog_minutes)
    starts, finishes = walk(ready, (i.study.expected_minutes / reader.speed for i in items))
    return [(at_minutes(now, a), at_minutes(now, b)) for a, b in zip(starts, finishes, strict=True)]


def list_studies(
    engine: Engine,
    principal: Principal,
    *,
    status: StudyStatus | None,
    facility: str | None,
    priority: Priority | None,
    limit: int,
    cursor: str | None,
    accession: str | None = None,
    assigned_to: str | None = None,
) -> StudyPage:
    query = select(STUDY).order_by(STUDY.c.seq).limit(limit + 1)
    if accession is not None:
        query = query.where(STUDY.c.accession == accession)
    if assigned_to is not None:
        query = query.where(STUDY.c.assigned_to == assigned_to)
    if status is not None:
        query = query.where(STUDY.c.status == status.value)
    if priority is not None:
        query = query.where(STUDY.c.priority == priority.value)
    if facility is not None:
        query = query.where(STUDY.c.facility == facility)
    if principal.facilities and principal.role.value == "site":
        query = query.where(STUDY.c.facility.in_(sorted(principal.facilities)))
    with read_transaction(engine) as connection:
        if cursor is not None:
            query = query.where(STUDY.c.seq > _after(connection, principal, cursor))
        rows = connection.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    site = principal.role is Role.SITE
    return StudyPage(
        items=[study_out(row, site=site) for row in rows],
        next_cursor=rows[-1].id if more and rows else None,
    )


def _after(connection: Any, principal: Principal, cursor: str) -> int:
    """A cursor is the id of the last study of the previous page: opaque (ids are random, so
    nothing about the practice's traffic shows through), and only good for a caller who may
    see that study."""
    row = connection.execute(
        select(STUDY.c.seq, STUDY.c.facility).where(STUDY.c.id == cursor)
    ).first()
    if row is None or not principal.sees_facility(row.facility):
        raise Unprocessable("cursor", "not a valid cursor (use next_cursor from the last page)")
    return int(row.seq)


def study_with_why(engine: Engine, principal: Principal, study_id: str, now: datetime) -> StudyOut:
    with read_transaction(engine) as connection:
        row = connection.execute(select(STUDY).where(STUDY.c.id == study_id)).first()
        if row is None or not principal.sees_facility(row.facility):
            raise NotFound(f"study {study_id} not found")
        site = principal.role is Role.SITE
        if StudyStatus(row.status) not in UNSTARTED or row.assigned_to is None:
            return study_out(row, site=site)  # the explanation it was placed with
        view = load_view(connection, now)
    out = study_out(row, why=explain(view, study_id), site=site)
    prediction = _prediction(view, study_id)
    if prediction is not None:
        out = out.model_copy(
            update={"predicted_start": prediction[0], "predicted_finish": prediction[1]}
        )
    return out


def explain(view: PracticeView, study_id: str) -> Explanation | None:
    """The engine's why for one study, against the plan as it stands now.

    Only the queues of readers who could take this study matter to its alternatives, so the
    problem is built from those (a one-study probe finds them) rather than the whole practice.
    """
    item = view.studies.get(study_id)
    if item is None or item.status is StudyStatus.READING:
        return None
    reader_id = item.study.assigned_to
    board = [r.id for r in view.on_board]
    if reader_id not in board:
        return None
    probe = build_problem(view.snapshot(studies=[item.study]))
    eligible = Eligibility(probe).matrix[0]
    relevant = {r for r, ok in zip(probe.readers.ids, eligible, strict=True) if ok} | {reader_id}
    current = {r: q for r, q in view.queues().items() if r in relevant}
    studies = [view.studies[s].study for queue in current.values() for s in queue]
    problem = build_problem(view.snapshot(studies=studies))
    context = ScoringContext(problem, Eligibility(problem))
    index = {s: i for i, s in enumerate(problem.studies.ids)}
    queues = [[index[s] for s in current.get(r, [])] for r in problem.readers.ids]
    reader = problem.readers.ids.index(reader_id)
    study = index[study_id]
    timeline = reader_timeline(context, reader, queues[reader])
    position = queues[reader].index(study)
    explainer = Explainer(context, Schedule(queues))
    return explainer.explain(study, reader, timeline.starts[position], timeline.finishes[position])


def _prediction(view: PracticeView, study_id: str) -> tuple[datetime, datetime] | None:
    item = view.studies.get(study_id)
    if item is None or item.study.assigned_to is None:
        return None
    reader = next((r for r in view.on_board if r.id == item.study.assigned_to), None)
    if reader is None:
        return None
    queue = [view.studies[s] for s in view.queues().get(reader.id, [])]
    for queued, times in zip(queue, walk_queue(reader, queue, view.now), strict=True):
        if queued.study.id == study_id:
            return times
    return None


# The worklist is read hundreds of times a second: statements built once, parameters bound.
_READER = select(RADIOLOGIST).where(RADIOLOGIST.c.id == bindparam("reader"))
_READER_SHIFTS = select(SHIFT.c.start, SHIFT.c.end).where(
    SHIFT.c.radiologist_id == bindparam("reader"), SHIFT.c.end > bindparam("now")
)
_READER_ABSENCES = select(ABSENCE.c.start, ABSENCE.c.end).where(
    ABSENCE.c.radiologist_id == bindparam("reader"), ABSENCE.c.end > bindparam("now")
)
_READER_STUDIES = select(*STUDY_COLUMNS).where(
    STUDY.c.status.in_([s.value for s in OPEN]), STUDY.c.assigned_to == bindparam("reader")
)


def worklist(engine: Engine, radiologist_id: str, now: datetime) -> WorklistOut:
    """One reader's studies in reading order: three indexed queries, no practice-wide load."""
    with read_transaction(engine) as connection:
        row = connection.execute(_READER, {"reader": radiologist_id}).first()
        if row is None:
            raise NotFound(f"radiologist {radiologist_id} not found")
        shifts = connection.execute(_READER_SHIFTS, {"reader": radiologist_id, "now": now}).all()
        away = connection.execute(_READER_ABSENCES, {"reader": radiologist_id, "now": now}).all()
        rows = connection.execute(_READER_STUDIES, {"reader": radiologist_id}).all()
    studies = [open_study(r) for r in rows]
    stretches = cut([(s.start, s.end) for s in shifts], [(a.start, a.end) for a in away])
    stretch = current_stretch(stretches, now)
    on_shift = bool(row.available) and stretch is not None and stretch[0] <= now
    reading = sorted((i for i in studies if i.status is StudyStatus.READING), key=_started)
    queued = sorted((i for i in studies if i.status is not StudyStatus.READING), key=_rank)
    items = [
        _worklist_item(position, item, row.speed)
        for position, item in enumerate([*reading, *queued])
    ]
    _walk_predictions(items, stretch[0] if stretch else now, now)
    return WorklistOut(
        radiologist=radiologist_id,
        now=now,
        on_shift=on_shift,
        available=bool(row.available),
        items=[WorklistItem(**item) for item in items],
    )


def _rank(item: OpenStudy) -> float:
    return item.rank


def _started(item: OpenStudy) -> datetime:
    return item.started_at or datetime.min.replace(tzinfo=item.study.arrived_at.tzinfo)


def _worklist_item(position: int, item: OpenStudy, speed: float) -> dict[str, Any]:
    return {
        "position": position,
        "study": item.study.id,
        "facility": item.study.facility,
        "modality": item.study.modality,
        "priority": item.study.priority,
        "status": item.status,
        "due_at": item.study.due_at,
        "_minutes": item.study.expected_minutes / speed,
        "_started_at": item.started_at if item.status is StudyStatus.READING else None,
    }


def _walk_predictions(items: list[dict[str, Any]], shift_start: datetime, now: datetime) -> None:
    """A read in progress needs what remains of it (at least a minute once it overruns: the
    kernel's `remaining_minutes`); the queue follows back to back (the kernel's `walk`)."""
    in_hand = 0.0
    for item in items:
        started_at = item["_started_at"]
        if started_at is not None:
            elapsed = minutes_between(started_at, now)
            in_hand = max(in_hand, remaining_minutes(item["_minutes"], elapsed))
    queued = [item for item in items if item["_started_at"] is None]
    ready = ready_at(0.0, minutes_between(now, shift_start), in_hand)
    starts, finishes = walk(ready, (item["_minutes"] for item in queued))
    for item in items:
        started_at = item.pop("_started_at")
        minutes = item.pop("_minutes")
        if started_at is not None:
            start, finish = (
                started_at,
                now
                + timedelta(minutes=remaining_minutes(minutes, minutes_between(started_at, now))),
            )
        else:
            position = queued.index(item)
            start, finish = at_minutes(now, starts[position]), at_minutes(now, finishes[position])
        item["predicted_start"] = start
        item["predicted_finish"] = finish
        item["predicted_late_minutes"] = round(max(0.0, minutes_between(item["due_at"], finish)), 2)
