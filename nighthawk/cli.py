"""The `nighthawk` command line. Bad input exits 2 with one line; never a traceback."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from models.errors import describe_error, describe_first_error
from models.snapshot import Snapshot

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from nighthawk.service.settings import ServiceSettings

app = typer.Typer(
    name="nighthawk",
    help="Teleradiology scheduling and SLA optimization.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

BAD_INPUT = 2


class InputError(Exception):
    """A problem with what the user gave us, stated in one line."""


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def read_snapshot(source: str) -> Snapshot:
    """Read and validate a snapshot from a file path or '-' (standard input)."""
    name = "stdin" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a snapshot file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{name}: cannot read ({error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{name}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: a snapshot must be a JSON object")
    try:
        return Snapshot.model_validate(data)
    except ValidationError as error:
        raise InputError(describe_first_error(error)) from None


def emit(text: str, out: Path | None) -> bool:
    """Print to stdout, or write to `out`; True when written to a file."""
    if out is None:
        typer.echo(text)
        return False
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        fail(f"--out: cannot write {out} ({error.strerror})")
    return True


@app.command()
def solve(
    snapshot: Annotated[str, typer.Argument(help="Snapshot JSON file, or - for standard input.")],
    time_limit: Annotated[float, typer.Option(min=0, max=3600, help="Seconds to search.")] = 2.0,
    seed: Annotated[int, typer.Option(min=0, help="Random seed of the search.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the plan here instead of stdout.")] = None,
    deterministic: Annotated[
        bool, typer.Option(help="Budget by solver work, not wall time: same input, same plan.")
    ] = False,
    why: Annotated[bool, typer.Option(help="Explain every assignment.")] = True,
) -> None:
    """Assign the snapshot's studies to radiologists and print the plan as JSON."""
    from nighthawk.optimizer import SolveOptions
    from nighthawk.optimizer import solve as solve_snapshot

    try:
        parsed = read_snapshot(snapshot)
    except InputError as error:
        fail(str(error))
    options = SolveOptions(
        time_limit=time_limit, seed=seed, deterministic=deterministic, explain=why
    )
    plan = solve_snapshot(parsed, options)
    if not emit(plan.model_dump_json(indent=2, exclude_none=True), out):
        return
    objective, baseline = plan.objective, plan.baseline
    typer.echo(
        f"{out}: {len(plan.assignments)} assigned, {len(plan.unassigned)} unassigned, "
        f"STAT breaches {objective.stat_breaches} (greedy {baseline.stat_breaches}), "
        f"weighted late minutes {objective.weighted_late_minutes:.1f} "
        f"(greedy {baseline.weighted_late_minutes:.1f})"
    )


@app.command("demo-snapshot")
def demo_snapshot(
    studies: Annotated[int, typer.Option(min=0, max=200_000)] = 400,
    radiologists: Annotated[int, typer.Option(min=1, max=5_000)] = 40,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    contested: Annotated[bool, typer.Option(help="A night pool under STAT pressure.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Write a realistic, seeded practice snapshot as JSON."""
    from nighthawk.demo import generate_snapshot, snapshot_to_json

    text = snapshot_to_json(generate_snapshot(studies, radiologists, seed, contested=contested))
    if not emit(text, out):
        return
    typer.echo(f"{out}: {studies} studies, {radiologists} radiologists (seed {seed})")


@app.command()
def demo(
    studies: Annotated[int, typer.Option(min=1, max=20_000)] = 150,
    radiologists: Annotated[int, typer.Option(min=1, max=2_000)] = 12,
    seed: Annotated[int, typer.Option(min=0)] = 7,
    contested: Annotated[bool, typer.Option()] = True,
    time_limit: Annotated[float, typer.Option(min=0, max=600)] = 2.0,
) -> None:
    """Generate a demo night, solve it, and print a readable summary."""
    from nighthawk.demo import generate_snapshot
    from nighthawk.optimizer import SolveOptions
    from nighthawk.optimizer import solve as solve_snapshot
    from nighthawk.report import print_plan_summary

    console = Console()
    snapshot = generate_snapshot(studies, radiologists, seed, contested=contested)
    console.print(
        f"[bold]nighthawk demo[/bold]: {studies} studies, {radiologists} radiologists, "
        f"now {snapshot.now:%Y-%m-%d %H:%M} UTC, seed {seed}"
        + (" (contested night pool)" if contested else "")
    )
    plan = solve_snapshot(snapshot, SolveOptions(time_limit=time_limit, seed=seed))
    print_plan_summary(snapshot, plan, console)


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario file, YAML or JSON.")],
    policy: Annotated[
        str | None,
        typer.Option(help="optimizer (default), greedy, pull, cherry_pick or round_robin."),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(help="Policies side by side, comma-separated; the first is the baseline."),
    ] = None,
    replications: Annotated[int, typer.Option(help="Independent replications per policy.")] = 5,
    seed: Annotated[int, typer.Option(help="Root seed; the same seed gives the same output.")] = 0,
    workers: Annotated[
        int | None, typer.Option(help="Run replications on a local Dask cluster of N workers.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Run replications on this Dask scheduler (tcp://host:port).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for the outputs.")] = Path("simulation"),
    days: Annotated[
        float | None, typer.Option(help="Override the scenario's number of days.")
    ] = None,
    warmup_hours: Annotated[
        float | None,
        typer.Option(help="Override the scenario's warm-up (hours left out of every figure)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Refuse a scenario with warnings (likely mistakes).")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Simulate a practice under dispatch policies: studies.csv, summary.json, report.html."""
    # The simulator sits above the engine; only this command imports it, and only when run.
    from simulations.command import OptionError, ScenarioError, SimulateOptions, parse_policies
    from simulations.command import simulate as run_simulation

    console = Console()
    try:
        options = SimulateOptions(
            scenario=scenario,
            policies=parse_policies(policy, compare),
            replications=replications,
            seed=seed,
            out=out,
            workers=workers,
            scheduler=scheduler,
            days=days,
            progress=progress and console.is_terminal,
            warmup_hours=warmup_hours,
            strict=strict,
        )
        run_simulation(options, console)
    except (OptionError, ScenarioError) as error:
        fail(str(error))


@app.command()
def plan(
    scenario: Annotated[Path, typer.Argument(help="Scenario with shift_templates, YAML or JSON.")],
    weeks: Annotated[
        int | None, typer.Option(help="Weeks to plan (default: the scenario's days).")
    ] = None,
    time_limit: Annotated[
        float, typer.Option(help="Seconds for the roster search (verifying adds more).")
    ] = 60.0,
    out: Annotated[Path, typer.Option(help="Directory for the outputs.")] = Path("plan"),
    simulate: Annotated[
        int, typer.Option(help="Simulate the planned roster this many replications.")
    ] = 0,
    policy: Annotated[str, typer.Option(help="Dispatch policy for --simulate.")] = "pull",
    seed: Annotated[
        int, typer.Option(help="Seed of the solver (same seed, same recommendations), --simulate.")
    ] = 0,
    recommendations: Annotated[
        int, typer.Option(help="How many verified license/credential recommendations.")
    ] = 10,
    deterministic: Annotated[
        bool, typer.Option(help="One worker, deterministic time: the same roster every run.")
    ] = False,
) -> None:
    """Plan shift rosters that cover every facility every hour at least cost: roster.csv,
    planned.yaml, coverage.csv/png, gaps.md, recommendations.csv, readers.csv, report.md."""
    from nighthawk.planner.command import OptionError, PlanCommand, ScenarioError, run

    try:
        command = PlanCommand(
            scenario=scenario,
            out=out,
            weeks=weeks,
            time_limit=time_limit,
            simulate=simulate,
            policy=policy,
            seed=seed,
            recommendations=recommendations,
            deterministic=deterministic,
        )
        run(command, Console())
    except (OptionError, ScenarioError) as error:
        fail(str(error))


token_app = typer.Typer(help="Named API tokens (stored hashed).", no_args_is_help=True)
app.add_typer(token_app, name="token")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $NIGHTHAWK_DB, else sqlite:///nighthawk.db).",
        show_default=False,
    ),
]


def _service_settings(db: str | None, **overrides: object) -> ServiceSettings:
    from nighthawk.service.settings import ServiceSettings

    try:
        settings = ServiceSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        path, message = describe_error(error.errors()[0])
        fail(f"NIGHTHAWK_{path.upper()}: {message}")
    if db is not None:
        settings = settings.model_copy(update={"db": db})
    return settings


def _open_database(url: str) -> Engine:
    """Connect and migrate, or exit with one line saying why not."""
    from sqlalchemy.exc import SQLAlchemyError

    from nighthawk.service.db import make_engine, masked_url, migrate

    try:
        engine = make_engine(url)
        migrate(engine)
    except ValueError as error:
        fail(f"--db: {error}".replace("--db: db: ", "--db: "))
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        fail(f"--db: cannot open {masked_url(url)} ({reason.replace(url, masked_url(url))})")
    return engine


@app.command("migrate")
def migrate_database(db: DbOption = None) -> None:
    """Bring the database schema to this release (as the role that owns the tables).

    `serve` and `worker` migrate at start-up too; in production they run as a role that owns
    no table, so the owner runs this once per release, then re-grants (see the README).
    """
    from nighthawk.service.db import masked_url

    url = _service_settings(db).db
    _open_database(url).dispose()
    typer.echo(f"{masked_url(url)}: schema at the newest revision")


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Seed a demo practice and feed it synthetic studies.")
    ] = False,
    jobs: Annotated[bool, typer.Option(help="Run the re-plan and watchdog jobs.")] = True,
    hl7_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Also take HL7 v2 orders over MLLP on this port (same host)."
        ),
    ] = None,
) -> None:
    """Run the assignment API under uvicorn (migrations are applied at start-up)."""
    import secrets

    import uvicorn

    hl7: dict[str, object] = {} if hl7_port is None else {"hl7_port": hl7_port, "hl7_host": host}
    settings = _service_settings(db, demo=demo, jobs=jobs, **hl7)
    if demo and not settings.admin_token:
        settings = settings.model_copy(update={"admin_token": "nh_demo_" + secrets.token_hex(12)})
    engine = _open_database(settings.db)
    engine.dispose()
    from api.app import create_app  # the only place anything imports the API
    from nighthawk.service.db import masked_url
    from nighthawk.service.logs import access_log_config

    base = f"http://{host}:{port}"
    typer.echo(f"nighthawk API on {base}  (docs: {base}/docs, schema: {base}/openapi.json)")
    typer.echo(f"database: {masked_url(settings.db)}")
    if settings.hl7_port is not None:
        typer.echo(f"HL7 v2 orders (MLLP) on {settings.hl7_host}:{settings.hl7_port}")
    if settings.admin_token and demo:
        typer.echo(f"demo admin token: {settings.admin_token}")
        typer.echo(
            f"  try: curl -H 'Authorization: Bearer {settings.admin_token}' "
            f"{base}/v1/studies?limit=5"
        )
    elif not settings.admin_token:
        typer.echo("no NIGHTHAWK_ADMIN_TOKEN set; create tokens with `nighthawk token create`")
    # The engine's own lines (arrivals in the demo, re-plans) beside uvicorn's access log.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        log_config=access_log_config(),
    )


@app.command()
def worker(db: DbOption = None) -> None:
    """Run the re-plan and watchdog jobs without HTTP: pair with `serve --no-jobs`.

    Re-plans are CPU work; in their own process they no longer share the API's interpreter
    lock. Any number of workers may run: the database lease lets one work at a time.
    """
    import signal
    import threading

    from nighthawk.service.assignment import AssignmentService
    from nighthawk.service.clock import SystemClock
    from nighthawk.service.jobs import Jobs, JobSettings, Lease

    settings = _service_settings(db)
    engine = _open_database(settings.db)
    clock = SystemClock()
    job_settings = JobSettings(
        tick_seconds=settings.tick_seconds,
        replan_seconds=settings.replan_seconds,
        min_replan_gap_seconds=settings.min_replan_gap_seconds,
        replan_time_limit=settings.replan_time_limit,
    )
    jobs = Jobs(AssignmentService(engine, clock), Lease(engine, clock), job_settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    typer.echo(f"nighthawk worker on {settings.db}: re-plan and watchdog jobs (Ctrl-C stops)")
    jobs.start()
    stop.wait()
    jobs.shutdown()
    engine.dispose()


@app.command()
def contract() -> None:
    """Print the REST contract (every operation, parameter and body) as Markdown, generated
    from the OpenAPI schema; docs/contract.md is this output."""
    from api.contract import contract_markdown

    typer.echo(contract_markdown(), nl=False)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="A unique name for the token's holder.")],
    role: Annotated[
        str, typer.Option(help="admin, coverage_manager, worklist, site, analyst, radiologist")
    ],
    facility: Annotated[
        list[str] | None, typer.Option(help="For a site token: a facility it may see (repeat).")
    ] = None,
    radiologist: Annotated[
        str | None, typer.Option(help="For a radiologist token: the one reader it acts as.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a named token and print it once (only its hash is stored)."""
    from datetime import UTC, datetime

    from models.tables import Role
    from nighthawk.service.auth import create_token
    from nighthawk.service.errors import ServiceError

    roles = ", ".join(r.value for r in Role)
    if role not in {r.value for r in Role}:
        fail(f"--role: must be one of {roles}")
    if not name.strip() or len(name) > 128:
        fail("--name: must be 1 to 128 characters")
    settings = _service_settings(db)
    engine = _open_database(settings.db)
    try:
        _require_facilities(engine, facility or [])
        secret = create_token(
            engine,
            name=name.strip(),
            role=Role(role),
            facilities=facility or [],
            radiologist=radiologist,
            now=datetime.now(UTC),
        )
    except ServiceError as error:
        fail(
            error.detail.replace("facility:", "--facility:")
            .replace("name:", "--name:")
            .replace("radiologist:", "--radiologist:")
        )
    typer.echo(secret)


def _require_facilities(engine: Engine, facilities: list[str]) -> None:
    from sqlalchemy import select

    from models.tables import FACILITY
    from nighthawk.service.db import read_transaction

    if not facilities:
        return
    with read_transaction(engine) as connection:
        known = set(
            connection.execute(select(FACILITY.c.id).where(FACILITY.c.id.in_(facilities))).scalars()
        )
    missing = [f for f in facilities if f not in known]
    if missing:
        fail(f"--facility: unknown facility {missing[0]!r}")


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Option()], db: DbOption = None) -> None:
    """Revoke a token by name; it stops working within seconds."""
    from nighthawk.service.auth import revoke_token

    settings = _service_settings(db)
    engine = _open_database(settings.db)
    if not revoke_token(engine, name=name):
        fail(f"--name: no token named {name!r}")
    typer.echo(f"revoked {name}")


def main() -> None:
    """Console entry point: any unexpected error is one line, never a traceback."""
    try:
        app()
    except Exception as error:  # pragma: no cover - last line of defence
        if os.environ.get("NIGHTHAWK_DEBUG"):
            raise
        typer.echo(f"internal error: {type(error).__name__}: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
