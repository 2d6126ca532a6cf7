"""Simulator speed: 30 days of the national practice (about 20,000 studies a day) per policy.

Prints, per policy, the median over --runs of the wall time of one replication (arrivals,
the event loop and the studies table), the events handled and events per second. The
target on this project's 2-core machine: `greedy` under 30 s for 30 days. The `optimizer`
policy re-plans with CP-SAT every 15 simulated minutes; it runs --optimizer-days (default 1)
and the table says so rather than extrapolating silently.

    python benchmarks/simulate.py [--days 30] [--runs 3] [--policies greedy,pull,...]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulations.runner import run_replication
from simulations.scenario import load_scenario

NATIONAL = Path(__file__).resolve().parent.parent / "simulations" / "scenarios" / "national.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=NATIONAL)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--policies", default="greedy,pull,cherry_pick,round_robin,optimizer")
    parser.add_argument("--optimizer-days", type=float, default=1.0)
    args = parser.parse_args()
    console = Console()
    started = time.perf_counter()
    scenario = load_scenario(args.scenario)
    load_seconds = time.perf_counter() - started
    console.print(
        f"{scenario.name}: {len(scenario.facilities)} facilities, "
        f"{len(scenario.radiologists)} radiologists; loaded in {load_seconds:.2f} s "
        f"on {platform.machine()} with {platform.python_version()}"
    )
    table = Table(title=f"One replication, median of {args.runs} runs")
    for column in ("policy", "days", "studies", "studies/day", "events", "wall s", "events/s"):
        table.add_column(column, justify="right")
    for policy in args.policies.split(","):
        days = args.optimizer_days if policy == "optimizer" else args.days
        timed = scenario.model_copy(update={"days": days})
        walls, events, studies = [], 0, 0
        for run in range(args.runs):
            begin = time.perf_counter()
            result = run_replication(timed, policy, run, seed=1)
            walls.append(time.perf_counter() - begin)
            events, studies = result.events, len(result.studies)
            console.print(f"  {policy} run {run + 1}: {walls[-1]:.2f} s", style="dim")
        wall = statistics.median(walls)
        table.add_row(
            policy,
            f"{days:g}",
            f"{studies:,}",
            f"{studies / days:,.0f}",
            f"{events:,}",
            f"{wall:.2f}",
            f"{events / wall:,.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
