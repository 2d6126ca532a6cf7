"""A single self-contained HTML page showing the summary's numbers and the data behind them.

Sections: the summary tables (every figure with its 95% interval), turnaround distributions,
the backlog hour by hour, reader utilization by hour of day, SLA compliance by facility, and,
with more than one policy, the paired comparison against the baseline. Plots are PNGs embedded
as base64, so the file can be mailed or archived on its own.

Everything is vectorized: a few policies of 600,000 studies each render in a few seconds.
Distributions are drawn from a seeded sample of at most ``SAMPLE_POINTS`` studies per curve,
so the same results always give the same page.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

# Agg renders without a display; it must be chosen before pyplot is imported.
matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from models.priority import Priority
from simulations.results import ReplicationResult
from simulations.summary import (
    ALL,
    COMPARED_METRICS,
    Stat,
    facility_compliance,
    format_ci,
    measured_column,
    measured_hours,
    metric_stat,
)

__all__ = ["write_report"]

SAMPLE_POINTS = 50_000
ECDF_LEVELS = np.linspace(0.0, 1.0, 401)
FACILITY_BARS = 30
MAX_HEATMAPS = 4
DPI = 100
_SEED = 20240601
"""Fixed so that sampling for the plots never changes between runs of the same results."""

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
"""


# --- small helpers --------------------------------------------------------------------------


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _png(figure: Figure, alt: str) -> str:
    """The figure as an embedded <img>; the figure is closed either way."""
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_text(alt)}">'


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


def _colors(policies: Sequence[str]) -> dict[str, Any]:
    """One color per policy, the same in every plot."""
    cycle = plt.get_cmap("tab10")
    return {name: cycle(index % 10) for index, name in enumerate(policies)}


def _epoch_ns(column: pd.Series) -> np.ndarray:
    """UTC nanoseconds since the epoch; NaT becomes the minimum int64."""
    return np.asarray(pd.DatetimeIndex(column).as_unit("ns").asi8)


def _group(
    results: list[ReplicationResult], order: Sequence[str]
) -> dict[str, list[ReplicationResult]]:
    groups: dict[str, list[ReplicationResult]] = {name: [] for name in order}
    for result in results:
        groups.setdefault(result.policy, []).append(result)
    return {name: runs for name, runs in groups.items() if runs}


# --- 1. header and summary tables -----------------------------------------------------------


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
    return (
        f"<h1>Simulation report: {_text(summary['scenario'])}</h1>"
        f'<dl class="meta">{items}</dl>'
        '<p class="note">Each figure is the mean over replications with its Student-t 95% '
        "confidence interval in brackets; studies that arrived during the warm-up are left "
        "out.</p>"
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
    rows = [
        [
            row["facility"],
            row["state"],
            f"{row['count']:,}",
            _percent(row["met_sla_share"]),
            _percent(row["stat_met_share"]),
        ]
        for row in policy["worst_facilities"]
    ]
    header = ["Facility", "State", "Studies (pooled)", "Met SLA", "STAT met SLA"]
    return f"<details><summary>Worst facilities</summary>{_table(header, rows)}</details>"


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.1f}%"


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


# --- 2. turnaround distributions ------------------------------------------------------------


def _sample(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(values) <= SAMPLE_POINTS:
        return values
    return rng.choice(values, SAMPLE_POINTS, replace=False)


def _tat_by_priority(runs: list[ReplicationResult]) -> dict[str, np.ndarray]:
    """Pooled TAT minutes of measured, read studies per priority (and ALL)."""
    tat = np.concatenate([measured_column(run, "tat_minutes").astype(float) for run in runs])
    priority = np.concatenate([measured_column(run, "priority") for run in runs])
    # A log axis cannot show zero; a finished read always takes some time anyway.
    read = np.isfinite(tat) & (tat > 0)
    pooled = {p.value: tat[read & (priority == p.value)] for p in Priority}
    pooled[ALL] = tat[read]
    return pooled


def _sla_minutes(result: ReplicationResult) -> dict[str, float]:
    """The median contracted turnaround per priority, for a reference line on the plots.

    Contracts do not depend on the policy, so one replication is enough.
    """
    studies = result.studies
    known = (studies["due_at"].notna() & studies["arrived_at"].notna()).to_numpy()
    due = _epoch_ns(studies["due_at"])[known]
    arrived = _epoch_ns(studies["arrived_at"])[known]
    minutes = pd.Series((due - arrived) / 60e9)
    priority = studies["priority"].astype(str).to_numpy()[known]
    medians = minutes.groupby(priority).median()
    return {str(key): float(value) for key, value in medians.items() if value > 0}


def _ecdf_axis(ax: Any, panel: str) -> None:
    ax.set_title(panel, fontsize="medium")
    ax.set_xlabel("turnaround (minutes, log scale)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if ax.get_xscale() == "log":
        # Plain numbers: the default 10^n labels go through mathtext, which is slow to draw.
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())


def _tat_figure(groups: dict[str, list[ReplicationResult]], colors: dict[str, Any]) -> str:
    """Empirical CDF of turnaround, one panel per priority (and all), one curve per policy."""
    panels = [*(p.value for p in Priority), ALL]
    pooled = {name: _tat_by_priority(runs) for name, runs in groups.items()}
    sla = _sla_minutes(next(iter(groups.values()))[0])
    rng = np.random.default_rng(_SEED)
    figure, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        for name, by_priority in pooled.items():
            if len(by_priority[panel]):
                # Quantiles at fixed levels draw the same curve as every point, far faster.
                curve = np.quantile(_sample(by_priority[panel], rng), ECDF_LEVELS)
                ax.step(curve, ECDF_LEVELS, where="post", color=colors[name], label=name)
        if ax.lines:
            ax.set_xscale("log")
        else:
            ax.text(0.5, 0.5, "no studies read", ha="center", va="center", transform=ax.transAxes)
        if panel in sla:
            ax.axvline(sla[panel], color="black", linestyle="--", linewidth=1, label="SLA (median)")
        _ecdf_axis(ax, panel)
    axes[0][0].set_ylabel("share of read studies within")
    handles = {
        label: handle
        for ax in axes[0]
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True)
    }
    if handles:
        figure.legend(
            handles.values(),
            handles.keys(),
            loc="upper center",
            ncol=len(handles),
            fontsize="small",
            frameon=False,
        )
    # A fixed layout: tight_layout would measure every label once more.
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.16, top=0.8, wspace=0.22)
    return _png(figure, "Turnaround time distribution per priority and policy")


# --- 3. backlog -----------------------------------------------------------------------------


def _waiting_by_hour(result: ReplicationResult) -> pd.Series:
    """Studies arrived and not yet started at the start of each simulated hour.

    A study that starts at or before the hour has also arrived by then, so the count is
    arrivals so far minus starts so far; a study never started keeps waiting to the end.
    """
    hours = np.asarray(result.hours.as_unit("ns").asi8)
    arrived = np.sort(_epoch_ns(result.studies["arrived_at"]))
    started_column = result.studies["started_at"]
    started = np.sort(_epoch_ns(started_column)[started_column.notna().to_numpy()])
    waiting = np.searchsorted(arrived, hours, side="right") - np.searchsorted(
        started, hours, side="right"
    )
    return pd.Series(waiting, index=result.hours)


_BACKLOG_NOTE = (
    '<p class="note">Studies arrived but not yet started at the start of each hour (never '
    "started ones included), averaged over replications. Warm-up arrivals count here: the "
    "queue they form is the one the measured studies join. The warm-up is shaded.</p>"
)


def _backlog_figure(groups: dict[str, list[ReplicationResult]], colors: dict[str, Any]) -> str:
    figure, ax = plt.subplots(figsize=(11, 3.8))
    for name, runs in groups.items():
        # Align on the hour so replications of slightly different lengths still average.
        mean = pd.concat([_waiting_by_hour(run) for run in runs], axis=1).mean(axis=1)
        ax.plot(mean.index, mean.to_numpy(), color=colors[name], label=name, linewidth=1.2)
    first = next(iter(groups.values()))[0]
    if len(first.hours) and first.hours[0] < first.measured_from:
        ax.axvspan(first.hours[0], first.measured_from, color="grey", alpha=0.15, label="warm-up")
    ax.set_ylabel("studies waiting")
    ax.set_xlabel("simulated time (UTC)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure, "Backlog by hour")


# --- 4. utilization heat map ----------------------------------------------------------------


def _hour_of_day(hours: pd.DatetimeIndex) -> np.ndarray:
    utc = hours.tz_convert("UTC") if hours.tz is not None else hours
    return np.asarray(utc.hour)


def _reader_order(runs: list[ReplicationResult]) -> list[str]:
    """Every reader of these runs, in first-seen order."""
    return list(dict.fromkeys(reader for run in runs for reader in run.reader_ids))


def _utilization_grid(runs: list[ReplicationResult], readers: list[str]) -> np.ndarray:
    """Readers × UTC hour of day: busy / shift minutes, NaN where never on shift.

    Minutes are summed over the measured hours and the replications before dividing, so an
    hour with a few minutes on shift weighs as little as it should.
    """
    position = {reader: index for index, reader in enumerate(readers)}
    busy = np.zeros((len(readers), 24))
    shift = np.zeros((len(readers), 24))
    for run in runs:
        mask = measured_hours(run)
        one_hot = np.eye(24)[_hour_of_day(run.hours[mask])]  # measured hours × 24
        rows = [position[reader] for reader in run.reader_ids]
        busy[rows] += np.asarray(run.busy_minutes, dtype=float)[:, mask] @ one_hot
        shift[rows] += np.asarray(run.shift_minutes, dtype=float)[:, mask] @ one_hot
    return np.divide(busy, shift, out=np.full_like(busy, np.nan), where=shift > 0)


def _heatmap_figure(groups: dict[str, list[ReplicationResult]]) -> str:
    """One panel per policy side by side, sharing the reader axis (labelled once)."""
    readers = _reader_order([run for runs in groups.values() for run in runs])
    height = min(2.2 + 0.12 * len(readers), 12.0)
    figure, axes = plt.subplots(
        1, len(groups), figsize=(11, height), sharey=True, squeeze=False, layout="constrained"
    )
    # Never on shift at that hour: blank, not zero.
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    for ax, (name, runs) in zip(axes[0], groups.items(), strict=True):
        grid = np.ma.masked_invalid(_utilization_grid(runs, readers))
        image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="none")
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel("hour of day (UTC)")
        ax.set_title(name, fontsize="medium")
    step = max(1, -(-len(readers) // 40))  # at most 40 reader labels stay legible
    axes[0][0].set_yticks(range(0, len(readers), step))
    axes[0][0].set_yticklabels(readers[::step], fontsize="small")
    figure.colorbar(image, ax=axes[0].tolist(), label="busy share of shift minutes")
    return _png(figure, "Reader utilization by hour of day")


def _utilization_section(groups: dict[str, list[ReplicationResult]]) -> str:
    shown = dict(list(groups.items())[:MAX_HEATMAPS])
    note = (
        f'<p class="note">Showing the first {MAX_HEATMAPS} of {len(groups)} policies.</p>'
        if len(groups) > MAX_HEATMAPS
        else ""
    )
    intro = (
        '<p class="note">Busy minutes over shift minutes per reader and UTC hour of day, '
        "summed over the measured hours and replications; blank where the reader is never "
        "on shift.</p>"
    )
    return _section("Reader utilization", intro, note, _heatmap_figure(shown))


# --- 5. facilities --------------------------------------------------------------------------


def _facility_figure(tables: dict[str, pd.DataFrame], baseline: str, colors: dict[str, Any]) -> str:
    reference = tables[baseline]
    facilities = list(reference.index[:FACILITY_BARS])
    labels = [f"{facility} ({reference.at[facility, 'state']})" for facility in facilities]
    rows = len(facilities) * (1 + 0.25 * (len(tables) - 1))
    figure, ax = plt.subplots(figsize=(10, min(1.6 + 0.22 * rows, 12.0)))
    positions = np.arange(len(facilities))
    width = 0.8 / len(tables)
    for index, (name, table) in enumerate(tables.items()):
        shares = table["met_sla_share"].reindex(facilities).to_numpy(dtype=float) * 100
        ax.barh(positions + index * width, shares, height=width, color=colors[name], label=name)
    ax.set_yticks(positions + width * (len(tables) - 1) / 2)
    ax.set_yticklabels(labels, fontsize="small")
    ax.set_ylim(len(facilities) - 0.2, -0.6)  # worst at the top, no empty band around
    ax.set_xlim(0, 100)
    ax.set_xlabel("studies that met their SLA (%), pooled over replications")
    if facilities:
        ax.legend(
            fontsize="small",
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=len(tables),
            frameon=False,
        )
    else:
        ax.text(0.5, 0.5, "no measured studies", ha="center", va="center", transform=ax.transAxes)
    ax.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return _png(figure, "SLA compliance by facility")


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
    return _section("SLA compliance by facility", intro, _facility_figure(tables, baseline, colors))


# --- 6. comparisons -------------------------------------------------------------------------


def _signed(stat: Stat, percent: bool) -> tuple[str, str]:
    """The difference and its interval as text; shares in percentage points."""
    scale, unit = (100.0, " pp") if percent else (1.0, "")
    if stat["mean"] is None:
        return "n/a", "n/a"
    mean = f"{stat['mean'] * scale:+.2f}{unit}"
    if stat["ci95"] is None:
        return mean, "n/a (one replication)"
    low, high = (bound * scale for bound in stat["ci95"])
    return mean, f"[{low:+.2f}, {high:+.2f}]"


def _comparison_table(summary: dict[str, Any], policy: str) -> str:
    baseline = summary["baseline"]
    rows, classes = [], []
    for metric, difference in summary["comparisons"][policy].items():
        label, percent = COMPARED_METRICS[metric]
        mean, interval = _signed(difference, percent)
        rows.append(
            [
                label,
                format_ci(metric_stat(summary["policies"][baseline], metric), percent=percent),
                format_ci(metric_stat(summary["policies"][policy], metric), percent=percent),
                mean,
                interval,
                "yes ✱" if difference["significant"] else "no",
            ]
        )
        classes.append("significant" if difference["significant"] else "")
    header = ["Metric", baseline, policy, "Difference", "95% CI", "Significant"]
    return f"<h3>{_text(policy)} vs {_text(baseline)}</h3>" + _table(header, rows, classes)


def _comparison_section(summary: dict[str, Any]) -> str:
    comparisons = summary.get("comparisons") or {}
    if not comparisons:
        return ""
    intro = (
        '<p class="note">Policy − baseline, paired by replication number (the replications '
        "share random numbers); significant when the 95% interval excludes zero.</p>"
    )
    tables = [_comparison_table(summary, policy) for policy in comparisons]
    return _section("Policy vs baseline: difference and 95% CI", intro, *tables)


# --- the page -------------------------------------------------------------------------------


def write_report(results: list[ReplicationResult], summary: dict[str, Any], path: Path) -> None:
    """Write the HTML report for ``results`` as summarized by :func:`build_summary`.

    Raises:
        ValueError: if there are no results.
    """
    if not results:
        raise ValueError("no replication results to report")
    groups = _group(results, summary["policy_order"])
    colors = _colors(list(groups))
    baseline = summary.get("baseline") or next(iter(groups))
    if baseline not in groups:
        baseline = next(iter(groups))
    body = [
        _header(summary),
        _summary_tables(summary),
        _section("Turnaround time", _tat_figure(groups, colors)),
        _section("Backlog by hour", _BACKLOG_NOTE, _backlog_figure(groups, colors)),
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
