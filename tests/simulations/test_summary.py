"""Tests for ``simulations.summary``: per-replication figures, CIs and paired comparisons."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulations.definitions import RECOMMENDED_REPLICATIONS
from simulations.intervals import wilson_interval
from simulations.results import EXTRA_COLUMNS, STUDY_COLUMNS, ReplicationResult
from simulations.summary import COMPARED_METRICS, build_summary, write_summary

T0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")
SLA_MINUTES = {"STAT": 30.0, "URGENT": 120.0, "ROUTINE": 1440.0}
MEASURED_FROM_MINUTE = 60.0


@dataclass(frozen=True)
class Study:
    """A compact test row; times are minutes after T0, None where it never happened."""

    priority: str
    arrived: float
    started: float | None = None
    finished: float | None = None
    facility: str = "F1"
    state: str = "NY"
    met: bool | None = None  # None: finished by the due time


def _at(minutes: float | None) -> pd.Timestamp:
    return pd.NaT if minutes is None else T0 + pd.Timedelta(minutes=minutes)


def _minutes(end: float | None, start: float | None) -> float:
    return math.nan if end is None or start is None else end - start


def studies_frame(policy: str, replication: int, studies: list[Study]) -> pd.DataFrame:
    """The studies frame the simulator would produce for these rows (warm-up: before 60)."""
    rows = []
    for index, study in enumerate(studies):
        due = study.arrived + SLA_MINUTES[study.priority]
        read = study.finished is not None
        on_time = study.finished is not None and study.finished <= due
        met = study.met if study.met is not None else on_time
        rows.append(
            {
                "study": f"S{index}",
                "facility": study.facility,
                "state": study.state,
                "modality": "CT",
                "priority": study.priority,
                "arrived_at": _at(study.arrived),
                "assigned_at": _at(study.started),
                "started_at": _at(study.started),
                "finished_at": _at(study.finished),
                "radiologist": "r1" if read else "",
                "due_at": _at(due),
                "met_sla": bool(met),
                "replication": replication,
                "policy": policy,
                "warmup": study.arrived < MEASURED_FROM_MINUTE,
                "tat_minutes": _minutes(study.finished, study.arrived),
                "wait_minutes": _minutes(study.started, study.arrived),
                "read_minutes": _minutes(study.finished, study.started),
            }
        )
    frame = pd.DataFrame(rows, columns=[*STUDY_COLUMNS, *EXTRA_COLUMNS])
    for column in ("arrived_at", "assigned_at", "started_at", "finished_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def make_result(
    policy: str,
    replication: int,
    studies: list[Study],
    *,
    readers: tuple[str, ...] = ("r1", "r2"),
    busy: Sequence[Sequence[float]] | None = None,
    shift: Sequence[Sequence[float]] | None = None,
    hours: int = 4,
    events: int = 100,
    wall_seconds: float = 0.5,
) -> ReplicationResult:
    """A hand-made replication: by default every reader is on shift all hours, half busy."""
    shape = (len(readers), hours)
    return ReplicationResult(
        policy=policy,
        replication=replication,
        studies=studies_frame(policy, replication, studies),
        reader_ids=list(readers),
        hours=pd.date_range(T0, periods=hours, freq="h"),
        busy_minutes=np.full(shape, 30.0) if busy is None else np.array(busy, dtype=float),
        shift_minutes=np.full(shape, 60.0) if shift is None else np.array(shift, dtype=float),
        measured_from=T0 + pd.Timedelta(minutes=MEASURED_FROM_MINUTE),
        events=events,
        wall_seconds=wall_seconds,
    )


def stat_run(policy: str, replication: int, *, met: int, missed: int) -> ReplicationResult:
    """A replication with only STAT studies: `met` read in 10 minutes, `missed` in 50."""
    studies = [Study("STAT", 60.0 + i, 60.0 + i, 70.0 + i) for i in range(met)]
    studies += [Study("STAT", 60.0 + i, 90.0 + i, 110.0 + i) for i in range(missed)]
    return make_result(policy, replication, studies)


# One replication, worked by hand. The warm-up row would change every STAT figure.
HAND_STUDIES = [
    Study("STAT", 10.0, None, None, met=False),  # warm-up: left out
    Study("STAT", 70.0, 75.0, 90.0),  # tat 20, wait 5, met
    Study("STAT", 80.0, 100.0, 130.0),  # tat 50, wait 20, missed
    Study("STAT", 90.0, None, None, met=True),  # unread: not met whatever the flag says
    Study("URGENT", 100.0, 110.0, 130.0, facility="F2", state="CA"),  # tat 30, wait 10, met
    Study("ROUTINE", 120.0, 150.0, 200.0, facility="F2", state="CA"),  # tat 80, wait 30, met
]


def hand_summary() -> dict[str, Any]:
    return build_summary([make_result("fifo", 1, HAND_STUDIES)], scenario_name="hand", seed=7)


# --- one replication by hand ----------------------------------------------------------------


def test_top_level_fields() -> None:
    summary = hand_summary()
    assert summary["scenario"] == "hand"
    assert summary["seed"] == 7
    assert summary["policy_order"] == ["fifo"]
    assert summary["replications"] == {"fifo": 1}
    assert summary["baseline"] is None
    assert summary["comparisons"] == {}
    assert list(summary["policies"]["fifo"]["by_priority"]) == ["STAT", "URGENT", "ROUTINE", "ALL"]


def test_stat_figures_by_hand() -> None:
    stat = hand_summary()["policies"]["fifo"]["by_priority"]["STAT"]
    assert stat["count"]["mean"] == 3  # the warm-up arrival is not counted
    assert stat["met_sla_share"]["mean"] == pytest.approx(1 / 3)
    assert stat["unread"]["mean"] == 1
    assert stat["tat_p50"]["mean"] == pytest.approx(35.0)
    assert stat["tat_p90"]["mean"] == pytest.approx(20 + 0.9 * 30)
    assert stat["tat_p99"]["mean"] == pytest.approx(20 + 0.99 * 30)
    assert stat["mean_wait"]["mean"] == pytest.approx(12.5)  # started studies only


def test_all_priorities_by_hand() -> None:
    everything = hand_summary()["policies"]["fifo"]["by_priority"]["ALL"]
    assert everything["count"]["mean"] == 5
    assert everything["met_sla_share"]["mean"] == pytest.approx(3 / 5)
    assert everything["unread"]["mean"] == 1
    assert everything["tat_p50"]["mean"] == pytest.approx(np.percentile([20, 50, 30, 80], 50))
    assert everything["mean_wait"]["mean"] == pytest.approx((5 + 20 + 10 + 30) / 4)


def test_stat_breaches_count_unread_and_late() -> None:
    breaches = hand_summary()["policies"]["fifo"]["stat_breaches"]
    assert breaches["mean"] == 2
    assert breaches["values"] == [2]


def test_one_replication_has_no_interval() -> None:
    stat = hand_summary()["policies"]["fifo"]["by_priority"]["STAT"]["met_sla_share"]
    assert stat["ci95"] is None
    assert stat["values"] == [pytest.approx(1 / 3)]


def test_priority_without_studies_is_none_not_nan() -> None:
    studies = [Study("STAT", 70.0, 75.0, 90.0)]
    summary = build_summary([make_result("fifo", 1, studies)], scenario_name="s", seed=1)
    urgent = summary["policies"]["fifo"]["by_priority"]["URGENT"]
    assert urgent["count"]["mean"] == 0
    for name in ("met_sla_share", "tat_p50", "tat_p90", "tat_p99", "mean_wait"):
        assert urgent[name] == {"mean": None, "ci95": None, "values": [None]}


def test_utilization_over_measured_hours_only() -> None:
    busy = [[60, 30, 30, 0], [0, 0, 60, 30], [0, 0, 0, 0]]
    shift = [[60, 60, 60, 0], [0, 0, 60, 60], [60, 0, 0, 0]]  # r3: only in the warm-up hour
    run = make_result("fifo", 1, HAND_STUDIES, readers=("r1", "r2", "r3"), busy=busy, shift=shift)
    utilization = build_summary([run], scenario_name="s", seed=1)["policies"]["fifo"]["utilization"]
    # Before: r3 was null; now it is named, with the reason in the definitions.
    assert utilization["by_reader"] == {"r1": 0.5, "r2": 0.75}
    assert utilization["readers_without_shift_time"] == ["r3"]
    assert utilization["mean"] == pytest.approx((60 + 90) / (120 + 120))  # minutes pooled


def test_utilization_weighs_readers_by_their_minutes_on_shift() -> None:
    # r1 busy all of its 3 measured hours, r2 idle in its one: pooled 3/4, not (1 + 0) / 2.
    busy = [[0, 60, 60, 60], [0, 0, 0, 0]]
    shift = [[0, 60, 60, 60], [0, 60, 0, 0]]
    run = make_result("fifo", 1, HAND_STUDIES, busy=busy, shift=shift)
    utilization = build_summary([run], scenario_name="s", seed=1)["policies"]["fifo"]["utilization"]
    assert utilization["mean"] == pytest.approx(0.75)


def test_utilization_by_reader_is_pooled_over_replications() -> None:
    half = make_result("fifo", 1, HAND_STUDIES)
    full = make_result("fifo", 2, HAND_STUDIES, busy=[[60.0] * 4, [60.0] * 4])
    utilization = build_summary([half, full], scenario_name="s", seed=1)["policies"]["fifo"][
        "utilization"
    ]
    assert utilization["by_reader"] == {"r1": 0.75, "r2": 0.75}
    assert utilization["values"] == [0.5, 1.0]
    low, high = utilization["ci95"]
    assert 0.5 <= low <= 0.75 <= high <= 1.0


def test_utilization_never_exceeds_one_even_if_busy_minutes_do() -> None:
    # Hand-built busy minutes above the shift's (the runner no longer makes them): capped.
    run = make_result("fifo", 1, HAND_STUDIES, busy=[[60.0, 70.0, 70.0, 70.0]] * 2)
    utilization = build_summary([run], scenario_name="s", seed=1)["policies"]["fifo"]["utilization"]
    assert utilization["mean"] == 1.0
    assert set(utilization["by_reader"].values()) == {1.0}


def test_totals_of_events_and_wall_time() -> None:
    runs = [
        make_result("fifo", 1, HAND_STUDIES, events=10, wall_seconds=1.5),
        make_result("fifo", 2, HAND_STUDIES, events=32, wall_seconds=2.0),
    ]
    policy = build_summary(runs, scenario_name="s", seed=1)["policies"]["fifo"]
    assert policy["events"] == 42
    assert policy["wall_seconds"] == pytest.approx(3.5)


# --- across replications --------------------------------------------------------------------


def test_statistic_per_replication_then_interval() -> None:
    runs = [
        stat_run("fifo", rep, met=met, missed=missed)
        for rep, (met, missed) in enumerate([(3, 1), (2, 2), (1, 3)], start=1)
    ]
    stat = build_summary(runs, scenario_name="s", seed=1)["policies"]["fifo"]
    shares = stat["by_priority"]["STAT"]["met_sla_share"]
    assert shares["values"] == [0.75, 0.5, 0.25]
    assert shares["mean"] == pytest.approx(6 / 12)  # pooled
    # Pearson X² = (1 + 0 + 1) / (4 · 0.25) = 2 over 2 df: no extra-binomial spread (φ = 1).
    assert shares["ci95"] == pytest.approx(
        wilson_interval(6, 12, critical=stats.t.ppf(0.975, 2), dispersion=1.0)
    )
    assert stat["by_priority"]["STAT"]["met"]["values"] == [3, 2, 1]
    assert stat["stat_breaches"]["values"] == [1, 2, 3]


def test_overdispersed_replications_widen_the_share_interval() -> None:
    steady = [stat_run("fifo", rep, met=50, missed=50) for rep in (1, 2, 3)]
    swinging = [
        stat_run("fifo", rep, met=met, missed=100 - met) for rep, met in ((1, 20), (2, 50), (3, 80))
    ]
    intervals = [
        build_summary(runs, scenario_name="s", seed=1)["policies"]["fifo"]["by_priority"]["STAT"][
            "met_sla_share"
        ]["ci95"]
        for runs in (steady, swinging)
    ]
    assert intervals[1][1] - intervals[1][0] > 2 * (intervals[0][1] - intervals[0][0])
    assert intervals[1][0] >= 0 and intervals[1][1] <= 1


def test_intervals_stay_in_range_with_two_replications() -> None:
    # The case: with 2 replications a Student-t interval gave 92.3% [62.6, 122.1],
    # TAT p99 [-85.1, 802.3] and utilization [64.5, 118.5].
    first = stat_run("fifo", 1, met=9, missed=1)
    second = make_result(
        "fifo",
        2,
        [Study("STAT", 60.0 + i, 60.0 + i, 61.0 + i) for i in range(10)]
        + [Study("STAT", 60.0, 60.0, 900.0)],
        busy=[[60.0, 60.0, 60.0, 60.0], [60.0, 40.0, 40.0, 40.0]],
    )
    policy = build_summary([first, second], scenario_name="s", seed=1)["policies"]["fifo"]
    stat = policy["by_priority"]["STAT"]
    for name in ("met_sla_share",):
        low, high = stat[name]["ci95"]
        assert 0 <= low <= stat[name]["mean"] <= high <= 1
    for name in ("tat_p50", "tat_p90", "tat_p99", "mean_wait", "count", "unread"):
        low, high = stat[name]["ci95"]
        assert 0 <= low <= high, name
        assert min(stat[name]["values"]) <= low and high <= max(stat[name]["values"]), name
    low, high = policy["utilization"]["ci95"]
    assert 0 <= low <= high <= 1
    low, high = policy["stat_breaches"]["ci95"]
    assert low >= 0


def test_bootstrap_intervals_are_the_same_every_run() -> None:
    runs = [stat_run("fifo", rep, met=10 - rep, missed=rep) for rep in (1, 2, 3, 4)]
    first = build_summary(runs, scenario_name="s", seed=1)
    second = build_summary(runs, scenario_name="s", seed=99)
    stat = first["policies"]["fifo"]["by_priority"]["STAT"]
    assert (
        stat["tat_p90"]["ci95"]
        == second["policies"]["fifo"]["by_priority"]["STAT"]["tat_p90"]["ci95"]
    )


def test_fewer_than_five_replications_are_warned_about_in_the_summary() -> None:
    few = build_summary(
        [stat_run("fifo", rep, met=3, missed=1) for rep in (1, 2)], scenario_name="s", seed=1
    )
    [warning] = few["warnings"]
    assert (
        "2 replications (fifo)" in warning and f"fewer than {RECOMMENDED_REPLICATIONS}" in warning
    )
    enough = build_summary(
        [stat_run("fifo", rep, met=3, missed=1) for rep in range(RECOMMENDED_REPLICATIONS)],
        scenario_name="s",
        seed=1,
    )
    assert enough["warnings"] == []


def test_the_summary_defines_every_measure_with_its_unit() -> None:
    runs = [stat_run("fifo", 1, met=1, missed=1), stat_run("smart", 1, met=2, missed=0)]
    summary = build_summary(runs, scenario_name="s", seed=1)
    definitions = summary["definitions"]
    policy = summary["policies"]["fifo"]
    measures = [
        *policy["by_priority"]["STAT"],
        "stat_breaches",
        "utilization",
        "utilization.by_reader",
        "worst_facilities",
        "wall_seconds",
        "events",
        *(f"comparisons.{metric}" for metric in summary["comparisons"]["smart"]),
    ]
    for measure in measures:
        assert set(definitions[measure]) == {"unit", "meaning", "interval"}, measure
    assert definitions["met_sla_share"]["unit"] == "fraction"
    assert definitions["tat_p90"]["unit"] == "minutes"
    assert "fractions from 0 to 1" in summary["conventions"]["shares"]


# --- comparisons ----------------------------------------------------------------------------


def test_significant_difference_pairs_by_replication_number() -> None:
    fifo = [
        stat_run("fifo", rep, met=4 - missed, missed=missed)
        for rep, missed in [(1, 2), (2, 3), (3, 4)]
    ]
    # Given out of order and interleaved: pairing must follow the replication number.
    smart = [
        stat_run("smart", rep, met=5 - missed, missed=missed)
        for rep, missed in [(3, 3), (1, 1), (2, 2)]
    ]
    summary = build_summary([*fifo, *smart], scenario_name="s", seed=1)
    assert summary["baseline"] == "fifo"
    assert list(summary["comparisons"]) == ["smart"]
    breaches = summary["comparisons"]["smart"]["stat_breaches"]
    assert breaches["values"] == [-1, -1, -1]
    assert breaches["replication_ids"] == [1, 2, 3]
    assert breaches["mean"] == -1
    assert breaches["ci95"] == [-1, -1]
    assert breaches["significant"] is True
    assert set(summary["comparisons"]["smart"]) == set(COMPARED_METRICS)


def test_difference_not_significant_when_interval_covers_zero() -> None:
    fifo = [stat_run("fifo", rep, met=2, missed=missed) for rep, missed in [(1, 2), (2, 3), (3, 4)]]
    smart = [
        stat_run("smart", rep, met=2, missed=missed) for rep, missed in [(1, 3), (2, 1), (3, 4)]
    ]
    breaches = build_summary([*fifo, *smart], scenario_name="s", seed=1)["comparisons"]["smart"][
        "stat_breaches"
    ]
    assert breaches["values"] == [1, -2, 0]
    assert breaches["mean"] == pytest.approx(-1 / 3)
    low, high = breaches["ci95"]
    assert low < 0 < high
    assert breaches["significant"] is False


def test_only_shared_replications_are_paired() -> None:
    fifo = [stat_run("fifo", rep, met=2, missed=2) for rep in (1, 2, 3)]
    smart = [stat_run("smart", rep, met=3, missed=rep) for rep in (2, 3, 4)]
    comparison = build_summary([*smart, *fifo], scenario_name="s", seed=1, baseline="fifo")[
        "comparisons"
    ]["smart"]
    assert comparison["stat_breaches"]["replication_ids"] == [2, 3]
    assert comparison["stat_breaches"]["values"] == [0, 1]
    share = comparison["stat_met_sla_share"]
    assert share["replication_ids"] == [2, 3]
    # One more met in each; the denominators (4 and 5, 4 and 6) are averaged, as the
    # simulator's policies never see different studies.
    assert share["values"] == [pytest.approx(1 / 4.5), pytest.approx(1 / 5)]
    assert share["mean"] == pytest.approx(2 / 9.5)


def test_comparison_of_share_and_p90() -> None:
    fifo = [stat_run("fifo", rep, met=3, missed=1) for rep in (1, 2)]
    smart = [stat_run("smart", rep, met=4, missed=0) for rep in (1, 2)]
    comparison = build_summary([*fifo, *smart], scenario_name="s", seed=1)["comparisons"]["smart"]
    assert comparison["stat_met_sla_share"]["mean"] == pytest.approx(0.25)
    assert comparison["all_met_sla_share"]["mean"] == pytest.approx(0.25)
    fifo_p90 = np.percentile([10, 10, 10, 50], 90)
    assert comparison["stat_tat_p90"]["mean"] == pytest.approx(10 - fifo_p90)
    assert comparison["stat_tat_p90"]["significant"] is True


def test_single_pair_is_never_significant() -> None:
    runs = [stat_run("fifo", 1, met=1, missed=3), stat_run("smart", 1, met=4, missed=0)]
    breaches = build_summary(runs, scenario_name="s", seed=1)["comparisons"]["smart"][
        "stat_breaches"
    ]
    assert breaches["mean"] == -3
    assert breaches["ci95"] is None
    assert breaches["significant"] is False


def test_baseline_chosen_by_name() -> None:
    runs = [stat_run(name, 1, met=1, missed=1) for name in ("a", "b", "c")]
    summary = build_summary(runs, scenario_name="s", seed=1, baseline="b")
    assert summary["baseline"] == "b"
    assert list(summary["comparisons"]) == ["a", "c"]
    assert summary["policy_order"] == ["a", "b", "c"]


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="no replication"):
        build_summary([], scenario_name="s", seed=1)
    with pytest.raises(ValueError, match="baseline"):
        build_summary([stat_run("a", 1, met=1, missed=0)], scenario_name="s", seed=1, baseline="z")
    twice = [stat_run("a", 1, met=1, missed=0), stat_run("a", 1, met=1, missed=0)]
    with pytest.raises(ValueError, match="twice"):
        build_summary(twice, scenario_name="s", seed=1)


# --- JSON and formatting --------------------------------------------------------------------


def _refuse_constant(name: str) -> float:
    raise AssertionError(f"JSON holds {name}")


def test_summary_is_strict_json(tmp_path: Path) -> None:
    runs = [make_result("fifo", 1, HAND_STUDIES), stat_run("smart", 1, met=1, missed=0)]
    summary = build_summary(runs, scenario_name="s", seed=1)
    path = tmp_path / "summary.json"
    write_summary(summary, path)
    loaded = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    assert loaded == summary
    assert "NaN" not in path.read_text(encoding="utf-8")
