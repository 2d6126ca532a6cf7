"""The planner's files: roster.csv, planned.yaml, coverage.csv and its heat map, gaps.md,
recommendations.csv, summary.json and report.md."""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import yaml

from models.scenario import Scenario
from nighthawk.planner.result import Gap, PlanResult, RosterShift

ROSTER_COLUMNS = ["radiologist", "template", "start", "end", "start_local", "end_local"]
RECOMMENDATION_COLUMNS = [
    "rank",
    "radiologist",
    "addition",
    "closes_uncovered_hours",
    "closes_uncovered_hours_per_week",
    "reduces_unmet_minutes",
    "uncovered_hours_after",
    "summary",
]
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def utc_text(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_text(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).isoformat()


def roster_frame(shifts: list[RosterShift]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "radiologist": s.radiologist,
                "template": s.template,
                "start": utc_text(s.start),
                "end": utc_text(s.end),
                "start_local": local_text(s.start, s.timezone),
                "end_local": local_text(s.end, s.timezone),
            }
            for s in shifts
        ],
        columns=ROSTER_COLUMNS,
    )


def recommendations_frame(result: PlanResult) -> pd.DataFrame:
    rows = [
        {
            "rank": rank,
            "radiologist": r.radiologist,
            "addition": " + ".join(r.additions),
            "closes_uncovered_hours": r.closes_uncovered_hours,
            "closes_uncovered_hours_per_week": r.closes_uncovered_hours_per_week,
            "reduces_unmet_minutes": r.reduces_unmet_minutes,
            "uncovered_hours_after": r.uncovered_hours_after,
            "summary": (
                f"{r.label}: closes {r.closes_uncovered_hours_per_week:g} uncovered hours a week"
                + (
                    f", {r.reduces_unmet_minutes:g} fewer unmet reading minutes"
                    if r.reduces_unmet_minutes > 0
                    else ""
                )
            ),
        }
        for rank, r in enumerate(result.recommendations, start=1)
    ]
    return pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)


def planned_scenario(
    raw: dict[str, Any], scenario: Scenario, result: PlanResult, out: Path, source: Path | None
) -> dict[str, Any]:
    """The input scenario (as written) with each radiologist's planned shifts filled in as
    dated patterns, its days set to the planned weeks; relative file names re-pointed."""
    planned = dict(raw)
    planned["days"] = result.metrics.weeks * 7
    by_reader: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    templates = {t.id: t for t in scenario.shift_templates}
    for shift in result.shifts:
        day = shift.start_local.date().isoformat()
        by_reader[shift.radiologist][shift.template].append(day)
    readers = []
    for item in raw.get("radiologists", []):
        reader = dict(item)
        reader["shifts"] = [
            {
                "start": templates[template].start,
                "end": templates[template].end,
                "timezone": templates[template].timezone,
                "dates": sorted(days),
            }
            for template, days in sorted(by_reader.get(str(item.get("id")), {}).items())
        ]
        readers.append(reader)
    planned["radiologists"] = readers
    for name in ("trace", "history"):
        value = planned.get(name)
        if isinstance(value, str) and source is not None and not Path(value).is_absolute():
            planned[name] = os.path.relpath((source.parent / value).resolve(), out.resolve())
    return planned


def write_planned(path: Path, planned: dict[str, Any]) -> None:
    header = (
        "# Planned by `nighthawk plan`: the input scenario with the roster's shifts filled in.\n"
        "# Run it with `nighthawk simulate` to see the service this roster gives.\n"
    )
    body = yaml.safe_dump(planned, sort_keys=False, default_flow_style=None, width=120)
    path.write_text(header + body, encoding="utf-8")


def gaps_markdown(result: PlanResult) -> str:
    metrics = result.metrics
    lines = ["# Coverage gaps", ""]
    if not result.gaps:
        lines.append("Every facility with demand has an eligible reader on shift in every hour.")
        return "\n".join(lines) + "\n"
    structural = [g for g in result.gaps if g.kind == "structural"]
    competing = len(result.gaps) - len(structural)
    others = (
        f" The other {competing} are hours the labour rules leave short"
        + (" (the search stopped at its time limit)." if metrics.status != "OPTIMAL" else ".")
        if competing
        else ""
    )
    lines += [
        f"{metrics.uncovered_hours:g} facility-hours stay uncovered over {metrics.weeks} "
        f"week(s) ({metrics.uncovered_hours / metrics.weeks:g} a week). "
        f"{len(structural)} of the {len(result.gaps)} gaps are structural: no roster can "
        "cover them without a new license, credential, subspecialty or availability." + others,
        "",
        "Times are the facility's local time.",
        "",
    ]
    by_facility: dict[str, list[Gap]] = defaultdict(list)
    for gap in result.gaps:
        by_facility[gap.facility].append(gap)
    for facility, gaps in sorted(by_facility.items()):
        total = sum(g.hours for g in gaps)
        lines.append(f"## {facility} ({gaps[0].state}): {total:g} hours")
        lines.append("")
        for gap in gaps:
            lines.append(f"- {_span(gap)}, {gap.need}: {gap.reason} [{gap.kind}]")
        lines.append("")
    return "\n".join(lines)


def _span(gap: Gap) -> str:
    """'Tuesday 2026-12-08 02:00-04:00' in the facility's zone (dates on both ends if needed)."""
    zone = ZoneInfo(gap.timezone)
    start, end = gap.start.astimezone(zone), gap.end.astimezone(zone)
    head = f"{WEEKDAY_NAMES[start.weekday()]} {start:%Y-%m-%d %H:%M}"
    if (end - start).total_seconds() <= 24 * 3600 and end.date() == start.date():
        return f"{head}-{end:%H:%M}"
    if end.date() != start.date() and end.hour == 0 and end.minute == 0:
        tail = "24:00" if (end.date() - start.date()).days == 1 else f"{end:%Y-%m-%d %H:%M}"
        return f"{head}-{tail}"
    return f"{head} to {WEEKDAY_NAMES[end.weekday()]} {end:%Y-%m-%d %H:%M}"


def write_heatmap(path: Path, coverage: pd.DataFrame) -> None:
    """Hour of week (local) x state: share of forecast reading minutes unmet, gaps marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(14, max(3.0, 0.28 * coverage["state"].nunique() + 1.5)))
    if coverage.empty:
        ax.text(0.5, 0.5, "no demand", ha="center", va="center")
        ax.set_axis_off()
    else:
        grouped = coverage.groupby(["state", "hour_of_week"]).agg(
            demand=("demand_minutes", "sum"),
            unmet=("unmet_minutes", "sum"),
            uncovered=("uncovered", "any"),
        )
        states = sorted(coverage["state"].unique())
        share = np.full((len(states), 168), np.nan)
        gaps = np.zeros((len(states), 168), dtype=bool)
        for (state, how), row in grouped.iterrows():
            i = states.index(state)
            share[i, int(how)] = row["unmet"] / row["demand"] if row["demand"] > 0 else 0.0
            gaps[i, int(how)] = bool(row["uncovered"])
        image = ax.imshow(share, aspect="auto", cmap="Reds", vmin=0, vmax=1, interpolation="none")
        ys, xs = np.nonzero(gaps)
        ax.scatter(xs, ys, marker="x", s=12, color="black", linewidths=0.8, label="uncovered")
        ax.set_yticks(range(len(states)), states, fontsize=7)
        ax.set_xticks(range(0, 168, 24), [name[:3] for name in WEEKDAY_NAMES])
        ax.set_xlabel("local hour of week")
        ax.set_title("Share of forecast reading minutes unmet (x: a facility with nobody eligible)")
        fig.colorbar(image, ax=ax, fraction=0.02)
        if len(xs):
            ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary_dict(result: PlanResult, simulation: dict[str, Any] | None) -> dict[str, Any]:
    metrics = {
        key: (None if isinstance(value, float) and not math.isfinite(value) else value)
        for key, value in vars(result.metrics).items()
    }
    return {
        "metrics": metrics,
        "gaps": len(result.gaps),
        "structural_gaps": sum(g.kind == "structural" for g in result.gaps),
        "recommendations": [r.label for r in result.recommendations],
        "simulation": simulation,
    }


def report_markdown(result: PlanResult, simulation: dict[str, Any] | None) -> str:
    m = result.metrics
    lines = [
        "# Coverage plan",
        "",
        f"- status: {m.status} ({', '.join(f'{k} {v}' for k, v in m.stages.items())})",
        f"- {m.shifts} shifts over {m.weeks} week(s), cost {m.cost:g}",
        f"- uncovered facility-hours: {m.uncovered_hours:g} "
        f"(structural gap hours: {m.structural_uncovered_hours:g})",
        f"- unmet reading minutes at the target utilization: {m.unmet_minutes:g} "
        f"of {m.demand_minutes:g} forecast",
        f"- most nights for one reader: {m.max_nights}; most weekend shifts: "
        f"{m.max_weekend_shifts}; shifts against a preference: {m.preference_misses}",
        f"- first roster after {m.first_solution_seconds:g} s, final after {m.seconds:g} s",
        "",
    ]
    if result.recommendations:
        lines += ["## Recommendations (verified by re-solving)", ""]
        lines += [
            f"{i}. {r.label}: closes {r.closes_uncovered_hours_per_week:g} uncovered hours a week"
            for i, r in enumerate(result.recommendations, start=1)
        ]
        lines.append("")
    if simulation is not None:
        lines += [
            f"## Predicted service ({simulation['replications']} simulated replications, "
            f"policy {simulation['policy']})",
            "",
            "| Priority | met SLA | 95% CI |",
            "|---|---|---|",
        ]
        for priority in ("STAT", "URGENT", "ROUTINE"):
            stat = simulation["met_sla_share"].get(priority)
            if stat is None or stat.get("mean") is None:
                continue
            ci = stat.get("ci95")
            interval = f"{ci[0]:.1%} to {ci[1]:.1%}" if ci else "n/a"
            lines.append(f"| {priority} | {stat['mean']:.1%} | {interval} |")
        lines.append("")
    return "\n".join(lines)


def write_all(
    out: Path,
    result: PlanResult,
    scenario: Scenario,
    raw: dict[str, Any],
    source: Path | None,
    simulation: dict[str, Any] | None = None,
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def put(name: str, text: str) -> None:
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)

    put("roster.csv", roster_frame(result.shifts).to_csv(index=False))
    write_planned(out / "planned.yaml", planned_scenario(raw, scenario, result, out, source))
    written.append(out / "planned.yaml")
    put("coverage.csv", result.coverage.to_csv(index=False))
    write_heatmap(out / "coverage.png", result.coverage)
    written.append(out / "coverage.png")
    put("gaps.md", gaps_markdown(result))
    put("recommendations.csv", recommendations_frame(result).to_csv(index=False))
    put("forecast.csv", result.forecast.to_csv(index=False))
    put("summary.json", json.dumps(summary_dict(result, simulation), indent=2, default=str) + "\n")
    put("report.md", report_markdown(result, simulation))
    return written
