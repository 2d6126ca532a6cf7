"""Fast-path benchmark: `LivePlan.assign_one` latency for one arrival against a live plan.

Builds a realistic practice of 300 radiologists with 2,000 studies already planned (greedy),
then slots 2,000 further arrivals one at a time. Prints p50 / p99 / max in milliseconds.

    .venv/bin/python benchmarks/assign_one.py [--readers 300] [--planned 2000] [--arrivals 2000]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from nighthawk.demo import generate_snapshot
from nighthawk.fastpath import LivePlan
from nighthawk.optimizer import SolveOptions, optimize


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=300)
    parser.add_argument("--planned", type=int, default=2000)
    parser.add_argument("--arrivals", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    runs = []
    for seed in range(args.repeats):
        snapshot = generate_snapshot(args.planned + args.arrivals, args.readers, seed)
        planned = snapshot.model_copy(update={"studies": snapshot.studies[: args.planned]})
        result = optimize(planned, SolveOptions(time_limit=0))
        ids, reader_ids = result.problem.studies.ids, result.problem.readers.ids
        queues = {
            reader_ids[r]: [ids[s] for s in queue] for r, queue in enumerate(result.schedule.queues)
        }
        live = LivePlan(planned, queues)
        latencies = []
        for study in snapshot.studies[args.planned :]:
            study = study.model_copy(update={"assigned_to": None})
            started = time.perf_counter()
            live.assign_one(study)
            latencies.append((time.perf_counter() - started) * 1000)
        values = np.asarray(latencies)
        runs.append((np.percentile(values, 50), np.percentile(values, 99), values.max()))
        p50, p99, worst = runs[-1]
        print(f"seed {seed}: p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms")
    p50, p99, worst = (float(np.median([r[i] for r in runs])) for i in range(3))
    print(
        f"assign_one, {args.readers} radiologists, {args.planned} planned: "
        f"median over runs p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms"
    )


if __name__ == "__main__":
    main()
