"""Hand-built practices for simulator tests, and an independent checker of a run's output.

The checker works from the scenario as written (licenses, credentials, local shift times
through zoneinfo), not from the simulator's compiled world, so a bug in the compilation
cannot hide behind itself.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from simulations.arrivals import Studies
from simulations.engine import NOBODY, Outcome, Simulation
from simulations.runner import POLICIES, make_studies
from simulations.scenario import Absence, Scenario, parse_scenario
from simulations.world import MODALITIES, World, compile_world

START = "2026-12-01T00:00:00Z"
START_AT = datetime(2026, 12, 1, tzinfo=UTC)
ALL_DAY = {"start": "00:00", "end": "24:00", "timezone": "UTC"}
SLACK = 1e-5  # the kernel forgives float noise only: a read must finish by the shift end


def reader(rid: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": rid,
        "licenses": ["WY"],
        "credentials": ["f1"],
        "shifts": [ALL_DAY],
    }
    base.update(fields)
    return base


def scenario(**fields: Any) -> Scenario:
    """A one-facility practice in Wyoming; override any field."""
    data: dict[str, Any] = {
        "name": "test",
        "start": START,
        "days": 1,
        "facilities": [{"id": "f1", "state": "WY", "timezone": "America/Denver"}],
        "arrivals": [{"facility": "f1", "modality": "CT", "priority": "STAT", "per_hour": 2}],
        "read_minutes": {"CT": {"distribution": "fixed", "mean": 10}},
        "radiologists": [reader("r1")],
        "drain_hours": 24,
    }
    data.update(fields)
    return parse_scenario(data)


def trace_scenario(
    tmp_path: Path, rows: list[tuple[float, str, str, float]], **fields: Any
) -> Scenario:
    """Studies at exact minutes: (minute, modality, priority, read minutes) at facility f1,
    or (minute, modality, priority, read minutes) rows with a facility via `facility_rows`."""
    path = tmp_path / "trace.csv"
    lines = ["arrived_at,facility,modality,priority,subspecialty,read_minutes"]
    for minute, modality, priority, minutes, *rest in rows:
        facility = rest[0] if rest else "f1"
        at = (START_AT + timedelta(minutes=minute)).isoformat()
        lines.append(f"{at},{facility},{modality},{priority},,{minutes}")
    path.write_text("\n".join(lines) + "\n")
    fields.setdefault("arrivals", None)
    return scenario(trace=str(path), **fields)


def run(scn: Scenario, policy: str, seed: int = 0, replication: int = 0) -> Run:
    world = compile_world(scn)
    studies = make_studies(world, seed, replication)
    outcome = Simulation(world, studies, POLICIES[policy]()).run()
    return Run(scn, world, studies, outcome)


class Run:
    def __init__(self, scn: Scenario, world: World, studies: Studies, outcome: Outcome) -> None:
        self.scenario, self.world, self.studies, self.outcome = scn, world, studies, outcome

    def reader_of(self, study: int) -> str | None:
        r = int(self.outcome.reader[study])
        return None if r == NOBODY else self.world.reader_ids[r]

    def order_read_by(self, reader_id: str) -> list[int]:
        r = self.world.reader_ids.index(reader_id)
        mine = np.flatnonzero(self.outcome.reader == r)
        return [int(i) for i in mine[np.argsort(self.outcome.started[mine])]]


# ----- the independent checker ----------------------------------------------------------
def shift_windows(
    scn: Scenario, reader_index: int, until_minutes: float
) -> list[tuple[float, float]]:
    """On-duty windows of one reader, from the scenario text: each weekly occurrence in its
    own zone, unions of touching windows, minus absences."""
    spec = scn.radiologists[reader_index]
    occurrences = []
    for pattern in spec.shifts:
        zone = ZoneInfo(pattern.timezone)
        first = scn.start.astimezone(zone).date() - timedelta(days=1)
        sh, sm = (int(x) for x in pattern.start.split(":"))
        eh, em = (int(x) for x in pattern.end.split(":"))
        for offset in range(int(until_minutes // 1440) + 3):
            day = first + timedelta(days=offset)
            if ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.weekday()] not in pattern.days:
                continue
            begin = datetime(day.year, day.month, day.day, sh, sm, tzinfo=zone)
            end_day = day if (eh * 60 + em) > (sh * 60 + sm) else day + timedelta(days=1)
            end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone) + timedelta(
                hours=eh, minutes=em
            )
            occurrences.append((_minutes(scn, begin), _minutes(scn, end)))
    occurrences.sort()
    windows: list[list[float]] = []
    for begin, end in occurrences:
        if windows and begin <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([begin, end])
    result = [(a, b) for a, b in windows]
    for event in scn.events:
        if isinstance(event, Absence) and event.radiologist == spec.id:
            cut_a, cut_b = _minutes(scn, event.from_), _minutes(scn, event.to)
            pieces = []
            for a, b in result:
                if b <= cut_a or a >= cut_b:
                    pieces.append((a, b))
                    continue
                if a < cut_a:
                    pieces.append((a, cut_a))
                if b > cut_b:
                    pieces.append((cut_b, b))
            result = pieces
    return result


def _minutes(scn: Scenario, at: datetime) -> float:
    return (at - scn.start).total_seconds() / 60


def violations(result: Run) -> list[str]:
    """Every broken rule in a run: eligibility, shifts, one read at a time, times."""
    scn, studies, out = result.scenario, result.studies, result.outcome
    facilities = {f.id: f for f in scn.facilities}
    facility_ids = [f.id for f in scn.facilities]
    problems = []
    windows = [shift_windows(scn, r, result.world.run_until) for r in range(len(scn.radiologists))]
    for r, spec in enumerate(scn.radiologists):
        mine = np.flatnonzero(out.reader == r)
        mine = mine[np.argsort(out.started[mine])]
        previous_finish = -math.inf
        for s in mine.tolist():
            facility = facilities[facility_ids[int(studies.facility[s])]]
            modality = MODALITIES[int(studies.modality[s])]
            start, finish = float(out.started[s]), float(out.finished[s])
            where = f"study {s} read by {spec.id}"
            if facility.state not in {lic.state for lic in spec.licenses}:
                problems.append(f"{where}: not licensed in {facility.state}")
            if facility.id not in {c.facility for c in spec.credentials}:
                problems.append(f"{where}: not credentialed at {facility.id}")
            if spec.modalities and modality not in spec.modalities:
                problems.append(f"{where}: does not read {modality}")
            sub = studies.subspecialty[s]
            if studies.required[s] and sub not in spec.subspecialties:
                problems.append(f"{where}: lacks required {sub}")
            if start < studies.arrival[s] - 1e-9:
                problems.append(f"{where}: started before it arrived")
            if start < previous_finish - 1e-9:
                problems.append(f"{where}: started while reading another study")
            if not math.isnan(finish):
                previous_finish = finish
                if not math.isclose(finish - start, studies.read[s] / spec.speed, rel_tol=1e-9):
                    problems.append(f"{where}: read time is not read / speed")
            expected_end = start + studies.expected[s] / spec.speed
            window = next((w for w in windows[r] if w[0] - 1e-9 <= start < w[1]), None)
            if window is None:
                problems.append(f"{where}: started off shift at minute {start:.2f}")
            elif expected_end > window[1] + SLACK:
                problems.append(f"{where}: cannot be expected to finish before the shift ends")
    unstarted_but_finished = np.isnan(out.started) & ~np.isnan(out.finished)
    if unstarted_but_finished.any():
        problems.append("a study finished without starting")
    return problems
