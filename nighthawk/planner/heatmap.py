"""coverage.png: the share of forecast reading minutes left unmet, state by local hour of week.

Each cell pools the plan's weeks and the state's facilities: the unmet minutes of that local
hour of the week summed over them, over the forecast minutes summed the same way. An hour
with no forecast demand has no share at all and is drawn grey, not as 0% unmet; a cross marks
an hour in which some facility of the state was uncovered (nobody eligible on shift) in at
least one of the weeks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HOURS_PER_WEEK = 168
DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_DEMAND = "#bdbdbd"
TICK_HOURS = 6


def unmet_share_grid(coverage: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(states, share, uncovered): share (S, 168) is NaN where there is no demand at all."""
    states = sorted(coverage["state"].unique())
    share = np.full((len(states), HOURS_PER_WEEK), np.nan)
    crossed = np.zeros((len(states), HOURS_PER_WEEK), dtype=bool)
    grouped = coverage.groupby(["state", "hour_of_week"]).agg(
        demand=("demand_minutes", "sum"),
        unmet=("unmet_minutes", "sum"),
        uncovered=("uncovered", "any"),
    )
    for (state, how), row in grouped.iterrows():
        i = states.index(state)
        if row["demand"] > 0:
            share[i, int(how)] = min(1.0, row["unmet"] / row["demand"])
        crossed[i, int(how)] = bool(row["uncovered"])
    return states, share, crossed


def hour_labels() -> tuple[list[int], list[str]]:
    """Tick positions every six hours, labelled with the local weekday and time."""
    ticks = list(range(0, HOURS_PER_WEEK, TICK_HOURS))
    return ticks, [f"{DAY_ABBREVIATIONS[h // 24]} {h % 24:02d}:00" for h in ticks]


def heatmap_figure(coverage: pd.DataFrame, weeks: int) -> Any:
    """The matplotlib figure (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    states = coverage["state"].nunique() if not coverage.empty else 1
    fig, ax = plt.subplots(figsize=(15, max(3.5, 0.28 * states + 2.2)))
    if coverage.empty:
        ax.text(0.5, 0.5, "no demand", ha="center", va="center")
        ax.set_axis_off()
        return fig
    names, share, crossed = unmet_share_grid(coverage)
    colours = matplotlib.colormaps["Reds"].with_extremes(bad=NO_DEMAND)
    image = ax.imshow(
        np.ma.masked_invalid(share),
        aspect="auto",
        cmap=colours,
        vmin=0,
        vmax=1,
        interpolation="none",
    )
    ys, xs = np.nonzero(crossed)
    ax.scatter(xs, ys, marker="x", s=12, color="black", linewidths=0.8)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ticks, labels = hour_labels()
    ax.set_xticks(ticks, labels, rotation=90, fontsize=7)
    ax.set_xlabel("local hour of week (each facility's own time zone)")
    ax.set_ylabel("state")
    ax.set_title(
        "Share of forecast reading minutes unmet, by state and local hour of week\n"
        f"pooled over the plan's {weeks} week(s) (a demand-weighted mean): unmet minutes / "
        "forecast minutes, each summed over the weeks and the state's facilities",
        fontsize=10,
    )
    bar = fig.colorbar(image, ax=ax, fraction=0.025, format=PercentFormatter(1.0))
    bar.set_label("forecast reading minutes unmet")
    ax.legend(
        handles=[
            Patch(facecolor=NO_DEMAND, label="no demand"),
            Patch(facecolor=colours(0.0), edgecolor="0.6", label="demand, 0% unmet"),
            Line2D([], [], marker="x", color="black", linestyle="", label="a facility uncovered"),
        ],
        loc="upper left",
        bbox_to_anchor=(0.0, -0.28),
        ncol=3,
        fontsize=7,
        frameon=False,
    )
    fig.tight_layout()
    return fig


def write_heatmap(path: Path, coverage: pd.DataFrame, weeks: int) -> None:
    import matplotlib.pyplot as plt

    fig = heatmap_figure(coverage, weeks)
    fig.savefig(path, dpi=110)
    plt.close(fig)
