"""Solve benchmarks: time to the first valid plan, and the optimizer against greedy.

Prints, per pool and seed: first-plan seconds, STAT breaches and weighted late minutes for
greedy and for the optimizer under a 2-second limit. Figures, not assertions.

    .venv/bin/python benchmarks/solve.py [--seeds 5] [--time-limit 2]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from nighthawk.demo import generate_snapshot
from nighthawk.optimizer import SolveOptions, optimize

POOLS = {
    "contested night pool": (150, 12, True),
    "regional pool": (1000, 100, False),
    "national peak": (5000, 300, False),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--pools", default=",".join(POOLS))
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    for name in args.pools.split(","):
        studies, readers, contested = POOLS[name]
        rows = []
        for seed in range(args.seeds):
            snapshot = generate_snapshot(studies, readers, seed, contested=contested)
            started = time.perf_counter()
            result = optimize(snapshot, SolveOptions(time_limit=args.time_limit, seed=seed))
            wall = time.perf_counter() - started
            rows.append((seed, result, wall))
        print(f"\n{name}: {studies} studies x {readers} radiologists, limit {args.time_limit}s")
        print("seed  first-plan-s  STAT greedy->opt  wlate greedy->opt        iters  wall-s")
        cuts, late_cuts = [], []
        for seed, result, wall in rows:
            base, best = result.baseline, result.score
            print(
                f"{seed:>4}  {result.info.first_plan_seconds:>12.3f}  "
                f"{base.stat_breaches:>6} -> {best.stat_breaches:<6} "
                f"{base.weighted_late_minutes:>10.0f} -> {best.weighted_late_minutes:<10.0f} "
                f"{result.info.iterations:>5}  {wall:>6.2f}"
            )
            if base.stat_breaches:
                cuts.append(1 - best.stat_breaches / base.stat_breaches)
            if base.weighted_late_minutes:
                late_cuts.append(1 - best.weighted_late_minutes / base.weighted_late_minutes)
        first = statistics.median(r.info.first_plan_seconds for _, r, _ in rows)
        print(f"median first valid plan: {first:.3f} s")
        if cuts:
            print(
                f"median STAT-breach cut vs greedy: {statistics.median(cuts):.0%} "
                f"(min {min(cuts):.0%}, max {max(cuts):.0%})"
            )
        if late_cuts:
            print(f"median weighted-late change vs greedy: {-statistics.median(late_cuts):+.0%}")
        never_worse = all(r.score.primary_key() <= r.baseline.primary_key() for _, r, _ in rows)
        print(f"never worse than greedy on (1)-(3): {never_worse}")


if __name__ == "__main__":
    main()
