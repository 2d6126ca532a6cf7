"""Readable summaries of a plan for the terminal (rich tables)."""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console
from rich.table import Table

from models.plan import ObjectiveReport, Plan
from models.snapshot import Snapshot

MAX_ROWS = 15


def print_plan_summary(snapshot: Snapshot, plan: Plan, console: Console | None = None) -> None:
    console = console or Console()
    console.print(_readers_table(snapshot, plan))
    late = [a for a in plan.assignments if a.late_minutes > 0]
    if late:
        console.print(_late_table(snapshot, late))
    if plan.unassigned:
        console.print(_unassigned_table(plan))
    console.print(_comparison_table(plan.baseline, plan.objective))
    solver = plan.solver
    console.print(
        f"solver: {solver.method}, {solver.status}, {solver.iterations} neighbourhoods, "
        f"{solver.improvements} improvements, "
        f"first plan in {solver.first_plan_seconds * 1000:.0f} ms, "
        f"done in {solver.seconds:.2f} s"
    )


def _readers_table(snapshot: Snapshot, plan: Plan) -> Table:
    priority_of = {s.id: s.priority.value for s in snapshot.studies}
    by_reader: dict[str, Counter[str]] = defaultdict(Counter)
    busy_until: dict[str, str] = {}
    late: Counter[str] = Counter()
    for assignment in plan.assignments:
        by_reader[assignment.radiologist][priority_of[assignment.study]] += 1
        busy_until[assignment.radiologist] = max(
            busy_until.get(assignment.radiologist, ""), assignment.finish.strftime("%H:%M")
        )
        late[assignment.radiologist] += assignment.late_minutes > 0
    table = Table(title="Assignments per radiologist (times UTC)")
    for column in ("radiologist", "shift", "STAT", "URGENT", "ROUTINE", "busy until", "late"):
        table.add_column(column, justify="left" if column in {"radiologist", "shift"} else "right")
    for reader in snapshot.radiologists:
        counts = by_reader.get(reader.id, Counter())
        table.add_row(
            reader.id,
            f"{reader.shift_start:%H:%M}-{reader.shift_end:%H:%M}",
            str(counts["STAT"]),
            str(counts["URGENT"]),
            str(counts["ROUTINE"]),
            busy_until.get(reader.id, "-"),
            str(late[reader.id]) if late[reader.id] else "",
        )
    return table


def _late_table(snapshot: Snapshot, late: list) -> Table:
    priority_of = {s.id: s.priority.value for s in snapshot.studies}
    late = sorted(late, key=lambda a: (priority_of[a.study] != "STAT", -a.late_minutes))
    table = Table(title=f"Late studies ({len(late)}; worst {min(len(late), MAX_ROWS)} shown)")
    for column in ("study", "priority", "radiologist", "due", "finish", "late min"):
        table.add_column(column)
    for a in late[:MAX_ROWS]:
        due = a.why.due_at.strftime("%H:%M") if a.why else "-"
        table.add_row(
            a.study,
            priority_of[a.study],
            a.radiologist,
            due,
            a.finish.strftime("%H:%M"),
            f"{a.late_minutes:.1f}",
        )
    return table


def _unassigned_table(plan: Plan) -> Table:
    table = Table(title=f"Unassigned studies ({len(plan.unassigned)})")
    table.add_column("study")
    table.add_column("why")
    for item in plan.unassigned[:MAX_ROWS]:
        table.add_row(item.study, item.reason)
    return table


def _comparison_table(baseline: ObjectiveReport, optimized: ObjectiveReport) -> Table:
    table = Table(title="Optimizer vs greedy baseline (lower is better)")
    for column in ("objective term", "greedy", "optimized", "change"):
        table.add_column(column, justify="left" if column == "objective term" else "right")
    for name in (
        "unassigned_weight",
        "stat_breaches",
        "weighted_late_minutes",
        "late_studies",
        "subspecialty_mismatches",
        "moved_studies",
        "workload_sq_hours",
    ):
        before, after = getattr(baseline, name), getattr(optimized, name)
        change = "" if before == after else f"{(after - before) / before:+.0%}" if before else "new"
        table.add_row(name, _number(before), _number(after), change)
    return table


def _number(value: float) -> str:
    return (
        f"{value:,.1f}" if isinstance(value, float) and not value.is_integer() else f"{value:,.0f}"
    )
