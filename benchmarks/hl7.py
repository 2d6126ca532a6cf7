"""HL7 v2 intake benchmark: ORM^O01 new orders over MLLP into a real `nighthawk serve` process.

For one and for four connections, sends N new orders (closed loop: each connection sends its
next message when the ACK of the last is back), and prints messages/s and the ACK latency
p50/p99 (from send to ACK, in ms). Each run gets a fresh database and server (jobs off, so the
figures are the intake's own): 10 facilities, 20 radiologists on shift. The median of `--runs`
runs is printed, with every run's figure beside it.

    .venv/bin/python benchmarks/hl7.py                 # SQLite, N=10,000, 3 runs
    .venv/bin/python benchmarks/hl7.py -n 2000 --runs 1 --postgres
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import PostgresDatabase, sqlite_url  # noqa: E402
from tests.e2e.server import (  # noqa: E402
    check,
    facility_body,
    free_port,
    running_server,
    seed_practice,
)
from tests.mllp import MllpClient, ack_fields, orm  # noqa: E402

FACILITIES = tuple(f"fac-{n}" for n in range(1, 11))
READERS = tuple(f"rad-{n}" for n in range(1, 21))
PRIORITIES = ("S", "A", "R", "R", "R")
MODALITIES = ("CT", "CT", "MR", "XR", "US")


@contextlib.contextmanager
def database(postgres: bool, directory: Path) -> Iterator[str]:
    if not postgres:
        yield sqlite_url(directory)
        return
    created = PostgresDatabase()
    try:
        yield created.url
    finally:
        created.drop()


def send_share(port: int, tag: str, count: int, latencies: list[float], errors: list[str]) -> None:
    with MllpClient(port) as mllp:
        for index in range(count):
            message = orm(
                f"{tag}-{index}",
                accession=f"{tag}-{index}",
                facility=f"RIS-{FACILITIES[index % len(FACILITIES)]}",
                priority=PRIORITIES[index % len(PRIORITIES)],
                modality=MODALITIES[index % len(MODALITIES)],
            )
            started = time.perf_counter()
            ack = mllp.send(message)
            latencies.append(time.perf_counter() - started)
            if ack_fields(ack)["MSA"][1] != "AA":
                errors.append(ack)


def one_run(total: int, connections: int, postgres: bool, run: int) -> tuple[float, float, float]:
    with (
        tempfile.TemporaryDirectory() as scratch,
        database(postgres, Path(scratch)) as url,
    ):
        port = free_port()
        with (
            running_server(
                url, Path(scratch), jobs=False, args=["--hl7-port", str(port)]
            ) as server,
            server.client() as client,
        ):
            seed_practice(client, facilities=FACILITIES, radiologists=READERS)
            for facility in FACILITIES:
                body = {**facility_body(facility), "aliases": [f"RIS-{facility}"]}
                check(client.put(f"/v1/facilities/{facility}", json=body), 200)
            latencies: list[float] = []
            errors: list[str] = []
            share = total // connections
            threads = [
                threading.Thread(
                    target=send_share, args=(port, f"R{run}C{c}", share, latencies, errors)
                )
                for c in range(connections)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} messages not accepted; first ACK: {errors[0]!r}")
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return len(latencies) / elapsed, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="local PostgreSQL, not SQLite")
    args = parser.parse_args()
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(f"HL7 ORM^O01 intake, {args.messages} messages, {store}, median of {args.runs} runs")
    for connections in (1, 4):
        runs = [one_run(args.messages, connections, args.postgres, r) for r in range(args.runs)]
        rate, p50, p99 = (statistics.median(figure) for figure in zip(*runs, strict=True))
        every = ", ".join(f"{r:.0f}/s p99 {q:.1f}" for r, _, q in runs)
        print(
            f"  {connections} connection{'s' if connections > 1 else ''}: {rate:.0f} messages/s, "
            f"ACK p50 {p50:.1f} ms, p99 {p99:.1f} ms  (runs: {every})"
        )


if __name__ == "__main__":
    main()
