"""`nighthawk simulate`: scenario in; studies.csv, summary.json and report.html out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from models.validation import format_problems
from nighthawk.scenario_checks import scenario_warnings
from simulations.formatting import SUMMARY_TABLE_COLUMNS, comparison_rows, summary_table
from simulations.report import write_report
from simulations.results import ReplicationResult
from simulations.runner import POLICIES, Task, run_on_dask, run_serially, unknown_policies
from simulations.scenario import MAX_DAYS, Scenario, ScenarioError, load_scenario
from simulations.summary import build_summary, write_summary

MAX_REPLICATIONS = 1000


class OptionError(ValueError):
    """A command-line option that cannot be honoured; the message names it."""


@dataclass(frozen=True)
class SimulateOptions:
    scenario: Path
    policies: list[str]
    replications: int
    seed: int
    out: Path
    workers: int | None = None
    scheduler: str | None = None
    days: float | None = None
    progress: bool = True
    warmup_hours: float | None = None
    strict: bool = False


def parse_policies(policy: str | None, compare: str | None) -> list[str]:
    """`--compare a,b` (the first is the baseline) or `--policy p`; optimizer by default."""
    if compare is not None:
        names = [name.strip() for name in compare.split(",") if name.strip()]
        option = "--compare"
        if len(names) < 2:
            raise OptionError("--compare: name at least two policies, separated by commas")
        if len(set(names)) != len(names):
            raise OptionError("--compare: a policy is named twice")
    else:
        names, option = [policy or "optimizer"], "--policy"
    unknown = unknown_policies(names)
    if unknown:
        raise OptionError(f"{option}: unknown policy {unknown[0]!r} (one of {', '.join(POLICIES)})")
    return names


def check_options(options: SimulateOptions) -> None:
    if not 1 <= options.replications <= MAX_REPLICATIONS:
        raise OptionError(f"--replications: must be between 1 and {MAX_REPLICATIONS}")
    if options.workers is not None and options.scheduler is not None:
        raise OptionError("--workers: give --workers or --scheduler, not both")
    if options.workers is not None and not 1 <= options.workers <= 256:
        raise OptionError("--workers: must be between 1 and 256")
    if options.seed < 0:
        raise OptionError("--seed: must be zero or positive")
    if options.days is not None and not 0 < options.days <= MAX_DAYS:
        raise OptionError(f"--days: must be more than 0 and at most {MAX_DAYS}")
    if options.warmup_hours is not None and not 0 <= options.warmup_hours <= MAX_DAYS * 24:
        raise OptionError(f"--warmup-hours: must be between 0 and {MAX_DAYS * 24}")


def _days(days: float) -> str:
    return f"{days:g} day{'' if days == 1 else 's'}"


def _with_overrides(scenario: Scenario, options: SimulateOptions) -> Scenario:
    """The scenario with --days and --warmup-hours applied; the warm-up must end first."""
    days = scenario.days if options.days is None else options.days
    warmup = scenario.warmup_hours if options.warmup_hours is None else options.warmup_hours
    if warmup >= days * 24:
        if options.days is not None:
            source = (
                "--warmup-hours"
                if options.warmup_hours is not None
                else "the scenario's warmup_hours; set another with --warmup-hours"
            )
            raise OptionError(
                f"--days {days:g} ({days * 24:g} h) must be longer than the warm-up of "
                f"{warmup:g} h ({source})"
            )
        raise OptionError(
            f"--warmup-hours {warmup:g} must be shorter than the scenario's {_days(days)} "
            f"({days * 24:g} h)"
        )
    return scenario.model_copy(update={"days": days, "warmup_hours": warmup})


def load(options: SimulateOptions, errors: Console | None = None) -> Scenario:
    """The scenario to simulate; its likely mistakes go to `errors` (stderr) as warnings, or
    refuse it with --strict."""
    scenario = load_scenario(options.scenario)
    if scenario.arrivals is None and scenario.trace is None:
        raise ScenarioError(f"{options.scenario}: arrivals: give arrivals or a trace to simulate")
    scenario = _with_overrides(scenario, options)
    warnings = scenario_warnings(scenario)
    if warnings and options.strict:
        raise ScenarioError(
            format_problems(str(options.scenario), warnings)
            + f"\n--strict: refused for {len(warnings)} warning(s); fix them or drop --strict"
        )
    if warnings and errors is not None:
        for line in format_problems(str(options.scenario), warnings).splitlines():
            errors.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
    return scenario


def simulate(
    options: SimulateOptions, console: Console, errors: Console | None = None
) -> list[ReplicationResult]:
    """Run every policy × replication, write the outputs, print the headline table (and the
    comparison with --compare); warnings go to `errors` (stderr unless given)."""
    errors = errors if errors is not None else Console(stderr=True)
    check_options(options)
    scenario = load(options, errors)
    try:
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OptionError(f"--out: cannot create {options.out} ({error.strerror})") from None
    tasks = [Task(p, r) for r in range(options.replications) for p in options.policies]
    started = time.perf_counter()
    results = _run(scenario, tasks, options, console)
    results.sort(key=lambda r: (options.policies.index(r.policy), r.replication))
    summary = build_summary(
        results, scenario_name=scenario.name, seed=options.seed, baseline=options.policies[0]
    )
    write_studies(results, options.out / "studies.csv")
    write_summary(summary, options.out / "summary.json")
    write_report(results, summary, options.out / "report.html")
    _print_table(summary, console)
    _print_comparisons(summary, console)
    for warning in summary["warnings"]:
        errors.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    seconds = time.perf_counter() - started
    console.print(
        f"{len(tasks)} runs in {seconds:.1f} s; wrote studies.csv, summary.json and "
        f"report.html to {options.out}"
    )
    return results


def _run(
    scenario: Scenario, tasks: list[Task], options: SimulateOptions, console: Console
) -> list[ReplicationResult]:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not options.progress,
        transient=True,
    )
    with progress:
        bar = progress.add_task(f"simulating {scenario.name}", total=len(tasks))
        done: dict[Task, float] = {}

        def hook(task: Task, fraction: float) -> None:
            done[task] = fraction
            progress.update(bar, completed=sum(done.values()))

        if options.workers is None and options.scheduler is None:
            return run_serially(scenario, tasks, options.seed, hook)
        try:
            return run_on_dask(
                scenario,
                tasks,
                options.seed,
                workers=options.workers,
                scheduler=options.scheduler,
                hook=hook,
            )
        except (OSError, TimeoutError) as error:
            where = options.scheduler or "the local cluster"
            raise OptionError(f"--scheduler: cannot run on {where} ({error})") from None


def write_studies(results: list[ReplicationResult], path: Path) -> None:
    """One CSV, every policy and replication; times ISO-8601 UTC with a Z."""
    frames = [r.studies for r in results]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ", float_format="%.4f")


def _print_table(summary: dict[str, Any], console: Console) -> None:
    table = Table(title="Measured after warm-up: mean [95% interval] across replications")
    for column in SUMMARY_TABLE_COLUMNS:
        table.add_column(column, justify="left" if column == "Policy" else "right")
    for row in summary_table(summary):
        table.add_row(*row)
    console.print(table)


def _print_comparisons(summary: dict[str, Any], console: Console) -> None:
    """One table per policy against the baseline: both values, the paired difference, its
    interval and whether it excludes zero."""
    baseline = summary["baseline"]
    for policy in summary["comparisons"]:
        table = Table(
            title=f"{policy} vs {baseline}: paired difference ({policy} − {baseline})",
            caption="significant: the 95% interval excludes zero; shares in percentage points",
        )
        for column in ("Measure", baseline, policy, "Difference", "95% CI", "Significant"):
            table.add_column(column, justify="left" if column == "Measure" else "right")
        for cells, significant in comparison_rows(summary, policy):
            table.add_row(*cells, style="bold" if significant else None)
        console.print(table)


__all__ = [
    "OptionError",
    "ScenarioError",
    "SimulateOptions",
    "parse_policies",
    "simulate",
]
