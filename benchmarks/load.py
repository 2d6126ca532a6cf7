"""Load benchmark of the API: a real `nighthawk serve` process, real HTTP, a real database.

Seeds 100 radiologists on shift and ~120 facilities, pre-ingests 2,000 open studies, then for
`--seconds` each measures

- ingest-and-assign at an offered load of `--rate` studies/s (open loop: arrivals are scheduled
  at fixed times whatever the server does, so a slow server shows up as latency, not as a
  politely reduced load), while the same rate of studies is read (start + complete) so the open
  count stays near 2,000;
- worklist reads at `--rate` reads/s;
- the re-plan of every open study, in-process against the same database
  (`nighthawk.service.replan.replan`): the first one builds the live dispatcher from the
  database (what a process does once, or after another process changed the plan), the next
  five reuse it (the steady state of a running server); the median of those is reported.

Latencies are from the *scheduled* send time (so time spent queued behind a slow server counts)
and, in brackets, from the actual send. Every run uses a fresh database: a temporary SQLite file,
or, for PostgreSQL, a throwaway database created on the given server and dropped afterwards.

    .venv/bin/python benchmarks/load.py                       # SQLite, jobs off then on
    .venv/bin/python benchmarks/load.py --postgres            # local PostgreSQL
    .venv/bin/python benchmarks/load.py --db postgresql+psycopg://user@host:5432/db --jobs on
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.tables import AUDIT, OPEN, STUDY  # noqa: E402
from nighthawk.clock import state_time_zone  # noqa: E402
from nighthawk.service.assignment import AssignmentService  # noqa: E402
from nighthawk.service.clock import SystemClock  # noqa: E402
from nighthawk.service.db import make_engine  # noqa: E402
from nighthawk.service.replan import replan  # noqa: E402
from nighthawk.service.settings import ServiceSettings  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ADMIN_TOKEN = "nh_bench_admin_token_" + uuid.uuid4().hex
STATES = [
    "CA", "NV", "AZ", "OR", "WA", "ID", "UT", "CO", "WY", "MT", "NM", "TX", "OK", "KS",
    "NE", "SD", "ND", "MN", "IA", "MO", "AR", "LA", "MS", "AL", "GA", "FL", "TN", "KY",
    "OH", "MI",
]  # fmt: skip
MODALITIES = [("CT", 0.35), ("XR", 0.35), ("MR", 0.15), ("US", 0.15)]
PRIORITIES = [("STAT", 0.1), ("URGENT", 0.3), ("ROUTINE", 0.6)]
console = Console(width=130)


# --- the server ---------------------------------------------------------------------------


JOB_MODES = {
    "off": "jobs off (--no-jobs)",
    "on": "jobs in the API process",
    "worker": "jobs in `nighthawk worker`",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server(db: str, port: int, jobs: str, log_path: Path) -> Iterator[tuple[str, int]]:
    """`nighthawk serve` on the database; yields its base URL and pid; always stopped after.

    `jobs`: "on" (in the API process), "off", or "worker" (API with --no-jobs beside a
    `nighthawk worker` process, the production layout).
    """
    port = port or free_port()
    command = [sys.executable, "-m", "nighthawk.cli", "serve", "--db", db, "--port", str(port)]
    command.append("--jobs" if jobs == "on" else "--no-jobs")
    env = {**os.environ, "NIGHTHAWK_ADMIN_TOKEN": ADMIN_TOKEN}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip
    served = _serve(process, port, log_path)
    try:
        address = next(served)  # healthy, and the schema migrated
        with contextlib.ExitStack() as stack:
            if jobs == "worker":
                stack.enter_context(_worker(db, env, log_path.with_suffix(".worker.log")))
            yield address
    finally:
        served.close()  # stops the server


@contextlib.contextmanager
def _worker(db: str, env: dict[str, str], log_path: Path) -> Iterator[None]:
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "nighthawk.cli", "worker", "--db", db],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    try:
        yield
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _serve(
    process: subprocess.Popen[bytes], port: int, log_path: Path
) -> Iterator[tuple[str, int]]:
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"server exited during start-up; see {log_path}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"server not healthy in 120 s; see {log_path}")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


@contextlib.contextmanager
def fresh_database(db: str | None, workdir: Path) -> Iterator[str]:
    """A new, empty database for one run; PostgreSQL ones are dropped afterwards."""
    if db is None or db.startswith("sqlite"):
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        if db and db != "sqlite":
            path = Path(make_url(db).database or path)
            if path.exists():
                raise SystemExit(f"--db: {path} exists; the benchmark wants a fresh file")
        yield f"sqlite:///{path}"
        return
    admin_url = make_url(db)
    name = f"nighthawk_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the practice -------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def weighted(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def must(response: httpx.Response, *ok: int) -> Any:
    if response.status_code not in ok:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json() if response.content else None


@dataclass
class Practice:
    facilities: list[str]
    radiologists: list[str]


def seed(client: httpx.Client, rng: random.Random, facilities: int, readers: int) -> Practice:
    by_state: dict[str, list[str]] = collections.defaultdict(list)
    for number in range(facilities):
        state = STATES[number % len(STATES)]
        facility = f"fac-{number:03d}"
        by_state[state].append(facility)
        body = {"name": f"Hospital {number}", "state": state, "timezone": state_time_zone(state)}
        must(client.put(f"/v1/facilities/{facility}", json=body), 200)
    now = datetime.now(UTC)
    shift = {"start": iso(now - timedelta(hours=1)), "end": iso(now + timedelta(hours=11))}
    names = []
    for number in range(readers):
        states = rng.sample(STATES, 18)
        credentials = [f for s in states for f in by_state[s] if rng.random() < 0.7]
        body = {
            "name": f"Dr {number}",
            "licenses": [{"state": s, "expires_on": "2099-12-31"} for s in states],
            "credentials": [{"facility": f, "expires_on": "2099-12-31"} for f in credentials],
            "subspecialties": rng.sample(["neuro", "msk", "body", "chest", "peds"], 2),
            "modalities": [],
            "speed": round(rng.uniform(0.8, 1.3), 2),
        }
        reader = f"rad-{number:03d}"
        must(client.put(f"/v1/radiologists/{reader}", json=body), 200)
        must(client.post(f"/v1/radiologists/{reader}/shifts", json=shift), 201)
        names.append(reader)
    return Practice(sorted(f for fs in by_state.values() for f in fs), names)


class Studies:
    """Accessions to send, and the open studies to read next (oldest first)."""

    def __init__(self, practice: Practice, seed_value: int) -> None:
        self.practice = practice
        self.rng = random.Random(seed_value)
        self.lock = threading.Lock()
        self.counter = 0
        self.open: collections.deque[tuple[str, str | None]] = collections.deque()

    def next_body(self) -> dict[str, Any]:
        with self.lock:
            self.counter += 1
            number = self.counter
            facility = self.rng.choice(self.practice.facilities)
            modality = weighted(self.rng, MODALITIES)
            priority = weighted(self.rng, PRIORITIES)
        return {
            "facility": facility,
            "accession": f"BENCH-{number:07d}",
            "modality": modality,
            "priority": priority,
        }

    def received(self, study: dict[str, Any]) -> None:
        if study["status"] != "uncovered":
            with self.lock:
                self.open.append((study["id"], study["assigned_to"]))

    def requeue(self, study_id: str, reader: str | None, why: str) -> None:
        """Not startable now (locked, say): to the back. Read, reported or uncovered: dropped."""
        if reader is None or "already" in why:
            return
        with self.lock:
            self.open.append((study_id, reader))

    def oldest(self) -> tuple[str, str | None] | None:
        with self.lock:
            return self.open.popleft() if self.open else None


# --- load generation ----------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    scheduled: int = 0
    latencies: list[float] = field(default_factory=list)  # from the scheduled time, s
    service: list[float] = field(default_factory=list)  # from the actual send, s
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, scheduled: float, sent: float, done: float, outcome: str) -> None:
        with self.lock:
            self.latencies.append(done - scheduled)
            self.service.append(done - sent)
            self.statuses[outcome] += 1

    @property
    def ok(self) -> int:
        return self.statuses["ok"]


def open_loop(
    base: str,
    phase: Phase,
    rate: float,
    seconds: float,
    threads: int,
    action: Callable[[httpx.Client], str],
) -> None:
    """Send `rate` requests a second for `seconds`, slot i due at t0 + i / rate."""
    total = int(rate * seconds)
    phase.scheduled = total
    start = time.perf_counter() + 0.2
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def worker(offset: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for slot in range(offset, total, threads):
                due = start + slot / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent = time.perf_counter()
                try:
                    outcome = action(client)
                except httpx.TransportError as error:
                    outcome = type(error).__name__
                phase.record(due, sent, time.perf_counter(), outcome)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    phase.seconds = time.perf_counter() - start


def ingest_action(studies: Studies) -> Callable[[httpx.Client], str]:
    def act(client: httpx.Client) -> str:
        response = client.post("/v1/studies", json=studies.next_body())
        if response.status_code != 201:
            return str(response.status_code)
        studies.received(response.json())
        return "ok"

    return act


ASSIGNED_TO = re.compile(r"is assigned to (\S+), not ")


def read_action(studies: Studies) -> Callable[[httpx.Client], str]:
    """Start and complete the oldest open study as its reader.

    When a re-plan has moved it meanwhile, the 409 names the current reader, and that reader
    reads it instead. (Asking `GET /v1/studies/{id}` would also work but costs a whole-practice
    explanation per call, which would dominate the measurement.)
    """

    def act(client: httpx.Client) -> str:
        for _ in range(5):
            taken = studies.oldest()
            if taken is None:
                return "nothing open"
            study_id, reader = taken
            path = f"/v1/studies/{study_id}"
            response = client.post(f"{path}/start", json={"radiologist": reader})
            if response.status_code == 409:
                moved = ASSIGNED_TO.search(response.json().get("detail", ""))
                if moved is None or moved.group(1) == "nobody":
                    studies.requeue(study_id, None, response.json().get("detail", ""))
                    continue
                reader = moved.group(1)
                response = client.post(f"{path}/start", json={"radiologist": reader})
            if response.status_code != 200:
                studies.requeue(study_id, reader, response.text)
                continue
            body = {"radiologist": reader, "report": "final"}
            done = client.post(f"{path}/complete", json=body)
            return "ok" if done.status_code == 200 else f"complete {done.status_code}"
        return "no startable study in 5"

    return act


def worklist_action(practice: Practice, rng: random.Random) -> Callable[[httpx.Client], str]:
    lock = threading.Lock()

    def act(client: httpx.Client) -> str:
        with lock:
            reader = rng.choice(practice.radiologists)
        response = client.get(f"/v1/radiologists/{reader}/worklist")
        return "ok" if response.status_code == 200 else str(response.status_code)

    return act


def complete_down_to(base: str, studies: Studies, target: int, threads: int) -> None:
    """Read (start + complete) the oldest open studies until `target` remain open."""
    surplus = len(studies.open) - target
    if surplus > 0:
        closed_loop(base, surplus, threads, read_action(studies))


def closed_loop(
    base: str, count: int, threads: int, action: Callable[[httpx.Client], str]
) -> Phase:
    """As fast as `threads` clients go, one request after another each: the ceiling."""
    phase = Phase("pre-ingest")
    phase.scheduled = count
    remaining = iter(range(count))
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def worker() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                sent = time.perf_counter()
                try:
                    outcome = action(client)
                except httpx.TransportError as error:
                    outcome = type(error).__name__
                phase.record(sent, sent, time.perf_counter(), outcome)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    phase.seconds = time.perf_counter() - started
    return phase


def open_count(db: str) -> int:
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(STUDY)
            query = query.where(STUDY.c.status.in_([s.value for s in OPEN]))
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def job_moves(db: str) -> dict[str, int]:
    """Studies the background jobs moved (their audit entries), by job."""
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            query = (
                select(AUDIT.c.actor, func.count())
                .where(AUDIT.c.actor.in_(["engine/re-plan", "engine/watchdog"]))
                .group_by(AUDIT.c.actor)
            )
            return {str(actor): int(count) for actor, count in connection.execute(query)}
    finally:
        engine.dispose()


def database_version(db: str) -> str:
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return "SQLite " + str(
                    connection.exec_driver_sql("select sqlite_version()").scalar()
                )
            version = str(connection.execute(text("show server_version")).scalar())
            return f"PostgreSQL {version}"
    finally:
        engine.dispose()


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process: ours, or the server's (Linux /proc)."""
    if pid is None:
        usage = os.times()
        return usage.user + usage.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Cpu:
    """Share of one CPU used by the server and by this load generator over a phase."""

    server: float = float("nan")
    client: float = float("nan")

    def __str__(self) -> str:
        return f"{self.server:.0%} / {self.client:.0%}"


@contextlib.contextmanager
def measure_cpu(pid: int, into: Cpu) -> Iterator[None]:
    wall, server0, client0 = time.perf_counter(), cpu_seconds(pid), cpu_seconds()
    yield
    wall = time.perf_counter() - wall
    into.server = (cpu_seconds(pid) - server0) / wall
    into.client = (cpu_seconds() - client0) / wall


# --- one run ------------------------------------------------------------------------------


@dataclass
class Run:
    jobs: str
    pre: Phase
    alone: Phase
    alone_cpu: Cpu
    ingest: Phase
    reads: Phase
    worklist: Phase
    open_before: int
    open_after: int
    replan: Any
    replan_seconds: float
    cold_replan_seconds: float
    job_moves: dict[str, int]
    mixed_cpu: Cpu
    worklist_cpu: Cpu


def run_once(args: argparse.Namespace, db: str, jobs: str, workdir: Path) -> Run:
    rng = random.Random(args.seed)
    log_path = workdir / f"server-jobs-{jobs}-{uuid.uuid4().hex[:6]}.log"
    with server(db, args.port, jobs, log_path) as (base, pid):
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            started = time.perf_counter()
            practice = seed(client, rng, args.facilities, args.radiologists)
            console.print(
                f"  seeded {len(practice.facilities)} facilities, {len(practice.radiologists)} "
                f"radiologists on shift in {time.perf_counter() - started:.1f} s"
            )
        studies = Studies(practice, args.seed)
        pre = closed_loop(base, args.open, args.threads, ingest_action(studies))
        console.print(f"  pre-ingested {pre.ok} studies in {pre.seconds:.1f} s")
        # Ingest alone at the offered rate, for half the phase length: the open count climbs
        # (2,000 -> about 2,000 + rate * seconds / 2) because nothing is read meanwhile.
        alone = Phase("ingest alone")
        alone_cpu = Cpu()
        with measure_cpu(pid, alone_cpu):
            half = args.seconds / 2
            open_loop(base, alone, args.rate, half, args.threads, ingest_action(studies))
        console.print(f"  ingest-alone phase done; open studies {open_count(db)}")
        complete_down_to(base, studies, args.open, args.threads)
        open_before = open_count(db)

        ingest = Phase("ingest")
        reads = Phase("read (start+complete)")
        threads = [
            threading.Thread(
                target=open_loop,
                args=(base, ingest, args.rate, args.seconds, args.threads, ingest_action(studies)),
            ),
            threading.Thread(
                target=open_loop,
                args=(base, reads, args.rate, args.seconds, args.threads, read_action(studies)),
            ),
        ]
        mixed_cpu = Cpu()
        with measure_cpu(pid, mixed_cpu):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        open_after = open_count(db)
        moves = job_moves(db)
        console.print(f"  ingest phase done; open studies {open_before} -> {open_after}")

        worklist = Phase("worklist")
        worklist_cpu = Cpu()
        with measure_cpu(pid, worklist_cpu):
            open_loop(
                base,
                worklist,
                args.rate,
                args.seconds,
                args.threads,
                worklist_action(practice, random.Random(args.seed + 1)),
            )
        console.print("  worklist phase done")

        engine = make_engine(db)
        try:
            service = AssignmentService(engine, SystemClock())
            started = time.perf_counter()
            result = replan(service, time_limit=ServiceSettings().replan_time_limit)
            cold_replan_seconds = time.perf_counter() - started
            warm = []
            for _ in range(5):
                started = time.perf_counter()
                result = replan(service, time_limit=ServiceSettings().replan_time_limit)
                warm.append(time.perf_counter() - started)
            replan_seconds = float(np.median(warm))
        finally:
            engine.dispose()
    return Run(
        jobs=jobs,
        pre=pre,
        alone=alone,
        alone_cpu=alone_cpu,
        ingest=ingest,
        reads=reads,
        worklist=worklist,
        open_before=open_before,
        open_after=open_after,
        replan=result,
        replan_seconds=replan_seconds,
        cold_replan_seconds=cold_replan_seconds,
        job_moves=moves,
        mixed_cpu=mixed_cpu,
        worklist_cpu=worklist_cpu,
    )


# --- report -------------------------------------------------------------------------------


def ms(values: list[float], q: float) -> str:
    return f"{np.percentile(np.asarray(values), q) * 1000:.1f}" if values else "-"


def latency(phase: Phase) -> str:
    return (
        f"{ms(phase.latencies, 50)} / {ms(phase.latencies, 99)}  "
        f"[{ms(phase.service, 50)} / {ms(phase.service, 99)}]"
    )


def others(phase: Phase) -> str:
    bad = {k: v for k, v in phase.statuses.items() if k != "ok"}
    return ", ".join(f"{k}: {v}" for k, v in sorted(bad.items())) or "none"


def report(runs: list[Run], args: argparse.Namespace, database: str) -> None:
    console.print(
        f"\n[bold]machine[/bold]: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; database: {database}"
    )
    console.print(
        f"practice: {args.facilities} facilities, {args.radiologists} radiologists on shift, "
        f"{args.open} open studies; offered load {args.rate:g}/s for {args.seconds:g} s "
        f"per phase, {args.threads} client threads per stream (httpx, keep-alive)"
    )
    table = Table(
        title=escape(
            "nighthawk API under load (latency ms: p50 / p99 from the scheduled send, "
            "[p50 / p99 from the actual send])"
        )
    )
    table.add_column("measure")
    for run in runs:
        table.add_column(JOB_MODES[run.jobs])
    rows: list[tuple[str, Callable[[Run], str]]] = [
        ("pre-ingest, closed loop (studies/s)", lambda r: f"{r.pre.ok / r.pre.seconds:.0f}"),
        ("pre-ingest latency p50 / p99", lambda r: f"{ms(r.pre.service, 50)} / "
                                                  f"{ms(r.pre.service, 99)}"),
        ("ingest alone: achieved (studies/s)", lambda r: f"{r.alone.ok / r.alone.seconds:.1f}"),
        ("ingest alone: latency", lambda r: latency(r.alone)),
        ("ingest alone: non-201", lambda r: others(r.alone)),
        ("CPU server / load generator  ", lambda r: str(r.alone_cpu)),
        ("with reads: ingest offered (studies/s)",
         lambda r: f"{r.ingest.scheduled / args.seconds:.0f}"),
        ("ingest achieved (studies/s)", lambda r: f"{r.ingest.ok / r.ingest.seconds:.1f}"),
        ("ingest latency", lambda r: latency(r.ingest)),
        ("ingest non-201", lambda r: others(r.ingest)),
        ("reads achieved (start+complete/s)", lambda r: f"{r.reads.ok / r.reads.seconds:.1f}"),
        ("read latency (start+complete)", lambda r: latency(r.reads)),
        ("read failures", lambda r: others(r.reads)),
        ("CPU server / load generator", lambda r: str(r.mixed_cpu)),
        ("open studies before / after", lambda r: f"{r.open_before} / {r.open_after}"),
        ("worklist achieved (reads/s)", lambda r: f"{r.worklist.ok / r.worklist.seconds:.1f}"),
        ("worklist latency", lambda r: latency(r.worklist)),
        ("worklist non-200", lambda r: others(r.worklist)),
        ("CPU server / load generator ", lambda r: str(r.worklist_cpu)),
        ("re-plan: studies / moved / status", lambda r: f"{r.replan.studies} / {r.replan.moved} "
                                                        f"/ {r.replan.status}"),
        ("re-plan seconds, warm (forecast)", lambda r: f"{r.replan_seconds:.3f} "
                                                      f"({r.replan.solve_seconds:.3f})"),
        ("re-plan seconds, building first", lambda r: f"{r.cold_replan_seconds:.3f}"),
        ("studies moved by background jobs (to end of ingest)", lambda r: ", ".join(
            f"{k.removeprefix('engine/')} {v}" for k, v in sorted(r.job_moves.items())) or "none"),
    ]  # fmt: skip
    for name, cell in rows:
        table.add_row(name, *(cell(run) for run in runs))
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="sqlite (default), sqlite:///new.db, or a PostgreSQL URL")
    parser.add_argument("--postgres", action="store_true", help=f"use {DEFAULT_POSTGRES}")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--jobs", choices=["off", "on", "worker", "both", "all"], default="all")
    parser.add_argument("--threads", type=int, default=12, help="client threads per stream")
    parser.add_argument("--facilities", type=int, default=120)
    parser.add_argument("--radiologists", type=int, default=100)
    parser.add_argument("--open", type=int, default=2000, help="open studies to keep")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    # A plain `kill` should still stop the server we started (it runs in its own session).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    db = DEFAULT_POSTGRES if args.postgres else args.db
    modes = {"both": ["off", "on"], "all": ["off", "on", "worker"]}.get(args.jobs, [args.jobs])
    runs = []
    database = ""
    with tempfile.TemporaryDirectory(prefix="nighthawk-load-") as tmp:
        workdir = Path(tmp)
        for jobs in modes:
            console.print(f"[bold]run[/bold]: {JOB_MODES[jobs]}")
            with fresh_database(db, workdir) as url:
                runs.append(run_once(args, url, jobs, workdir))
                database = database_version(url)
    report(runs, args, database)


if __name__ == "__main__":
    main()
