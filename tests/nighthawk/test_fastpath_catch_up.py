"""A cached live plan catches up with the clock instead of being rebuilt."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.snapshot import SnapshotStudy
from nighthawk.fastpath import LivePlan
from tests.nighthawk.builders import NOW as NOW_TEXT
from tests.nighthawk.builders import reader, snapshot, study

NOW = datetime.fromisoformat(NOW_TEXT.replace("Z", "+00:00"))


def test_an_idle_reader_is_free_from_now_not_from_when_the_plan_was_built() -> None:
    plan = LivePlan(snapshot(readers=[reader("r1")], studies=[]))
    plan.catch_up(30.0)  # half an hour later, nobody has read anything
    arrival = SnapshotStudy.model_validate(study("late", arrived_at=NOW_TEXT))
    placement = plan.assign_one(arrival)
    assert placement.start == NOW + timedelta(minutes=30)


def test_catching_up_leaves_a_reader_busy_beyond_now_alone() -> None:
    plan = LivePlan(snapshot(readers=[reader("r1", backlog_minutes=60.0)], studies=[]))
    plan.catch_up(30.0)
    placement = plan.assign_one(SnapshotStudy.model_validate(study("next")))
    assert placement.start == NOW + timedelta(minutes=60)


def test_planned_start_is_when_the_queue_reaches_the_study() -> None:
    plan = LivePlan(snapshot(readers=[reader("r1", backlog_minutes=5.0)], studies=[]))
    plan.assign_one(SnapshotStudy.model_validate(study("first", expected_minutes=10.0)))
    plan.assign_one(SnapshotStudy.model_validate(study("second", expected_minutes=10.0)))
    assert plan.planned_start("first") == 5.0
    assert plan.planned_start("second") == 15.0
    assert plan.planned_start("nobody-has-it") is None


def test_a_free_reader_who_takes_a_study_from_another_queue_starts_it_now() -> None:
    plan = LivePlan(
        snapshot(readers=[reader("r1", backlog_minutes=30.0), reader("r2")], studies=[])
    )
    placement = plan.assign_one(SnapshotStudy.model_validate(study("s1")))
    taken_from = placement.radiologist
    other = "r2" if taken_from == "r1" else "r1"
    plan.begin("s1", 5.0, 10.0, reader_id=other)
    assert plan.owner("s1") is None
    assert plan.queue(taken_from) == []
    follow = plan.place(SnapshotStudy.model_validate(study("s2")), other)
    assert follow is not None and follow.start == NOW + timedelta(minutes=15)
