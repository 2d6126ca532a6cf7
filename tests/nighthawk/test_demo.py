"""The demo practice generator: reproducible, valid, and shaped like a real teleradiology night."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
import us

from models.priority import DEFAULT_SLA_MINUTES, Priority
from models.snapshot import Snapshot, SnapshotRadiologist, SnapshotStudy
from nighthawk.demo import DEFAULT_NOW, generate_snapshot, snapshot_to_json


@pytest.fixture(scope="module")
def practice() -> Snapshot:
    return generate_snapshot(studies=2000, radiologists=100, seed=7)


@pytest.fixture(scope="module")
def contested() -> Snapshot:
    return generate_snapshot(studies=150, radiologists=12, seed=7, contested=True)


def eligible_readers(snapshot: Snapshot) -> list[list[SnapshotRadiologist]]:
    """Per study, the readers the hard rules allow (shift aside), with expiry as of today."""
    today = snapshot.now.date()

    def current(expires_on: object) -> bool:
        return expires_on is None or expires_on >= today

    reach = [
        (
            reader,
            {lic.state for lic in reader.licenses if current(lic.expires_on)},
            {cred.facility for cred in reader.credentials if current(cred.expires_on)},
        )
        for reader in snapshot.radiologists
    ]
    return [
        [
            reader
            for reader, states, facilities in reach
            if study.state in states
            and study.facility in facilities
            and (not reader.modalities or study.modality in reader.modalities)
            and (not study.subspecialty_required or study.subspecialty in reader.subspecialties)
        ]
        for study in snapshot.studies
    ]


def greedy_stat_breaches(snapshot: Snapshot) -> int:
    """Priority, then due time, each to the eligible reader who would finish it first."""
    free_at = {
        r.id: max(snapshot.now + timedelta(minutes=r.backlog_minutes), r.shift_start)
        for r in snapshot.radiologists
    }
    pairs = sorted(
        zip(snapshot.studies, eligible_readers(snapshot), strict=True),
        key=lambda pair: (pair[0].priority.rank, pair[0].due_at),
    )
    breaches = 0
    for study, readers in pairs:
        if not readers:
            continue

        def finish(reader: SnapshotRadiologist, study: SnapshotStudy = study) -> datetime:
            return free_at[reader.id] + timedelta(minutes=study.expected_minutes / reader.speed)

        chosen = min(readers, key=finish)
        free_at[chosen.id] = finish(chosen)
        breaches += study.priority is Priority.STAT and free_at[chosen.id] > study.due_at
    return breaches


def share(items: list[object], value: object) -> float:
    return sum(item == value for item in items) / len(items)


# --- reproducibility and validity ------------------------------------------------------------


@pytest.mark.parametrize("contested_night", [False, True])
def test_same_seed_gives_identical_json(contested_night: bool) -> None:
    first = generate_snapshot(300, 25, seed=3, contested=contested_night)
    second = generate_snapshot(300, 25, seed=3, contested=contested_night)
    assert snapshot_to_json(first) == snapshot_to_json(second)


def test_different_seed_gives_a_different_practice() -> None:
    assert snapshot_to_json(generate_snapshot(300, 25, seed=3)) != snapshot_to_json(
        generate_snapshot(300, 25, seed=4)
    )


@pytest.mark.parametrize("contested_night", [False, True])
def test_round_trips_through_json_validation(contested_night: bool) -> None:
    snapshot = generate_snapshot(400, 30, seed=11, contested=contested_night)
    assert Snapshot.model_validate(snapshot.model_dump(mode="json")) == snapshot
    assert Snapshot.model_validate_json(snapshot_to_json(snapshot)) == snapshot


@pytest.mark.parametrize(
    ("studies", "radiologists", "facilities"),
    [(0, 0, 20), (10, 3, 20), (400, 30, 50), (5000, 40, 625), (16_100, 2, 2000)],
)
def test_sizes_are_honoured(studies: int, radiologists: int, facilities: int) -> None:
    snapshot = generate_snapshot(studies, radiologists, seed=1)
    assert len(snapshot.studies) == studies
    assert len(snapshot.radiologists) == radiologists
    assert len(snapshot.facilities) == facilities
    assert snapshot.studies[:1] == [] or snapshot.studies[0].id == "st-00001"
    assert snapshot.radiologists[:1] == [] or snapshot.radiologists[0].id == "rad-001"


def test_now_defaults_to_a_fixed_time_and_can_be_given() -> None:
    assert (
        generate_snapshot(5, 2, seed=0).now
        == DEFAULT_NOW
        == datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
    )
    later = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    snapshot = generate_snapshot(50, 5, seed=0, now=later)
    assert snapshot.now == later
    assert all(study.arrived_at <= later for study in snapshot.studies)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_snapshot(5, 2, seed=0, now=datetime(2026, 12, 5, 7, 30))


# --- facilities ------------------------------------------------------------------------------


def test_facilities_span_all_states_in_their_capitals_time_zone(practice: Snapshot) -> None:
    zones = {state.abbr: state.capital_tz for state in us.states.STATES}
    assert {f.state for f in practice.facilities} == set(zones)
    assert all(f.timezone == zones[f.state] for f in practice.facilities)
    custom = [f for f in practice.facilities if f.sla_minutes.model_dump(exclude_none=True)]
    assert 0.10 < len(custom) / len(practice.facilities) < 0.30


# --- studies ---------------------------------------------------------------------------------


def test_priority_and_modality_mix(practice: Snapshot) -> None:
    priorities = [s.priority for s in practice.studies]
    assert 0.08 <= share(priorities, Priority.STAT) <= 0.12
    assert 0.21 <= share(priorities, Priority.URGENT) <= 0.29
    assert 0.60 <= share(priorities, Priority.ROUTINE) <= 0.70
    modalities = [s.modality.value for s in practice.studies]
    assert 0.40 < share(modalities, "CT") < 0.50
    assert 0.20 < share(modalities, "XR") < 0.30
    ct_minutes = [s.expected_minutes for s in practice.studies if s.modality == "CT"]
    xr_minutes = [s.expected_minutes for s in practice.studies if s.modality == "XR"]
    assert 14 < statistics.mean(ct_minutes) < 18
    assert 2 < statistics.mean(xr_minutes) < 4
    assert all(1 <= s.expected_minutes <= 90 for s in practice.studies)


def test_subspecialty_and_assignment_shares(practice: Snapshot) -> None:
    studies = practice.studies
    assert 0.30 < sum(s.subspecialty is not None for s in studies) / len(studies) < 0.40
    assert 0.05 < sum(s.subspecialty_required for s in studies) / len(studies) < 0.11
    assert 0.15 < sum(s.assigned_to is not None for s in studies) / len(studies) < 0.25


def test_arrivals_are_in_the_past_within_their_class_window(practice: Snapshot) -> None:
    window = {Priority.STAT: 25, Priority.URGENT: 100, Priority.ROUTINE: 20 * 60}
    for study in practice.studies:
        assert study.arrived_at <= practice.now
        assert practice.now - study.arrived_at <= timedelta(minutes=window[study.priority])


def test_due_time_follows_the_facility_contract(practice: Snapshot) -> None:
    facilities = {f.id: f for f in practice.facilities}
    for study in practice.studies:
        contract = facilities[study.facility].sla_minutes
        minutes = contract.minutes(study.priority, DEFAULT_SLA_MINUTES)
        assert study.due_at == study.arrived_at + timedelta(minutes=minutes)
        assert study.state == facilities[study.facility].state
    overridden = [s for s in practice.studies if facilities[s.facility].sla_minutes.STAT]
    assert any(
        s.priority is Priority.STAT and s.due_at - s.arrived_at != timedelta(minutes=30)
        for s in overridden
    )


def test_almost_every_study_has_an_eligible_reader(practice: Snapshot) -> None:
    readable = [bool(readers) for readers in eligible_readers(practice)]
    uncovered = readable.count(False) / len(readable)
    # A few studies deliberately come from a hospital whose credentialing is not done.
    assert 0.003 <= uncovered <= 0.03


# --- radiologists ----------------------------------------------------------------------------


def test_readers_hold_about_fourteen_licenses(practice: Snapshot) -> None:
    licenses = [len(r.licenses) for r in practice.radiologists]
    assert 12.5 < statistics.mean(licenses) < 15.5
    assert statistics.mean(len(r.credentials) for r in practice.radiologists) > 30


def test_a_few_licenses_and_credentials_have_lapsed() -> None:
    snapshot = generate_snapshot(2000, 300, seed=5)
    today = snapshot.now.date()
    dated = [
        item.expires_on for r in snapshot.radiologists for item in (*r.licenses, *r.credentials)
    ]
    lapsed = sum(d is not None and d < today for d in dated) / len(dated)
    assert 0.005 < lapsed < 0.04
    assert sum(d is not None and d >= today for d in dated) / len(dated) > 0.05


def test_reader_attributes_are_plausible(practice: Snapshot) -> None:
    now = practice.now
    readers = practice.radiologists
    assert all(0.6 <= r.speed <= 1.6 and 0 <= r.backlog_minutes <= 20 for r in readers)
    assert all(r.shift_end > now and r.shift_start <= now + timedelta(hours=1) for r in readers)
    assert all(len(r.subspecialties) <= 2 for r in readers)
    restricted = sum(bool(r.modalities) for r in readers) / len(readers)
    assert 0.05 < restricted < 0.30


# --- contested nights ------------------------------------------------------------------------


def test_contested_night_has_more_stats_and_fewer_licenses(
    practice: Snapshot, contested: Snapshot
) -> None:
    def stat_share(snapshot: Snapshot) -> float:
        return share([s.priority for s in snapshot.studies], Priority.STAT)

    assert stat_share(contested) > 0.2 > stat_share(practice)
    contested_licenses = statistics.mean(len(r.licenses) for r in contested.radiologists)
    assert 4 <= contested_licenses <= 6
    stat_arrivals = [
        contested.now - s.arrived_at for s in contested.studies if s.priority == "STAT"
    ]
    assert max(stat_arrivals) <= timedelta(minutes=20)


def test_contested_stats_have_few_eligible_readers_and_greedy_breaches(
    contested: Snapshot,
) -> None:
    eligible = [
        len(readers)
        for study, readers in zip(contested.studies, eligible_readers(contested), strict=True)
        if study.priority is Priority.STAT
    ]
    assert 2 <= statistics.median(eligible) <= 4
    assert greedy_stat_breaches(contested) >= 5
