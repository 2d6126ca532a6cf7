"""The demo's simulated readers drive only the demo practice's readers, never the user's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from models.api import FacilityIn, RadiologistIn, ShiftIn, StudyIn
from models.priority import Modality, Priority
from models.tables import STUDY, Role
from nighthawk.service.auth import Principal
from nighthawk.service.db import read_transaction
from nighthawk.service.demo import DemoReaders
from nighthawk.service.demo.practice import DEMO_ACTOR
from tests.service.test_demo_practice import NOW, services

USER = Principal("coverage-desk", Role.ADMIN)


def test_demo_readers_leave_the_users_readers_alone(tmp_path: Path) -> None:
    assignments, roster = services(tmp_path / "mixed.db")
    roster.put_facility(
        DEMO_ACTOR, "fac-1", FacilityIn(name="One", state="WY", timezone="America/Denver")
    )
    shift = ShiftIn(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=8))
    for who, reader in ((DEMO_ACTOR, "demo-rad"), (USER, "my-rad"), (DEMO_ACTOR, "taken-over")):
        body = RadiologistIn(name=reader, licenses=["WY"], credentials=["fac-1"])
        roster.put_radiologist(who, reader, body)
        roster.add_shift(who, reader, shift)
    # The user puts a demo reader again: from then on it is theirs.
    roster.put_radiologist(
        USER, "taken-over", RadiologistIn(name="mine now", licenses=["WY"], credentials=["fac-1"])
    )
    for n in range(6):
        body = StudyIn(
            facility="fac-1", accession=f"A{n}", modality=Modality.XR, priority=Priority.ROUTINE
        )
        assignments.ingest(USER, body)
    step = DemoReaders(assignments).step()
    assert step.started == 1
    with read_transaction(assignments.engine) as connection:
        reading = connection.execute(
            select(STUDY.c.assigned_to).where(STUDY.c.status == "reading")
        ).scalars()
        assert list(reading) == ["demo-rad"]
