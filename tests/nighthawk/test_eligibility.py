"""One rule, one pair of cases: the rule holds / the rule is broken, with the reason shown."""

from __future__ import annotations

import pytest

from nighthawk.eligibility import Eligibility
from nighthawk.problem import build_problem
from tests.nighthawk.builders import reader, snapshot, study


def eligibility_of(rad: dict, st: dict) -> Eligibility:
    return Eligibility(build_problem(snapshot([rad], [st])))


def reasons(rad: dict, st: dict) -> list[tuple[str, str]]:
    return [(r.code, r.text) for r in eligibility_of(rad, st).reasons(0, 0)]


def test_an_eligible_pair_has_no_reasons() -> None:
    result = eligibility_of(reader(), study())
    assert result.matrix[0, 0]
    assert result.reasons(0, 0) == []


def test_license_in_the_patients_state_is_required() -> None:
    assert reasons(reader(licenses=["NV"]), study(state="CA")) == [
        ("NOT_LICENSED", "not licensed in CA")
    ]
    assert reasons(reader(licenses=["NV", "CA"]), study(state="CA")) == []


def test_license_must_be_valid_when_the_read_finishes() -> None:
    # A CA license dated 2026-12-04 ended at midnight Pacific: 08:00Z on the 5th.
    ending_soon = reader(licenses=[{"state": "CA", "expires_on": "2026-12-04"}])
    assert reasons(ending_soon, study(expected_minutes=20)) == []
    codes = [code for code, _ in reasons(ending_soon, study(expected_minutes=40))]
    assert codes == ["LICENSE_EXPIRED"]
    expired = reader(licenses=[{"state": "CA", "expires_on": "2026-12-01"}])
    assert reasons(expired, study())[0][1].startswith("license in CA expired")


def test_credential_at_the_facility_is_required() -> None:
    assert reasons(reader(credentials=["fac-2"]), study(facility="fac-1")) == [
        ("NOT_CREDENTIALED", "not credentialed at fac-1")
    ]


def test_credential_must_be_valid_when_the_read_finishes() -> None:
    expired = reader(credentials=[{"facility": "fac-1", "expires_on": "2026-11-30"}])
    assert [code for code, _ in reasons(expired, study())] == ["CREDENTIAL_EXPIRED"]
    current = reader(credentials=[{"facility": "fac-1", "expires_on": "2027-11-30"}])
    assert reasons(current, study()) == []


def test_credential_expiry_uses_the_facility_time_zone() -> None:
    # fac-1 contracts in New York: 2026-12-04 ends at 05:00Z on the 5th, before now.
    facilities = [{"id": "fac-1", "state": "CA", "timezone": "America/New_York"}]
    rad = reader(credentials=[{"facility": "fac-1", "expires_on": "2026-12-04"}])
    problem = build_problem(snapshot([rad], [study()], facilities=facilities))
    assert not Eligibility(problem).matrix[0, 0]


@pytest.mark.parametrize(
    ("modalities", "modality", "eligible"),
    [([], "MR", True), (["CT"], "CT", True), (["CT", "XR"], "MR", False)],
)
def test_reader_reads_only_listed_modalities(
    modalities: list, modality: str, eligible: bool
) -> None:
    result = eligibility_of(reader(modalities=modalities), study(modality=modality))
    assert result.matrix[0, 0] == eligible
    if not eligible:
        assert result.reasons(0, 0)[0].text == f"does not read {modality}"


def test_required_subspecialty_is_a_hard_rule() -> None:
    neuro_required = study(subspecialty="neuro", subspecialty_required=True)
    assert [c for c, _ in reasons(reader(), neuro_required)] == ["SUBSPECIALTY_REQUIRED"]
    assert reasons(reader(subspecialties=["neuro"]), neuro_required) == []


def test_preferred_subspecialty_is_not_a_hard_rule() -> None:
    preferred = study(subspecialty="neuro", subspecialty_required=False)
    assert reasons(reader(), preferred) == []


def test_read_must_finish_before_the_shift_ends() -> None:
    # Ready at 07:30 (now); a 30-minute read cannot finish before an 07:50 shift end.
    short_shift = reader(shift_end="2026-12-05T07:50:00Z")
    assert reasons(short_shift, study(expected_minutes=15)) == []
    found = reasons(short_shift, study(expected_minutes=30))
    assert found == [
        ("SHIFT_ENDS", "shift ends at 2026-12-05T07:50:00Z, before the 30-minute read could finish")
    ]


def test_backlog_and_speed_count_toward_the_shift_end() -> None:
    busy = reader(shift_end="2026-12-05T08:00:00Z", backlog_minutes=20.0)
    assert reasons(busy, study(expected_minutes=9)) == []
    assert reasons(busy, study(expected_minutes=11))[0][0] == "SHIFT_ENDS"
    fast = reader(shift_end="2026-12-05T08:00:00Z", backlog_minutes=20.0, speed=2.0)
    assert reasons(fast, study(expected_minutes=18)) == []


def test_a_reader_whose_shift_ended_is_off_shift() -> None:
    ended = reader(shift_start="2026-12-05T00:00:00Z", shift_end="2026-12-05T07:00:00Z")
    assert reasons(ended, study())[0][1] == "off shift (shift ended at 2026-12-05T07:00:00Z)"


def test_every_broken_rule_is_listed() -> None:
    found = reasons(reader(licenses=["NV"], credentials=[], modalities=["XR"]), study())
    assert [code for code, _ in found] == ["NOT_LICENSED", "NOT_CREDENTIALED", "MODALITY_NOT_READ"]


def test_nobody_eligible_names_the_missing_combination() -> None:
    readers = [
        reader("rad-1", licenses=["WY"], credentials=["fac-2"]),
        reader("rad-2", licenses=["NV"], credentials=["fac-7"]),
    ]
    problem = build_problem(snapshot(readers, [study(state="WY", facility="fac-7")]))
    reason = Eligibility(problem).why_nobody(0)
    assert reason.text == "no radiologist on shift is licensed in WY and credentialed at fac-7"


def test_nobody_licensed_stops_at_the_license() -> None:
    problem = build_problem(snapshot([reader(licenses=["NV"])], [study(state="WY")]))
    assert Eligibility(problem).why_nobody(0).text == "no radiologist on shift is licensed in WY"


def test_matrix_is_vectorized_over_many_pairs() -> None:
    readers = [reader(f"rad-{i}", licenses=["CA"] if i % 2 else ["NV"]) for i in range(6)]
    studies = [study(f"st-{j}", state="CA" if j % 3 else "NV") for j in range(9)]
    matrix = Eligibility(build_problem(snapshot(readers, studies))).matrix
    for j in range(9):
        for i in range(6):
            assert matrix[j, i] == ((j % 3 != 0) == (i % 2 == 1))


def test_nobody_with_a_current_license_says_so() -> None:
    expired = reader(licenses=[{"state": "CA", "expires_on": "2026-11-01"}])
    problem = build_problem(snapshot([expired], [study()]))
    assert Eligibility(problem).why_nobody(0).text == (
        "no radiologist on shift is licensed in CA at reading time"
    )


def test_nobody_on_shift_long_enough() -> None:
    short = reader(shift_end="2026-12-05T07:35:00Z")
    problem = build_problem(snapshot([short], [study(expected_minutes=20)]))
    assert Eligibility(problem).why_nobody(0).text == (
        "no radiologist is on shift long enough to finish it"
    )


def test_nobody_on_shift_at_all() -> None:
    problem = build_problem(snapshot([], [study()]))
    reason = Eligibility(problem).why_nobody(0)
    assert (reason.code, reason.text) == ("NO_READER_ON_SHIFT", "no radiologist is on shift")
