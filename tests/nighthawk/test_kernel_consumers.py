"""Every consumer of the kernel's rules asks the kernel, not a copy of it (random practices).

The kernel (nighthawk/kernel.py) says until when a reader may read a kind of study, whether a
read fits before its limit, when a study is due and when each queued read starts and finishes.
Here the engine's indexed problem and eligibility, the live dispatcher, the simulator's world,
the coverage planner's instance and the service's worklist walk are each compared with the
kernel's own answer on practices drawn at random.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings

from models.snapshot import Snapshot
from models.tables import StudyStatus
from nighthawk.clock import minutes_between
from nighthawk.eligibility import Eligibility
from nighthawk.kernel import (
    FINISH_SLACK_MINUTES,
    due_at,
    facility_zone_of,
    fits,
    rights_of,
    sla_minutes,
    walk,
)
from nighthawk.live.forecast import forecast
from nighthawk.live.snapshot import dispatcher_from_snapshot
from nighthawk.planner.demand import forecast_from_arrivals
from nighthawk.planner.instance import build_instance
from nighthawk.problem import build_problem
from nighthawk.schedule import ScoringContext, reader_timeline
from nighthawk.service.practice import OpenStudy
from nighthawk.service.queries import walk_queue
from simulations.runner import make_studies
from simulations.scenario import parse_scenario
from simulations.world import MODALITIES, PRIORITIES, compile_world
from tests.planner.test_properties import planning_data
from tests.simulations.practice import START
from tests.simulations.test_policies import practices as scenario_data
from tests.strategies import larger_practices

KERNEL_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def kernel_rights(snapshot: Snapshot) -> list:
    zones = {f.id: f.timezone for f in snapshot.facilities}
    states = {s.facility: s.state for s in snapshot.studies}
    return [
        rights_of(r, snapshot.now, lambda f: facility_zone_of(f, zones, states.get(f)))
        for r in snapshot.radiologists
    ]


def kernel_due(snapshot: Snapshot) -> list[float]:
    contracts = {f.id: f.sla_minutes for f in snapshot.facilities}
    defaults = snapshot.settings.sla_defaults()
    return [
        minutes_between(
            snapshot.now,
            s.due_at or due_at(s.arrived_at, s.priority, contracts.get(s.facility), defaults),
        )
        for s in snapshot.studies
    ]


@KERNEL_SETTINGS
@given(larger_practices(max_studies=25, max_radiologists=5, exact_times=False))
def test_the_engine_asks_the_kernel(snapshot: Snapshot) -> None:
    problem = build_problem(snapshot)
    rights = kernel_rights(snapshot)
    eligibility = Eligibility(problem).matrix
    for s, study in enumerate(snapshot.studies):
        assert math.isclose(problem.studies.due[s], kernel_due(snapshot)[s], abs_tol=1e-9)
        required = study.subspecialty if study.subspecialty_required else None
        for r, reader in enumerate(snapshot.radiologists):
            until = rights[r].until(study.state, study.facility, study.modality, required)
            ready = max(reader.backlog_minutes, minutes_between(snapshot.now, reader.shift_start))
            finish = ready + study.expected_minutes / reader.speed
            limit = min(until, minutes_between(snapshot.now, reader.shift_end))
            assert bool(eligibility[s, r]) == (until > -math.inf and fits(finish, limit)), (s, r)


@KERNEL_SETTINGS
@given(larger_practices(max_studies=25, max_radiologists=5, exact_times=False))
def test_the_live_dispatcher_asks_the_kernel(snapshot: Snapshot) -> None:
    dispatcher = dispatcher_from_snapshot(snapshot)
    rights = kernel_rights(snapshot)
    due = kernel_due(snapshot)
    for s, study in enumerate(snapshot.studies):
        index = dispatcher.studies.index[study.id]
        assert math.isclose(dispatcher.studies.due[index], due[s], abs_tol=1e-9)
        klass = int(dispatcher.studies.klass[index])
        required = study.subspecialty if study.subspecialty_required else None
        for r in range(len(snapshot.radiologists)):
            expected = rights[r].until(study.state, study.facility, study.modality, required)
            assert dispatcher.classes.until[klass, r] == expected
    plan = forecast(dispatcher, 0.0)
    for reader, queue in plan.queues.items():
        speed = snapshot.radiologists[reader].speed
        starts, finishes = walk(
            queue.ready, (dispatcher.studies.expected[s] / speed for s in queue.studies)
        )
        assert np.allclose(queue.starts, starts) and np.allclose(queue.finishes, finishes)


@KERNEL_SETTINGS
@given(larger_practices(max_studies=25, max_radiologists=5, exact_times=False))
def test_the_engines_schedule_and_the_services_worklist_walk_as_the_kernel(
    snapshot: Snapshot,
) -> None:
    problem = build_problem(snapshot)
    context = ScoringContext(problem, Eligibility(problem))
    everything = list(range(problem.study_count))
    for r, reader in enumerate(snapshot.radiologists):
        timeline = reader_timeline(context, r, everything)
        ready = max(reader.backlog_minutes, minutes_between(snapshot.now, reader.shift_start))
        minutes = [s.expected_minutes / reader.speed for s in snapshot.studies]
        assert np.allclose(timeline.starts, walk(ready, minutes)[0])
        items = [
            OpenStudy(s, StudyStatus.ASSIGNED, float(i), False, 1, None, None)
            for i, s in enumerate(snapshot.studies)
        ]
        walked = walk_queue(reader, items, snapshot.now)
        assert np.allclose(
            [minutes_between(snapshot.now, start) for start, _ in walked],
            walk(ready, minutes)[0],
        )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario_data())
def test_the_simulators_world_asks_the_kernel(data: dict) -> None:
    scenario = parse_scenario({"name": "k", "start": START, **data})
    world = compile_world(scenario)
    zones = {f.id: f.timezone for f in scenario.facilities}
    rights = [
        rights_of(r, scenario.start, lambda f: facility_zone_of(f, zones))
        for r in scenario.radiologists
    ]
    studies = make_studies(world, 1, 0)
    for klass, (facility, modality, subspecialty) in enumerate(world.class_keys):
        site = scenario.facilities[facility]
        expected = [
            r.until(site.state, site.id, MODALITIES[modality], subspecialty) for r in rights
        ]
        assert list(world.class_until[klass]) == expected
    for i in range(min(len(studies), 50)):
        site = scenario.facilities[int(studies.facility[i])]
        priority = PRIORITIES[int(studies.priority[i])]
        defaults = {p: sla_minutes(p, scenario.sla_minutes) for p in PRIORITIES}
        due = due_at(
            scenario.start + timedelta(minutes=float(studies.arrival[i])),
            priority,
            site.sla_minutes,
            defaults,
        )
        assert math.isclose(studies.due[i], minutes_between(scenario.start, due), abs_tol=1e-6)
    assert FINISH_SLACK_MINUTES < 1e-3  # one slack: float noise, not a hand-over allowance


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planning_data(small=True))
def test_the_planners_instance_asks_the_kernel(data: dict) -> None:
    scenario = parse_scenario(data)
    instance = build_instance(scenario, forecast_from_arrivals(scenario), 1)
    zones = {f.id: f.timezone for f in scenario.facilities}
    rights = [
        rights_of(r, scenario.start, lambda f: facility_zone_of(f, zones))
        for r in scenario.radiologists
    ]
    for n, node in enumerate(instance.nodes):
        site = scenario.facilities[node.facility]
        expected = [r.until(site.state, site.id, node.modality, node.subspecialty) for r in rights]
        assert list(instance.until[n]) == expected
