"""The report's plots, each a PNG embedded as base64 in an <img> (the page stays one file).

Everything is vectorized: a few policies of 600,000 studies each render in a few seconds.
Distributions are drawn from a seeded sample of at most ``SAMPLE_POINTS`` studies per curve,
so the same results always give the same page.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
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
from simulations.measured import measured_column, measured_hours
from simulations.results import ReplicationResult
from simulations.summary import ALL

__all__ = [
    "FACILITY_BARS",
    "backlog_figure",
    "colors_of",
    "facility_figure",
    "heatmap_figure",
    "tat_figure",
    "utilization_grid",
    "waiting_by_hour",
]

SAMPLE_POINTS = 50_000
ECDF_LEVELS = np.linspace(0.0, 1.0, 401)
FACILITY_BARS = 30
DPI = 100
_SEED = 20240601
"""Fixed so that sampling for the plots never changes between runs of the same results."""


def _png(figure: Figure, alt: str) -> str:
    """The figure as an embedded <img>; the figure is closed either way."""
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'


def colors_of(policies: Sequence[str]) -> dict[str, Any]:
    """One color per policy, the same in every plot."""
    cycle = plt.get_cmap("tab10")
    return {name: cycle(index % 10) for index, name in enumerate(policies)}


def _epoch_ns(column: pd.Series) -> np.ndarray:
    """UTC nanoseconds since the epoch; NaT becomes the minimum int64."""
    return np.asarray(pd.DatetimeIndex(column).as_unit("ns").asi8)


# --- turnaround distributions ----------------------------------------------------------------


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


def tat_figure(groups: dict[str, list[ReplicationResult]], colors: dict[str, Any]) -> str:
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


# --- backlog ---------------------------------------------------------------------------------


def waiting_by_hour(result: ReplicationResult) -> pd.Series:
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


def backlog_figure(groups: dict[str, list[ReplicationResult]], colors: dict[str, Any]) -> str:
    figure, ax = plt.subplots(figsize=(11, 3.8))
    for name, runs in groups.items():
        # Align on the hour so replications of slightly different lengths still average.
        mean = pd.concat([waiting_by_hour(run) for run in runs], axis=1).mean(axis=1)
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


# --- utilization heat map --------------------------------------------------------------------


def _hour_of_day(hours: pd.DatetimeIndex) -> np.ndarray:
    utc = hours.tz_convert("UTC") if hours.tz is not None else hours
    return np.asarray(utc.hour)


def _reader_order(runs: list[ReplicationResult]) -> list[str]:
    """Every reader of these runs, in first-seen order."""
    return list(dict.fromkeys(reader for run in runs for reader in run.reader_ids))


def utilization_grid(runs: list[ReplicationResult], readers: list[str]) -> np.ndarray:
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


def heatmap_figure(groups: dict[str, list[ReplicationResult]]) -> str:
    """One panel per policy side by side, sharing the reader axis (labelled once)."""
    readers = _reader_order([run for runs in groups.values() for run in runs])
    height = min(2.2 + 0.12 * len(readers), 12.0)
    figure, axes = plt.subplots(
        1, len(groups), figsize=(11, height), sharey=True, squeeze=False, layout="constrained"
    )
    # Never on shift at that hour: blank, not zero.
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    for ax, (name, runs) in zip(axes[0], groups.items(), strict=True):
        grid = np.ma.masked_invalid(utilization_grid(runs, readers))
        image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="none")
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel("hour of day (UTC)")
        ax.set_title(name, fontsize="medium")
    step = max(1, -(-len(readers) // 40))  # at most 40 reader labels stay legible
    axes[0][0].set_yticks(range(0, len(readers), step))
    axes[0][0].set_yticklabels(readers[::step], fontsize="small")
    figure.colorbar(image, ax=axes[0].tolist(), label="busy share of shift minutes")
    return _png(figure, "Reader utilization by hour of day")


# --- facilities ------------------------------------------------------------------------------


def facility_figure(tables: dict[str, pd.DataFrame], baseline: str, colors: dict[str, Any]) -> str:
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
