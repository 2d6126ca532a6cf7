"""Tests for ``simulations.world``: shifts laid out in minutes after the start (local times
through zoneinfo, DST, absences) and who may read which class of study."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from models.priority import Modality
from simulations.world import MODALITIES, Stretch, compile_world, reader_stretches
from tests.simulations.test_scenario import DAY, START_AT, build, reader


# ----- shifts laid out in minutes after the start --------------------------------------------
def stretches_of(*shifts: dict[str, Any], **fields: Any) -> list[Stretch]:
    """The first reader's stretches, with these weekly shifts, up to the end of the days."""
    scenario = build(radiologists=[reader(shifts=list(shifts))], **fields)
    return reader_stretches(scenario, scenario.days * DAY)[0]


def spans(stretches: list[Stretch]) -> list[tuple[float, float]]:
    return [(s.start, s.end) for s in stretches]


def test_a_night_shift_crosses_midnight() -> None:
    found = spans(stretches_of({"start": "22:00", "end": "08:00", "timezone": "UTC"}, days=2))
    # Yesterday's shift runs on into the first morning; tonight's is 22:00-08:00.
    assert found == [(-120, 480), (1320, 1920), (2760, 3360)]
    assert {end - start for start, end in found} == {600}


def test_an_end_of_2400_ends_at_midnight() -> None:
    found = spans(stretches_of({"start": "16:00", "end": "24:00", "timezone": "UTC"}))
    assert found == [(960, DAY)]


def test_a_shift_ending_at_its_start_lasts_a_whole_day() -> None:
    pattern = {"start": "07:00", "end": "07:00", "timezone": "UTC", "days": ["tue"]}
    assert spans(stretches_of(pattern, days=3)) == [(420, 420 + DAY)]


def test_back_to_back_shifts_join_into_one_stretch() -> None:
    early = {"start": "08:00", "end": "16:00", "timezone": "UTC"}
    late = {"start": "16:00", "end": "24:00", "timezone": "UTC"}
    assert spans(stretches_of(early, late, days=2)) == [(480, DAY), (DAY + 480, 2 * DAY)]


def test_round_the_clock_shifts_join_across_days() -> None:
    night = {"start": "20:00", "end": "08:00", "timezone": "UTC"}
    day = {"start": "08:00", "end": "20:00", "timezone": "UTC"}
    [only] = stretches_of(night, day, days=3)
    assert only.start < 0 < 3 * DAY <= only.end


def test_weekdays_are_those_of_the_shift_time_zone() -> None:
    # 20:00-23:00 on Mondays in Los Angeles is 04:00-07:00 UTC on Tuesdays: the start
    # (Monday 16:00 in Los Angeles) is that evening's Monday, then 7 days later.
    pattern = {
        "start": "20:00",
        "end": "23:00",
        "timezone": "America/Los_Angeles",
        "days": ["mon"],
    }
    found = stretches_of(pattern, days=14)
    assert spans(found) == [(240, 420), (7 * DAY + 240, 7 * DAY + 420)]
    zone = ZoneInfo("America/Los_Angeles")
    for stretch in found:
        begin = START_AT + timedelta(minutes=stretch.start)
        assert begin.astimezone(zone).strftime("%a %H:%M") == "Mon 20:00"
        assert begin.strftime("%a") == "Tue"


def test_a_denver_shift_maps_to_utc() -> None:
    pattern = {"start": "08:00", "end": "16:00", "timezone": "America/Denver"}
    assert spans(stretches_of(pattern)) == [(15 * 60, 23 * 60)]  # MST is UTC-7


def test_a_night_shift_keeps_local_times_when_clocks_fall_back() -> None:
    # Sunday 2026-11-01 02:00 EDT becomes 01:00 EST: that night shift is 11 hours long.
    pattern = {"start": "22:00", "end": "08:00", "timezone": "America/New_York"}
    found = spans(stretches_of(pattern, start="2026-11-01T00:00:00Z", days=2))
    assert found == [(2 * 60, 13 * 60), (27 * 60, 37 * 60)]
    assert [end - start for start, end in found] == [660, 600]


def test_a_night_shift_keeps_local_times_when_clocks_spring_forward() -> None:
    # Sunday 2026-03-08 02:00 EST becomes 03:00 EDT: that night shift is 9 hours long.
    pattern = {"start": "22:00", "end": "08:00", "timezone": "America/New_York"}
    found = spans(stretches_of(pattern, start="2026-03-08T00:00:00Z", days=2))
    assert found == [(3 * 60, 12 * 60), (26 * 60, 36 * 60)]
    assert [end - start for start, end in found] == [540, 600]


def absence(begin: str, end: str, who: str = "r1") -> dict[str, Any]:
    return {"type": "absence", "radiologist": who, "from": begin, "to": end}


def test_an_absence_cuts_a_hole_in_a_stretch() -> None:
    cut = absence("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")
    found = stretches_of({"start": "08:00", "end": "16:00", "timezone": "UTC"}, events=[cut])
    assert spans(found) == [(480, 600), (660, 960)]


def test_an_absence_covering_a_stretch_removes_it() -> None:
    cut = absence("2026-12-01T07:00:00Z", "2026-12-01T17:00:00Z")
    pattern = {"start": "08:00", "end": "16:00", "timezone": "UTC"}
    assert spans(stretches_of(pattern, days=2, events=[cut])) == [(DAY + 480, DAY + 960)]


def test_an_absence_touches_only_its_own_reader() -> None:
    cut = absence("2026-12-01T07:00:00Z", "2026-12-01T17:00:00Z", who="r2")
    scenario = build(radiologists=[reader("r1"), reader("r2")], events=[cut])
    mine, theirs = reader_stretches(scenario, DAY)
    assert spans(mine) == [(480, 960)]
    assert theirs == []


def test_stretches_end_at_run_until() -> None:
    pattern = {"start": "08:00", "end": "16:00", "timezone": "UTC"}
    scenario = build(radiologists=[reader(shifts=[pattern])], days=3)
    assert spans(reader_stretches(scenario, DAY + 500)[0]) == [(480, 960), (DAY + 480, DAY + 960)]


# ----- eligibility -------------------------------------------------------------------------
TWO_FACILITIES = [
    {"id": "f1", "state": "WY", "timezone": "America/Denver"},
    {"id": "f2", "state": "NY", "timezone": "America/New_York"},
]
CT, MR = MODALITIES.index(Modality.CT), MODALITIES.index(Modality.MR)


def until(
    readers: list[dict[str, Any]], facility: int, modality: int, subspecialty: str | None
) -> dict[str, float]:
    """Per reader id, the minute until which they may read such a study (-inf: never)."""
    world = compile_world(build(facilities=TWO_FACILITIES, radiologists=readers))
    found = world.class_until[world.class_of(facility, modality, subspecialty)]
    assert isinstance(found, np.ndarray)
    return dict(zip(world.reader_ids, found.tolist(), strict=True))


EVERYWHERE = {"licenses": ["WY", "NY"], "credentials": ["f1", "f2"]}


def test_eligibility_needs_a_license_in_the_facility_state() -> None:
    readers = [reader("both", **EVERYWHERE), reader("wy-only", credentials=["f1", "f2"])]
    assert until(readers, 1, CT, None) == {"both": math.inf, "wy-only": -math.inf}
    assert until(readers, 0, CT, None) == {"both": math.inf, "wy-only": math.inf}


def test_eligibility_needs_a_credential_at_the_facility() -> None:
    readers = [reader("both", **EVERYWHERE), reader("f1-only", licenses=["WY", "NY"])]
    assert until(readers, 1, CT, None) == {"both": math.inf, "f1-only": -math.inf}
    assert until(readers, 0, CT, None) == {"both": math.inf, "f1-only": math.inf}


def test_eligibility_honours_a_modality_restriction() -> None:
    readers = [reader("ct-only", modalities=["CT"]), reader("any", modalities=[])]
    assert until(readers, 0, CT, None) == {"ct-only": math.inf, "any": math.inf}
    assert until(readers, 0, MR, None) == {"ct-only": -math.inf, "any": math.inf}


def test_eligibility_needs_a_required_subspecialty() -> None:
    readers = [reader("neuro", subspecialties=["neuro"]), reader("general")]
    assert until(readers, 0, CT, "neuro") == {"neuro": math.inf, "general": -math.inf}


def test_a_subspecialty_that_is_not_required_does_not_restrict() -> None:
    readers = [reader("neuro", subspecialties=["neuro"]), reader("general")]
    assert until(readers, 0, CT, None) == {"neuro": math.inf, "general": math.inf}


def test_an_expiring_license_ends_at_midnight_in_the_state() -> None:
    # Wyoming documents are dated in Denver time: the end of 2026-12-03 MST is 07:00 UTC on 12-04.
    expiring = reader("expiring", licenses=[{"state": "WY", "expires_on": "2026-12-03"}])
    found = until([expiring, reader("lasting")], 0, CT, None)
    assert found == {"expiring": 3 * DAY + 7 * 60, "lasting": math.inf}


def test_an_expiring_credential_ends_at_midnight_at_the_facility() -> None:
    # New York privileges dated 2026-12-02 last until 05:00 UTC on 12-03.
    expiring = reader(
        "expiring",
        licenses=["WY", "NY"],
        credentials=[{"facility": "f2", "expires_on": "2026-12-02"}],
    )
    assert until([expiring], 1, CT, None) == {"expiring": 2 * DAY + 5 * 60}


def test_the_same_study_kind_is_one_class() -> None:
    world = compile_world(build(facilities=TWO_FACILITIES))
    first = world.class_of(1, MR, "neuro")
    assert world.class_of(0, MR, "neuro") != first
    assert world.class_of(1, MR, None) != first
    assert world.class_of(1, MR, "neuro") == first
