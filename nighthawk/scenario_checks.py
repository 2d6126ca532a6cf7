"""What a valid scenario may still hold by mistake: legal, but almost surely not meant.

- A facility nobody can ever read: no radiologist holds both a license in its state and
  privileges at the facility (still valid after the start), so every study there goes unread.
- A shift whose end equals its start: read as 24 hours on duty, which a typo looks like too.
- A facility whose time zone is none of its state's: its hourly arrival profile and its
  privileges' expiry would run on another clock.

Each is a (field path, message) pair; callers print them as warnings, or refuse the scenario
when asked to be strict.
"""

from __future__ import annotations

from models.scenario import LocalSpan, Scenario, parse_clock
from models.state_zones import STATE_TIME_ZONES, zone_fits_state
from nighthawk.class_eligibility import MODALITIES, ClassEligibility

__all__ = ["scenario_warnings"]


def scenario_warnings(scenario: Scenario) -> list[tuple[str, str]]:
    """Every likely mistake in the scenario, as (field path, message), in document order."""
    return [
        *_zones_of_other_states(scenario),
        *_unreadable_facilities(scenario),
        *_whole_day_shifts(scenario),
    ]


def _unreadable_facilities(scenario: Scenario) -> list[tuple[str, str]]:
    ids = [facility.id for facility in scenario.facilities]
    eligibility = ClassEligibility(
        scenario, ids, [facility.state for facility in scenario.facilities]
    )
    problems = []
    for index, facility in enumerate(scenario.facilities):
        # The simulator's own eligibility, at its widest: any modality, no subspecialty needed.
        readable = any(
            (eligibility.until(index, modality, None) > 0).any() for modality in MODALITIES
        )
        if not readable:
            problems.append(
                (
                    f"facilities[{index}]",
                    f"nobody can ever read {facility.id}'s studies: no radiologist is both "
                    f"licensed in {facility.state} and credentialed at {facility.id} "
                    "(with both valid after the start)",
                )
            )
    return problems


def _whole_day(span: LocalSpan) -> bool:
    return parse_clock(span.start) == parse_clock(span.end, allow_midnight_end=True)


def _whole_day_message(span: LocalSpan) -> str:
    advice = (
        'write end: "24:00" for a whole day from midnight'
        if parse_clock(span.start) == 0
        else "if a whole day is meant, write it as two shifts that meet"
    )
    return f"end equals start ({span.start}): read as 24 hours on duty; {advice}"


def _whole_day_shifts(scenario: Scenario) -> list[tuple[str, str]]:
    problems = [
        (f"radiologists[{i}].shifts[{j}]", _whole_day_message(shift))
        for i, reader in enumerate(scenario.radiologists)
        for j, shift in enumerate(reader.shifts)
        if _whole_day(shift)
    ]
    problems += [
        (f"shift_templates[{i}]", _whole_day_message(template))
        for i, template in enumerate(scenario.shift_templates)
        if _whole_day(template)
    ]
    return problems


def _zones_of_other_states(scenario: Scenario) -> list[tuple[str, str]]:
    return [
        (
            f"facilities[{index}].timezone",
            f"{facility.timezone} is not a time zone of {facility.state} (one of "
            f"{', '.join(STATE_TIME_ZONES[facility.state])}); local hours would run on "
            "another clock",
        )
        for index, facility in enumerate(scenario.facilities)
        if not zone_fits_state(facility.timezone, facility.state, scenario.start.year)
    ]
