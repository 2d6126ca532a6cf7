"""Each dispatch policy's own rule, on hand-built traces, and the rules they all share."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations.runner import POLICIES
from tests.simulations.practice import (
    reader,
    run,
    scenario,
    trace_scenario,
    violations,
)

EVERY_POLICY = list(POLICIES)
SIMPLE = ["greedy", "pull", "cherry_pick", "round_robin"]
ONE_READER_BUSY_FIRST = (0.0, "CT", "ROUTINE", 60.0)  # keeps r1 busy for the first hour


# ----- greedy -----------------------------------------------------------------------------
def test_greedy_pushes_to_the_reader_who_finishes_first(tmp_path: Path) -> None:
    # r1 is reading until minute 10; r2 is idle but slow (speed 0.25: 40 minutes for a CT).
    scn = trace_scenario(
        tmp_path,
        [(0.0, "CT", "STAT", 10.0), (1.0, "CT", "STAT", 10.0)],
        radiologists=[reader("r1"), reader("r2", speed=0.25)],
    )
    result = run(scn, "greedy")
    assert result.reader_of(1) == "r1"  # 10 + 10 = minute 20 beats 1 + 40 = minute 41
    assert result.outcome.started[1] == pytest.approx(10.0)


def test_greedy_takes_the_idle_reader_when_that_is_sooner(tmp_path: Path) -> None:
    scn = trace_scenario(
        tmp_path,
        [(0.0, "CT", "STAT", 30.0), (1.0, "CT", "STAT", 10.0)],
        radiologists=[reader("r1"), reader("r2")],
    )
    assert run(scn, "greedy").reader_of(1) == "r2"


@pytest.mark.parametrize("policy", ["greedy", "round_robin", "optimizer"])
def test_push_queues_read_stat_before_routine(tmp_path: Path, policy: str) -> None:
    scn = trace_scenario(
        tmp_path,
        [ONE_READER_BUSY_FIRST, (1.0, "CT", "ROUTINE", 5.0), (2.0, "CT", "STAT", 5.0)],
    )
    assert run(scn, policy).order_read_by("r1") == [0, 2, 1]


def test_push_queue_reads_the_earlier_due_first_within_a_priority(tmp_path: Path) -> None:
    # Same priority: f2's contract (URGENT in 30 minutes) is due before f1's (120 minutes),
    # though f2's study arrived later.
    facilities = [
        {"id": "f1", "state": "WY", "timezone": "America/Denver"},
        {"id": "f2", "state": "WY", "timezone": "America/Denver", "sla_minutes": {"URGENT": 30}},
    ]
    scn = trace_scenario(
        tmp_path,
        [ONE_READER_BUSY_FIRST, (1.0, "CT", "URGENT", 5.0, "f1"), (2.0, "CT", "URGENT", 5.0, "f2")],
        facilities=facilities,
        radiologists=[reader("r1", credentials=["f1", "f2"])],
    )
    assert run(scn, "greedy").order_read_by("r1") == [0, 2, 1]


# ----- round robin ------------------------------------------------------------------------
def test_round_robin_rotates_among_eligible_readers(tmp_path: Path) -> None:
    rows = [(float(i), "XR", "ROUTINE", 30.0) for i in range(4)]
    scn = trace_scenario(
        tmp_path,
        rows,
        radiologists=[reader("r1"), reader("r2"), reader("r3")],
        read_minutes={"XR": {"distribution": "fixed", "mean": 30}},
    )
    result = run(scn, "round_robin")
    assert [result.reader_of(i) for i in range(4)] == ["r1", "r2", "r3", "r1"]


def test_round_robin_skips_a_reader_who_is_not_eligible(tmp_path: Path) -> None:
    rows = [(float(i), "CT", "ROUTINE", 5.0) for i in range(3)]
    readers = [reader("r1"), reader("r2", licenses=["CO"]), reader("r3")]
    result = run(trace_scenario(tmp_path, rows, radiologists=readers), "round_robin")
    assert [result.reader_of(i) for i in range(3)] == ["r1", "r3", "r1"]


# ----- pull -------------------------------------------------------------------------------
def test_pull_takes_the_most_urgent_then_the_oldest(tmp_path: Path) -> None:
    rows = [
        ONE_READER_BUSY_FIRST,
        (1.0, "CT", "ROUTINE", 5.0),
        (2.0, "CT", "STAT", 5.0),
        (3.0, "CT", "URGENT", 5.0),
        (4.0, "CT", "STAT", 5.0),
    ]
    assert run(trace_scenario(tmp_path, rows), "pull").order_read_by("r1") == [0, 2, 4, 3, 1]


def test_pull_gives_an_arrival_to_an_idle_reader_at_once(tmp_path: Path) -> None:
    rows = [ONE_READER_BUSY_FIRST, (5.0, "CT", "STAT", 5.0)]
    result = run(trace_scenario(tmp_path, rows, radiologists=[reader("r1"), reader("r2")]), "pull")
    assert result.reader_of(1) == "r2"
    assert result.outcome.started[1] == pytest.approx(5.0)


# ----- cherry pick ------------------------------------------------------------------------
def test_cherry_pick_takes_the_shortest_study_not_yet_late(tmp_path: Path) -> None:
    # When r1 frees up at minute 20, the STAT CT (due at 31) is on time and the XR is
    # shorter: the self-selecting reader takes the XR first.
    rows = [(0.0, "CT", "ROUTINE", 20.0), (1.0, "CT", "STAT", 15.0), (2.0, "XR", "ROUTINE", 3.0)]
    scn = trace_scenario(tmp_path, rows, read_minutes={"XR": {"distribution": "fixed", "mean": 3}})
    assert run(scn, "cherry_pick").order_read_by("r1") == [0, 2, 1]
    assert run(scn, "pull").order_read_by("r1") == [0, 1, 2]


def test_cherry_pick_falls_back_to_the_most_urgent_when_everything_is_late(
    tmp_path: Path,
) -> None:
    # At minute 60 both waiting studies are past due (STAT due 31, URGENT due 122 -> not late);
    # make both late with short contracts: then the most urgent goes first.
    facilities = [
        {
            "id": "f1",
            "state": "WY",
            "timezone": "America/Denver",
            "sla_minutes": {"STAT": 10, "URGENT": 20},
        }
    ]
    rows = [ONE_READER_BUSY_FIRST, (1.0, "CT", "URGENT", 5.0), (2.0, "MR", "STAT", 20.0)]
    scn = trace_scenario(tmp_path, rows, facilities=facilities)
    assert run(scn, "cherry_pick").order_read_by("r1") == [0, 2, 1]


# ----- what every policy honours ------------------------------------------------------------
@pytest.mark.parametrize("policy", EVERY_POLICY)
def test_nobody_starts_a_read_they_cannot_finish_before_the_shift_ends(
    tmp_path: Path, policy: str
) -> None:
    # r1 works 00:00-01:00; a 30-minute CT at 00:45 must wait for r2, who starts at 02:00.
    readers = [
        reader("r1", shifts=[{"start": "00:00", "end": "01:00", "timezone": "UTC"}]),
        reader("r2", shifts=[{"start": "02:00", "end": "03:00", "timezone": "UTC"}]),
    ]
    scn = trace_scenario(
        tmp_path,
        [(45.0, "CT", "STAT", 30.0)],
        radiologists=readers,
        read_minutes={"CT": {"distribution": "fixed", "mean": 30}},
    )
    result = run(scn, policy)
    assert result.reader_of(0) == "r2"
    assert result.outcome.started[0] == pytest.approx(120.0)
    assert violations(result) == []


@pytest.mark.parametrize("policy", EVERY_POLICY)
def test_unstarted_work_is_handed_over_at_the_end_of_a_shift(tmp_path: Path, policy: str) -> None:
    # r1 (00:00-01:00) gets everything first; r2 comes on at 00:30 and stays.
    readers = [
        reader("r1", shifts=[{"start": "00:00", "end": "01:00", "timezone": "UTC"}]),
        reader("r2", shifts=[{"start": "00:30", "end": "06:00", "timezone": "UTC"}]),
    ]
    rows = [(float(i), "CT", "ROUTINE", 10.0) for i in range(12)]
    result = run(trace_scenario(tmp_path, rows, radiologists=readers), policy)
    assert all(result.reader_of(i) is not None for i in range(12))
    assert max(result.outcome.started[result.order_read_by("r1")]) < 60.0
    assert len(result.order_read_by("r2")) >= 6
    assert violations(result) == []


@pytest.mark.parametrize("policy", EVERY_POLICY)
def test_only_the_eligible_reader_reads(tmp_path: Path, policy: str) -> None:
    facilities = [
        {"id": "f1", "state": "WY", "timezone": "America/Denver"},
        {"id": "f2", "state": "CO", "timezone": "America/Denver"},
    ]
    readers = [
        reader("wy", licenses=["WY"], credentials=["f1"]),
        reader("co", licenses=["CO"], credentials=["f2"]),
        reader(
            "both-but-mr-only", licenses=["WY", "CO"], credentials=["f1", "f2"], modalities=["MR"]
        ),
    ]
    rows = [(float(i), "CT", "STAT", 5.0, "f1" if i % 2 else "f2") for i in range(10)]
    result = run(
        trace_scenario(tmp_path, rows, facilities=facilities, radiologists=readers), policy
    )
    for i in range(10):
        assert result.reader_of(i) == ("wy" if i % 2 else "co")
    assert violations(result) == []


@pytest.mark.parametrize("policy", EVERY_POLICY)
def test_a_required_subspecialty_waits_for_a_reader_who_holds_it(
    tmp_path: Path, policy: str
) -> None:
    readers = [
        reader("general"),
        reader(
            "neuro",
            subspecialties=["neuro"],
            shifts=[{"start": "02:00", "end": "04:00", "timezone": "UTC"}],
        ),
    ]
    arrivals = [
        {
            "facility": "f1",
            "modality": "MR",
            "priority": "STAT",
            "subspecialty": "neuro",
            "subspecialty_required": True,
            "per_hour": 1,
        }
    ]
    result = run(scenario(radiologists=readers, arrivals=arrivals, days=0.5), policy)
    read = [i for i in range(len(result.studies)) if result.reader_of(i) is not None]
    assert read and all(result.reader_of(i) == "neuro" for i in read)
    assert violations(result) == []


@pytest.mark.parametrize("policy", EVERY_POLICY)
def test_an_absent_reader_reads_nothing_in_the_absence(policy: str) -> None:
    events = [
        {
            "type": "absence",
            "radiologist": "r1",
            "from": "2026-12-01T02:00:00Z",
            "to": "2026-12-01T05:00:00Z",
        }
    ]
    scn = scenario(radiologists=[reader("r1"), reader("r2")], events=events)
    result = run(scn, policy)
    starts = result.outcome.started[result.order_read_by("r1")]
    assert not ((starts >= 120) & (starts < 300)).any()
    assert violations(result) == []


# ----- property: any small practice, any policy, the checker finds nothing ------------------
STATES = ["WY", "CO", "MT"]


@st.composite
def practices(draw: st.DrawFn) -> dict:
    facilities = [
        {"id": f"f{i}", "state": draw(st.sampled_from(STATES)), "timezone": "America/Denver"}
        for i in range(draw(st.integers(1, 3)))
    ]
    ids = [f["id"] for f in facilities]
    readers = []
    for i in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, 23))
        length = draw(st.integers(2, 14))
        shifts = [
            {
                "start": f"{start:02d}:00",
                "end": f"{(start + length) % 24:02d}:{draw(st.sampled_from(['00', '30']))}",
                "timezone": draw(st.sampled_from(["UTC", "America/Chicago"])),
            }
        ]
        readers.append(
            {
                "id": f"r{i}",
                "licenses": draw(st.lists(st.sampled_from(STATES), min_size=1, unique=True)),
                "credentials": draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)),
                "modalities": draw(st.sampled_from([[], ["CT"], ["XR", "MR"]])),
                "subspecialties": draw(st.sampled_from([[], ["neuro"]])),
                "speed": draw(st.sampled_from([0.5, 1.0, 1.5])),
                "shifts": shifts,
            }
        )
    arrivals = []
    for _ in range(draw(st.integers(1, 4))):
        required = draw(st.booleans())
        arrivals.append(
            {
                "facility": draw(st.sampled_from(ids)),
                "modality": draw(st.sampled_from(["CT", "XR", "MR"])),
                "priority": draw(st.sampled_from(["STAT", "URGENT", "ROUTINE"])),
                "subspecialty": "neuro" if required else None,
                "subspecialty_required": required,
                "per_hour": draw(st.floats(0.5, 6)),
            }
        )
    return {
        "facilities": facilities,
        "radiologists": readers,
        "arrivals": arrivals,
        "read_minutes": {
            "CT": {"distribution": "lognormal", "mean": 12, "sd": 6},
            "XR": {"distribution": "exponential", "mean": 3},
            "MR": {"distribution": "fixed", "mean": 20},
        },
        "days": 1,
        "drain_hours": 12,
        # Fewer, cheaper re-plans keep the optimizer's examples quick; the rules are the same.
        "policy": {"replan_minutes": 60, "solver_budget": 0.02},
    }


@pytest.mark.parametrize("policy", SIMPLE)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=practices(), seed=st.integers(0, 2**16))
def test_every_simple_policy_keeps_every_rule(policy: str, data: dict, seed: int) -> None:
    result = run(scenario(**data), policy, seed=seed)
    assert violations(result) == []


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=practices(), seed=st.integers(0, 2**16))
def test_the_optimizer_policy_keeps_every_rule(data: dict, seed: int) -> None:
    result = run(scenario(**{**data, "days": 0.5}), "optimizer", seed=seed)
    assert violations(result) == []


# ----- optimizer: late binding in the objective's order ---------------------------------------
SHORT_CONTRACTS = [
    {
        "id": "f1",
        "state": "WY",
        "timezone": "America/Denver",
        "sla_minutes": {"STAT": 60, "ROUTINE": 60},
    }
]


def test_optimizer_saves_a_stat_that_can_still_make_it_before_one_already_lost(
    tmp_path: Path,
) -> None:
    # r1 reads until minute 100; then STAT A (due 61) is lost and STAT B (due 150) can still
    # make it: B first saves one breach.
    rows = [(0.0, "CT", "ROUTINE", 100.0), (1.0, "CT", "STAT", 10.0), (90.0, "CT", "STAT", 10.0)]
    scn = trace_scenario(tmp_path, rows, facilities=SHORT_CONTRACTS)
    assert run(scn, "optimizer").order_read_by("r1") == [0, 2, 1]


def test_optimizer_reads_a_routine_study_that_can_still_make_it_before_a_lost_one(
    tmp_path: Path,
) -> None:
    # The same timing with ROUTINE studies: at minute 100 the first (due 61) is lost by 39
    # minutes, less than its turnaround; the second (due 150) can still make it.
    rows = [
        (0.0, "CT", "ROUTINE", 100.0),
        (1.0, "CT", "ROUTINE", 10.0),
        (90.0, "CT", "ROUTINE", 10.0),
    ]
    scn = trace_scenario(tmp_path, rows, facilities=SHORT_CONTRACTS)
    assert run(scn, "optimizer").order_read_by("r1") == [0, 2, 1]


def test_optimizer_does_not_starve_a_late_routine_study(tmp_path: Path) -> None:
    # At minute 130 the first is overdue by 69 minutes, more than its own 60-minute turnaround:
    # it is starving and goes first, or it would wait behind every new one that can still make it.
    rows = [
        (0.0, "CT", "ROUTINE", 130.0),
        (1.0, "CT", "ROUTINE", 10.0),
        (120.0, "CT", "ROUTINE", 10.0),
    ]
    scn = trace_scenario(tmp_path, rows, facilities=SHORT_CONTRACTS)
    assert run(scn, "optimizer").order_read_by("r1") == [0, 1, 2]


def test_optimizer_lets_an_idle_reader_take_work_queued_behind_a_busy_one(tmp_path: Path) -> None:
    # r2 comes on at minute 30; until then everything queues with r1, who is busy for an hour.
    readers = [
        reader("r1"),
        reader("r2", shifts=[{"start": "00:30", "end": "06:00", "timezone": "UTC"}]),
    ]
    rows = [(0.0, "CT", "ROUTINE", 60.0), (1.0, "CT", "STAT", 10.0), (2.0, "CT", "STAT", 10.0)]
    result = run(trace_scenario(tmp_path, rows, radiologists=readers), "optimizer")
    assert result.reader_of(1) == "r2"
    assert result.outcome.started[1] == pytest.approx(30.0)


def _stat_breaches(result: object) -> int:
    studies, outcome = result.studies, result.outcome  # type: ignore[attr-defined]
    stat = studies.priority == 0
    return int((stat & ~(outcome.finished <= studies.due + 1e-9)).sum())


TWO_STATES = [
    {"id": "wy-1", "state": "WY", "timezone": "America/Denver", "sla_minutes": {"STAT": 30}},
    {"id": "co-1", "state": "CO", "timezone": "America/Denver", "sla_minutes": {"STAT": 60}},
]


def test_optimizer_reads_the_stat_nobody_else_could_start_in_time_first(tmp_path: Path) -> None:
    # r1 (WY and CO) frees at 20, r2 (CO only) at 25. STAT CO (due 61) came first, STAT WY
    # (due 32) second. A shared worklist gives r1 the older CO study and WY waits for r1 until
    # 30: late. Only r1 can read WY; r2 can still take CO in time: WY first saves both.
    readers = [
        reader("r1", licenses=["WY", "CO"], credentials=["wy-1", "co-1"]),
        reader("r2", licenses=["CO"], credentials=["co-1"]),
    ]
    rows = [
        (0.0, "CT", "ROUTINE", 20.0, "wy-1"),
        (0.0, "CT", "ROUTINE", 25.0, "co-1"),
        (1.0, "CT", "STAT", 10.0, "co-1"),
        (2.0, "CT", "STAT", 10.0, "wy-1"),
    ]
    scn = trace_scenario(tmp_path, rows, radiologists=readers, facilities=TWO_STATES)
    optimizer, pull = run(scn, "optimizer"), run(scn, "pull")
    assert optimizer.reader_of(3) == "r1" and optimizer.reader_of(2) == "r2"
    assert (_stat_breaches(optimizer), _stat_breaches(pull)) == (0, 1)


def test_optimizer_gives_an_arrival_to_the_idle_reader_who_can_read_the_least(
    tmp_path: Path,
) -> None:
    # Both are idle when a long ROUTINE WY read arrives; a CO STAT follows a minute later. Only
    # r1 may read CO: giving them the routine read (a shared worklist's longest idle, r1 here)
    # leaves the STAT to wait an hour.
    readers = [
        reader("r1", licenses=["WY", "CO"], credentials=["wy-1", "co-1"]),
        reader("r2", licenses=["WY"], credentials=["wy-1"]),
    ]
    rows = [(0.5, "CT", "ROUTINE", 60.0, "wy-1"), (1.0, "CT", "STAT", 10.0, "co-1")]
    scn = trace_scenario(tmp_path, rows, radiologists=readers, facilities=TWO_STATES)
    optimizer, pull = run(scn, "optimizer"), run(scn, "pull")
    assert (optimizer.reader_of(0), optimizer.reader_of(1)) == ("r2", "r1")
    assert (_stat_breaches(optimizer), _stat_breaches(pull)) == (0, 1)


def test_optimizer_gives_a_stat_to_the_fastest_idle_reader(tmp_path: Path) -> None:
    # A 10-minute CT that runs to 16 minutes: 32 minutes at speed 0.5, 11 at speed 1.5.
    readers = [reader("slow", speed=0.5), reader("fast", speed=1.5)]
    rows = [(0.5, "CT", "STAT", 16.0)]
    scn = trace_scenario(tmp_path, rows, radiologists=readers)
    optimizer, pull = run(scn, "optimizer"), run(scn, "pull")
    assert optimizer.reader_of(0) == "fast" and pull.reader_of(0) == "slow"
    assert (_stat_breaches(optimizer), _stat_breaches(pull)) == (0, 1)
