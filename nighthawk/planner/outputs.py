"""The planner's files: roster.csv, planned.yaml, coverage.csv and its heat map, gaps.md,
recommendations.csv, readers.csv, forecast.csv, summary.json and report.md."""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from models.scenario import Scenario
from nighthawk.planner.heatmap import write_heatmap
from nighthawk.planner.markdown import gaps_markdown, report_markdown
from nighthawk.planner.result import PlanResult, Recommendation, RosterShift
from nighthawk.planner.times import local_text, utc_text

ROSTER_COLUMNS = ["radiologist", "template", "start", "end", "start_local", "end_local"]
RECOMMENDATION_COLUMNS = [
    "rank",
    "radiologist",
    "addition",
    "alternatives",  # interchangeable: "rad-03 + license in WY + credential at wy-1; ..."
    "closes_uncovered_hours",
    "closes_uncovered_hours_per_week",
    "reduces_unmet_minutes",
    "uncovered_hours_after",
    "summary",
]
READER_COLUMNS = [
    "radiologist",
    "shifts",
    "hours",
    "nights",
    "weekend_shifts",
    "busiest_week_shifts",
    "max_shifts_per_week",
    "avoided_shifts",
    "unpreferred_shifts",
    "preference_misses",
    "broken_preferences",
]


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


def recommendation_summary(r: Recommendation) -> str:
    return f"{r.label}: closes {r.closes_uncovered_hours_per_week:g} uncovered hours a week" + (
        f", {r.reduces_unmet_minutes:g} fewer unmet reading minutes"
        if r.reduces_unmet_minutes > 0
        else ""
    )


def recommendations_frame(result: PlanResult) -> pd.DataFrame:
    rows = [
        {
            "rank": rank,
            "radiologist": r.radiologist,
            "addition": " + ".join(r.additions),
            "alternatives": "; ".join(r.alternatives),
            "closes_uncovered_hours": r.closes_uncovered_hours,
            "closes_uncovered_hours_per_week": r.closes_uncovered_hours_per_week,
            "reduces_unmet_minutes": r.reduces_unmet_minutes,
            "uncovered_hours_after": r.uncovered_hours_after,
            "summary": recommendation_summary(r),
        }
        for rank, r in enumerate(result.recommendations, start=1)
    ]
    return pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)


def readers_frame(result: PlanResult) -> pd.DataFrame:
    rows = [{**asdict(r), "preference_misses": r.preference_misses} for r in result.readers]
    return pd.DataFrame(rows, columns=READER_COLUMNS)


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


def summary_dict(result: PlanResult, simulation: dict[str, Any] | None) -> dict[str, Any]:
    metrics = {
        key: (None if isinstance(value, float) and not math.isfinite(value) else value)
        for key, value in vars(result.metrics).items()
    }
    combined = result.combined
    return {
        "metrics": metrics,
        "gaps": len(result.gaps),
        "structural_gaps": sum(g.kind == "structural" for g in result.gaps),
        "readers": readers_frame(result).to_dict(orient="records"),
        "reference_uncovered_hours": result.reference_uncovered_hours,
        "recommendations": [
            {"label": r.label, **asdict(r), "alternatives": list(r.alternatives)}
            for r in result.recommendations
        ],
        "combined": (
            None
            if combined is None
            else {
                "label": combined.label,
                "papers": combined.papers,
                **asdict(combined),
                "additions": [
                    {"radiologist": reader, "additions": list(papers)}
                    for reader, papers in combined.additions
                ],
            }
        ),
        "simulation": simulation,
    }


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
    write_heatmap(out / "coverage.png", result.coverage, result.metrics.weeks)
    written.append(out / "coverage.png")
    put("gaps.md", gaps_markdown(result))
    put("recommendations.csv", recommendations_frame(result).to_csv(index=False))
    put("readers.csv", readers_frame(result).to_csv(index=False))
    put("forecast.csv", result.forecast.to_csv(index=False))
    put("summary.json", json.dumps(summary_dict(result, simulation), indent=2, default=str) + "\n")
    put("report.md", report_markdown(result, simulation))
    return written
