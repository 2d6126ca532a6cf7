"""Stateful property: whatever sequence of calls the worklist makes, the store stays sound.

Hypothesis drives arrivals (with repeated and conflicting accessions), starts, completions,
hand-backs, overrides, breaks, the clock and re-plans against the real service on a SQLite
file; after every step a plain-Python checker (no engine code) reads the tables and checks the
hard rules: nothing acknowledged is lost or duplicated, every assigned study sits with an
available, on-shift reader who is licensed in its state, credentialed at its facility, reads
its modality and holds a required subspecialty, and statuses agree with their timestamps.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from models.api import AvailabilityIn, FacilityIn, RadiologistIn, ShiftIn, StudyIn
from models.tables import AUDIT, RADIOLOGIST, SHIFT, STUDY, Role
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import Principal
from nighthawk.service.clock import ManualClock
from nighthawk.service.db import make_engine, migrate, read_transaction
from nighthawk.service.errors import ServiceError
from nighthawk.service.replan import replan, watchdog
from nighthawk.service.roster import RosterService

START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
ADMIN = Principal("admin", Role.ADMIN)
FACILITIES = {"fac-wy": ("WY", "America/Denver"), "fac-co": ("CO", "America/Denver")}
FACILITIES |= {"fac-ut": ("UT", "America/Denver")}
READERS = {
    "rad-a": {"licenses": ["WY", "CO"], "credentials": ["fac-wy", "fac-co"]},
    "rad-b": {"licenses": ["WY"], "credentials": ["fac-wy"], "subspecialties": ["neuro"]},
    "rad-c": {
        "licenses": ["CO", {"state": "UT", "expires_on": "2026-11-01"}],  # UT lapsed
        "credentials": ["fac-co", "fac-ut"],
        "modalities": ["XR", "CT"],
    },
    "rad-d": {"licenses": ["UT", "WY"], "credentials": ["fac-ut", "fac-wy"]},
}


class ServiceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.engine = make_engine(f"sqlite:///{Path(self.directory.name) / 'p.db'}")
        migrate(self.engine)
        self.clock = ManualClock(START)
        self.service = AssignmentService(self.engine, self.clock)
        self.roster = RosterService(self.service)
        self.acknowledged: dict[tuple[str, str], str] = {}

    def teardown(self) -> None:
        self.engine.dispose()
        self.directory.cleanup()

    @initialize(
        shifts=st.lists(st.tuples(st.integers(-2, 3), st.integers(1, 10)), min_size=4, max_size=4)
    )
    def practice(self, shifts: list[tuple[int, int]]) -> None:
        for facility, (state, zone) in FACILITIES.items():
            body = FacilityIn(name=facility, state=state, timezone=zone)
            self.roster.put_facility(ADMIN, facility, body)
        for (reader, profile), (offset, hours) in zip(READERS.items(), shifts, strict=True):
            self.roster.put_radiologist(ADMIN, reader, RadiologistIn(name=reader, **profile))
            start = START + timedelta(hours=offset)
            shift = ShiftIn(start=start, end=start + timedelta(hours=hours))
            self.roster.add_shift(ADMIN, reader, shift)

    def _attempt(self, call: object, *args: object) -> object:
        try:
            return call(*args)  # type: ignore[operator]
        except ServiceError:
            return None  # 404 / 409 / 422 are answers, not failures

    def _open_studies(self) -> list[tuple[str, str | None, str]]:
        with read_transaction(self.engine) as connection:
            rows = connection.execute(
                select(STUDY.c.id, STUDY.c.assigned_to, STUDY.c.status).order_by(STUDY.c.seq)
            ).all()
        return [(r.id, r.assigned_to, r.status) for r in rows if r.status != "reported"]

    @rule(
        facility=st.sampled_from(sorted(FACILITIES)),
        accession=st.integers(0, 12).map(lambda n: f"A{n}"),
        modality=st.sampled_from(["CT", "MR", "XR"]),
        priority=st.sampled_from(["STAT", "URGENT", "ROUTINE"]),
        neuro=st.sampled_from([None, "optional", "required"]),
        patient=st.sampled_from([None, "pt-1", "pt-2"]),
    )
    def arrive(
        self,
        facility: str,
        accession: str,
        modality: str,
        priority: str,
        neuro: str | None,
        patient: str | None,
    ) -> None:
        body = StudyIn(
            facility=facility,
            accession=accession,
            modality=modality,  # type: ignore[arg-type]
            priority=priority,  # type: ignore[arg-type]
            subspecialty="neuro" if neuro else None,
            subspecialty_required=neuro == "required",
            patient_ref=patient,
        )
        result = self._attempt(self.service.ingest, ADMIN, body)
        if result is not None:
            key = (facility, accession)
            study_id = result.study.id  # type: ignore[attr-defined]
            assert self.acknowledged.setdefault(key, study_id) == study_id

    @rule(pick=st.integers(0, 50), verb=st.sampled_from(["start", "complete", "release"]))
    def reader_acts(self, pick: int, verb: str) -> None:
        studies = [s for s in self._open_studies() if s[1] is not None]
        if not studies:
            return
        study_id, reader, _ = studies[pick % len(studies)]
        if verb == "start":
            self._attempt(self.service.start, ADMIN, study_id, reader)
        elif verb == "complete":
            self._attempt(self.service.complete, ADMIN, study_id, reader, "final")
        else:
            self._attempt(self.service.release, ADMIN, study_id, reader, "hand back")

    @rule(pick=st.integers(0, 50), reader=st.sampled_from(sorted(READERS)))
    def override(self, pick: int, reader: str) -> None:
        studies = self._open_studies()
        if studies:
            study_id = studies[pick % len(studies)][0]
            self._attempt(self.service.assign, ADMIN, study_id, reader, "manual")

    @rule(reader=st.sampled_from(sorted(READERS)), available=st.booleans())
    def availability(self, reader: str, available: bool) -> None:
        body = AvailabilityIn(available=available, reason=None if available else "break")
        self.roster.set_availability(ADMIN, reader, body)

    @rule(minutes=st.integers(1, 90))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        watchdog(self.service)  # the scheduler runs it every few seconds

    @rule()
    def replans(self) -> None:
        replan(self.service, time_limit=0.2)

    @invariant()
    def nothing_acknowledged_is_lost_or_doubled(self) -> None:
        with read_transaction(self.engine) as connection:
            rows = connection.execute(select(STUDY.c.id, STUDY.c.facility, STUDY.c.accession))
            stored = {(r.facility, r.accession): r.id for r in rows}
            received = set(
                connection.execute(
                    select(AUDIT.c.study_id).where(AUDIT.c.action == "study.received")
                ).scalars()
            )
        assert stored == self.acknowledged
        assert received == set(stored.values())

    @invariant()
    def statuses_agree_with_their_facts(self) -> None:
        with read_transaction(self.engine) as connection:
            studies = connection.execute(select(STUDY)).all()
        for s in studies:
            if s.status in ("assigned", "at_risk", "reading"):
                assert s.assigned_to is not None, s
            if s.status in ("reading", "reported"):
                assert s.started_at is not None, s
            if s.status == "reported":
                assert s.reported_at is not None and s.report == "final", s
            if s.status == "uncovered":
                assert s.assigned_to is None and s.uncovered_reason, s
            if s.status in ("assigned", "at_risk"):
                assert s.predicted_finish is not None, s

    @invariant()
    def assigned_work_sits_with_an_eligible_reader(self) -> None:
        now = self.clock.now()
        with read_transaction(self.engine) as connection:
            readers = {r.id: r for r in connection.execute(select(RADIOLOGIST)).all()}
            shifts = connection.execute(select(SHIFT)).all()
            studies = connection.execute(
                select(STUDY).where(STUDY.c.status.in_(["assigned", "at_risk"]))
            ).all()
        for study in studies:
            reader = readers[study.assigned_to]
            problems = _ineligible(study, reader, shifts, now)
            assert not problems, (study.id, study.assigned_to, problems)


def _ineligible(study: object, reader: object, shifts: list[object], now: datetime) -> list[str]:
    """The hard rules, restated from the domain primer without any engine code."""
    s, r = study, reader
    problems = []
    if not r.available:  # type: ignore[attr-defined]
        problems.append("unavailable")
    if not any(
        x.radiologist_id == r.id
        and x.end > now  # type: ignore[attr-defined]
        and x.start <= now + timedelta(hours=24)  # type: ignore[attr-defined]
        for x in shifts
    ):
        problems.append("no shift now or soon")
    licenses = {
        item["state"]: item.get("expires_on")
        for item in r.licenses  # type: ignore[attr-defined]
    }
    state = s.state  # type: ignore[attr-defined]
    if state not in licenses:
        problems.append(f"not licensed in {state}")
    elif licenses[state] is not None:
        last_day = date.fromisoformat(licenses[state])
        if now.astimezone(ZoneInfo("America/Denver")).date() > last_day:
            problems.append(f"license in {state} lapsed")
    facilities = {item["facility"] for item in r.credentials}  # type: ignore[attr-defined]
    if s.facility not in facilities:  # type: ignore[attr-defined]
        problems.append("not credentialed")
    modalities = r.modalities  # type: ignore[attr-defined]
    if modalities and s.modality not in modalities:  # type: ignore[attr-defined]
        problems.append("modality")
    if s.subspecialty_required and s.subspecialty not in r.subspecialties:  # type: ignore[attr-defined]
        problems.append("subspecialty")
    return problems


ServiceMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_service_stays_sound = ServiceMachine.TestCase
