"""Summary figures as text, the same on the console and in report.html.

summary.json holds shares as fractions; here they become percentages, and differences of
shares percentage points (pp). Intervals are shown as brackets, never as "± half-width":
an interval that respects its range is not symmetric around the mean.
"""

from __future__ import annotations

from typing import Any

from models.priority import Priority
from simulations.intervals import Stat
from simulations.summary import ALL, COMPARED_METRICS, metric_stat

__all__ = [
    "COMPARISON_COLUMNS",
    "SUMMARY_TABLE_COLUMNS",
    "comparison_rows",
    "format_ci",
    "format_difference",
    "summary_table",
]

SUMMARY_TABLE_COLUMNS = (
    "Policy",
    "STAT met SLA",
    "STAT TAT p90 (min)",
    "STAT breaches",
    "All met SLA",
    "Utilization",
)

COMPARISON_COLUMNS = ("Measure", "Difference", "95% CI", "Significant")
"""After "Measure" come the baseline's and the policy's own values, named by policy."""


def _scaled(value: float, percent: bool) -> float:
    return value * 100.0 if percent else value


def format_ci(stat: Stat, digits: int = 1, *, percent: bool = False) -> str:
    """``"93.1% [91.2, 95.0]"`` (percent) or ``"12.4 [11.0, 13.8]"``; "n/a" when undefined."""
    if stat.get("mean") is None:
        return "n/a"
    text = f"{_scaled(stat['mean'], percent):.{digits}f}{'%' if percent else ''}"
    if stat.get("ci95") is None:
        return text
    low, high = (_scaled(bound, percent) for bound in stat["ci95"])
    return f"{text} [{low:.{digits}f}, {high:.{digits}f}]"


def format_difference(stat: Stat, percent: bool) -> tuple[str, str]:
    """A paired difference and its interval as text; shares in percentage points."""
    scale, unit = (100.0, " pp") if percent else (1.0, "")
    if stat["mean"] is None:
        return "n/a", "n/a"
    mean = f"{stat['mean'] * scale:+.2f}{unit}"
    if stat["ci95"] is None:
        return mean, "n/a (one replication)"
    low, high = (bound * scale for bound in stat["ci95"])
    return mean, f"[{low:+.2f}, {high:+.2f}]"


def summary_table(summary: dict[str, Any]) -> list[list[str]]:
    """One row per policy, in the columns of :data:`SUMMARY_TABLE_COLUMNS` (header not included)."""
    rows = []
    for name in summary["policy_order"]:
        policy = summary["policies"][name]
        stat = policy["by_priority"][Priority.STAT.value]
        rows.append(
            [
                name,
                format_ci(stat["met_sla_share"], percent=True),
                format_ci(stat["tat_p90"]),
                format_ci(policy["stat_breaches"]),
                format_ci(policy["by_priority"][ALL]["met_sla_share"], percent=True),
                format_ci(policy["utilization"], percent=True),
            ]
        )
    return rows


def comparison_rows(summary: dict[str, Any], policy: str) -> list[tuple[list[str], bool]]:
    """``policy`` against the baseline, one row per compared measure: label, the baseline's
    value, the policy's, the paired difference, its interval, "yes"/"no"; and whether it is
    significant."""
    baseline = summary["policies"][summary["baseline"]]
    own = summary["policies"][policy]
    rows = []
    for metric, difference in summary["comparisons"][policy].items():
        label, percent = COMPARED_METRICS[metric]
        mean, interval = format_difference(difference, percent)
        significant = bool(difference["significant"])
        rows.append(
            (
                [
                    label,
                    format_ci(metric_stat(baseline, metric), percent=percent),
                    format_ci(metric_stat(own, metric), percent=percent),
                    mean,
                    interval,
                    "yes" if significant else "no",
                ],
                significant,
            )
        )
    return rows
