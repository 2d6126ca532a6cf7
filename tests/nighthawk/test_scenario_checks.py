"""Tests for ``nighthawk.scenario_checks``: what is legal but almost surely a mistake, in
warned / not-warned pairs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.scenario import Scenario, parse_scenario
from models.state_zones import zone_fits_state
from nighthawk.class_eligibility import MODALITIES
from nighthawk.scenario_checks import scenario_warnings
from simulations.world import compile_world

START = "2026-12-01T00:00:00Z"


def practice(**fields: Any) -> Scenario:
    """Two facilities, each read by one reader on a night shift; override any field."""
    data: dict[str, Any] = {
        "name": "checks",
        "start": START,
        "days": 1,
        "facilities": [
            {"id": "wy-1", "state": "WY", "timezone": "America/Denver"},
            {"id": "ny-1", "state": "NY", "timezone": "America/New_York"},
        ],
        "arrivals": [{"facility": "wy-1", "modality": "CT", "priority": "STAT", "per_hour": 1}],
        "radiologists": [
            {
                "id": "r1",
                "licenses": ["WY"],
                "credentials": ["wy-1"],
                "shifts": [{"start": "22:00", "end": "08:00", "timezone": "America/Denver"}],
            },
            {
                "id": "r2",
                "licenses": ["NY"],
                "credentials": ["ny-1"],
                "shifts": [{"start": "00:00", "end": "24:00", "timezone": "UTC"}],
            },
        ],
    }
    data.update(fields)
    return parse_scenario(data)


def paths(scenario: Scenario) -> list[str]:
    return [path for path, _ in scenario_warnings(scenario)]


def test_a_sound_practice_has_no_warnings() -> None:
    assert scenario_warnings(practice()) == []


# --- a facility nobody can ever read ----------------------------------------------------------


def test_a_facility_whose_state_nobody_is_licensed_in_is_warned_about() -> None:
    readers = practice().model_dump(mode="json")["radiologists"]
    readers[1]["licenses"] = [{"state": "NJ"}]
    [(path, message)] = scenario_warnings(practice(radiologists=readers))
    assert path == "facilities[1]"
    assert message.startswith("nobody can ever read ny-1's studies: no radiologist is both ")
    assert "licensed in NY and credentialed at ny-1" in message


def test_a_license_and_a_credential_held_by_different_readers_are_not_enough() -> None:
    readers = practice().model_dump(mode="json")["radiologists"]
    readers[0]["licenses"] = [{"state": "WY"}, {"state": "NY"}]
    readers[1]["licenses"] = [{"state": "CT"}]  # r2 keeps the credential at ny-1
    assert paths(practice(radiologists=readers)) == ["facilities[1]"]


def test_a_license_that_lapsed_before_the_start_does_not_count() -> None:
    readers = practice().model_dump(mode="json")["radiologists"]
    readers[1]["licenses"] = [{"state": "NY", "expires_on": "2026-11-01"}]
    assert paths(practice(radiologists=readers)) == ["facilities[1]"]
    readers[1]["licenses"] = [{"state": "NY", "expires_on": "2026-12-01"}]  # lapses mid-run
    assert paths(practice(radiologists=readers)) == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sets(st.sampled_from(["WY", "NY", "CO"])),
            st.sets(st.sampled_from(["wy-1", "ny-1", "co-1"])),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_property_warned_exactly_where_the_simulator_finds_no_eligible_reader(
    rights: list[tuple[set[str], set[str]]],
) -> None:
    facilities = [
        {"id": "wy-1", "state": "WY", "timezone": "America/Denver"},
        {"id": "ny-1", "state": "NY", "timezone": "America/New_York"},
        {"id": "co-1", "state": "CO", "timezone": "America/Denver"},
    ]
    readers = [
        {"id": f"r{i}", "licenses": sorted(states), "credentials": sorted(held)}
        for i, (states, held) in enumerate(rights)
    ]
    scenario = practice(facilities=facilities, radiologists=readers)
    world = compile_world(scenario)
    never_readable = {
        f"facilities[{index}]"
        for index in range(len(facilities))
        if not any(
            (world.eligibility.until(index, modality, None) > 0).any() for modality in MODALITIES
        )
    }
    warned = {path for path in paths(scenario) if path.startswith("facilities[")}
    assert warned == never_readable
    # The referee from the text: someone holds both the state's license and the credential.
    assert warned == {
        f"facilities[{index}]"
        for index, facility in enumerate(facilities)
        if not any(facility["state"] in s and facility["id"] in h for s, h in rights)
    }


# --- a shift whose end equals its start -------------------------------------------------------


def shifts(*spans: tuple[str, str]) -> list[dict[str, Any]]:
    readers = practice().model_dump(mode="json")["radiologists"]
    readers[0]["shifts"] = [
        {"start": start, "end": end, "timezone": "America/Denver"} for start, end in spans
    ]
    return readers


@pytest.mark.parametrize(
    ("start", "end", "advice"),
    [("08:00", "08:00", "two shifts that meet"), ("00:00", "00:00", 'end: "24:00"')],
)
def test_a_shift_ending_at_its_start_is_warned_about(start: str, end: str, advice: str) -> None:
    [(path, message)] = scenario_warnings(practice(radiologists=shifts((start, end))))
    assert path == "radiologists[0].shifts[0]"
    assert message.startswith(f"end equals start ({start}): read as 24 hours on duty")
    assert advice in message


@pytest.mark.parametrize(("start", "end"), [("00:00", "24:00"), ("22:00", "08:00")])
def test_a_whole_day_written_out_or_a_night_shift_is_not(start: str, end: str) -> None:
    assert scenario_warnings(practice(radiologists=shifts((start, end)))) == []


def test_a_shift_template_ending_at_its_start_is_warned_about() -> None:
    template = {"id": "day", "start": "07:00", "end": "07:00", "timezone": "America/Denver"}
    assert paths(practice(shift_templates=[template])) == ["shift_templates[0]"]


# --- a facility's time zone ---------------------------------------------------------------


def test_a_facility_on_another_states_clock_is_warned_about() -> None:
    facilities = practice().model_dump(mode="json")["facilities"]
    facilities[0]["timezone"] = "America/New_York"
    [(path, message)] = scenario_warnings(practice(facilities=facilities))
    assert path == "facilities[0].timezone"
    assert message.startswith("America/New_York is not a time zone of WY (one of America/Denver)")


@pytest.mark.parametrize(
    ("zone", "state"),
    [
        ("US/Mountain", "WY"),  # a link to America/Denver: the same clock
        ("America/Indiana/Indianapolis", "IN"),
        ("America/Detroit", "MI"),  # not America/New_York's name, but its clock
        ("America/Boise", "ID"),
        ("UTC", "ZZ"),  # a code the table does not know: nothing to say
    ],
)
def test_a_zone_of_the_state_or_on_its_clock_fits(zone: str, state: str) -> None:
    assert zone_fits_state(zone, state, 2026)


@pytest.mark.parametrize(
    ("zone", "state"), [("UTC", "WY"), ("America/Phoenix", "CO"), ("America/Chicago", "CA")]
)
def test_a_zone_on_another_clock_does_not(zone: str, state: str) -> None:
    assert not zone_fits_state(zone, state, 2026)
