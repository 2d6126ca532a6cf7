"""The live demo practice: seeded through the real services, covered all day, fed realistically."""

from __future__ import annotations

import itertools
import logging
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models.api import FacilityIn, RadiologistIn, StudyIn
from models.domain import License
from models.tables import AUDIT, FACILITY, RADIOLOGIST, SHIFT, STUDY, Role
from nighthawk.clock import state_time_zone
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import Principal
from nighthawk.service.clock import ManualClock
from nighthawk.service.db import make_engine, migrate, read_transaction
from nighthawk.service.demo import (
    DEMO_STUDIES_PER_HOUR,
    DemoFeed,
    DemoPractice,
    DemoReaders,
    ReadingStep,
    ensure_demo_shifts,
    facility_size,
    seed_demo_practice,
)
from nighthawk.service.errors import Conflict
from nighthawk.service.roster import RosterService

NOW = datetime(2026, 12, 5, 22, 17, 30, tzinfo=UTC)  # not on the hour, on purpose
SUBSPECIALTIES = {"neuro", "msk", "body", "peds", "cardiac", "breast"}


def services(path: Path) -> tuple[AssignmentService, RosterService]:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    assignments = AssignmentService(engine, ManualClock(NOW))
    return assignments, RosterService(assignments)


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[AssignmentService, RosterService, DemoPractice]:
    assignments, roster = services(tmp_path_factory.mktemp("demo") / "d.db")
    return assignments, roster, seed_demo_practice(roster, now=NOW, seed=7)


def table(engine: Engine, which: Any, *order: Any) -> list[Any]:
    with read_transaction(engine) as connection:
        return list(connection.execute(select(which).order_by(*order)).all())


def count(engine: Engine, which: Any) -> int:
    with read_transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(which)).scalar_one())


def roster_data(engine: Engine) -> tuple[list[Any], list[Any], list[Any]]:
    """Everything seeding decides, without timestamps or generated shift ids."""
    facilities = [
        (r.id, r.name, r.state, r.timezone, r.sla_stat, r.sla_urgent, r.sla_routine)
        for r in table(engine, FACILITY, FACILITY.c.id)
    ]
    readers = [
        (r.id, r.name, r.licenses, r.credentials, r.subspecialties, r.modalities, r.speed)
        for r in table(engine, RADIOLOGIST, RADIOLOGIST.c.id)
    ]
    shifts = sorted((r.radiologist_id, r.start, r.end) for r in table(engine, SHIFT, SHIFT.c.id))
    return facilities, readers, shifts


def valid_on(item: dict[str, Any], day: date) -> bool:
    return item.get("expires_on") is None or date.fromisoformat(item["expires_on"]) >= day


# --- the practice ---------------------------------------------------------------------------


def test_seeds_the_requested_practice(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    assignments, _, practice = seeded
    engine = assignments.engine
    assert (practice.facilities, practice.radiologists, len(practice.states)) == (120, 40, 25)
    assert count(engine, FACILITY) == 120
    assert count(engine, RADIOLOGIST) == 40
    assert count(engine, SHIFT) == practice.shifts >= 40
    facilities = table(engine, FACILITY, FACILITY.c.id)
    assert [f.id for f in facilities] == [f"fac-{n:03d}" for n in range(1, 121)]
    assert sorted({f.state for f in facilities}) == practice.states
    assert all(f.timezone == state_time_zone(f.state) for f in facilities)
    assert len({f.name for f in facilities}) == 120
    assert len({facility_size(f.name) for f in facilities}) >= 4, "sizes come from the kind"


def test_some_facilities_have_their_own_contract(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    facilities = table(seeded[0].engine, FACILITY, FACILITY.c.id)
    contracted = [f for f in facilities if f.sla_stat or f.sla_urgent or f.sla_routine]
    assert 10 <= len(contracted) <= 60
    assert any(f.sla_stat is not None for f in contracted)
    assert all(20 <= f.sla_stat <= 45 for f in contracted if f.sla_stat is not None)


def test_readers_look_like_a_small_practice(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    engine = seeded[0].engine
    readers = table(engine, RADIOLOGIST, RADIOLOGIST.c.id)
    state_of = {f.id: f.state for f in table(engine, FACILITY, FACILITY.c.id)}
    assert [r.id for r in readers] == [f"rad-{n:02d}" for n in range(1, 41)]
    assert all(r.name.startswith("Dr. ") for r in readers)
    assert 6.0 <= statistics.mean(len(r.licenses) for r in readers) <= 10.5
    assert all(0.8 <= r.speed <= 1.3 for r in readers)
    assert all(set(r.subspecialties) <= SUBSPECIALTIES for r in readers)
    assert sum(bool(r.subspecialties) for r in readers) >= 20
    assert 1 <= sum(bool(r.modalities) for r in readers) <= 10
    for reader in readers:
        licensed = {item["state"] for item in reader.licenses}
        assert {state_of[c["facility"]] for c in reader.credentials} <= licensed
        in_licensed_states = sum(state in licensed for state in state_of.values())
        assert len(reader.credentials) >= 0.6 * in_licensed_states


def test_a_few_licenses_and_credentials_expire_within_weeks(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    readers = table(seeded[0].engine, RADIOLOGIST, RADIOLOGIST.c.id)
    items = [i for r in readers for i in (*r.licenses, *r.credentials)]
    dated = [date.fromisoformat(i["expires_on"]) for i in items if i.get("expires_on")]
    assert dated, "some privileges should be up for renewal"
    assert len(dated) < 0.1 * len(items)
    assert all(
        NOW.date() + timedelta(days=7) <= d <= NOW.date() + timedelta(weeks=7) for d in dated
    )


def test_seeding_twice_seeds_nothing(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    assignments, roster, first = seeded
    before = roster_data(assignments.engine)
    again = seed_demo_practice(roster, now=NOW + timedelta(hours=1), seed=99)
    assert again == first
    assert roster_data(assignments.engine) == before


def test_the_same_seed_gives_the_same_practice(
    seeded: tuple[AssignmentService, RosterService, DemoPractice], tmp_path: Path
) -> None:
    _, twin = services(tmp_path / "twin.db")
    seed_demo_practice(twin, now=NOW, seed=7)
    _, other = services(tmp_path / "other.db")
    seed_demo_practice(other, now=NOW, seed=8)
    original = roster_data(seeded[0].engine)
    assert roster_data(twin.engine) == original
    different = roster_data(other.engine)
    assert different[0] != original[0] and different[1] != original[1]


def coverage_gaps(engine: Engine, now: datetime) -> list[tuple[str, datetime]]:
    """(facility, hour) of the next 24 h without an eligible reader on shift all hour.

    Eligible: licensed in the state, credentialed at the facility, available and reading every
    modality. Also asserts that at least 3 readers are on at every hour.
    """
    facilities = table(engine, FACILITY, FACILITY.c.id)
    readers = {r.id: r for r in table(engine, RADIOLOGIST, RADIOLOGIST.c.id)}
    shifts = table(engine, SHIFT, SHIFT.c.start)
    gaps = []
    for hour in range(24):
        start = now + timedelta(hours=hour)
        end = start + timedelta(hours=1)
        on = {s.radiologist_id for s in shifts if s.start <= start and s.end >= end}
        assert len(on) >= 3, f"only {len(on)} readers on at {start}"
        for facility in facilities:
            eligible = [
                reader
                for reader in (readers[r] for r in on)
                if reader.available
                and not reader.modalities  # reads whatever the facility sends
                and any(
                    i["state"] == facility.state and valid_on(i, end.date())
                    for i in reader.licenses
                )
                and any(
                    i["facility"] == facility.id and valid_on(i, end.date())
                    for i in reader.credentials
                )
            ]
            if not eligible:
                gaps.append((facility.id, start))
    return gaps


def test_every_facility_has_an_eligible_reader_every_hour_of_the_day(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    assert coverage_gaps(seeded[0].engine, NOW) == []


def test_shifts_are_staggered_eight_to_twelve_hours(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    shifts = table(seeded[0].engine, SHIFT, SHIFT.c.start)
    hours = [(s.end - s.start) / timedelta(hours=1) for s in shifts]
    assert all(8 <= h <= 12 for h in hours)
    starts = Counter(s.start for s in shifts)
    assert max(starts.values()) <= 4, "readers should hand over a few at a time"
    assert min(s.start for s in shifts) < NOW < max(s.start for s in shifts)
    assert max(s.end for s in shifts) >= NOW + timedelta(hours=24)


# --- the feed -------------------------------------------------------------------------------


def test_a_ten_minute_tick_posts_studies_that_get_assigned(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    assignments = seeded[0]
    feed = DemoFeed(assignments, seed=11, studies_per_hour=240.0, run_tag="tick", readers=False)
    posted = feed.tick(600)
    with read_transaction(assignments.engine) as connection:
        rows = connection.execute(
            select(STUDY.c.status, STUDY.c.accession).where(STUDY.c.accession.like("DEMO-%-tick"))
        ).all()
    assert posted == len(rows)
    assert 20 <= posted <= 70  # Poisson(40)
    statuses = Counter(row.status for row in rows)
    assert statuses["assigned"] + statuses["at_risk"] >= 0.9 * posted
    assert statuses["uncovered"] <= 0.1 * posted


def test_studies_for_is_deterministic_for_a_seed(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    assignments = seeded[0]
    first = DemoFeed(assignments, seed=3, run_tag="same").studies_for(1800)
    second = DemoFeed(assignments, seed=3, run_tag="same").studies_for(1800)
    other = DemoFeed(assignments, seed=4, run_tag="same").studies_for(1800)
    assert first and first == second
    assert [s.model_dump() for s in first] != [s.model_dump() for s in other]


def test_a_restarted_feed_does_not_reuse_accessions(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> None:
    assignments = seeded[0]
    before = {s.accession for s in DemoFeed(assignments, seed=7).studies_for(3600)}
    after = {s.accession for s in DemoFeed(assignments, seed=7).studies_for(3600)}
    assert before and after and not before & after


@pytest.fixture(scope="module")
def day_of_studies(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
) -> list[StudyIn]:
    return DemoFeed(seeded[0], seed=5, studies_per_hour=240.0, run_tag="mix").studies_for(10 * 3600)


def test_feed_mix_is_realistic(day_of_studies: list[StudyIn]) -> None:
    studies = day_of_studies
    total = len(studies)
    assert 2200 <= total <= 2600  # Poisson(2400)
    priority = Counter(s.priority.value for s in studies)
    assert priority["STAT"] / total == pytest.approx(0.20, abs=0.03)
    assert priority["URGENT"] / total == pytest.approx(0.25, abs=0.03)
    assert priority["ROUTINE"] / total == pytest.approx(0.55, abs=0.03)
    modality = Counter(s.modality.value for s in studies)
    assert modality.most_common(2)[0][0] == "CT" and modality.most_common(2)[1][0] == "XR"
    assert len({s.accession for s in studies}) == total
    assert sum(s.expected_minutes is None for s in studies) >= 0.75 * total


def test_feed_subspecialties_and_patients(day_of_studies: list[StudyIn]) -> None:
    studies = day_of_studies
    total = len(studies)
    tagged = [s for s in studies if s.subspecialty is not None]
    assert 0.1 * total <= len(tagged) <= 0.5 * total
    assert {s.subspecialty for s in tagged} <= SUBSPECIALTIES
    required = sum(s.subspecialty_required for s in studies)
    assert 0 < required <= 0.05 * total
    per_patient = Counter(s.patient_ref for s in studies)
    repeats = [ref for ref, n in per_patient.items() if n > 1]
    assert len(repeats) >= 0.03 * total
    facility_of = {s.patient_ref: s.facility for s in studies}
    assert all(s.facility == facility_of[s.patient_ref] for s in studies)


def test_feed_favours_big_facilities(
    seeded: tuple[AssignmentService, RosterService, DemoPractice], day_of_studies: list[StudyIn]
) -> None:
    names = {f.id: f.name for f in table(seeded[0].engine, FACILITY, FACILITY.c.id)}
    sent = Counter(s.facility for s in day_of_studies)

    def mean_sent(kind: str) -> float:
        return statistics.mean(sent[f] for f, name in names.items() if f" {kind} " in name)

    assert mean_sent("Regional Medical Center") > 2 * mean_sent("Imaging Center")


def test_tick_logs_refusals_and_carries_on(
    seeded: tuple[AssignmentService, RosterService, DemoPractice],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assignments = seeded[0]
    calls: list[str] = []

    def refuse(principal: object, body: StudyIn) -> None:
        calls.append(body.accession)
        if len(calls) % 2:
            raise Conflict(f"accession {body.accession!r} was already received")
        raise RuntimeError("database went away")

    monkeypatch.setattr(assignments, "ingest", refuse)
    feed = DemoFeed(assignments, seed=1, run_tag="refused")
    with caplog.at_level(logging.WARNING, logger="nighthawk.service.demo"):
        assert feed.tick(900) == 0
    assert len(calls) > 2
    assert "already received" in caplog.text and "database went away" in caplog.text


def test_an_empty_practice_gets_no_studies(tmp_path: Path) -> None:
    assignments, _ = services(tmp_path / "empty.db")
    assert DemoFeed(assignments).tick(3600) == 0


def test_the_default_rate_keeps_a_demo_practice_busy_but_bounded(tmp_path: Path) -> None:
    """About 13 readers on, ~12 min a study at speed ~1.05: some 65 studies an hour of capacity."""
    assignments, _ = services(tmp_path / "rate.db")
    assert DemoFeed(assignments).studies_per_hour == DEMO_STUDIES_PER_HOUR
    assert 30 <= DEMO_STUDIES_PER_HOUR <= 55


# --- readers at work ------------------------------------------------------------------------

TICKS, TICK_MINUTES = 30, 2


@dataclass
class Lived:
    assignments: AssignmentService
    roster: RosterService
    clock: ManualClock
    reading: list[Counter[str]]  # who was reading how many studies after each tick


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Lived:
    """The default demo for an hour of simulated time: the feed and the readers on its tick."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('lived') / 'd.db'}")
    migrate(engine)
    clock = ManualClock(NOW)
    assignments = AssignmentService(engine, clock)
    roster = RosterService(assignments)
    seed_demo_practice(roster, now=NOW, seed=7)
    feed = DemoFeed(assignments, seed=2, run_tag="lived")
    reading = []
    for _ in range(TICKS):
        clock.advance(minutes=TICK_MINUTES)
        feed.tick(TICK_MINUTES * 60)
        with read_transaction(engine) as connection:
            readers = connection.execute(
                select(STUDY.c.assigned_to).where(STUDY.c.status == "reading")
            ).scalars()
            reading.append(Counter(readers))
    return Lived(assignments, roster, clock, reading)


def audit_of(engine: Engine, action: str) -> list[Any]:
    with read_transaction(engine) as connection:
        return list(
            connection.execute(
                select(AUDIT).where(AUDIT.c.action == action).order_by(AUDIT.c.seq)
            ).all()
        )


def test_readers_report_studies_as_simulated_time_passes(lived: Lived) -> None:
    engine = lived.assignments.engine
    speed = {r.id: r.speed for r in table(engine, RADIOLOGIST, RADIOLOGIST.c.id)}
    studies = table(engine, STUDY, STUDY.c.seq)
    reported = [s for s in studies if s.status == "reported"]
    assert len(reported) >= 10
    assert any(s.status == "reading" for s in studies)
    assert all(s.report == "prelim" and s.reported_at is not None for s in reported)
    for study in reported:  # nobody reports before the study's reading time is up
        minutes = study.expected_minutes / speed[study.assigned_to]
        assert study.reported_at >= study.started_at + timedelta(minutes=minutes)
        assert study.reported_at <= study.started_at + timedelta(minutes=minutes + TICK_MINUTES)


def test_only_the_assignee_reads_and_only_while_on_shift(lived: Lived) -> None:
    engine = lived.assignments.engine
    assigned_to = {s.id: s.assigned_to for s in table(engine, STUDY, STUDY.c.seq)}
    shifts = table(engine, SHIFT, SHIFT.c.start)
    started = audit_of(engine, "study.started")
    assert started
    for entry in started:
        reader = entry.after["radiologist"]
        assert reader == assigned_to[entry.study_id] and entry.actor == "demo"
        assert any(s.radiologist_id == reader and s.start <= entry.at < s.end for s in shifts), (
            f"{reader} started {entry.study_id} off shift"
        )
    for entry in audit_of(engine, "study.reported"):
        assert entry.after["radiologist"] == assigned_to[entry.study_id]


def test_every_reader_reads_one_study_at_a_time(lived: Lived) -> None:
    assert all(max(tick.values(), default=0) <= 1 for tick in lived.reading)
    assert max(sum(tick.values()) for tick in lived.reading) >= 5, "most readers on should read"
    studies = table(lived.assignments.engine, STUDY, STUDY.c.started_at)
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for study in studies:
        if study.started_at is not None:
            end = study.reported_at or lived.clock.now()
            spans.setdefault(study.assigned_to, []).append((study.started_at, end))
    for reader, reads in spans.items():
        for (_, finished), (next_start, _) in itertools.pairwise(sorted(reads)):
            assert finished <= next_start, f"{reader} read two studies at once"


def test_readers_step_is_quiet_when_nobody_is_on(tmp_path: Path) -> None:
    assignments, _ = services(tmp_path / "empty.db")
    assert DemoReaders(assignments).step() == ReadingStep(started=0, completed=0)


# --- the next day ---------------------------------------------------------------------------


def test_restarting_the_next_day_rosters_the_next_24_hours(lived: Lived) -> None:
    """`make run` the next day: the seeded day is over, so the demo adds tomorrow's shifts."""
    engine, roster = lived.assignments.engine, lived.roster
    later = lived.clock.advance(hours=30)
    before = table(engine, SHIFT, SHIFT.c.id)
    assert coverage_gaps_or_none(engine, later) is None, "the seeded day should have run out"
    practice = seed_demo_practice(roster, now=later, seed=7)
    shifts = table(engine, SHIFT, SHIFT.c.id)
    assert practice.shifts == len(shifts) > len(before)
    assert (practice.facilities, practice.radiologists) == (120, 40)
    assert coverage_gaps(engine, later) == []
    new = [s for s in shifts if s.id not in {b.id for b in before}]
    assert all(8 <= (s.end - s.start) / timedelta(hours=1) <= 12 for s in new)
    assert max(Counter(s.start for s in new).values()) <= 4, "staggered, not in waves"
    for reader in {s.radiologist_id for s in new}:  # a rota: no reader works two shifts at once
        own = sorted((s.start, s.end) for s in shifts if s.radiologist_id == reader)
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(own))


def test_a_second_restart_the_same_day_adds_nothing(lived: Lived) -> None:
    engine, roster = lived.assignments.engine, lived.roster
    now = lived.clock.now()
    ensure_demo_shifts(roster, now=now, seed=7)  # a no-op if the previous test already ran
    before = roster_data(engine)
    assert ensure_demo_shifts(roster, now=now, seed=7) == 0
    assert ensure_demo_shifts(roster, now=now + timedelta(hours=3), seed=7) == 0
    seed_demo_practice(roster, now=now + timedelta(hours=1), seed=7)
    assert roster_data(engine) == before


def test_a_practice_the_demo_did_not_seed_gets_no_shifts(tmp_path: Path) -> None:
    assignments, roster = services(tmp_path / "theirs.db")
    ops = Principal("ops", Role.ADMIN)
    roster.put_facility(
        ops, "f1", FacilityIn(name="Mercy", state="OH", timezone="America/New_York")
    )
    roster.put_radiologist(ops, "r1", RadiologistIn(name="Dr. A", licenses=[License(state="OH")]))
    assert ensure_demo_shifts(roster, now=NOW) == 0
    assert seed_demo_practice(roster, now=NOW).shifts == 0
    assert count(assignments.engine, SHIFT) == 0


def coverage_gaps_or_none(engine: Engine, now: datetime) -> list[tuple[str, datetime]] | None:
    """coverage_gaps, or None when some hour has fewer than 3 readers on."""
    try:
        return coverage_gaps(engine, now)
    except AssertionError:
        return None
