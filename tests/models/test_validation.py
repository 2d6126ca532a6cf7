"""Tests for ``models.validation`` on the scenario contract: every problem at once, named as
the user wrote it, a misspelled field with the name it was probably meant to be."""

from __future__ import annotations

from typing import Any

from tests.simulations.test_scenario import error_of, event, mutated


def test_a_misspelled_field_is_named_with_a_suggestion_not_as_missing() -> None:
    # Before: "arrivals[0].per_hour: required field is missing".
    data = mutated(lambda d: d["arrivals"][0].update(per_huor=d["arrivals"][0].pop("per_hour")))
    assert (
        error_of(data) == "scenario: arrivals[0].per_huor: unknown field (did you mean per_hour?)"
    )


def test_an_unknown_field_far_from_any_name_has_no_suggestion() -> None:
    assert error_of(mutated(lambda d: d.update(colour="blue"))) == "scenario: colour: unknown field"


def test_every_problem_is_reported_at_once_in_document_order() -> None:
    def break_several(d: dict[str, Any]) -> None:
        d["dayz"] = d.pop("days")
        d["arrivals"][0]["priorty"] = d["arrivals"][0].pop("priority")
        d["radiologists"][0]["shifts"][0]["start"] = "25:00"
        d["radiologists"][0]["speed"] = "fast"

    lines = error_of(mutated(break_several)).splitlines()
    assert lines == [
        "scenario: arrivals[0].priorty: unknown field (did you mean priority?)",
        "scenario: radiologists[0].shifts[0].start: not a time of day: '25:00'",
        "scenario: radiologists[0].speed: must be a number",
        "scenario: dayz: unknown field (did you mean days?)",
    ]


def test_a_tagged_event_is_named_without_its_tag() -> None:
    # pydantic locates it at events[0].absence.form; the user wrote events[0].form.
    message = error_of(mutated(event(type="absence", radiologist="r1", form="x")))
    assert message == "scenario: events[0].form: unknown field (did you mean from?)"


def test_reference_problems_are_all_reported() -> None:
    def break_references(d: dict[str, Any]) -> None:
        d["arrivals"][0]["facility"] = "nowhere"
        d["radiologists"][0]["credentials"] = ["f1", "elsewhere"]

    assert error_of(mutated(break_references)).splitlines() == [
        "scenario: arrivals[0].facility: unknown facility 'nowhere'",
        "scenario: radiologists[0].credentials[1]: unknown facility 'elsewhere'",
    ]


def test_at_most_twenty_problems_are_listed_then_counted() -> None:
    data = mutated(lambda d: d.update(radiologists=[{"idd": f"r{i}"} for i in range(25)]))
    lines = error_of(data).splitlines()
    assert len(lines) == 21
    assert lines[0] == "scenario: radiologists[0].idd: unknown field (did you mean id?)"
    assert lines[-1] == "scenario: and 5 more problems"
