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

from simulations.results import EXTRA_COLUMNS, STUDY_COLUMNS, ReplicationResult
from simulations.summary import (
    COMPARED_METRICS,
    SUMMARY_TABLE_COLUMNS,
    across_replications,
    build_summary,
    facility_compliance,
    format_ci,
    format_pm,
    summary_table,
    write_summary,
)

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


def test_worst_facilities_pooled_over_replications() -> None:
    first = make_result("fifo", 1, HAND_STUDIES)
    second = make_result(
        "fifo", 2, [Study("URGENT", 100.0, 300.0, 400.0, facility="F2", state="CA")]
    )
    summary = build_summary([first, second], scenario_name="s", seed=1)
    worst = summary["policies"]["fifo"]["worst_facilities"]
    assert worst == [
        {
            "facility": "F1",
            "state": "NY",
            "count": 3,
            "met_sla_share": pytest.approx(1 / 3),
            "stat_met_share": pytest.approx(1 / 3),
        },
        {
            "facility": "F2",
            "state": "CA",
            "count": 3,
            "met_sla_share": pytest.approx(2 / 3),
            "stat_met_share": None,
        },
    ]


def test_facility_compliance_lists_at_most_ten_worst_first() -> None:
    studies = [
        Study("STAT", 60.0 + i, 60.0 + i, 70.0 + i + (i % 3) * 30, facility=f"F{i:02d}")
        for i in range(14)
    ]
    run = make_result("fifo", 1, studies)
    table = facility_compliance([run])
    assert len(table) == 14
    assert list(table["met_sla_share"]) == sorted(table["met_sla_share"])
    worst = build_summary([run], scenario_name="s", seed=1)["policies"]["fifo"]["worst_facilities"]
    assert len(worst) == 10
    assert all(row["met_sla_share"] == 0 for row in worst[:9])


def test_utilization_over_measured_hours_only() -> None:
    busy = [[60, 30, 30, 0], [0, 0, 60, 30], [0, 0, 0, 0]]
    shift = [[60, 60, 60, 0], [0, 0, 60, 60], [60, 0, 0, 0]]  # r3: only in the warm-up hour
    run = make_result("fifo", 1, HAND_STUDIES, readers=("r1", "r2", "r3"), busy=busy, shift=shift)
    utilization = build_summary([run], scenario_name="s", seed=1)["policies"]["fifo"]["utilization"]
    assert utilization["by_reader"] == {"r1": 0.5, "r2": 0.75, "r3": None}
    assert utilization["mean"] == pytest.approx((0.5 + 0.75) / 2)  # readers never on shift skipped


def test_utilization_by_reader_is_mean_over_replications() -> None:
    half = make_result("fifo", 1, HAND_STUDIES)
    full = make_result("fifo", 2, HAND_STUDIES, busy=[[60.0] * 4, [60.0] * 4])
    utilization = build_summary([half, full], scenario_name="s", seed=1)["policies"]["fifo"][
        "utilization"
    ]
    assert utilization["by_reader"] == {"r1": 0.75, "r2": 0.75}
    assert utilization["values"] == [0.5, 1.0]


def test_totals_of_events_and_wall_time() -> None:
    runs = [
        make_result("fifo", 1, HAND_STUDIES, events=10, wall_seconds=1.5),
        make_result("fifo", 2, HAND_STUDIES, events=32, wall_seconds=2.0),
    ]
    policy = build_summary(runs, scenario_name="s", seed=1)["policies"]["fifo"]
    assert policy["events"] == 42
    assert policy["wall_seconds"] == pytest.approx(3.5)


# --- across replications --------------------------------------------------------------------


def test_student_t_interval_matches_scipy() -> None:
    values = [1.0, 2.0, 4.0, 7.0]
    stat = across_replications(values)
    low, high = stats.t.interval(
        0.95, df=len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    assert stat["mean"] == pytest.approx(3.5)
    assert stat["ci95"] == [pytest.approx(low), pytest.approx(high)]
    assert stat["values"] == values


def test_interval_by_hand_for_two_values() -> None:
    stat = across_replications([10.0, 14.0])
    half = stats.t.ppf(0.975, 1) * math.sqrt(8.0) / math.sqrt(2.0)
    assert stat["ci95"] == [pytest.approx(12.0 - half), pytest.approx(12.0 + half)]


def test_undefined_values_are_skipped() -> None:
    stat = across_replications([1.0, None, float("nan"), 3.0])
    assert stat["mean"] == 2.0
    assert stat["values"] == [1.0, None, None, 3.0]
    assert stat["ci95"] is not None
    assert across_replications([None]) == {"mean": None, "ci95": None, "values": [None]}


def test_statistic_per_replication_then_interval() -> None:
    runs = [
        stat_run("fifo", rep, met=met, missed=missed)
        for rep, (met, missed) in enumerate([(3, 1), (2, 2), (1, 3)], start=1)
    ]
    stat = build_summary(runs, scenario_name="s", seed=1)["policies"]["fifo"]
    shares = stat["by_priority"]["STAT"]["met_sla_share"]
    assert shares["values"] == [0.75, 0.5, 0.25]
    assert shares["ci95"] == pytest.approx(
        list(stats.t.interval(0.95, df=2, loc=0.5, scale=stats.sem([0.75, 0.5, 0.25])))
    )
    assert stat["stat_breaches"]["values"] == [1, 2, 3]


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
    met_share = comparison["stat_met_sla_share"]["values"]
    assert met_share == [pytest.approx(3 / 5 - 1 / 2), pytest.approx(3 / 6 - 1 / 2)]


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


def test_format_ci() -> None:
    share = {"mean": 0.931, "ci95": [0.912, 0.95], "values": []}
    assert format_ci(share, percent=True) == "93.1% [91.2, 95.0]"
    assert format_ci({"mean": 12.4, "ci95": [11.0, 13.8], "values": []}) == "12.4 [11.0, 13.8]"
    assert format_ci({"mean": 12.44, "ci95": None, "values": []}, 2) == "12.44"
    assert format_ci({"mean": None, "ci95": None, "values": []}) == "n/a"


def test_format_pm() -> None:
    share = {"mean": 0.931, "ci95": [0.912, 0.95], "values": []}
    assert format_pm(share, percent=True) == "93.1% ± 1.9"
    assert format_pm({"mean": 3.0, "ci95": None, "values": []}) == "3.0"


def test_summary_table_rows() -> None:
    runs = [stat_run("fifo", rep, met=3, missed=1) for rep in (1, 2)]
    runs += [stat_run("smart", rep, met=2 + rep, missed=2 - rep) for rep in (1, 2)]
    rows = summary_table(build_summary(runs, scenario_name="s", seed=1))
    assert [row[0] for row in rows] == ["fifo", "smart"]
    assert all(len(row) == len(SUMMARY_TABLE_COLUMNS) for row in rows)
    assert rows[0] == [
        "fifo",
        "75.0% ± 0.0",
        "38.0 ± 0.0",
        "1.0 ± 0.0",
        "75.0% ± 0.0",
        "50.0% ± 0.0",
    ]
    assert rows[1][1].startswith("87.5% ± ")
