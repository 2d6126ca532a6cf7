"""Reading the practice out of the database as engine inputs (no engine logic here).

One `select` per table, rows turned straight into the engine's frozen models with
`model_construct`: the data was validated when it came in, and re-validating 2,000 studies on
every re-plan would cost more than the solve's first plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.domain import Credential, Facility, License, SlaMinutes
from models.priority import Modality, Priority
from models.snapshot import Settings, Snapshot, SnapshotRadiologist, SnapshotStudy
from models.tables import (
    ABSENCE,
    FACILITY,
    OPEN,
    RADIOLOGIST,
    SHIFT,
    STUDY,
    StudyStatus,
)
from nighthawk.clock import minutes_between
from nighthawk.kernel import remaining_minutes

# A reader whose next shift starts within this horizon is planned for already (routine work
# can wait for them); beyond it they are not on the board.
PLANNING_HORIZON = timedelta(hours=24)


@dataclass
class OpenStudy:
    """An unread study as the service tracks it, beside the engine's view of it."""

    study: SnapshotStudy
    status: StudyStatus
    rank: float
    pinned: bool
    version: int
    started_at: datetime | None
    patient_ref: str | None
    predicted_finish: datetime | None = None
    predicted_start: datetime | None = None
    released_by: tuple[str, ...] = ()
    uncovered_reason: str | None = None


@dataclass
class PracticeView:
    """Everything planning needs, read in one transaction."""

    now: datetime
    facilities: dict[str, Facility]
    radiologists: dict[str, Any]
    on_board: list[SnapshotRadiologist]  # available, on shift now or soon
    studies: dict[str, OpenStudy] = field(default_factory=dict)
    # On shift now but away (flagged unavailable, or in a booked absence), with why in words:
    # an uncovered study names those who could read it once back.
    away: list[tuple[SnapshotRadiologist, str]] = field(default_factory=list)

    def queues(self, *, include_pinned: bool = True) -> dict[str, list[str]]:
        """Each on-board reader's unstarted studies in reading order."""
        board = {r.id for r in self.on_board}
        queues: dict[str, list[tuple[float, str]]] = {r: [] for r in board}
        for study_id, item in self.studies.items():
            reader = item.study.assigned_to
            if (
                item.status is not StudyStatus.READING
                and reader in board
                and (include_pinned or not item.pinned)
            ):
                queues[reader].append((item.rank, study_id))
        return {reader: [s for _, s in sorted(items)] for reader, items in queues.items()}

    def snapshot(self, *, studies: list[SnapshotStudy] | None = None) -> Snapshot:
        return Snapshot.model_construct(
            now=self.now,
            radiologists=self.on_board,
            studies=studies if studies is not None else self.unstarted(),
            facilities=list(self.facilities.values()),
            settings=Settings(),
        )

    def unstarted(self) -> list[SnapshotStudy]:
        return [i.study for i in self.studies.values() if i.status is not StudyStatus.READING]


def facility_model(row: Any) -> Facility:
    return Facility.model_construct(
        id=row.id,
        name=row.name,
        state=row.state,
        timezone=row.timezone,
        sla_minutes=SlaMinutes.model_construct(
            STAT=row.sla_stat, URGENT=row.sla_urgent, ROUTINE=row.sla_routine
        ),
    )


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def licenses(row: Any) -> list[License]:
    return [
        License.model_construct(state=item["state"], expires_on=_date(item.get("expires_on")))
        for item in row.licenses
    ]


def credentials(row: Any) -> list[Credential]:
    return [
        Credential.model_construct(
            facility=item["facility"], expires_on=_date(item.get("expires_on"))
        )
        for item in row.credentials
    ]


def shift_stretches(shifts: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Join overlapping and back-to-back shifts into continuous stretches, in time order."""
    stretches: list[tuple[datetime, datetime]] = []
    for start, end in sorted(shifts):
        if stretches and start <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], max(stretches[-1][1], end))
        else:
            stretches.append((start, end))
    return stretches


Window = tuple[datetime, datetime]


def cut(shifts: list[Window], absences: list[Window]) -> list[Window]:
    """Shifts with the absences taken out: a 19:00-07:00 shift with a 02:00-02:30 break is two
    stretches, 19:00-02:00 and 02:30-07:00."""
    pieces: list[Window] = []
    for shift in shifts:
        parts = [shift]
        for away_start, away_end in absences:
            kept: list[Window] = []
            for start, end in parts:
                if away_end <= start or away_start >= end:
                    kept.append((start, end))
                    continue
                if start < away_start:
                    kept.append((start, away_start))
                if away_end < end:
                    kept.append((away_end, end))
            parts = kept
        pieces += parts
    return pieces


def current_stretch(
    shifts: list[tuple[datetime, datetime]], now: datetime, horizon: timedelta = PLANNING_HORIZON
) -> tuple[datetime, datetime] | None:
    """The stretch the reader is on now, else the next one starting within the horizon."""
    for start, end in shift_stretches(shifts):
        if end > now and start <= now + horizon:
            return start, end
    return None


def load_view(connection: Connection, now: datetime) -> PracticeView:
    facilities = {row.id: facility_model(row) for row in connection.execute(select(FACILITY)).all()}
    radiologists = {row.id: row for row in connection.execute(select(RADIOLOGIST)).all()}
    shifts = _shifts_by_reader(connection, now)
    absences = absences_by_reader(connection, now)
    studies = _open_studies(connection)
    backlog = _backlog_minutes(studies, radiologists, now)
    on_board, away = [], []
    for reader_id, row in radiologists.items():
        rostered = shifts.get(reader_id, [])
        own = absences.get(reader_id, [])
        stretch = current_stretch(cut(rostered, [(a.start, a.end) for a in own]), now)
        if row.available and stretch is not None:
            on_board.append(_on_board(row, stretch, backlog.get(reader_id, 0.0)))
            if stretch[0] <= now:
                continue
        whole = current_stretch(rostered, now, timedelta(0))
        if whole is not None and whole[0] <= now:
            away.append((_on_board(row, (now, whole[1]), 0.0), _away_words(row, own, now)))
    return PracticeView(now, facilities, radiologists, on_board, studies, away)


def _on_board(row: Any, stretch: Window, backlog: float) -> SnapshotRadiologist:
    return SnapshotRadiologist.model_construct(
        id=row.id,
        name=row.name,
        licenses=licenses(row),
        credentials=credentials(row),
        subspecialties=list(row.subspecialties),
        modalities=[Modality(m) for m in row.modalities],
        speed=row.speed,
        shift_start=stretch[0],
        shift_end=stretch[1],
        backlog_minutes=backlog,
    )


def _away_words(row: Any, absences: list[Any], now: datetime) -> str:
    if not row.available:
        return f"unavailable: {row.availability_reason or 'no reason given'}"
    current = next((a for a in absences if a.start <= now < a.end), None)
    if current is None:
        return "not on shift now"
    until = current.end.strftime("%H:%M UTC")
    return f"away until {until}" + (f": {current.reason}" if current.reason else "")


def absences_by_reader(connection: Connection, now: datetime) -> dict[str, list[Any]]:
    """Absences not yet over, by reader, in time order."""
    rows = connection.execute(
        select(ABSENCE).where(ABSENCE.c.end > now).order_by(ABSENCE.c.start)
    ).all()
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row.radiologist_id, []).append(row)
    return found


def _shifts_by_reader(
    connection: Connection, now: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    # Shifts are at most a week long, so one that could matter started less than a week ago.
    rows = connection.execute(
        select(SHIFT.c.radiologist_id, SHIFT.c.start, SHIFT.c.end).where(
            SHIFT.c.end > now,
            SHIFT.c.start <= now + PLANNING_HORIZON + timedelta(days=8),
        )
    ).all()
    shifts: dict[str, list[tuple[datetime, datetime]]] = {}
    for reader_id, start, end in rows:
        shifts.setdefault(reader_id, []).append((start, end))
    return shifts


STUDY_COLUMNS = (
    STUDY.c.id,
    STUDY.c.facility,
    STUDY.c.state,
    STUDY.c.modality,
    STUDY.c.priority,
    STUDY.c.subspecialty,
    STUDY.c.subspecialty_required,
    STUDY.c.received_at,
    STUDY.c.due_at,
    STUDY.c.expected_minutes,
    STUDY.c.assigned_to,
    STUDY.c.status,
    STUDY.c.queue_rank,
    STUDY.c.pinned,
    STUDY.c.version,
    STUDY.c.started_at,
    STUDY.c.patient_ref,
    STUDY.c.predicted_finish,
    STUDY.c.predicted_start,
    STUDY.c.released_by,
    STUDY.c.uncovered_reason,
)


def _open_studies(connection: Connection) -> dict[str, OpenStudy]:
    rows = connection.execute(
        select(*STUDY_COLUMNS).where(STUDY.c.status.in_([s.value for s in OPEN]))
    ).all()
    return {row.id: open_study(row) for row in rows}


def open_study(row: Any) -> OpenStudy:
    study = SnapshotStudy.model_construct(
        id=row.id,
        facility=row.facility,
        state=row.state,
        modality=Modality(row.modality),
        subspecialty=row.subspecialty,
        subspecialty_required=row.subspecialty_required,
        priority=Priority(row.priority),
        arrived_at=row.received_at,
        due_at=row.due_at,
        expected_minutes=row.expected_minutes,
        assigned_to=row.assigned_to,
    )
    return OpenStudy(
        study=study,
        status=StudyStatus(row.status),
        rank=row.queue_rank,
        pinned=row.pinned,
        version=row.version,
        started_at=row.started_at,
        patient_ref=row.patient_ref,
        predicted_finish=getattr(row, "predicted_finish", None),
        predicted_start=getattr(row, "predicted_start", None),
        released_by=tuple(getattr(row, "released_by", None) or ()),
        uncovered_reason=getattr(row, "uncovered_reason", None),
    )


def _backlog_minutes(
    studies: dict[str, OpenStudy], radiologists: dict[str, Any], now: datetime
) -> dict[str, float]:
    """Minutes each reader still needs for what they are reading now."""
    backlog: dict[str, float] = {}
    for item in studies.values():
        reader = item.study.assigned_to
        if item.status is not StudyStatus.READING or reader not in radiologists:
            continue
        minutes = item.study.expected_minutes / radiologists[reader].speed
        elapsed = minutes_between(item.started_at, now) if item.started_at else 0.0
        backlog[reader] = backlog.get(reader, 0.0) + remaining_minutes(minutes, elapsed)
    # The engine's contract caps backlog at a day; nobody reads longer than that in one go.
    return {reader: min(minutes, 1440.0) for reader, minutes in backlog.items()}
