"""Roll simulated replications up into the figures a staffing or policy decision rests on.

Every statistic is computed once per replication, on the measured studies only (arrivals in
the warm-up are left out), and then summarized across the replications of a policy as

    {"mean": m, "ci95": [lo, hi], "values": [one per replication]}

with a Student-t 95% confidence interval ``m ± t(0.975, n-1) · s / sqrt(n)``, ``s`` being the
sample standard deviation (ddof=1) of the ``n`` per-replication values. ``values`` follow the
policy's ``replication_ids`` (ascending). A statistic that is undefined in some replication
(a TAT percentile when nothing of that priority was read, a share of zero studies) is ``None``
there and the mean and interval use the others. With fewer than two defined values the
interval is ``None`` (JSON ``null``): one replication says nothing about the spread, and a
zero-width interval would claim certainty it does not have.

Replications of different policies share their random numbers (same arrivals, same read
times), so policies are compared by the difference per replication *number*, paired, which
cancels most of the noise common to both; see :func:`build_summary`.

The summary is plain JSON: numbers are finite floats or ints, and anything undefined is None.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from models.priority import Priority
from simulations.results import ReplicationResult

__all__ = [
    "ALL",
    "COMPARED_METRICS",
    "PRIORITIES",
    "SUMMARY_TABLE_COLUMNS",
    "WORST_FACILITIES",
    "Stat",
    "across_replications",
    "build_summary",
    "facility_compliance",
    "format_ci",
    "format_pm",
    "measured_column",
    "measured_hours",
    "metric_stat",
    "summary_table",
    "write_summary",
]

Stat = dict[str, Any]
"""``{"mean": float | None, "ci95": [lo, hi] | None, "values": [float | None, ...]}``."""

PRIORITIES: tuple[str, ...] = tuple(p.value for p in sorted(Priority, key=lambda p: p.rank))
ALL = "ALL"
"""The ``by_priority`` key for statistics over every priority together."""

WORST_FACILITIES = 10
CONFIDENCE = 0.95
TAT_PERCENTILES = {"tat_p50": 50.0, "tat_p90": 90.0, "tat_p99": 99.0}

COMPARED_METRICS: dict[str, tuple[str, bool]] = {
    "stat_breaches": ("STAT breaches", False),
    "stat_met_sla_share": ("STAT met SLA", True),
    "stat_tat_p90": ("STAT TAT p90 (min)", False),
    "all_met_sla_share": ("All met SLA", True),
}
"""Metric key in ``comparisons[policy]`` -> (label, whether it is a share shown as a percent)."""

SUMMARY_TABLE_COLUMNS = (
    "Policy",
    "STAT met SLA",
    "STAT TAT p90 (min)",
    "STAT breaches",
    "All met SLA",
    "Utilization",
)


# --- statistics across replications ---------------------------------------------------------


def _number(value: float | int | np.number | None) -> float | None:
    """A plain finite float, or None for anything undefined (NaN, inf, missing)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _t_interval(values: np.ndarray) -> list[float] | None:
    if len(values) < 2:
        return None
    mean = float(values.mean())
    critical = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1))
    half = critical * float(values.std(ddof=1)) / math.sqrt(len(values))
    return [mean - half, mean + half]


def across_replications(values: Sequence[float | int | None]) -> Stat:
    """Mean and Student-t 95% interval of per-replication values; None values are skipped."""
    cleaned = [_number(v) for v in values]
    defined = np.array([v for v in cleaned if v is not None], dtype=float)
    return {
        "mean": float(defined.mean()) if len(defined) else None,
        "ci95": _t_interval(defined),
        "values": cleaned,
    }


def _excludes_zero(interval: list[float] | None) -> bool:
    return interval is not None and (interval[0] > 0 or interval[1] < 0)


# --- one replication ------------------------------------------------------------------------


def measured_column(result: ReplicationResult, column: str) -> np.ndarray:
    """One column of the measured studies (warm-up arrivals left out) as a numpy array.

    Cheaper than ``result.measured[column]``, which copies every column of the frame first.
    """
    return result.studies[column].to_numpy()[~result.studies["warmup"].to_numpy(dtype=bool)]


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes (in order of first appearance) and names; a missing value becomes ""."""
    codes, uniques = pd.factorize(values)
    names = [str(name) for name in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names.append("")
    return codes, names


@dataclass(frozen=True)
class _Measured:
    """The columns the statistics need, for the measured studies of one replication."""

    tat: np.ndarray
    wait: np.ndarray
    met: np.ndarray
    priority_codes: np.ndarray
    priorities: list[str]
    facility_codes: np.ndarray
    facilities: list[str]
    facility_states: list[str]

    @classmethod
    def of(cls, result: ReplicationResult) -> _Measured:
        studies = result.studies
        keep = ~studies["warmup"].to_numpy(dtype=bool)
        # A study nobody finished counts as not met, whatever its flag says.
        met = studies["met_sla"].to_numpy(dtype=bool) & studies["finished_at"].notna().to_numpy()
        priority_codes, priorities = _factorize(studies["priority"].to_numpy()[keep])
        facility_codes, facilities = _factorize(studies["facility"].to_numpy()[keep])
        # Codes are numbered in order of first appearance, so these are each one's first row.
        first_rows = pd.Series(facility_codes).drop_duplicates().index.to_numpy()
        states = studies["state"].to_numpy()[keep][first_rows]
        return cls(
            tat=studies["tat_minutes"].to_numpy(dtype=float)[keep],
            wait=studies["wait_minutes"].to_numpy(dtype=float)[keep],
            met=met[keep],
            priority_codes=priority_codes,
            priorities=priorities,
            facility_codes=facility_codes,
            facilities=facilities,
            facility_states=[str(state) for state in states],
        )

    def is_priority(self, name: str) -> np.ndarray:
        if name not in self.priorities:
            return np.zeros(len(self.priority_codes), dtype=bool)
        return self.priority_codes == self.priorities.index(name)


def _priority_stats(tat: np.ndarray, wait: np.ndarray, met: np.ndarray) -> dict[str, float]:
    """One replication's figures for one slice of studies (NaN where undefined)."""
    count = len(tat)
    read = tat[~np.isnan(tat)]
    started = wait[~np.isnan(wait)]
    percentiles = (
        np.percentile(read, list(TAT_PERCENTILES.values()))
        if len(read)
        else [math.nan] * len(TAT_PERCENTILES)
    )
    return {
        "count": float(count),
        "met_sla_share": float(met.mean()) if count else math.nan,
        **dict(zip(TAT_PERCENTILES, map(float, percentiles), strict=True)),
        "mean_wait": float(started.mean()) if len(started) else math.nan,
        "unread": float(count - len(read)),
        "met": float(met.sum()),
    }


_NOTHING = _priority_stats(np.empty(0), np.empty(0), np.empty(0, dtype=bool))
"""The figures of a priority that a replication never saw."""


def _replication_stats(measured: _Measured) -> dict[str, dict[str, float]]:
    """Figures per priority (the known ones, then any others present) and for ALL."""
    names = [*PRIORITIES, *sorted(set(measured.priorities) - set(PRIORITIES))]
    by_priority: dict[str, dict[str, float]] = {}
    for name in names:
        mask = measured.is_priority(name)
        by_priority[name] = _priority_stats(
            measured.tat[mask], measured.wait[mask], measured.met[mask]
        )
    by_priority[ALL] = _priority_stats(measured.tat, measured.wait, measured.met)
    return by_priority


def measured_hours(result: ReplicationResult) -> np.ndarray:
    """Boolean mask over ``result.hours``: the hours that start inside the measured window
    (after the warm-up, before arrivals stop; the drain after it would dilute utilization)."""
    inside = result.hours >= result.measured_from
    if result.measured_until is not None:
        inside &= result.hours < result.measured_until
    return np.asarray(inside, dtype=bool)


def _reader_shares(result: ReplicationResult) -> np.ndarray:
    """Busy / shift minutes per reader over the measured hours; NaN if never on shift."""
    mask = measured_hours(result)
    busy = np.asarray(result.busy_minutes, dtype=float)[:, mask].sum(axis=1)
    shift = np.asarray(result.shift_minutes, dtype=float)[:, mask].sum(axis=1)
    return np.divide(busy, shift, out=np.full_like(busy, np.nan), where=shift > 0)


# --- facilities -----------------------------------------------------------------------------


def _facility_counts(measured: _Measured) -> pd.DataFrame:
    """One replication's measured studies and met counts per facility (one row each)."""
    codes, size = measured.facility_codes, len(measured.facilities)
    is_stat = measured.is_priority(Priority.STAT.value)
    return pd.DataFrame(
        {
            "facility": measured.facilities,
            "state": measured.facility_states,
            "count": np.bincount(codes, minlength=size),
            "met": np.bincount(codes, weights=measured.met, minlength=size),
            "stat_count": np.bincount(codes, weights=is_stat, minlength=size),
            "stat_met": np.bincount(codes, weights=measured.met & is_stat, minlength=size),
        }
    )


_FACILITY_COLUMNS = ["facility", "state", "count", "met_sla_share", "stat_count", "stat_met_share"]


def _pool_facilities(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=_FACILITY_COLUMNS)
    pooled = pd.concat(parts).groupby("facility", sort=False)
    table = pooled[["count", "met", "stat_count", "stat_met"]].sum()
    table["state"] = pooled["state"].first()
    table["met_sla_share"] = table["met"] / table["count"]
    table["stat_met_share"] = table["stat_met"] / table["stat_count"].where(table["stat_count"] > 0)
    table = table.reset_index().sort_values(["met_sla_share", "facility"], kind="stable")
    return table[_FACILITY_COLUMNS].reset_index(drop=True)


def facility_compliance(results: Iterable[ReplicationResult]) -> pd.DataFrame:
    """Met-SLA shares per facility, pooled over the replications given (measured studies).

    Columns: facility, state, count, met_sla_share, stat_count, stat_met_share (NaN without
    STAT studies); sorted worst first (lowest share, then facility id for a stable order).
    """
    return _pool_facilities([_facility_counts(_Measured.of(result)) for result in results])


def _worst_facilities(parts: list[pd.DataFrame]) -> list[dict[str, Any]]:
    table = _pool_facilities(parts).head(WORST_FACILITIES)
    return [
        {
            "facility": str(row["facility"]),
            "state": str(row["state"]),
            "count": int(row["count"]),
            "met_sla_share": _number(row["met_sla_share"]),
            "stat_met_share": _number(row["stat_met_share"]),
        }
        for row in table.to_dict("records")
    ]


# --- one policy -----------------------------------------------------------------------------


def _by_priority(
    per_replication: list[dict[str, dict[str, float]]], keys: Sequence[str]
) -> dict[str, dict[str, Stat]]:
    statistics = ("count", "met_sla_share", *TAT_PERCENTILES, "mean_wait", "unread")
    return {
        key: {
            name: across_replications([run[key][name] for run in per_replication])
            for name in statistics
        }
        for key in keys
    }


def _utilization(results: list[ReplicationResult]) -> dict[str, Any]:
    """Mean over readers on shift of each reader's busy share, then across replications."""
    overall: list[float | None] = []
    by_reader: dict[str, list[float]] = {}
    for result in results:
        shares = _reader_shares(result)
        on_shift = shares[~np.isnan(shares)]
        overall.append(float(on_shift.mean()) if len(on_shift) else None)
        for reader, share in zip(result.reader_ids, shares, strict=True):
            by_reader.setdefault(reader, [])
            if not math.isnan(share):
                by_reader[reader].append(float(share))
    return {
        **across_replications(overall),
        "by_reader": {
            reader: float(np.mean(shares)) if shares else None
            for reader, shares in by_reader.items()
        },
    }


@dataclass(frozen=True)
class _Digest:
    """What the summary keeps of one replication: small, so that many fit in memory at once."""

    stats: dict[str, dict[str, float]]
    facilities: pd.DataFrame

    @classmethod
    def of(cls, result: ReplicationResult) -> _Digest:
        measured = _Measured.of(result)
        return cls(_replication_stats(measured), _facility_counts(measured))


def _policy_summary(
    results: list[ReplicationResult], digests: list[_Digest], priorities: Sequence[str]
) -> dict[str, Any]:
    per_replication = [
        {name: digest.stats.get(name, _NOTHING) for name in [*priorities, ALL]}
        for digest in digests
    ]
    stat = [run[Priority.STAT.value] for run in per_replication]
    return {
        "replication_ids": [result.replication for result in results],
        "by_priority": _by_priority(per_replication, [*priorities, ALL]),
        "stat_breaches": across_replications([run["count"] - run["met"] for run in stat]),
        "utilization": _utilization(results),
        "worst_facilities": _worst_facilities([digest.facilities for digest in digests]),
        "wall_seconds": float(sum(result.wall_seconds for result in results)),
        "events": int(sum(result.events for result in results)),
    }


def metric_stat(policy: dict[str, Any], metric: str) -> Stat:
    """The per-policy statistic behind a key of :data:`COMPARED_METRICS`."""
    by_priority = policy["by_priority"]
    getters = {
        "stat_breaches": lambda: policy["stat_breaches"],
        "stat_met_sla_share": lambda: by_priority[Priority.STAT.value]["met_sla_share"],
        "stat_tat_p90": lambda: by_priority[Priority.STAT.value]["tat_p90"],
        "all_met_sla_share": lambda: by_priority[ALL]["met_sla_share"],
    }
    if metric not in getters:
        raise KeyError(f"unknown metric {metric!r}; expected one of {sorted(getters)}")
    stat: Stat = getters[metric]()
    return stat


# --- comparisons ----------------------------------------------------------------------------


def _by_replication(policy: dict[str, Any], metric: str) -> dict[int, float | None]:
    values = metric_stat(policy, metric)["values"]
    return dict(zip(policy["replication_ids"], values, strict=True))


def _paired_difference(base: dict[str, Any], other: dict[str, Any], metric: str) -> Stat:
    """other − base per replication number present (and defined) in both, then its CI."""
    base_values = _by_replication(base, metric)
    other_values = _by_replication(other, metric)
    paired: dict[int, float] = {}
    for rep in sorted(base_values.keys() & other_values.keys()):
        before, after = base_values[rep], other_values[rep]
        if before is not None and after is not None:
            paired[rep] = after - before
    difference = across_replications(list(paired.values()))
    return {
        **difference,
        "replication_ids": list(paired),
        "significant": _excludes_zero(difference["ci95"]),
    }


def _comparisons(policies: dict[str, dict[str, Any]], baseline: str) -> dict[str, Any]:
    return {
        name: {
            metric: _paired_difference(policies[baseline], policy, metric)
            for metric in COMPARED_METRICS
        }
        for name, policy in policies.items()
        if name != baseline
    }


# --- the summary ----------------------------------------------------------------------------


def _group_by_policy(results: list[ReplicationResult]) -> dict[str, list[ReplicationResult]]:
    groups: dict[str, list[ReplicationResult]] = {}
    for result in results:
        groups.setdefault(result.policy, []).append(result)
    for policy, runs in groups.items():
        ids = [run.replication for run in runs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"policy {policy!r} has a replication number twice: {sorted(ids)}")
        runs.sort(key=lambda run: run.replication)
    return groups


def _priorities_seen(digests: Iterable[_Digest]) -> list[str]:
    """The known priorities in rank order, then any others the data holds, sorted."""
    seen = {name for digest in digests for name in digest.stats if name != ALL}
    return [*PRIORITIES, *sorted(seen - set(PRIORITIES))]


def build_summary(
    results: list[ReplicationResult],
    *,
    scenario_name: str,
    seed: int,
    baseline: str | None = None,
) -> dict[str, Any]:
    """Summarize replications of one or more policies; see the module docstring for the stats.

    Layout::

        scenario, seed, baseline (name or None with a single policy)
        policy_order: [policy, ...]                     first-seen order
        replications: {policy: count}
        policies: {policy: {
            replication_ids: [int, ...]                 the order of every "values" list
            by_priority: {STAT|URGENT|ROUTINE|ALL: {count, met_sla_share, tat_p50, tat_p90,
                                                    tat_p99, mean_wait, unread: Stat}}
            stat_breaches: Stat                         measured STAT studies not met
            utilization: Stat + {by_reader: {reader: share | None}}
            worst_facilities: [{facility, state, count, met_sla_share, stat_met_share}]
            wall_seconds, events}}
        comparisons: {policy: {metric: Stat + {replication_ids, significant}}}  ({} if one)

    Raises:
        ValueError: if there are no results, a policy repeats a replication number, or
            ``baseline`` is not one of the policies.
    """
    if not results:
        raise ValueError("no replication results to summarize")
    groups = _group_by_policy(results)
    order = list(groups)
    chosen = order[0] if baseline is None else baseline
    if chosen not in groups:
        raise ValueError(f"baseline {baseline!r} is not one of the policies {order}")
    digests = {name: [_Digest.of(run) for run in runs] for name, runs in groups.items()}
    priorities = _priorities_seen(digest for runs in digests.values() for digest in runs)
    policies = {
        name: _policy_summary(runs, digests[name], priorities) for name, runs in groups.items()
    }
    return {
        "scenario": scenario_name,
        "seed": int(seed),
        "baseline": chosen if len(order) > 1 else None,
        "policy_order": order,
        "replications": {name: len(runs) for name, runs in groups.items()},
        "policies": policies,
        "comparisons": _comparisons(policies, chosen) if len(order) > 1 else {},
    }


def write_summary(summary: dict[str, Any], path: Path) -> None:
    """Write the summary as indented JSON; refuses NaN or infinity rather than emit bad JSON."""
    path.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")


# --- formatting for the terminal ------------------------------------------------------------


def _scaled(value: float, percent: bool) -> float:
    return value * 100.0 if percent else value


def _mean_text(stat: Stat, digits: int, percent: bool) -> str:
    if stat.get("mean") is None:
        return "n/a"
    return f"{_scaled(stat['mean'], percent):.{digits}f}{'%' if percent else ''}"


def format_ci(stat: Stat, digits: int = 1, *, percent: bool = False) -> str:
    """``"93.1% [91.2, 95.0]"`` (percent) or ``"12.4 [11.0, 13.8]"``; "n/a" when undefined."""
    text = _mean_text(stat, digits, percent)
    if stat.get("mean") is None or stat.get("ci95") is None:
        return text
    low, high = (_scaled(bound, percent) for bound in stat["ci95"])
    return f"{text} [{low:.{digits}f}, {high:.{digits}f}]"


def format_pm(stat: Stat, digits: int = 1, *, percent: bool = False) -> str:
    """``"93.1% ± 1.9"``: the mean and the half-width of its (symmetric) 95% interval."""
    text = _mean_text(stat, digits, percent)
    if stat.get("mean") is None or stat.get("ci95") is None:
        return text
    half = _scaled((stat["ci95"][1] - stat["ci95"][0]) / 2, percent)
    return f"{text} ± {half:.{digits}f}"


def summary_table(summary: dict[str, Any]) -> list[list[str]]:
    """One row per policy, in the columns of :data:`SUMMARY_TABLE_COLUMNS` (header not included)."""
    rows = []
    for name in summary["policy_order"]:
        policy = summary["policies"][name]
        stat = policy["by_priority"][Priority.STAT.value]
        rows.append(
            [
                name,
                format_pm(stat["met_sla_share"], percent=True),
                format_pm(stat["tat_p90"]),
                format_pm(policy["stat_breaches"]),
                format_pm(policy["by_priority"][ALL]["met_sla_share"], percent=True),
                format_pm(policy["utilization"], percent=True),
            ]
        )
    return rows
