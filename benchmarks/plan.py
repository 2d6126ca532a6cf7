"""Coverage planner speed and quality: a 4-week roster for 60 radiologists, 200 facilities in
30 states, 3 shift templates (`simulations/scenarios/planning_national.yaml`).

Prints, median over --runs: seconds to the first feasible roster (greedy, then CP-SAT's first
solution, including the forecast and the model build) and to the final one; the final
roster's cost, uncovered facility-hours and unmet reading minutes against the simple
baseline (greedy fill of the most-demanded hours). Targets on this project's 2-core machine:
first feasible under 10 s, final under 60 s.

    python benchmarks/plan.py [--runs 3] [--time-limit 50] [--scenario FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from models.scenario import Scenario
from nighthawk.planner.evaluate import evaluate
from nighthawk.planner.greedy import greedy_roster
from nighthawk.planner.instance import build_instance
from nighthawk.planner.model import CoverageModel, SolveSettings
from nighthawk.planner.planner import forecast
from nighthawk.scenario_files import load_scenario

SCENARIO = (
    Path(__file__).resolve().parent.parent / "simulations" / "scenarios" / "planning_national.yaml"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument(
        "--time-limit",
        type=float,
        default=55.0,
        help="for the whole search, forecast and build included (target: final under 60 s)",
    )
    args = parser.parse_args()
    console = Console()
    scenario = load_scenario(args.scenario)
    states = len({f.state for f in scenario.facilities})
    console.print(
        f"{scenario.name}: {len(scenario.radiologists)} radiologists, "
        f"{len(scenario.facilities)} facilities in {states} states, "
        f"{len(scenario.shift_templates)} templates, {args.weeks} weeks; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    rows = [run_once(scenario, args, console, run) for run in range(args.runs)]
    table = Table(title=f"Coverage planner, median of {args.runs} runs")
    table.add_column("measure")
    table.add_column("greedy baseline", justify="right")
    table.add_column("CP-SAT roster", justify="right")
    for label, base_key, final_key in (
        ("first feasible roster (s)", "greedy_seconds", "first_seconds"),
        ("final roster (s)", "greedy_seconds", "final_seconds"),
        ("shifts", "greedy_shifts", "shifts"),
        ("cost (rate x hours)", "greedy_cost", "cost"),
        ("uncovered facility-hours", "greedy_uncovered", "uncovered"),
        ("unmet reading minutes", "greedy_unmet", "unmet"),
    ):
        table.add_row(
            label,
            f"{statistics.median(r[base_key] for r in rows):.2f}",
            f"{statistics.median(r[final_key] for r in rows):.2f}",
        )
    console.print(table)
    console.print(f"status per run: {[r['status'] for r in rows]}")


def run_once(
    scenario: Scenario, args: argparse.Namespace, console: Console, run: int
) -> dict[str, float | str]:
    started = time.perf_counter()
    instance = build_instance(scenario, forecast(scenario, None), args.weeks)
    baseline = greedy_roster(instance)
    greedy_seconds = time.perf_counter() - started
    model = CoverageModel(instance)
    left = args.time_limit - (time.perf_counter() - started)
    outcome = model.solve(
        SolveSettings(time_limit=left, seed=run),
        model.pair_ids(baseline),
        started=started,
    )
    final_seconds = time.perf_counter() - started
    roster = model.roster(outcome.chosen)
    base, final = evaluate(instance, baseline), evaluate(instance, roster)
    row: dict[str, float | str] = {
        "greedy_seconds": greedy_seconds,
        "first_seconds": outcome.first_solution_seconds,
        "final_seconds": final_seconds,
        "greedy_shifts": len(baseline),
        "shifts": len(roster),
        "greedy_cost": sum(instance.slots[k].cost for _, k in baseline),
        "cost": sum(instance.slots[k].cost for _, k in roster),
        "greedy_uncovered": base.uncovered_hours,
        "uncovered": final.uncovered_hours,
        "greedy_unmet": base.unmet_minutes,
        "unmet": final.unmet_minutes,
        "status": f"{outcome.status} {outcome.stages} cuts {outcome.cut_rounds}",
    }
    console.print(
        f"  run {run + 1}: greedy {greedy_seconds:.2f} s, first CP-SAT roster "
        f"{outcome.first_solution_seconds:.2f} s, final {final_seconds:.2f} s; cost "
        f"{row['greedy_cost']:.0f} -> {row['cost']:.0f}, uncovered {base.uncovered_hours:g} -> "
        f"{final.uncovered_hours:g} h, unmet {base.unmet_minutes:.0f} -> "
        f"{final.unmet_minutes:.0f} min",
        style="dim",
    )
    return row


if __name__ == "__main__":
    main()
