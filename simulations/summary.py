"""Roll simulated replications up into the figures a staffing or policy decision rests on.

Every statistic is computed once per replication, on the measured studies only (arrivals in
the warm-up are left out), and then summarized across the replications of a policy as

    {"mean": m, "ci95": [lo, hi], "values": [one per replication]}

with an interval that respects the measure's range (``simulations.intervals``: Wilson on pooled
counts for shares, a seeded bootstrap over replications for times and counts). ``values``
follow the policy's ``replication_ids`` (ascending). A statistic that is undefined in some
replication (a TAT percentile when nothing of that priority was read) is ``None`` there and
the others are used. With fewer than two defined values the interval is ``None``.

Replications of different policies share their random numbers (same arrivals, same read
times), so policies are compared by the difference per replication *number*, paired, which
cancels most of the noise common to both; a share's difference is its count's difference
over the paired count, so the two always agree on significance.

summary.json says what each figure means and its unit (``definitions``, ``conventions``) and
warns when there are too few replications to trust the intervals (``warnings``). It is plain
JSON: numbers are finite floats or ints, and anything undefined is None.
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

from models.priority import Priority
from simulations.definitions import CONVENTIONS, DEFINITIONS, replication_warnings
from simulations.facilities import facility_counts, worst_facilities
from simulations.intervals import (
    Stat,
    across_replications,
    paired_difference,
    ratio_stat,
    scaled,
    share_stat,
)
from simulations.measured import Measured, measured_hours
from simulations.results import ReplicationResult

__all__ = [
    "ALL",
    "COMPARED_METRICS",
    "PRIORITIES",
    "build_summary",
    "metric_stat",
    "write_summary",
]

PRIORITIES: tuple[str, ...] = tuple(p.value for p in sorted(Priority, key=lambda p: p.rank))
ALL = "ALL"
"""The ``by_priority`` key for statistics over every priority together."""

TAT_PERCENTILES = {"tat_p50": 50.0, "tat_p90": 90.0, "tat_p99": 99.0}

COMPARED_METRICS: dict[str, tuple[str, bool]] = {
    "stat_breaches": ("STAT breaches", False),
    "stat_met_sla_share": ("STAT met SLA", True),
    "stat_tat_p90": ("STAT TAT p90 (min)", False),
    "all_met_sla_share": ("All met SLA", True),
}
"""Metric key in ``comparisons[policy]`` -> (label, whether it is a share shown as a percent)."""

_SHARE_OF = {"stat_met_sla_share": Priority.STAT.value, "all_met_sla_share": ALL}
"""The share metrics, each compared through the counts of its priority."""


# --- one replication ------------------------------------------------------------------------


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
        "met": float(met.sum()),
        **dict(zip(TAT_PERCENTILES, map(float, percentiles), strict=True)),
        "mean_wait": float(started.mean()) if len(started) else math.nan,
        "unread": float(count - len(read)),
    }


_NOTHING = _priority_stats(np.empty(0), np.empty(0), np.empty(0, dtype=bool))
"""The figures of a priority that a replication never saw."""


def _replication_stats(measured: Measured) -> dict[str, dict[str, float]]:
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


def _reader_minutes(result: ReplicationResult) -> tuple[np.ndarray, np.ndarray]:
    """(busy, on-shift) minutes per reader over the measured hours. The runner counts only the
    on-shift part of a read as busy, so busy <= on shift; the minimum only absorbs float noise."""
    mask = measured_hours(result)
    shift = np.asarray(result.shift_minutes, dtype=float)[:, mask].sum(axis=1)
    busy = np.asarray(result.busy_minutes, dtype=float)[:, mask].sum(axis=1)
    return np.minimum(busy, shift), shift


@dataclass(frozen=True)
class _Digest:
    """What the summary keeps of one replication: small, so that many fit in memory at once."""

    stats: dict[str, dict[str, float]]
    facilities: pd.DataFrame
    reader_ids: list[str]
    busy: np.ndarray
    shift: np.ndarray

    @classmethod
    def of(cls, result: ReplicationResult) -> _Digest:
        measured = Measured.of(result)
        busy, shift = _reader_minutes(result)
        return cls(
            _replication_stats(measured),
            facility_counts(measured),
            list(result.reader_ids),
            busy,
            shift,
        )


# --- one policy -----------------------------------------------------------------------------


def _by_priority(
    per_replication: list[dict[str, dict[str, float]]], keys: Sequence[str]
) -> dict[str, dict[str, Stat]]:
    result: dict[str, dict[str, Stat]] = {}
    for key in keys:
        runs = [run[key] for run in per_replication]
        stats = {
            name: across_replications([run[name] for run in runs])
            for name in ("count", "met", *TAT_PERCENTILES, "mean_wait", "unread")
        }
        stats["met_sla_share"] = share_stat(
            [run["met"] for run in runs], [run["count"] for run in runs]
        )
        order = ("count", "met", "met_sla_share", *TAT_PERCENTILES, "mean_wait", "unread")
        result[key] = {name: stats[name] for name in order}
    return result


def _utilization(digests: list[_Digest]) -> dict[str, Any]:
    """All readers' busy over on-shift minutes per replication, pooled; and per reader."""
    overall = ratio_stat([d.busy.sum() for d in digests], [d.shift.sum() for d in digests])
    busy: dict[str, float] = {}
    shift: dict[str, float] = {}
    for digest in digests:
        for reader, busy_minutes, shift_minutes in zip(
            digest.reader_ids, digest.busy, digest.shift, strict=True
        ):
            busy[reader] = busy.get(reader, 0.0) + float(busy_minutes)
            shift[reader] = shift.get(reader, 0.0) + float(shift_minutes)
    return {
        **overall,
        "by_reader": {
            reader: busy[reader] / minutes for reader, minutes in shift.items() if minutes > 0
        },
        "readers_without_shift_time": [reader for reader, minutes in shift.items() if minutes <= 0],
    }


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
        "utilization": _utilization(digests),
        "worst_facilities": worst_facilities([digest.facilities for digest in digests]),
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


def _by_replication(policy: dict[str, Any], stat: Stat) -> dict[int, float | None]:
    return dict(zip(policy["replication_ids"], stat["values"], strict=True))


def _share_difference(base: dict[str, Any], other: dict[str, Any], priority: str) -> Stat:
    """The difference in studies met over the mean paired count: the count's interval and
    significance, rescaled (a share and its count cannot disagree)."""
    base_stats, other_stats = base["by_priority"][priority], other["by_priority"][priority]
    met = paired_difference(
        _by_replication(base, base_stats["met"]), _by_replication(other, other_stats["met"])
    )
    base_counts = _by_replication(base, base_stats["count"])
    other_counts = _by_replication(other, other_stats["count"])
    # The policies of one replication see the same studies, so their counts agree; should
    # they not (hand-built data), their mean is the denominator.
    paired = [
        ((base_counts[rep] or 0.0) + (other_counts[rep] or 0.0)) / 2
        for rep in met["replication_ids"]
    ]
    if not paired or sum(paired) <= 0:
        return {**met, "mean": None, "ci95": None, "values": [], "significant": False}
    values = [
        difference / count if count > 0 else None
        for difference, count in zip(met["values"], paired, strict=True)
    ]
    return scaled(met, len(paired) / sum(paired), values)


def _comparison(base: dict[str, Any], other: dict[str, Any], metric: str) -> Stat:
    if metric in _SHARE_OF:
        return _share_difference(base, other, _SHARE_OF[metric])
    return paired_difference(
        _by_replication(base, metric_stat(base, metric)),
        _by_replication(other, metric_stat(other, metric)),
    )


def _comparisons(policies: dict[str, dict[str, Any]], baseline: str) -> dict[str, Any]:
    return {
        name: {
            metric: _comparison(policies[baseline], policy, metric) for metric in COMPARED_METRICS
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
        warnings: [text, ...]                           too few replications to trust
        conventions: {shares, times, counts, statistic, measured}
        definitions: {measure: {unit, meaning, interval}}
        policies: {policy: {
            replication_ids: [int, ...]                 the order of every "values" list
            by_priority: {STAT|URGENT|ROUTINE|ALL: {count, met, met_sla_share, tat_p50,
                                                    tat_p90, tat_p99, mean_wait, unread: Stat}}
            stat_breaches: Stat                         measured STAT studies not met
            utilization: Stat + {by_reader: {reader: share}, readers_without_shift_time}
            worst_facilities: {minimum_stat_urgent_studies, facilities_ranked,
                               facilities_with_too_few_studies, rows: [...]}
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
    replications = {name: len(runs) for name, runs in groups.items()}
    return {
        "scenario": scenario_name,
        "seed": int(seed),
        "baseline": chosen if len(order) > 1 else None,
        "policy_order": order,
        "replications": replications,
        "warnings": replication_warnings(replications),
        "conventions": CONVENTIONS,
        "definitions": DEFINITIONS,
        "policies": policies,
        "comparisons": _comparisons(policies, chosen) if len(order) > 1 else {},
    }


def write_summary(summary: dict[str, Any], path: Path) -> None:
    """Write the summary as indented JSON; refuses NaN or infinity rather than emit bad JSON."""
    path.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")
