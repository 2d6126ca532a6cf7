"""`nighthawk plan`: read a scenario, plan the roster, write the files, print a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from models.scenario import Scenario, ScenarioError, parse_scenario
from nighthawk.planner.outputs import planned_scenario, write_all
from nighthawk.planner.planner import PlanOptions, plan
from nighthawk.planner.result import PlanResult
from nighthawk.records import read_studies_csv
from nighthawk.scenario_files import read_scenario

SIMULATION_POLICIES = ("pull", "greedy", "round_robin", "cherry_pick", "optimizer")


class OptionError(ValueError):
    """A command-line option that cannot be used; the message names it."""


@dataclass(frozen=True)
class PlanCommand:
    scenario: Path
    out: Path
    weeks: int | None = None
    time_limit: float = 60.0
    simulate: int = 0
    policy: str = "pull"
    seed: int = 0
    recommendations: int = 10
    deterministic: bool = False


def check(options: PlanCommand) -> None:
    if options.weeks is not None and not 1 <= options.weeks <= 52:
        raise OptionError("--weeks: must be between 1 and 52")
    if not 0 < options.time_limit <= 3600:
        raise OptionError("--time-limit: must be more than 0 and at most 3600 seconds")
    if not 0 <= options.simulate <= 1000:
        raise OptionError("--simulate: must be between 0 and 1000 replications")
    if options.policy not in SIMULATION_POLICIES:
        raise OptionError(f"--policy: must be one of {', '.join(SIMULATION_POLICIES)}")
    if not 0 <= options.recommendations <= 100:
        raise OptionError("--recommendations: must be between 0 and 100")


def run(options: PlanCommand, console: Console) -> PlanResult:
    check(options)
    raw, scenario = read_scenario(options.scenario)
    if options.simulate and scenario.arrivals is None and scenario.trace is None:
        raise OptionError("--simulate: the scenario needs arrivals or a trace to simulate")
    history = (
        read_studies_csv(scenario.history, {f.id for f in scenario.facilities}, label="history")
        if scenario.history is not None
        else None
    )
    try:
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OptionError(f"--out: cannot create {options.out} ({error.strerror})") from None
    plan_options = PlanOptions(
        weeks=options.weeks,
        time_limit=options.time_limit,
        deterministic=options.deterministic,
        recommendations=options.recommendations,
        seed=options.seed,
    )
    with console.status("planning the roster", spinner="dots"):
        result = plan(scenario, plan_options, history=history)
    simulation = None
    if options.simulate:
        with console.status(f"simulating {options.simulate} replications", spinner="dots"):
            simulation = simulate_roster(scenario, raw, result, options)
    write_all(options.out, result, scenario, raw, options.scenario, simulation)
    print_summary(result, simulation, options.out, console)
    return result


def simulate_roster(
    scenario: Scenario, raw: dict[str, Any], result: PlanResult, options: PlanCommand
) -> dict[str, Any]:
    """Simulate the planned roster; predicted SLA compliance by priority, with 95% CIs."""
    # The simulator sits above the engine: imported only when asked for.
    from simulations.runner import run_replication
    from simulations.summary import build_summary

    planned = _planned_scenario(scenario, raw, result)
    started = time.perf_counter()
    results = [
        run_replication(planned, options.policy, k, options.seed) for k in range(options.simulate)
    ]
    summary = build_summary(results, scenario_name=scenario.name, seed=options.seed)
    by_priority = summary["policies"][options.policy]["by_priority"]
    return {
        "policy": options.policy,
        "replications": options.simulate,
        "seed": options.seed,
        "seconds": round(time.perf_counter() - started, 2),
        "met_sla_share": {
            name: by_priority[name]["met_sla_share"]
            for name in ("STAT", "URGENT", "ROUTINE", "ALL")
            if name in by_priority
        },
        "stat_breaches": summary["policies"][options.policy]["stat_breaches"],
    }


def _planned_scenario(scenario: Scenario, raw: dict[str, Any], result: PlanResult) -> Scenario:
    """The scenario with the roster as dated shifts, over the planned weeks (file names as
    already resolved)."""
    planned = planned_scenario(raw, scenario, result, Path.cwd(), None)
    planned.update(trace=scenario.trace, history=scenario.history)
    return parse_scenario(planned, source="planned scenario")


def print_summary(
    result: PlanResult, simulation: dict[str, Any] | None, out: Path, console: Console
) -> None:
    m = result.metrics
    table = Table(title=f"Coverage plan: {m.weeks} week(s), {m.status}")
    table.add_column("Measure")
    table.add_column("Value", justify="right")
    table.add_row("Shifts", str(m.shifts))
    table.add_row("Cost (rate x hours)", f"{m.cost:g}")
    table.add_row("Uncovered facility-hours", f"{m.uncovered_hours:g}")
    table.add_row("  of which structural gap hours", f"{m.structural_uncovered_hours:g}")
    table.add_row("Unmet reading minutes", f"{m.unmet_minutes:g} of {m.demand_minutes:g}")
    table.add_row(
        "Most nights / weekend shifts (one reader)", f"{m.max_nights} / {m.max_weekend_shifts}"
    )
    table.add_row("Shifts against a preference", str(m.preference_misses))
    table.add_row("First roster / final (s)", f"{m.first_solution_seconds:g} / {m.seconds:g}")
    if simulation is not None:
        for name, stat in simulation["met_sla_share"].items():
            if stat.get("mean") is not None:
                table.add_row(f"Predicted {name} met SLA", f"{stat['mean']:.1%}")
    console.print(table)
    for rec in result.recommendations[:5]:
        console.print(
            f"recommend: {rec.label_with_alternatives(show=3)}: closes "
            f"{rec.closes_uncovered_hours_per_week:g} uncovered hours a week"
        )
    if result.combined is not None:
        combined = result.combined
        console.print(
            f"all together: {combined.label}: closes "
            f"{combined.closes_uncovered_hours_per_week:g} uncovered hours a week"
        )
    console.print(
        f"wrote roster.csv, planned.yaml, coverage.csv/png, gaps.md, recommendations.csv, "
        f"readers.csv, forecast.csv, summary.json, report.md to {out}"
    )


__all__ = ["OptionError", "PlanCommand", "ScenarioError", "run"]
