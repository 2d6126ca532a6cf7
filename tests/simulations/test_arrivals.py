"""Tests for ``simulations.arrivals`` and the replication streams of ``simulations.runner``.

Statistical checks run on fixed seeds, so they are deterministic; their tolerances are still
honest (about four standard deviations), so a correct generator passes on any seed.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from models.priority import DEFAULT_READ_MINUTES, Modality
from simulations.arrivals import Studies, draw, generate_studies
from simulations.runner import make_studies, replication_streams
from simulations.scenario import ReadDistribution
from simulations.world import MODALITIES, World, compile_world
from tests.simulations.test_scenario import build

DAY = 24 * 60
CT, MR, XR = (MODALITIES.index(m) for m in (Modality.CT, Modality.MR, Modality.XR))
STAT, URGENT, ROUTINE = 0, 1, 2


def stream(per_hour: float = 6.0, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "facility": "f1",
        "modality": "CT",
        "priority": "STAT",
        "per_hour": per_hour,
    }
    data.update(fields)
    return data


def world_of(*streams: dict[str, Any], **fields: Any) -> World:
    return compile_world(build(arrivals=list(streams), **fields))


def studies_of(*streams: dict[str, Any], seed: int = 1, **fields: Any) -> Studies:
    return make_studies(world_of(*streams, **fields), seed, 0)


def within_poisson(count: int, mean: float, sds: float = 4.0) -> bool:
    return abs(count - mean) <= sds * math.sqrt(mean)


def assert_same(a: Studies, b: Studies) -> None:
    for field in fields(Studies):
        left, right = getattr(a, field.name), getattr(b, field.name)
        if isinstance(left, np.ndarray):
            np.testing.assert_array_equal(left, right, err_msg=field.name)
        else:
            assert left == right, field.name


def in_window(studies: Studies, begin_hour: float, end_hour: float, facility: int = 0) -> int:
    mine = studies.arrival[studies.facility == facility]
    return int(((mine >= begin_hour * 60) & (mine < end_hour * 60)).sum())


def surge(factor: float, begin: str, end: str, facility: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "surge",
        "factor": factor,
        "from": f"2026-12-01T{begin}:00Z",
        "to": f"2026-12-01T{end}:00Z",
    }
    if facility is not None:
        data["facility"] = facility
    return data


TWO_FACILITIES = [
    {"id": "f1", "state": "WY", "timezone": "America/Denver"},
    {"id": "f2", "state": "WY", "timezone": "America/Denver"},
]


# ----- reproducibility ------------------------------------------------------------------------
def test_same_seed_and_replication_give_identical_studies() -> None:
    world = world_of(stream(), stream(2, modality="MR", priority="URGENT"), days=2)
    assert len(make_studies(world, 5, 3)) > 0
    assert_same(make_studies(world, 5, 3), make_studies(world, 5, 3))


def test_another_replication_gives_other_arrivals() -> None:
    world = world_of(stream(), days=2)
    first, second = make_studies(world, 5, 0), make_studies(world, 5, 1)
    assert not np.array_equal(first.arrival, second.arrival)


def test_another_seed_gives_other_arrivals() -> None:
    world = world_of(stream(), days=2)
    assert not np.array_equal(make_studies(world, 5, 0).arrival, make_studies(world, 6, 0).arrival)


@pytest.mark.parametrize("replications", [4, 50])
def test_a_replication_does_not_depend_on_how_many_run(replications: int) -> None:
    # Replication k is child k of the seed's SeedSequence, however many children there are.
    world = world_of(stream(), stream(1, modality="MR"), days=2)
    child = np.random.SeedSequence(11).spawn(replications)[3]
    arrivals, reads = (np.random.default_rng(c) for c in child.spawn(2))
    assert_same(make_studies(world, 11, 3), generate_studies(world, arrivals, reads))


def test_arrival_and_read_streams_are_independent() -> None:
    arrivals, reads = replication_streams(11, 0)
    assert arrivals.random() != reads.random()


def test_read_times_do_not_move_arrivals() -> None:
    # Common random numbers: the read distribution draws from its own stream.
    fixed = {"CT": {"distribution": "fixed", "mean": 10}}
    lognormal = {"CT": {"distribution": "lognormal", "mean": 10, "sd": 5}}
    one = studies_of(stream(), read_minutes=fixed, days=2)
    other = studies_of(stream(), read_minutes=lognormal, days=2)
    np.testing.assert_array_equal(one.arrival, other.arrival)
    assert not np.array_equal(one.read, other.read)


def test_no_streams_give_no_studies() -> None:
    studies = make_studies(compile_world(build(arrivals=[])), 1, 0)
    assert len(studies) == 0
    assert studies.due.shape == studies.expected.shape == (0,)


def test_a_stream_of_rate_zero_gives_no_studies() -> None:
    assert len(studies_of(stream(0.0), days=3)) == 0


# ----- Poisson arrivals ---------------------------------------------------------------------
def test_a_constant_stream_gives_a_poisson_count() -> None:
    per_hour, days = 6.0, 10
    studies = studies_of(stream(per_hour), days=days)
    assert within_poisson(len(studies), per_hour * 24 * days)


def test_counts_over_replications_average_the_rate() -> None:
    per_hour, days, replications = 3.0, 2, 40
    world = world_of(stream(per_hour), days=days)
    total = sum(len(make_studies(world, 2, k)) for k in range(replications))
    assert within_poisson(total, per_hour * 24 * days * replications)


def test_arrivals_fall_inside_the_simulated_days() -> None:
    studies = studies_of(stream(20), days=1.5)
    assert studies.arrival.min() >= 0
    assert studies.arrival.max() < 1.5 * DAY


def test_inter_arrival_times_look_exponential() -> None:
    per_hour = 6.0
    studies = studies_of(stream(per_hour), days=10)
    gaps = np.diff(np.concatenate([[0.0], studies.arrival]))
    mean_gap = 60.0 / per_hour
    assert abs(gaps.mean() - mean_gap) <= 4 * mean_gap / math.sqrt(len(gaps))
    assert stats.kstest(gaps, "expon", args=(0, mean_gap)).pvalue > 1e-3


def test_the_hourly_profile_is_the_facility_local_hour() -> None:
    # Only local hour 3 in New York: 08:00-09:00 UTC in December (EST, UTC-5).
    profile = [0.0] * 24
    profile[3] = 1.0
    facility = {"id": "f1", "state": "NY", "timezone": "America/New_York"}
    studies = studies_of(stream(20, hourly_profile=profile), facilities=[facility], days=5)
    minute_of_day = studies.arrival % DAY
    assert ((minute_of_day >= 8 * 60) & (minute_of_day < 9 * 60)).all()
    assert sorted(set((studies.arrival // DAY).astype(int).tolist())) == [0, 1, 2, 3, 4]
    assert within_poisson(len(studies), 20 * 5)


def test_the_hourly_profile_follows_daylight_saving_time() -> None:
    # In July New York is on EDT (UTC-4): local hour 3 is 07:00-08:00 UTC.
    profile = [0.0] * 24
    profile[3] = 1.0
    facility = {"id": "f1", "state": "NY", "timezone": "America/New_York"}
    studies = studies_of(
        stream(20, hourly_profile=profile),
        facilities=[facility],
        start="2026-07-01T00:00:00Z",
        days=3,
    )
    minute_of_day = studies.arrival % DAY
    assert len(studies) > 0
    assert ((minute_of_day >= 7 * 60) & (minute_of_day < 8 * 60)).all()


def test_the_hourly_profile_holds_when_the_start_is_not_on_the_hour() -> None:
    profile = [0.0] * 24
    profile[3] = 1.0
    facility = {"id": "f1", "state": "NY", "timezone": "America/New_York"}
    studies = studies_of(
        stream(20, hourly_profile=profile),
        facilities=[facility],
        start="2026-12-01T00:30:00Z",
        days=5,
    )
    minute_of_day = (studies.arrival + 30) % DAY  # minutes after 00:00 UTC
    assert len(studies) > 0
    assert ((minute_of_day >= 8 * 60) & (minute_of_day < 9 * 60)).all()


# ----- surges --------------------------------------------------------------------------------
def test_a_surge_multiplies_the_rate_in_its_window() -> None:
    studies = studies_of(stream(10), events=[surge(3, "12:00", "18:00")], days=2)
    assert within_poisson(in_window(studies, 12, 18), 3 * 10 * 6)
    outside = len(studies) - in_window(studies, 12, 18)
    assert within_poisson(outside, 10 * 42)


def test_a_surge_of_factor_zero_silences_its_window() -> None:
    studies = studies_of(stream(10), events=[surge(0, "12:00", "18:00")], days=2)
    assert in_window(studies, 12, 18) == 0
    assert in_window(studies, 6, 12) > 0
    assert within_poisson(len(studies), 10 * 42)


def test_a_surge_at_another_facility_leaves_this_one_alone() -> None:
    studies = studies_of(
        stream(10),
        stream(10, facility="f2"),
        facilities=TWO_FACILITIES,
        events=[surge(0, "12:00", "18:00", facility="f2")],
        days=2,
    )
    assert in_window(studies, 12, 18, facility=1) == 0
    assert within_poisson(in_window(studies, 12, 18, facility=0), 10 * 6)


def test_a_surge_without_a_facility_applies_everywhere() -> None:
    studies = studies_of(
        stream(10),
        stream(10, facility="f2"),
        facilities=TWO_FACILITIES,
        events=[surge(0, "12:00", "18:00")],
        days=2,
    )
    assert in_window(studies, 12, 18, facility=0) == in_window(studies, 12, 18, facility=1) == 0


def test_overlapping_surges_multiply() -> None:
    events = [surge(4, "12:00", "18:00"), surge(5, "15:00", "21:00")]
    studies = studies_of(stream(10), events=events, days=1)
    # Where they overlap the rate is 10 * 4 * 5 = 200 an hour (not 10 * (4 + 5) = 90).
    assert within_poisson(in_window(studies, 15, 18), 200 * 3)
    assert within_poisson(in_window(studies, 12, 15), 40 * 3)
    assert within_poisson(in_window(studies, 18, 21), 50 * 3)


def test_a_surge_starting_before_the_start_is_clipped() -> None:
    early = {**surge(0, "00:00", "06:00"), "from": "2026-11-30T18:00:00Z"}
    studies = studies_of(stream(10), events=[early], days=1)
    assert in_window(studies, 0, 6) == 0
    assert within_poisson(len(studies), 10 * 18)


# ----- what each study carries ------------------------------------------------------------------
def test_streams_carry_modality_priority_and_subspecialty() -> None:
    world = world_of(
        stream(4, subspecialty="Neuro", subspecialty_required=True),
        stream(4, modality="XR", priority="ROUTINE"),
        stream(4, modality="MR", priority="URGENT", subspecialty="msk"),
        days=2,
    )
    studies = make_studies(world, 3, 0)
    ct, xr, mr = (studies.modality == m for m in (CT, XR, MR))
    assert ct.any() and xr.any() and mr.any()
    assert (studies.priority[ct] == STAT).all() and studies.required[ct].all()
    assert (studies.priority[xr] == ROUTINE).all() and not studies.required[xr].any()
    assert (studies.priority[mr] == URGENT).all() and not studies.required[mr].any()
    subspecialty = np.array(studies.subspecialty, dtype=object)
    assert set(subspecialty[ct]) == {"neuro"}
    assert set(subspecialty[xr]) == {None}
    assert set(subspecialty[mr]) == {"msk"}
    # Eligibility class: the subspecialty counts only where it is required.
    assert set(studies.klass[ct]) == {world.class_of(0, CT, "neuro")}
    assert set(studies.klass[mr]) == {world.class_of(0, MR, None)}


def test_studies_are_sorted_by_arrival_across_streams() -> None:
    studies = studies_of(
        stream(5),
        stream(5, modality="XR"),
        stream(5, facility="f2"),
        days=2,
        facilities=TWO_FACILITIES,
    )
    assert len(set(studies.facility.tolist())) == 2
    assert (np.diff(studies.arrival) >= 0).all()
    assert not (np.diff(studies.modality) == 0).all()  # the streams are interleaved


def test_due_is_arrival_plus_the_facility_sla() -> None:
    facilities = [
        {**TWO_FACILITIES[0], "sla_minutes": {"STAT": 45}},
        TWO_FACILITIES[1],
    ]
    streams = [
        stream(3, facility=f, priority=p)
        for f in ("f1", "f2")
        for p in ("STAT", "URGENT", "ROUTINE")
    ]
    studies = studies_of(*streams, facilities=facilities, sla_minutes={"URGENT": 90}, days=2)
    expected = {
        (0, STAT): 45,  # the facility's contract
        (0, URGENT): 90,  # the scenario's default
        (0, ROUTINE): 1440,  # the practice default
        (1, STAT): 30,
        (1, URGENT): 90,
        (1, ROUTINE): 1440,
    }
    for (facility, priority), minutes in expected.items():
        mine = (studies.facility == facility) & (studies.priority == priority)
        assert mine.any()
        np.testing.assert_allclose(studies.due[mine] - studies.arrival[mine], minutes)


def test_expected_is_the_mean_of_the_modality_read_distribution() -> None:
    read_minutes = {"CT": {"distribution": "lognormal", "mean": 15, "sd": 5}}
    studies = studies_of(stream(4), stream(4, modality="XR"), read_minutes=read_minutes, days=2)
    ct, xr = studies.modality == CT, studies.modality == XR
    assert ct.any() and xr.any()
    assert set(studies.expected[ct]) == {15.0}
    assert set(studies.expected[xr]) == {DEFAULT_READ_MINUTES[Modality.XR]}


def test_reads_follow_the_modality_distribution() -> None:
    read_minutes = {"CT": {"distribution": "fixed", "mean": 12}}
    studies = studies_of(stream(4), stream(20, modality="XR"), read_minutes=read_minutes, days=4)
    ct, xr = studies.modality == CT, studies.modality == XR
    assert set(studies.read[ct]) == {12.0}
    mean = DEFAULT_READ_MINUTES[Modality.XR]  # exponential: sd equals the mean
    assert abs(studies.read[xr].mean() - mean) <= 4 * mean / math.sqrt(xr.sum())


# ----- draw ------------------------------------------------------------------------------------
N = 200_000


def test_draw_fixed_is_the_constant() -> None:
    values = draw(ReadDistribution(distribution="fixed", mean=7.5), 10, np.random.default_rng(0))
    assert values.tolist() == [7.5] * 10


@pytest.mark.parametrize(
    ("distribution", "mean", "sd"),
    [("exponential", 10.0, None), ("lognormal", 15.0, 8.0), ("lognormal", 4.0, 1.0)],
)
def test_draw_matches_mean_and_sd(distribution: str, mean: float, sd: float | None) -> None:
    values = draw(
        ReadDistribution(distribution=distribution, mean=mean, sd=sd), N, np.random.default_rng(4)
    )
    expected_sd = mean if sd is None else sd
    assert len(values) == N
    assert values.mean() == pytest.approx(mean, abs=4 * expected_sd / math.sqrt(N))
    assert values.std() == pytest.approx(expected_sd, rel=0.03)


@pytest.mark.parametrize(
    "distribution",
    [
        ReadDistribution(distribution="exponential", mean=0.2),
        ReadDistribution(distribution="lognormal", mean=0.2, sd=0.3),
        ReadDistribution(distribution="fixed", mean=0.01),
    ],
    ids=["exponential", "lognormal", "fixed"],
)
def test_draw_is_never_below_three_seconds(distribution: ReadDistribution) -> None:
    values = draw(distribution, 10_000, np.random.default_rng(1))
    assert values.min() == 0.05  # some draws fall below and are raised to the floor


def test_draw_of_nothing_is_empty() -> None:
    assert draw(
        ReadDistribution(distribution="exponential", mean=5), 0, np.random.default_rng(0)
    ).shape == (0,)


# ----- a replayed trace -------------------------------------------------------------------------
def test_a_trace_is_replayed_as_recorded(tmp_path: Path) -> None:
    path = tmp_path / "studies.csv"
    path.write_text(
        "arrived_at,facility,modality,priority,subspecialty,read_minutes,subspecialty_required\n"
        "2026-12-01T05:00:00Z,f1,CT,STAT,,12.5,\n"
        "2026-12-01T01:30:00Z,f1,MR,ROUTINE,neuro,30,true\n"
        "2026-12-03T00:00:00Z,f1,CT,STAT,,9,\n"  # after the simulated day: dropped
        "2026-12-01T23:00:00-01:00,f1,XR,URGENT,,2,\n"  # 00:00 UTC on 12-02: dropped
    )
    world = compile_world(build(arrivals=None, trace=str(path), days=1))
    studies = make_studies(world, 1, 0)
    assert studies.arrival.tolist() == [90.0, 300.0]
    assert studies.read.tolist() == [30.0, 12.5]
    assert studies.modality.tolist() == [MR, CT]
    assert studies.priority.tolist() == [ROUTINE, STAT]
    assert studies.required.tolist() == [True, False]
    assert studies.subspecialty[0] == "neuro"
    assert studies.klass[0] == world.class_of(0, MR, "neuro")
    assert studies.due.tolist() == [90.0 + 1440, 300.0 + 30]
    assert studies.expected.tolist() == [
        DEFAULT_READ_MINUTES[Modality.MR],
        DEFAULT_READ_MINUTES[Modality.CT],
    ]


def test_a_trace_replay_ignores_the_seed(tmp_path: Path) -> None:
    path = tmp_path / "studies.csv"
    path.write_text(
        "arrived_at,facility,modality,priority,subspecialty,read_minutes\n"
        "2026-12-01T05:00:00Z,f1,CT,STAT,,12.5\n"
    )
    world = compile_world(build(arrivals=None, trace=str(path)))
    assert make_studies(world, 1, 0).arrival.tolist() == make_studies(world, 2, 7).arrival.tolist()


# ----- a trace with read times it did not record ------------------------------------------------
def unrecorded_trace(tmp_path: Path, rows: list[str], **fields: Any) -> World:
    """A trace of `arrived_at,modality,read_minutes` rows, STATs at f1 (minutes may be blank)."""
    path = tmp_path / "studies.csv"
    lines = ["arrived_at,facility,modality,priority,subspecialty,read_minutes"]
    for row in rows:
        at, modality, minutes = row.split(",")
        lines.append(f"{at},f1,{modality},STAT,,{minutes}")
    path.write_text("\n".join(lines) + "\n")
    return compile_world(build(arrivals=None, trace=str(path), **fields))


def test_a_blank_read_cell_is_drawn_from_the_modality_distribution(tmp_path: Path) -> None:
    world = unrecorded_trace(
        tmp_path,
        ["2026-12-01T01:00:00Z,CT,", "2026-12-01T02:00:00Z,MR,", "2026-12-01T03:00:00Z,CT,12.5"],
        read_minutes={
            "CT": {"distribution": "fixed", "mean": 7},
            "MR": {"distribution": "fixed", "mean": 21},
        },
    )
    assert make_studies(world, 1, 0).read.tolist() == [7.0, 21.0, 12.5]


def test_drawn_reads_differ_by_replication_but_arrivals_and_recorded_reads_do_not(
    tmp_path: Path,
) -> None:
    rows = [f"2026-12-01T{h:02d}:00:00Z,CT," for h in range(10)] + ["2026-12-01T11:00:00Z,CT,9"]
    world = unrecorded_trace(tmp_path, rows)
    first, again, other = (make_studies(world, 1, k) for k in (0, 0, 1))
    assert_same(first, again)  # a replication reproduces its draws
    np.testing.assert_array_equal(first.arrival, other.arrival)
    assert first.read[-1] == other.read[-1] == 9.0
    assert not np.array_equal(first.read[:-1], other.read[:-1])


def test_drawn_trace_reads_follow_the_distribution(tmp_path: Path) -> None:
    rows = [f"2026-12-01T{m // 60:02d}:{m % 60:02d}:00Z,CT," for m in range(0, 1440, 2)]
    lognormal = {"distribution": "lognormal", "mean": 15, "sd": 8}
    world = unrecorded_trace(tmp_path, rows, read_minutes={"CT": lognormal})
    reads = make_studies(world, 3, 0).read
    assert len(reads) == 720
    assert abs(reads.mean() - 15) < 4 * 8 / math.sqrt(len(reads))
    mu, sigma = ReadDistribution.model_validate(lognormal).lognormal_parameters()
    assert stats.kstest(np.log(reads), "norm", args=(mu, sigma)).pvalue > 1e-4


def test_a_fully_recorded_trace_gives_identical_replications(tmp_path: Path) -> None:
    world = unrecorded_trace(tmp_path, ["2026-12-01T01:00:00Z,CT,4", "2026-12-01T02:00:00Z,XR,2"])
    assert_same(make_studies(world, 1, 0), make_studies(world, 5, 3))
