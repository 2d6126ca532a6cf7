"""Run `nighthawk serve` as a real subprocess for end-to-end tests (and the load benchmark).

`Server` starts the command on a free loopback port with a given `--db` and admin token, waits
for `/healthz`, and stops it (SIGTERM, then SIGKILL) or kills it outright (`kill -9`, as a
crash would). The server's stdout and stderr go to a log file, shown when start-up fails.
`running_server` is the context manager fixtures use: the process is always gone afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.databases import PostgresDatabase, require_postgres, sqlite_url

ADMIN_TOKEN = "nh_e2e_admin_token_0123456789abcdef"
START_TIMEOUT = 90.0  # generous: a cold PostgreSQL migration on a busy CI machine
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A port the kernel just handed out (bind to 0); free unless someone races us for it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nighthawk_command() -> list[str]:
    """The CLI of the interpreter running the tests (works in any virtualenv)."""
    return [sys.executable, "-m", "nighthawk.cli"]


class ServerError(RuntimeError):
    """The server did not come up; the message carries the tail of its log."""


class Server:
    def __init__(
        self,
        db: str,
        log_dir: Path,
        *,
        admin_token: str = ADMIN_TOKEN,
        jobs: bool = True,
        env: dict[str, str] | None = None,
        name: str = "server",
        args: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.args = list(args)  # more `serve` options, e.g. --hl7-port
        self.admin_token = admin_token
        self.jobs = jobs
        self.extra_env = env or {}
        self.log_dir = log_dir
        self.name = name
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = log_dir / f"{name}.log"

    # --- life cycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = START_TIMEOUT) -> Server:
        """Start (or restart) on a fresh free port; retry if someone took the port meanwhile."""
        last: ServerError | None = None
        for _ in range(3):
            try:
                self._start_once(timeout)
                return self
            except ServerError as error:
                last = error
                if "address already in use" not in str(error).lower():
                    raise
        assert last is not None
        raise last

    def _start_once(self, timeout: float) -> None:
        if self.running:
            raise ServerError(f"{self.name} is already running")
        self.port = free_port()
        self.starts += 1
        self.log_path = self.log_dir / f"{self.name}-{self.starts}.log"
        env = {**os.environ, **self.extra_env, "NIGHTHAWK_ADMIN_TOKEN": self.admin_token}
        env.pop("NIGHTHAWK_DB", None)
        command = [
            *nighthawk_command(),
            "serve",
            "--db",
            self.db,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--jobs" if self.jobs else "--no-jobs",
            *self.args,
        ]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # our Ctrl-C does not reach it; we stop it ourselves
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ServerError(
                        f"{self.name} exited with {self.process.returncode} during start-up:\n"
                        + self.log_tail()
                    )
                try:
                    if client.get(f"{self.base_url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.kill()
        raise ServerError(f"{self.name} not healthy within {timeout:.0f} s:\n" + self.log_tail())

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """`kill -9`: no shutdown, no flush; what a power cut does to the process."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """A graceful stop (SIGTERM), then SIGKILL if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        """Everything every start of this server logged."""
        parts = []
        for start in range(1, self.starts + 1):
            path = self.log_dir / f"{self.name}-{start}.log"
            with contextlib.suppress(OSError):
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)

    # --- clients ----------------------------------------------------------------------------

    def client(self, token: str | None = None, *, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)


@contextlib.contextmanager
def running_server(
    db: str, log_dir: Path, *, jobs: bool = True, name: str = "server", **kwargs: Any
) -> Iterator[Server]:
    """A started server that is always stopped (and killed if need be) afterwards."""
    server = Server(db, log_dir, jobs=jobs, name=name, **kwargs)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.kill()


@contextlib.contextmanager
def own_database(kind: str, directory: Path) -> Iterator[str]:
    """A database of its own for a module-scoped server: a SQLite file, or a throwaway
    PostgreSQL database (created, migrated and dropped here, apart from the shared one)."""
    if kind == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield sqlite_url(directory)
        return
    require_postgres()
    database = PostgresDatabase()
    try:
        yield database.url
    finally:
        database.drop()


def create_token(
    db: str, name: str, role: str, facilities: Sequence[str] = (), radiologist: str | None = None
) -> str:
    """`nighthawk token create` as an operator would run it; returns the printed token."""
    command = [*nighthawk_command(), "token", "create", "--name", name, "--role", role]
    for facility in facilities:
        command += ["--facility", facility]
    if radiologist is not None:
        command += ["--radiologist", radiologist]
    command += ["--db", db]
    env = {k: v for k, v in os.environ.items() if k not in ("NIGHTHAWK_DB",)}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"token create {name} failed ({done.returncode}): {done.stderr}")
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("nh_"), done.stdout
    return token


# --- a small practice -----------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def facility_body(name: str = "Facility", state: str = "WY") -> dict[str, Any]:
    return {"name": name, "state": state, "timezone": "America/Denver"}


def radiologist_body(
    name: str, states: Sequence[str] = ("WY",), facilities: Sequence[str] = ("fac-1",)
) -> dict[str, Any]:
    return {
        "name": name,
        "licenses": [{"state": s, "expires_on": "2099-12-31"} for s in states],
        "credentials": [{"facility": f, "expires_on": "2099-12-31"} for f in facilities],
        "subspecialties": [],
        "modalities": [],
        "speed": 1.0,
    }


def shift_now(hours_before: float = 1.0, hours_after: float = 10.0) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "start": iso(now - timedelta(hours=hours_before)),
        "end": iso(now + timedelta(hours=hours_after)),
    }


def check(response: httpx.Response, *expected: int) -> Any:
    """The JSON body of a response whose status is one of `expected`, else a readable failure."""
    if response.status_code not in expected:
        raise AssertionError(
            f"{response.request.method} {response.request.url.path} -> "
            f"{response.status_code} (expected {expected}): {response.text[:500]}"
        )
    return response.json() if response.content else None


def seed_practice(
    client: httpx.Client,
    *,
    facilities: Sequence[str] = ("fac-1",),
    radiologists: Sequence[str] = ("rad-1", "rad-2"),
    state: str = "WY",
) -> None:
    """Facilities in one state, and radiologists licensed and credentialed there, on shift now."""
    for facility in facilities:
        check(client.put(f"/v1/facilities/{facility}", json=facility_body(facility, state)), 200)
    for radiologist in radiologists:
        body = radiologist_body(radiologist, (state,), facilities)
        check(client.put(f"/v1/radiologists/{radiologist}", json=body), 200)
        check(client.post(f"/v1/radiologists/{radiologist}/shifts", json=shift_now()), 201)


def study_body(
    accession: str, facility: str = "fac-1", priority: str = "ROUTINE", modality: str = "CT"
) -> dict[str, Any]:
    return {
        "facility": facility,
        "accession": accession,
        "modality": modality,
        "priority": priority,
        "expected_minutes": 5.0,
    }


def all_studies(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    """Every study matching the filters, following next_cursor to the end."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500, **filters}
    while True:
        page = check(client.get("/v1/studies", params=params), 200)
        items.extend(page["items"])
        if not page["next_cursor"]:
            return items
        params["cursor"] = page["next_cursor"]
