"""Dispatch policies on the benchmark suite: one table, per practice and policy.

For each practice of `simulations/scenarios/suite/` (see its README), every policy runs the
same paired replications. The table shows per practice: STAT breaches per policy (mean per
replication), the difference from the practice's best baseline with its 95% interval (`*`: the
interval excludes zero), URGENT and ROUTINE share met, TAT p90 per priority, the structural
STAT breaches nobody could avoid, the hindsight floor (small practices) with the share of the
pull-to-floor gap each policy closes, and wall seconds per simulated day. Then the suite total.

    python benchmarks/policies.py [--practices a,b] [--policies optimizer,greedy,pull,cherry_pick]
        [--replications 5] [--seed 1] [--workers 1] [--timing-runs 3] [--no-floor]
        [--json OUT.json] [--suite DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from simulations.hindsight import DEFAULT_TIME_LIMIT
from simulations.runner import unknown_policies
from simulations.scenario import Scenario, load_scenario
from simulations.suite import (
    Aggregate,
    Paired,
    PolicyRow,
    PracticeResult,
    aggregate,
    run_practice,
    suite_scenarios,
)

DEFAULT_POLICIES = "optimizer,greedy,pull,cherry_pick"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--practices", default="", help="comma-separated names (default: all)")
    parser.add_argument("--policies", default=DEFAULT_POLICIES)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="Dask worker processes")
    parser.add_argument("--timing-runs", type=int, default=3)
    parser.add_argument("--no-floor", action="store_true", help="skip the hindsight floor")
    parser.add_argument("--floor-limit", type=float, default=DEFAULT_TIME_LIMIT)
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    parser.add_argument(
        "--suite",
        type=Path,
        default=None,
        help="a suite directory (default: simulations/scenarios/suite; make_suite.py DIR "
        "--seed=N draws a held-out one)",
    )
    args = parser.parse_args()
    unknown = unknown_policies(args.policies.split(","))
    if unknown:
        parser.error(f"--policies: unknown {', '.join(unknown)}")
    if args.replications < 1 or args.timing_runs < 0 or args.workers < 1:
        parser.error("--replications and --workers must be at least 1, --timing-runs at least 0")
    return args


def practices(names: str, directory: Path | None = None) -> list[Scenario]:
    """The chosen practices, smallest first."""
    found = suite_scenarios(directory) if directory is not None else suite_scenarios()
    paths = {path.stem: path for path in found}
    chosen = [n for n in names.split(",") if n] or list(paths)
    missing = [name for name in chosen if name not in paths]
    if missing:
        sys.exit(f"--practices: unknown {', '.join(missing)}; the suite has {', '.join(paths)}")
    loaded = [load_scenario(paths[name]) for name in chosen]
    return sorted(loaded, key=lambda s: (len(s.radiologists), s.name))


# ----- formatting ---------------------------------------------------------------------------
def percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"


def interval(difference: Paired | None, scale: float = 1.0) -> str:
    """`+3.2 [+1.0, +5.4]*`: mean, 95% interval, `*` when it excludes zero."""
    if difference is None:
        return "-"
    text = f"{difference.mean * scale:+.1f}"
    if difference.low is None or difference.high is None:
        return text
    mark = "*" if difference.excludes_zero else ""
    return f"{text} [{difference.low * scale:+.1f}, {difference.high * scale:+.1f}]{mark}"


def tat(row: PolicyRow) -> str:
    return " / ".join("-" if v is None else f"{v:.0f}" for v in row.tat_p90.values())


def practice_cells(result: PracticeResult) -> list[str]:
    floor = "-"
    if result.floor is not None:
        bound = "" if result.floor_optimal else ">= "
        floor = f"{bound}{result.floor:.1f} ({result.floor_seconds:.1f} s)"
    about = f"{result.name}\n{result.readers} readers, {result.days:g} d\n"
    about += f"{result.stat_count:.0f} STAT/rep"
    return [about, f"{result.structural:.1f}", floor]


def policy_cells(result: PracticeResult, row: PolicyRow) -> list[str]:
    best = row.policy == result.best_baseline
    name = f"{row.policy} (best)" if best else row.policy
    urgent = interval(row.vs_best.get("urgent_met"), 100)
    routine = interval(row.vs_best.get("routine_met"), 100)
    shares = "best" if best else f"U {urgent}\nR {routine}"
    wall = "-" if row.wall_seconds_per_day is None else f"{row.wall_seconds_per_day:.2f}"
    flags = " !" if row.below_floor or row.unread else ""
    return [
        name + flags,
        f"{row.stat_breaches:.1f}",
        "best" if best else interval(row.vs_best.get("stat_breaches")),
        percent(row.urgent_met),
        percent(row.routine_met),
        shares,
        tat(row),
        percent(row.gap_closed),
        wall,
    ]


def results_table(results: list[PracticeResult], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    columns = [
        "practice", "structural", "floor", "policy", "STAT breaches", "vs best [95%]",
        "URGENT met", "ROUTINE met", "vs best U / R (pp)", "TAT p90 S/U/R min", "gap closed",
        "wall s/day",
    ]  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("practice", "policy") else "right")
    for result in results:
        for i, row in enumerate(result.policies.values()):
            first = practice_cells(result) if i == 0 else ["", "", ""]
            table.add_row(
                *first, *policy_cells(result, row), end_section=i == len(result.policies) - 1
            )
    return table


def aggregate_table(total: Aggregate) -> Table:
    table = Table(title=f"Suite total over {total.practices} practices (mean per replication)")
    for column in ("policy", "STAT breaches", "less structural", "/ best baselines", "vs best"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for policy, breaches in total.stat_breaches.items():
        ratio = total.ratio_to_best.get(policy)
        table.add_row(
            policy,
            f"{breaches:.1f}",
            f"{total.avoidable[policy]:.1f}",
            "-" if ratio is None else f"{ratio:.2f}",
            interval(total.vs_best.get(policy)),
        )
    table.add_row("best baselines", f"{total.best_baselines:.1f}", "", "1.00", "", style="dim")
    table.add_row("structural", f"{total.structural:.1f}", "0.0", "", "", style="dim")
    return table


def notes(results: list[PracticeResult]) -> list[str]:
    lines = [
        "structural: STAT breaches nobody eligible could have avoided (counted against no "
        "policy); floor: fewest STAT breaches any policy could reach knowing every arrival and "
        "read (>= : a proven bound, not the optimum); gap closed: (pull - policy) / (pull - "
        "floor); vs best: paired difference from the practice's best baseline (of greedy, pull, "
        "cherry_pick), * when the 95% interval excludes zero.",
    ]
    for result in results:
        for row in result.policies.values():
            if row.below_floor:
                lines.append(
                    f"! {result.name}: {row.policy} beat the hindsight floor in replications "
                    f"{row.below_floor}: a bug in the floor or in the simulator"
                )
            if row.unread:
                lines.append(f"! {result.name}: {row.policy} left {row.unread:.1f} studies unread")
    return lines


# ----- JSON -----------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """JSON-ready: dataclasses as dicts (a paired difference with `excludes_zero`), NaN and
    infinities as None."""
    if isinstance(value, Paired):
        return {**dataclasses.asdict(value), "excludes_zero": value.excludes_zero}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def main() -> None:
    args = options()
    console = Console(width=None if sys.stdout.isatty() else 230)  # a file gets the whole table
    policies = args.policies.split(",")
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    results = []
    for scenario in practices(args.practices, args.suite):
        began = time.perf_counter()
        result = run_practice(
            scenario,
            policies,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            timing_runs=args.timing_runs,
            floor=not args.no_floor,
            time_limit=args.floor_limit,
        )
        results.append(result)
        console.print(f"  {scenario.name}: {time.perf_counter() - began:.1f} s", style="dim")
    title = (
        f"Policy suite: seed {args.seed}, {args.replications} paired replications; wall s/day: "
        f"median of {args.timing_runs} serial runs of replication 0 on {machine}"
    )
    console.print(results_table(results, title))
    total = aggregate(results)
    console.print(aggregate_table(total))
    for line in notes(results):
        console.print(line, style="dim" if not line.startswith("!") else "bold red")
    if args.json is not None:
        document = {
            "seed": args.seed,
            "replications": args.replications,
            "policies": policies,
            "timing_runs": args.timing_runs,
            "machine": machine,
            "practices": plain(results),
            "aggregate": plain(total),
        }
        args.json.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
