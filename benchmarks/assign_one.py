"""Arrival benchmark: the live dispatcher taking one new study while 2,000 wait.

Builds a realistic practice of 300 radiologists with 2,000 studies waiting and their forecast,
then registers 2,000 further arrivals one at a time the way the service's ingest does
(`Dispatcher.arrive`, then `place` into the forecast, then `explain_placement` for the `why` it
keeps). Prints p50 / p99 / max in milliseconds with and without the explanation, and the time
of a full forecast (the service's re-plan) at the start and at the end.

    .venv/bin/python benchmarks/assign_one.py [--readers 300] [--planned 2000] [--arrivals 2000]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from nighthawk.demo import generate_snapshot
from nighthawk.live.forecast import forecast, place
from nighthawk.live.snapshot import dispatcher_from_snapshot
from nighthawk.live.why import explain_placement


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
        everyone = dispatcher_from_snapshot(snapshot)  # the arrivals' facts, as the service has
        planned = snapshot.model_copy(update={"studies": snapshot.studies[: args.planned]})
        dispatcher = dispatcher_from_snapshot(planned)
        began = time.perf_counter()
        plan = forecast(dispatcher, 0.0)
        first_forecast = time.perf_counter() - began
        latencies, explained = [], []
        for study in snapshot.studies[args.planned :]:
            facts = everyone.facts(study.id)
            started = time.perf_counter()
            dispatcher.arrive(facts, 0.0)
            index = dispatcher.studies.index[study.id]
            reader = place(plan, index)
            placed = time.perf_counter()
            latencies.append((placed - started) * 1000)
            if reader is not None:
                explain_placement(plan, index, reader, snapshot.now).model_dump(mode="json")
            explained.append((time.perf_counter() - started) * 1000)
        began = time.perf_counter()
        forecast(dispatcher, 0.0)
        last_forecast = time.perf_counter() - began
        values, with_why = np.asarray(latencies), np.asarray(explained)
        runs.append(
            (
                np.percentile(values, 50),
                np.percentile(values, 99),
                values.max(),
                first_forecast,
                last_forecast,
                np.percentile(with_why, 50),
                np.percentile(with_why, 99),
            )
        )
        p50, p99, worst, first, last, why50, why99 = runs[-1]
        print(
            f"seed {seed}: p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms "
            f"(with the why: p50 {why50:.3f} ms, p99 {why99:.3f} ms); "
            f"forecast of {args.planned} {first * 1000:.0f} ms, "
            f"of {args.planned + args.arrivals} {last * 1000:.0f} ms"
        )
    p50, p99, worst, first, last, why50, why99 = (
        statistics.median(r[i] for r in runs) for i in range(7)
    )
    print(
        f"arrival, {args.readers} radiologists, {args.planned} waiting: median over runs "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms; with the why kept "
        f"p50 {why50:.3f} ms, p99 {why99:.3f} ms; forecast "
        f"{first * 1000:.0f} ms ({args.planned} waiting), "
        f"{last * 1000:.0f} ms ({args.planned + args.arrivals} waiting)"
    )


if __name__ == "__main__":
    main()
