"""The planner's two documents: gaps.md (where and why coverage is missing) and report.md.

One count of uncovered time everywhere: the facility-hour, an hour in which some kind of a
facility's work has nobody eligible on shift, counted once however many kinds are short in it
(`PlanMetrics.uncovered_hours`). Hours per kind of work are shown only as detail, labelled as
overlapping, never as a figure that adds up to facility-hours.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from nighthawk.planner.gaps import facility_hours
from nighthawk.planner.result import Gap, PlanResult, ReaderLoad

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def gaps_markdown(result: PlanResult) -> str:
    metrics = result.metrics
    lines = ["# Coverage gaps", ""]
    if not result.gaps:
        lines.append("Every facility with demand has an eligible reader on shift in every hour.")
        return "\n".join(lines) + "\n"
    structural = metrics.structural_uncovered_hours
    competing = round(metrics.uncovered_hours - structural, 2)
    others = (
        f" The other {competing:g} are hours the labour rules leave short"
        + (" (the search stopped at its time limit)." if metrics.status != "OPTIMAL" else ".")
        if competing > 0
        else ""
    )
    lines += [
        f"{metrics.uncovered_hours:g} facility-hours stay uncovered over {metrics.weeks} "
        f"week(s) ({round(metrics.uncovered_hours / metrics.weeks, 2):g} a week). A "
        "facility-hour is an hour in which some kind of a facility's work has nobody eligible "
        "on shift; it counts once however many kinds of work are short in it. "
        f"{structural:g} of them are structural: no roster can cover them without a new "
        "license, credential, subspecialty or availability." + others,
        "",
        "Times are the facility's local time.",
        "",
    ]
    by_facility: dict[str, list[Gap]] = defaultdict(list)
    for gap in result.gaps:
        by_facility[gap.facility].append(gap)
    for facility, gaps in sorted(by_facility.items()):
        lines += _facility_section(facility, gaps)
    return "\n".join(lines)


def _facility_section(facility: str, gaps: list[Gap]) -> list[str]:
    hours = round(facility_hours(gaps), 2)
    lines = [f"## {facility} ({gaps[0].state}): {hours:g} facility-hours", ""]
    per_need: dict[str, float] = defaultdict(float)
    for gap in gaps:
        per_need[gap.need] += gap.hours
    if len(per_need) > 1:
        detail = ", ".join(f"{need} {round(h, 2):g} h" for need, h in sorted(per_need.items()))
        lines += [
            f"Short by kind of work (each kind counted on its own: they overlap, so they do "
            f"not add up to the facility-hours): {detail}.",
            "",
        ]
    # Kinds of work short over the same hours for the same reason are one line.
    runs: dict[tuple[Any, ...], list[Gap]] = {}
    for gap in sorted(gaps, key=lambda g: (g.start, g.end, g.need)):
        runs.setdefault((gap.start, gap.end, gap.kind, gap.reason), []).append(gap)
    for same in runs.values():
        first = same[0]
        needs = ", ".join(g.need for g in same)
        lines.append(
            f"- {span_text(first)} ({round(first.hours, 2):g} h), {needs}: {first.reason} "
            f"[{first.kind}]"
        )
    lines.append("")
    return lines


def span_text(gap: Gap) -> str:
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
        f"of {m.demand_minutes:g} forecast (coverage.csv's unmet_minutes add up to it)",
        f"- most nights for one reader: {m.max_nights}; most weekend shifts: "
        f"{m.max_weekend_shifts}; shifts against a preference: {m.preference_misses}",
        f"- first roster after {m.first_solution_seconds:g} s, final after {m.seconds:g} s",
        "",
    ]
    lines += readers_markdown(result.readers)
    lines += recommendations_markdown(result)
    if simulation is not None:
        lines += _simulation_markdown(simulation)
    return "\n".join(lines)


def readers_markdown(readers: list[ReaderLoad]) -> list[str]:
    if not readers:
        return []
    lines = [
        "## Readers",
        "",
        "| Radiologist | Shifts | Hours | Nights | Weekend shifts | Busiest week (limit) "
        "| Against a preference |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in readers:
        broken = r.broken_preferences or "none"
        lines.append(
            f"| {r.radiologist} | {r.shifts} | {r.hours:g} | {r.nights} | {r.weekend_shifts} "
            f"| {r.busiest_week_shifts} ({r.max_shifts_per_week}) | {broken} |"
        )
    lines.append("")
    return lines


def recommendations_markdown(result: PlanResult) -> list[str]:
    if not result.recommendations and result.combined is None:
        return []
    lines = [
        "## Recommendations (verified by re-solving)",
        "",
        "Each is measured against a reference roster: the problem re-solved deterministically "
        "(coverage and capacity only) from the greedy roster, which leaves "
        f"{result.reference_uncovered_hours:g} facility-hours uncovered, so the same scenario "
        "and seed give the same list. Readers listed as alternatives make exactly the same "
        "structural gaps coverable.",
        "",
    ]
    for i, r in enumerate(result.recommendations, start=1):
        text = (
            f"{i}. {r.label}: closes {r.closes_uncovered_hours_per_week:g} uncovered hours a week"
        )
        if r.reduces_unmet_minutes > 0:
            text += f", {r.reduces_unmet_minutes:g} fewer unmet reading minutes"
        if r.alternatives:
            text += f"; interchangeable: {r.alternatives_text()}"
        lines.append(text)
    lines.append("")
    combined = result.combined
    if combined is not None:
        lines += [
            "### All together",
            "",
            f"{combined.label} ({combined.papers} additions, chosen greedily): closes "
            f"{combined.closes_uncovered_hours_per_week:g} uncovered hours a week "
            f"({combined.closes_uncovered_hours:g} over the plan), leaving "
            f"{combined.uncovered_hours_after:g} facility-hours uncovered. Structural gap hours: "
            f"{combined.structural_hours_before:g} before, {combined.structural_hours_after:g} "
            "after"
            + (
                " (no license, credential or subspecialty closes those)."
                if combined.structural_hours_after > 0
                else "."
            ),
            "",
        ]
    return lines


def _simulation_markdown(simulation: dict[str, Any]) -> list[str]:
    lines = [
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
    return lines
