"""Breaks: taken now, or booked ahead with a window that cuts the reader's shifts; and what an
uncovered study says while the one reader who could read it is away."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import Api, iso


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.radiologist("rad-1")
    return api


def _away(api: Api, reader: str, status: int = 200, **body: Any) -> Any:
    return api.call(
        "POST", f"/v1/radiologists/{reader}/availability", {"available": False, **body}, status
    )


def _at(api: Api, minutes: float) -> str:
    return iso(api.clock.now() + timedelta(minutes=minutes))


def test_a_break_booked_ahead_cuts_the_shift(practice: Api) -> None:
    practice.radiologist("rad-2")
    booked = _away(practice, "rad-1", **{"from": _at(practice, 60), "to": _at(practice, 90)})
    assert booked["absence"]["from"] == _at(practice, 60)
    assert booked["available"] is True  # booked ahead: not away yet
    # Neither reader is busy, but rad-1 cannot finish a 90-minute read before the break.
    for accession in ("WY-1", "WY-2"):
        study = practice.study(accession, expected_minutes=90, priority="ROUTINE")
        assert study["assigned_to"] == "rad-2"
    listed = practice.call("GET", "/v1/radiologists/rad-1/absences", status=200)["items"]
    assert [a["id"] for a in listed] == [booked["absence"]["id"]]
    worklist = practice.call("GET", "/v1/radiologists/rad-1/worklist", status=200)
    assert worklist["on_shift"] is True


def test_a_short_read_still_fits_before_the_break(practice: Api) -> None:
    _away(practice, "rad-1", **{"from": _at(practice, 60), "to": _at(practice, 90)})
    study = practice.study("WY-1", expected_minutes=20)
    assert study["predicted_start"] == _at(practice, 0)


def test_a_break_from_now_hands_the_work_to_someone_else(practice: Api) -> None:
    practice.radiologist("rad-2")
    first = practice.study("WY-1", priority="STAT")
    holder = first["assigned_to"]
    other = "rad-2" if holder == "rad-1" else "rad-1"
    moved = _away(practice, holder, to=_at(practice, 30), reason="lunch")
    assert moved["reassigned"] == 1
    assert practice.get_study(first["id"])["assigned_to"] == other


def test_back_early_ends_the_break_under_way(practice: Api) -> None:
    _away(practice, "rad-1", to=_at(practice, 30))
    ahead = _away(practice, "rad-1", **{"from": _at(practice, 120), "to": _at(practice, 150)})
    practice.call("POST", "/v1/radiologists/rad-1/availability", {"available": True}, 200)
    listed = practice.call("GET", "/v1/radiologists/rad-1/absences", status=200)["items"]
    assert [a["id"] for a in listed] == [ahead["absence"]["id"]]  # the booking ahead stays
    assert practice.study("WY-1")["predicted_start"] == _at(practice, 0)


def test_a_booked_break_can_be_called_off(practice: Api) -> None:
    booked = _away(practice, "rad-1", **{"from": _at(practice, 60), "to": _at(practice, 90)})
    path = f"/v1/radiologists/rad-1/absences/{booked['absence']['id']}"
    practice.call("DELETE", path, status=204)
    practice.call("DELETE", path, status=404)
    assert practice.call("GET", "/v1/radiologists/rad-1/absences", status=200)["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": 60, "to": 30}, "to"),
        ({"from": 60}, "to"),
        ({"from": -60, "to": 30}, "from"),
        ({"to": 60 * 30}, "to"),
        ({"available": True, "to": 30}, "to"),
    ],
)
def test_a_bad_window_names_the_field_and_books_nothing(
    practice: Api, body: dict[str, Any], field: str
) -> None:
    sent = {"available": False}
    for name in ("from", "to"):
        if name in body:
            sent[name] = _at(practice, body[name])
    sent["available"] = body.get("available", False)
    problem = practice.call("POST", "/v1/radiologists/rad-1/availability", sent, 422)
    assert problem["errors"][0]["field"] == field
    assert practice.call("GET", "/v1/radiologists/rad-1/absences", status=200)["items"] == []
    assert practice.call("GET", "/v1/radiologists/rad-1", status=200)["available"] is True


def test_an_uncovered_study_names_the_reader_who_is_away(practice: Api) -> None:
    practice.facility("fac-tx", state="TX")
    practice.radiologist("rad-tx", licenses=["TX"], credentials=["fac-tx"])
    _away(practice, "rad-tx", reason="lunch")
    study = practice.study("TX-1", facility="fac-tx")
    assert study["status"] == "uncovered"
    assert "licensed in TX" in study["uncovered_reason"]
    assert "on shift but away: rad-tx (unavailable: lunch)" in study["uncovered_reason"]
    practice.call("POST", "/v1/radiologists/rad-tx/availability", {"available": True}, 200)
    assert practice.get_study(study["id"])["assigned_to"] == "rad-tx"


def test_a_site_sees_why_nobody_can_take_it_but_not_who_is_away(practice: Api) -> None:
    from tests.api.test_hardening import site_token

    practice.facility("fac-tx", state="TX")
    practice.radiologist("rad-tx", licenses=["TX"], credentials=["fac-tx"])
    _away(practice, "rad-tx", reason="lunch")
    token = site_token(practice, "fac-tx")
    body = {"facility": "fac-tx", "accession": "TX-9", "modality": "CT", "priority": "STAT"}
    headers = {"Authorization": f"Bearer {token}"}
    made = practice.client.post("/v1/studies", json=body, headers=headers).json()
    assert made["status"] == "uncovered"
    assert "licensed in TX" in made["uncovered_reason"]
    seen = practice.client.get(f"/v1/studies/{made['id']}", headers=headers).json()
    for shown in (made, seen):
        assert "rad-" not in str(shown), shown


def test_reasons_for_a_site_name_no_reader() -> None:
    from nighthawk.service.views import reason_for_site

    assert reason_for_site(
        "handed back by rad-1, rad-2; no other eligible radiologist on shift can take it"
    ) == ("handed back by its reader; no other eligible radiologist on shift can take it")
    assert (
        reason_for_site(
            "no radiologist on shift is licensed in WY; on shift but away: rad-wy (away until "
            "02:30 UTC: lunch)"
        )
        == "no radiologist on shift is licensed in WY"
    )
    assert reason_for_site(None) is None
