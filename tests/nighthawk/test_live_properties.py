"""The live dispatcher held to the independent validator (tests/validator.py) on random
practices, and its incrementally kept state held to a freshly built one.

- every forecast is a valid plan: each reader's worklist read back to back from when they are
  free breaks no hard rule (license, privileges, modality, subspecialty, shift end, expiry);
- arrivals slotted one by one into a forecast (`place`) keep it valid;
- a dispatcher changed by any sequence of deltas (arrivals, starts, finishes, hand-backs, pins,
  availability, shifts, rights) decides exactly as one built fresh from the resulting state:
  same eligibility, same free times, same waiting and held work, same forecast.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.priority import Modality
from models.snapshot import Snapshot
from nighthawk.kernel import MIN_REMAINING_MINUTES, Rights
from nighthawk.live import NOBODY, Dispatcher, StudyFacts
from nighthawk.live.choice import free_times
from nighthawk.live.forecast import Forecast, forecast, place
from nighthawk.live.snapshot import dispatcher_from_snapshot
from tests.strategies import larger_practices
from tests.validator import validate_queues

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def queues_of(plan: Forecast) -> dict[str, list[str]]:
    return {
        str(plan.dispatcher.readers.ids[reader]): [str(p.study) for p in plan.worklist(reader)]
        for reader in plan.queues
    }


@PROPERTY_SETTINGS
@given(larger_practices(max_studies=40, max_radiologists=6, exact_times=False))
def test_every_forecast_is_a_valid_plan(snapshot: Snapshot) -> None:
    plan = forecast(dispatcher_from_snapshot(snapshot), 0.0)
    result = validate_queues(snapshot, queues_of(plan))
    assert result.valid, result.violations
    placed = {p.study for p in plan.all()}
    assert placed.isdisjoint(map(str, plan.unplaced))
    assert placed | {str(plan.dispatcher.studies.ids[s]) for s in plan.unplaced} == {
        s.id for s in snapshot.studies
    }


@PROPERTY_SETTINGS
@given(larger_practices(max_studies=30, max_radiologists=6, exact_times=False), st.data())
def test_arrivals_slotted_into_a_forecast_keep_it_valid(
    snapshot: Snapshot, data: st.DataObject
) -> None:
    keep = data.draw(st.integers(0, len(snapshot.studies)))
    early = snapshot.model_copy(update={"studies": snapshot.studies[:keep]})
    dispatcher = dispatcher_from_snapshot(early)
    plan = forecast(dispatcher, 0.0)
    whole = dispatcher_from_snapshot(snapshot)  # the same facts, to copy the arrivals from
    for study in snapshot.studies[keep:]:
        dispatcher.arrive(whole.facts(study.id), 0.0)
        place(plan, dispatcher.studies.index[study.id])
    result = validate_queues(snapshot, queues_of(plan))
    assert result.valid, result.violations


# ----- deltas against a fresh build ----------------------------------------------------------
STATES = ("WY", "CO", "MT")
FACILITIES = {"WY": "wy-1", "CO": "co-1", "MT": "mt-1"}


@st.composite
def rights(draw: st.DrawFn) -> Rights:
    states = draw(st.lists(st.sampled_from(STATES), min_size=1, max_size=3, unique=True))
    expiry = st.sampled_from([math.inf, 30.0, 120.0])
    return Rights(
        licenses={s: draw(expiry) for s in states},
        credentials={FACILITIES[s]: draw(expiry) for s in states if draw(st.booleans())},
        modalities=frozenset(draw(st.sampled_from([(), (Modality.CT,), (Modality.XR,)]))),
        subspecialties=frozenset(draw(st.sampled_from([(), ("neuro",)]))),
    )


@st.composite
def facts(draw: st.DrawFn, sid: str, at: float) -> StudyFacts:
    state = draw(st.sampled_from(STATES))
    modality = draw(st.sampled_from([Modality.CT, Modality.XR]))
    required = draw(st.sampled_from([None, "neuro"]))
    rank = draw(st.integers(0, 2))
    return StudyFacts(
        sid,
        (state, FACILITIES[state], modality, required),
        rank,
        at,
        at + draw(st.sampled_from([30.0, 60.0, 120.0])),
        draw(st.sampled_from([4.0, 15.0, 40.0])),
    )


DELTAS = ("arrive", "start", "finish", "give_back", "pin", "available", "shift", "rights")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_dispatcher_kept_by_deltas_decides_as_one_built_fresh(data: st.DataObject) -> None:
    readers = {f"r{i}": data.draw(rights()) for i in range(data.draw(st.integers(1, 4)))}
    speeds = {r: data.draw(st.sampled_from([0.8, 1.0, 1.5])) for r in readers}
    shifts = {r: (0.0, data.draw(st.sampled_from([60.0, 240.0, 600.0]))) for r in readers}
    available = dict.fromkeys(readers, True)
    kept = Dispatcher()
    for r, held in readers.items():
        kept.add_reader(r, speed=speeds[r], rights=held)
        kept.set_shift(r, *shifts[r])
    arrived: list[StudyFacts] = []
    reading: dict[str, tuple[str, float]] = {}  # reader -> (study, started)
    pinned: dict[str, str] = {}
    released: dict[str, set[str]] = {}
    done: set[str] = set()
    now = 0.0
    for step in range(data.draw(st.integers(1, 25))):
        now += data.draw(st.sampled_from([0.0, 1.0, 7.5]))
        kind = data.draw(st.sampled_from(DELTAS))
        waiting = [f.id for f in arrived if f.id not in done and f.id not in _in_hand(reading)]
        free = [r for r in readers if r not in reading]
        if kind == "arrive" or not arrived:
            study = data.draw(facts(f"s{step}", now))
            arrived.append(study)
            kept.arrive(study, now)
        elif kind == "start" and waiting and free:
            reader, study_id = data.draw(st.sampled_from(free)), data.draw(st.sampled_from(waiting))
            kept.start(study_id, reader, now)
            reading[reader] = (str(study_id), now)
            pinned = {s: r for s, r in pinned.items() if s != study_id}
        elif kind == "finish" and reading:
            reader = data.draw(st.sampled_from(sorted(reading)))
            done.add(reading.pop(reader)[0])
            kept.finish(reader, now)
        elif kind == "give_back" and reading:
            reader = data.draw(st.sampled_from(sorted(reading)))
            study_id = reading.pop(reader)[0]
            kept.give_back(study_id)
            kept.exclude(study_id, reader)
            kept.finish(reader, now)  # the reader is free again
            released.setdefault(study_id, set()).add(reader)
        elif kind == "pin" and waiting:
            study_id, reader = (
                data.draw(st.sampled_from(waiting)),
                data.draw(st.sampled_from(sorted(readers))),
            )
            kept.pin(study_id, reader)
            pinned[str(study_id)] = reader
        elif kind == "available":
            reader = data.draw(st.sampled_from(sorted(readers)))
            available[reader] = not available[reader]
            kept.set_available(reader, available[reader])
        elif kind == "shift":
            reader = data.draw(st.sampled_from(sorted(readers)))
            shifts[reader] = (now, now + data.draw(st.sampled_from([30.0, 300.0])))
            kept.set_shift(reader, *shifts[reader])
        elif kind == "rights":
            reader = data.draw(st.sampled_from(sorted(readers)))
            readers[reader] = data.draw(rights())
            kept.set_rights(reader, readers[reader])
    fresh = Dispatcher()
    for r, held in readers.items():
        fresh.add_reader(r, speed=speeds[r], rights=held)
        fresh.set_shift(r, *shifts[r])
        fresh.set_available(r, available[r])
    for study in arrived:
        if study.id in done:
            continue
        fresh.arrive(study, now)
        for reader in released.get(str(study.id), ()):
            fresh.exclude(study.id, reader)
    for reader, (study_id, started) in reading.items():
        fresh.start(study_id, reader, started)
    for study_id, reader in pinned.items():
        fresh.pin(study_id, reader)
    _assert_same_decisions(kept, fresh, now)


def _in_hand(reading: dict[str, tuple[str, float]]) -> set[str]:
    return {study for study, _ in reading.values()}


def _assert_same_decisions(kept: Dispatcher, fresh: Dispatcher, now: float) -> None:
    for key in fresh.classes.keys:  # eligibility, class by class
        a, b = kept.classes.index[key], fresh.classes.index[key]
        count = len(kept.readers)
        assert np.array_equal(kept.classes.until[a, :count], fresh.classes.until[b, :count])
    assert np.array_equal(
        free_times(kept.readers, now, MIN_REMAINING_MINUTES),
        free_times(fresh.readers, now, MIN_REMAINING_MINUTES),
    )
    assert sorted(map(str, kept.waiting())) == sorted(map(str, fresh.waiting()))
    assert [sorted(kept.studies.ids[s] for s in h) for h in kept.held] == [
        sorted(fresh.studies.ids[s] for s in h) for h in fresh.held
    ]
    for reader_id in kept.readers.ids:
        mine, theirs = kept.choose(reader_id, now), fresh.choose(reader_id, now)
        assert (mine and kept.studies.ids[mine.study]) == (
            theirs and fresh.studies.ids[theirs.study]
        )
    ours, theirs = forecast(kept, now), forecast(fresh, now)
    assert queues_of(ours) == queues_of(theirs)
    assert NOBODY == -1
