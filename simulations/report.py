"""A single self-contained HTML page showing the summary's numbers and the data behind them.

Sections: the summary tables (every figure with its 95% interval), turnaround distributions,
the backlog hour by hour, reader utilization by hour of day, SLA compliance by facility, and,
with more than one policy, the paired comparison against the baseline. The plots
(``simulations.plots``) are PNGs embedded as base64, so the file can be mailed or archived on
its own. Figures are formatted as on the console (``simulations.formatting``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulations.facilities import facility_compliance
from simulations.formatting import comparison_rows, format_ci
from simulations.plots import (
    FACILITY_BARS,
    backlog_figure,
    colors_of,
    facility_figure,
    heatmap_figure,
    tat_figure,
)
from simulations.results import ReplicationResult

__all__ = ["write_report"]

MAX_HEATMAPS = 4

_STAT_COLUMNS = (
    ("count", "Studies", False, 0),
    ("met_sla_share", "Met SLA", True, 1),
    ("tat_p50", "TAT p50 (min)", False, 1),
    ("tat_p90", "TAT p90 (min)", False, 1),
    ("tat_p99", "TAT p99 (min)", False, 1),
    ("mean_wait", "Mean wait (min)", False, 1),
    ("unread", "Unread", False, 1),
)
"""Summary statistic -> (column heading, shown as percent, decimals)."""

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.8em 0 1.6em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f2f2; }
tr.significant td { background: #fff4d6; font-weight: 600; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.meta dt { font-weight: 600; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
p.note { color: #555; font-size: 0.9em; }
p.warning { color: #8a4b00; font-weight: 600; }
"""

_INTERVALS_NOTE = (
    '<p class="note">Each figure is the mean over replications (for shares, the share pooled '
    "over them) with its 95% interval in brackets: Wilson on the pooled counts for shares, a "
    "seeded bootstrap over replications for times, counts and utilization (summary.json "
    "defines each). Studies that arrived during the warm-up are left out.</p>"
)


# --- small helpers --------------------------------------------------------------------------


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], row_classes: Sequence[str] = ()
) -> str:
    """An HTML table; cells are escaped here, so callers pass plain text."""
    head = "".join(f"<th>{_text(cell)}</th>" for cell in header)
    body = []
    for index, row in enumerate(rows):
        css = row_classes[index] if index < len(row_classes) else ""
        attribute = f' class="{_text(css)}"' if css else ""
        cells = "".join(f"<td>{_text(cell)}</td>" for cell in row)
        body.append(f"<tr{attribute}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{_text(title)}</h2>{''.join(parts)}</section>"


def _group(
    results: list[ReplicationResult], order: Sequence[str]
) -> dict[str, list[ReplicationResult]]:
    groups: dict[str, list[ReplicationResult]] = {name: [] for name in order}
    for result in results:
        groups.setdefault(result.policy, []).append(result)
    return {name: runs for name, runs in groups.items() if runs}


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.1f}%"


# --- header and summary tables --------------------------------------------------------------


def _header(summary: dict[str, Any]) -> str:
    replications = summary["replications"]
    counts = set(replications.values())
    per_policy = (
        f"{counts.pop()} per policy"
        if len(counts) == 1
        else ", ".join(f"{name}: {count}" for name, count in replications.items())
    )
    facts = {
        "Scenario": summary["scenario"],
        "Seed": summary["seed"],
        "Replications": per_policy,
        "Policies": ", ".join(summary["policy_order"]),
    }
    if summary.get("baseline"):
        facts["Baseline"] = summary["baseline"]
    items = "".join(f"<dt>{_text(key)}</dt><dd>{_text(value)}</dd>" for key, value in facts.items())
    warnings = "".join(
        f'<p class="warning">Warning: {_text(text)}</p>' for text in summary.get("warnings", [])
    )
    return (
        f"<h1>Simulation report: {_text(summary['scenario'])}</h1>"
        f'<dl class="meta">{items}</dl>{warnings}{_INTERVALS_NOTE}'
    )


def _priority_table(policy: dict[str, Any]) -> str:
    header = ["Priority", *(label for _, label, _, _ in _STAT_COLUMNS)]
    rows = [
        [
            priority,
            *(
                format_ci(stats[key], digits, percent=percent)
                for key, _, percent, digits in _STAT_COLUMNS
            ),
        ]
        for priority, stats in policy["by_priority"].items()
    ]
    return _table(header, rows)


def _policy_facts(policy: dict[str, Any]) -> str:
    facts = [
        ["STAT breaches (per replication)", format_ci(policy["stat_breaches"])],
        ["Reader utilization", format_ci(policy["utilization"], percent=True)],
        ["Events simulated (total)", f"{policy['events']:,}"],
        ["Wall time (s, total)", f"{policy['wall_seconds']:.1f}"],
    ]
    return _table(["Measure", "Value"], facts)


def _worst_facility_table(policy: dict[str, Any]) -> str:
    worst = policy["worst_facilities"]
    rows = [
        [
            row["facility"],
            row["state"],
            f"{row['stat_urgent_studies']:,}",
            format_ci({"mean": row["stat_urgent_met_share"], "ci95": row["ci95"]}, percent=True),
            _percent(row["met_sla_share"]),
        ]
        for row in worst["rows"]
    ]
    header = ["Facility", "State", "STAT+URGENT (pooled)", "STAT+URGENT met SLA", "All met SLA"]
    note = (
        f'<p class="note">Ranked: the {worst["facilities_ranked"]} facilities with at least '
        f"{worst['minimum_stat_urgent_studies']} measured STAT and URGENT studies; "
        f"{worst['facilities_with_too_few_studies']} with fewer are not ranked.</p>"
    )
    return f"<details><summary>Worst facilities</summary>{note}{_table(header, rows)}</details>"


def _summary_tables(summary: dict[str, Any]) -> str:
    parts = []
    for name in summary["policy_order"]:
        policy = summary["policies"][name]
        parts.append(
            f"<h3>{_text(name)}</h3>"
            + _priority_table(policy)
            + _policy_facts(policy)
            + _worst_facility_table(policy)
        )
    return _section("Summary", *parts)


# --- plot sections --------------------------------------------------------------------------

_BACKLOG_NOTE = (
    '<p class="note">Studies arrived but not yet started at the start of each hour (never '
    "started ones included), averaged over replications. Warm-up arrivals count here: the "
    "queue they form is the one the measured studies join. The warm-up is shaded.</p>"
)


def _utilization_section(groups: dict[str, list[ReplicationResult]]) -> str:
    shown = dict(list(groups.items())[:MAX_HEATMAPS])
    note = (
        f'<p class="note">Showing the first {MAX_HEATMAPS} of {len(groups)} policies.</p>'
        if len(groups) > MAX_HEATMAPS
        else ""
    )
    intro = (
        '<p class="note">Busy minutes over shift minutes per reader and UTC hour of day, '
        "summed over the measured hours and replications (a read counts only while its "
        "reader is on shift); blank where the reader is never on shift.</p>"
    )
    return _section("Reader utilization", intro, note, heatmap_figure(shown))


def _facility_section(
    groups: dict[str, list[ReplicationResult]], baseline: str, colors: dict[str, Any]
) -> str:
    tables = {
        name: facility_compliance(runs).set_index("facility") for name, runs in groups.items()
    }
    count = len(tables[baseline])
    scope = f"the worst {FACILITY_BARS} of {count}" if count > FACILITY_BARS else "all"
    intro = (
        f'<p class="note">Facilities ordered by their share under {_text(baseline)}, worst '
        f"first; {_text(scope)} shown.</p>"
    )
    return _section("SLA compliance by facility", intro, facility_figure(tables, baseline, colors))


# --- comparisons ----------------------------------------------------------------------------


def _comparison_table(summary: dict[str, Any], policy: str) -> str:
    baseline = summary["baseline"]
    rows = comparison_rows(summary, policy)
    cells = [[*row[:-1], "yes ✱" if significant else "no"] for row, significant in rows]
    classes = ["significant" if significant else "" for _, significant in rows]
    header = ["Metric", baseline, policy, "Difference", "95% CI", "Significant"]
    return f"<h3>{_text(policy)} vs {_text(baseline)}</h3>" + _table(header, cells, classes)


def _comparison_section(summary: dict[str, Any]) -> str:
    comparisons = summary.get("comparisons") or {}
    if not comparisons:
        return ""
    intro = (
        '<p class="note">Policy − baseline, paired by replication number (the replications '
        "share random numbers); significant when the 95% interval excludes zero. A share's "
        "difference is its count's difference over the paired count, so the two agree.</p>"
    )
    tables = [_comparison_table(summary, policy) for policy in comparisons]
    return _section("Policy vs baseline: difference and 95% CI", intro, *tables)


# --- the page -------------------------------------------------------------------------------


def write_report(results: list[ReplicationResult], summary: dict[str, Any], path: Path) -> None:
    """Write the HTML report for ``results`` as summarized by ``build_summary``.

    Raises:
        ValueError: if there are no results.
    """
    if not results:
        raise ValueError("no replication results to report")
    groups = _group(results, summary["policy_order"])
    colors = colors_of(list(groups))
    baseline = summary.get("baseline") or next(iter(groups))
    if baseline not in groups:
        baseline = next(iter(groups))
    body = [
        _header(summary),
        _summary_tables(summary),
        _section("Turnaround time", tat_figure(groups, colors)),
        _section("Backlog by hour", _BACKLOG_NOTE, backlog_figure(groups, colors)),
        _utilization_section(groups),
        _facility_section(groups, baseline, colors),
        _comparison_section(summary),
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_text(summary['scenario'])}: simulation report</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
