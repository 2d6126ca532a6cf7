"""Coverage-planning jobs: queued by `POST /v1/plans`, solved in the background, published
to the live roster.

A request only validates and queues: one worker thread per process solves the plans in turn
and records the result (or a one-line error) on the plan's row, so a solve that takes minutes
never holds a request. Publishing inserts the roster's shifts in one write transaction under
the plan lock, exactly as a shift added by hand, and lets live assignment reconsider at once.

A process that owns plans holds a job lease (renewed by a heartbeat thread) and names it on
each plan's row; a queued or running plan whose owner's lease has lapsed was left behind by a
process that died, and is marked failed at start-up and whenever it is read. Plans of another
live process are left alone, so several API processes can share one database.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from pydantic import Field, ValidationError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from models.api import Public
from models.errors import describe_first_error
from models.plans_api import (
    PlanAddition,
    PlanCombined,
    PlanCoverageHour,
    PlanGap,
    PlanIn,
    PlanMetricsOut,
    PlannedShift,
    PlanOut,
    PlanPublishedOut,
    PlanReaderLoad,
    PlanRecommendation,
)
from models.scenario import Scenario, ScenarioError
from models.tables import FACILITY, JOB_LEASE, PLAN, RADIOLOGIST, SHIFT, STUDY, PlanStatus
from models.types import format_utc_time, parse_utc_time
from nighthawk.planner.planner import PlanOptions, plan
from nighthawk.planner.result import CombinedRecommendation, PlanResult
from nighthawk.service import audit
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import Principal
from nighthawk.service.clock import Clock
from nighthawk.service.db import lock_plan, read_transaction, write_transaction
from nighthawk.service.errors import Conflict, NotFound, Unprocessable
from nighthawk.service.jobs import Lease
from nighthawk.service.roster import require_known_facilities
from nighthawk.service.views import sla_minutes_of

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the server stopped before the plan finished"
NO_DEMAND = "no demand: give arrivals or post studies first"
LEASE_PREFIX = "plans:"
LEASE_SECONDS = 60.0
MAX_ERROR = 1000
OPEN = (PlanStatus.QUEUED.value, PlanStatus.RUNNING.value)


class PlanFailure(Exception):
    """A plan that cannot be solved, for a reason the user can act on; the message is it."""


class PlanResultOut(Public):
    """What a done plan stores: the parts of `PlanOut` that come from the solve."""

    metrics: PlanMetricsOut
    shifts: list[PlannedShift]
    gaps: list[PlanGap]
    recommendations: list[PlanRecommendation]
    combined: PlanCombined | None = None
    readers: list[PlanReaderLoad] = Field(default_factory=list)
    coverage_summary: list[PlanCoverageHour]


class PlanService:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        assignments: AssignmentService,
        *,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.assignments = assignments
        self.lease = Lease(
            engine, clock, name=f"{LEASE_PREFIX}{uuid.uuid4().hex}", ttl_seconds=lease_seconds
        )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nighthawk-plan")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._heartbeat: threading.Thread | None = None

    # --- the API's three calls --------------------------------------------------------------

    def start(self, principal: Principal, body: PlanIn) -> PlanOut:
        """Validate the request against the practice, queue the job and return at once."""
        now = self.clock.now()
        with read_transaction(self.engine) as connection:
            _check_references(connection, body)
        self._hold_lease()
        plan_id = uuid.uuid4().hex
        with write_transaction(self.engine) as connection:
            connection.execute(
                insert(PLAN).values(
                    id=plan_id,
                    status=PlanStatus.QUEUED.value,
                    created_at=now,
                    created_by=principal.name,
                    runner=self.lease.name,
                    request=body.model_dump(mode="json", by_alias=True),
                )
            )
            row = _plan_row(connection, plan_id)
        with self._lock:
            try:
                self._futures[plan_id] = self._executor.submit(self._run, plan_id, body)
            except RuntimeError:  # shutting down: the executor takes no more work
                self._fail(plan_id, INTERRUPTED)
                return self.get(plan_id)
        return plan_out(row)

    def get(self, plan_id: str) -> PlanOut:
        with read_transaction(self.engine) as connection:
            row = _plan_row(connection, plan_id)
            abandoned = row is not None and self._abandoned(connection, row)
        if row is None:
            raise NotFound(f"plan {plan_id} not found")
        if abandoned:
            self.recover([plan_id])
            with read_transaction(self.engine) as connection:
                row = _plan_row(connection, plan_id)
        return plan_out(row)

    def publish(self, principal: Principal, plan_id: str) -> PlanPublishedOut:
        """The done plan's roster becomes shifts of the live roster, once, in one transaction."""
        now = self.clock.now()
        with write_transaction(self.engine) as connection, self.assignments.cache.lock:
            epoch = lock_plan(connection)
            row = _plan_row(connection, plan_id)
            if row is None:
                raise NotFound(f"plan {plan_id} not found")
            if row.published_at is not None:
                raise Conflict(
                    f"plan {plan_id} already published at {format_utc_time(row.published_at)} "
                    f"by {row.published_by}"
                )
            if row.status != PlanStatus.DONE.value:
                raise Conflict(f"plan {plan_id} is {row.status}; only a done plan can be published")
            shifts = list((row.result or {}).get("shifts", []))
            readers = sorted({shift["radiologist"] for shift in shifts})
            known = set(
                connection.execute(select(RADIOLOGIST.c.id).where(RADIOLOGIST.c.id.in_(readers)))
                .scalars()
                .all()
            )
            for index, shift in enumerate(shifts):
                if shift["radiologist"] not in known:
                    raise Unprocessable(
                        f"shifts[{index}].radiologist",
                        f"radiologist {shift['radiologist']!r} no longer exists",
                    )
            values = [
                {
                    "id": uuid.uuid4().hex,
                    "radiologist_id": shift["radiologist"],
                    "start": parse_utc_time(shift["start"]),
                    "end": parse_utc_time(shift["end"]),
                }
                for shift in shifts
            ]
            if values:
                connection.execute(insert(SHIFT), values)
            connection.execute(
                update(PLAN)
                .where(PLAN.c.id == plan_id)
                .values(published_at=now, published_by=principal.name)
            )
            audit.record(
                connection,
                at=now,
                actor=principal.name,
                action="plan.published",
                entity=f"plan:{plan_id}",
                after={
                    "shifts": len(values),
                    "radiologists": readers,
                    "from": min((s["start"] for s in shifts), default=None),
                    "to": max((s["end"] for s in shifts), default=None),
                },
            )
            self.assignments.reconsider(
                connection, epoch, now, actor=principal.name, reason=f"plan {plan_id} published"
            )
            row = _plan_row(connection, plan_id)
        return PlanPublishedOut(
            plan=plan_out(row),
            shifts_created=len(values),
            shift_ids=[value["id"] for value in values],
        )

    # --- life cycle -------------------------------------------------------------------------

    def recover(self, plan_ids: list[str] | None = None) -> int:
        """Mark failed the queued and running plans whose owner's lease has lapsed (all of
        them, or those named); returns how many. Called at start-up, before this process owns
        any plan."""
        now = self.clock.now()
        with write_transaction(self.engine) as connection:
            query = select(PLAN.c.id, PLAN.c.runner).where(PLAN.c.status.in_(OPEN))
            if plan_ids is not None:
                query = query.where(PLAN.c.id.in_(plan_ids))
            rows = connection.execute(query).all()
            live = _live_runners(connection, {row.runner for row in rows if row.runner}, now)
            dead = [row.id for row in rows if row.runner not in live]
            if dead:
                connection.execute(
                    update(PLAN)
                    .where(PLAN.c.id.in_(dead), PLAN.c.status.in_(OPEN))
                    .values(status=PlanStatus.FAILED.value, error=INTERRUPTED, finished_at=now)
                )
            if plan_ids is None:  # tidy the lapsed leases of processes gone for good
                connection.execute(
                    delete(JOB_LEASE).where(
                        JOB_LEASE.c.name.startswith(LEASE_PREFIX), JOB_LEASE.c.expires_at < now
                    )
                )
        if dead:
            log.info("plans interrupted by a stopped server, marked failed: %s", ", ".join(dead))
        return len(dead)

    def shutdown(self) -> None:
        """Queued plans are marked interrupted; the one being solved finishes and is saved."""
        with self._lock:
            pending = dict(self._futures)
        self._executor.shutdown(wait=False, cancel_futures=True)
        for plan_id, future in pending.items():
            if future.cancelled():
                self._fail(plan_id, INTERRUPTED)
        self._executor.shutdown(wait=True)
        self._stopping.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
            try:
                self.lease.release()
            except Exception:  # the database may already be gone at shutdown
                log.debug("plan lease release failed", exc_info=True)

    def _hold_lease(self) -> None:
        """Take this process's lease before it owns a plan; a heartbeat keeps it."""
        with self._lock:
            if self._heartbeat is not None:
                return
            self.lease.acquire()  # the name is this process's own: always granted
            self._heartbeat = threading.Thread(
                target=self._renew, name="nighthawk-plan-lease", daemon=True
            )
            self._heartbeat.start()

    def _renew(self) -> None:
        every = self.lease.ttl.total_seconds() / 3
        while not self._stopping.wait(every):
            try:
                self.lease.acquire()
            except Exception as error:  # a missed renewal is retried; the TTL allows two
                log.warning("plan lease renewal failed: %s", _one_line(error))

    def _abandoned(self, connection: Connection, row: Row[Any]) -> bool:
        if row.status not in OPEN or row.runner == self.lease.name:
            return False
        runners = {row.runner} if row.runner else set()
        return row.runner not in _live_runners(connection, runners, self.clock.now())

    # --- the job ----------------------------------------------------------------------------

    def _run(self, plan_id: str, body: PlanIn) -> None:
        """Solve one plan; whatever happens, the row ends done or failed (never lost)."""
        try:
            if not self._mark_running(plan_id):
                return  # no longer queued: marked failed meanwhile
            result = self._solve(plan_id, body)
            self._finish(plan_id, result)
        except PlanFailure as failure:
            self._fail(plan_id, str(failure))
        except Exception as error:
            log.warning("plan %s failed: %s", plan_id, _one_line(error))
            log.debug("plan %s failure", plan_id, exc_info=True)
            self._fail(plan_id, _one_line(error))
        finally:
            with self._lock:
                self._futures.pop(plan_id, None)

    def _mark_running(self, plan_id: str) -> bool:
        with write_transaction(self.engine) as connection:
            changed = connection.execute(
                update(PLAN)
                .where(PLAN.c.id == plan_id, PLAN.c.status == PlanStatus.QUEUED.value)
                .values(status=PlanStatus.RUNNING.value, started_at=self.clock.now())
            )
            return bool(changed.rowcount == 1)

    def _solve(self, plan_id: str, body: PlanIn) -> dict[str, Any]:
        with read_transaction(self.engine) as connection:
            facilities = connection.execute(select(FACILITY).order_by(FACILITY.c.id)).all()
            readers = connection.execute(select(RADIOLOGIST).order_by(RADIOLOGIST.c.id)).all()
            history = None if body.arrivals is not None else _history(connection, body)
        if not facilities:
            raise PlanFailure("no facilities: put the practice's facilities first")
        if not readers:
            raise PlanFailure("no radiologists: put the practice's radiologists first")
        if not body.arrivals and history is None:
            raise PlanFailure(NO_DEMAND)
        scenario = _scenario(plan_id, body, facilities, readers, from_history=history is not None)
        options = PlanOptions(
            weeks=body.weeks,
            time_limit=body.time_limit,
            recommendations=body.recommendations,
            # Each verification is a re-solve: check twice as many as will be reported.
            verify=min(12, 2 * body.recommendations),
        )
        started = time.perf_counter()
        try:
            result = plan(scenario, options, history=history)
        except ScenarioError as error:  # the practice or its history cannot be planned
            raise PlanFailure(str(error)) from None
        log.info(
            "plan %s: %d shifts, %s, %.1f uncovered facility-hours, in %.1fs",
            plan_id,
            result.metrics.shifts,
            result.metrics.status,
            result.metrics.uncovered_hours,
            time.perf_counter() - started,
        )
        return result_json(result)

    def _finish(self, plan_id: str, result: dict[str, Any]) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(PLAN)
                .where(PLAN.c.id == plan_id, PLAN.c.status == PlanStatus.RUNNING.value)
                .values(status=PlanStatus.DONE.value, result=result, finished_at=self.clock.now())
            )

    def _fail(self, plan_id: str, error: str) -> None:
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(
                    update(PLAN)
                    .where(PLAN.c.id == plan_id, PLAN.c.status.in_(OPEN))
                    .values(
                        status=PlanStatus.FAILED.value,
                        error=error[:MAX_ERROR],
                        finished_at=self.clock.now(),
                    )
                )
        except Exception as failure:  # the row stays open; recovery will close it
            log.warning("plan %s: could not record its failure: %s", plan_id, _one_line(failure))


# --- reading the practice ---------------------------------------------------------------------


def _check_references(connection: Connection, body: PlanIn) -> None:
    """Radiologists and facilities the request names must exist (a typo plans nothing)."""
    named = list(body.radiologists)
    known = set(
        connection.execute(select(RADIOLOGIST.c.id).where(RADIOLOGIST.c.id.in_(named)))
        .scalars()
        .all()
    )
    for reader in named:
        if reader not in known:
            raise Unprocessable(f"radiologists.{reader}", f"unknown radiologist {reader!r}")
    facilities = [stream.facility for stream in body.arrivals or []]
    require_known_facilities(connection, facilities, field="arrivals")


def _history(connection: Connection, body: PlanIn) -> pd.DataFrame | None:
    """The practice's studies received in the `history_days` before the plan starts, in the
    planner's history format; None when there are none."""
    since = body.start - timedelta(days=body.history_days)
    rows = connection.execute(
        select(
            STUDY.c.received_at,
            STUDY.c.facility,
            STUDY.c.modality,
            STUDY.c.priority,
            STUDY.c.subspecialty,
            STUDY.c.subspecialty_required,
            STUDY.c.expected_minutes,
        )
        .where(STUDY.c.received_at >= since, STUDY.c.received_at < body.start)
        .order_by(STUDY.c.received_at)
    ).all()
    if not rows:
        return None
    return pd.DataFrame(
        {
            "arrived_at": pd.Series(pd.to_datetime([r.received_at for r in rows], utc=True)),
            "facility": pd.Series([r.facility for r in rows], dtype=object),
            "modality": pd.Series([r.modality for r in rows], dtype=object),
            "priority": pd.Series([r.priority for r in rows], dtype=object),
            # object dtype: no subspecialty is None, never NaN (a NaN would read as one)
            "subspecialty": pd.Series([r.subspecialty or None for r in rows], dtype=object),
            "subspecialty_required": pd.Series(
                [bool(r.subspecialty_required) for r in rows], dtype=bool
            ),
            "read_minutes": pd.Series(
                [math.nan if r.expected_minutes is None else r.expected_minutes for r in rows],
                dtype=float,
            ),
        }
    )


def _scenario(
    plan_id: str,
    body: PlanIn,
    facilities: Sequence[Row[Any]],
    readers: Sequence[Row[Any]],
    *,
    from_history: bool,
) -> Scenario:
    """The practice as the database has it, with the request's planning facts."""
    specs = []
    for row in readers:
        spec: dict[str, Any] = {
            "id": row.id,
            "name": row.name,
            "licenses": list(row.licenses),
            "credentials": list(row.credentials),
            "subspecialties": list(row.subspecialties),
            "modalities": list(row.modalities),
            "speed": float(row.speed),
        }
        planning = body.radiologists.get(row.id)
        if planning is not None:
            spec.update(
                availability=planning.availability,
                unavailable=planning.unavailable,
                max_shifts_per_week=planning.max_shifts_per_week,
                prefers=planning.prefers,
                preferences=planning.preferences,
            )
        specs.append(spec)
    try:
        return Scenario.model_validate(
            {
                "name": f"service plan {plan_id}",
                "start": body.start,
                "days": 7 * body.weeks,
                "facilities": [
                    {
                        "id": row.id,
                        "name": row.name,
                        "state": row.state,
                        "timezone": row.timezone,
                        "sla_minutes": sla_minutes_of(row),
                    }
                    for row in facilities
                ],
                "arrivals": body.arrivals,
                # The history is the study table, handed to the planner as a frame.
                "history": "study table" if from_history else None,
                "radiologists": specs,
                "shift_templates": body.shift_templates,
                "rules": body.rules,
            }
        )
    except ValidationError as error:
        raise PlanFailure(f"practice: {describe_first_error(error)}") from None


def _live_runners(connection: Connection, runners: set[str], now: datetime) -> set[str]:
    if not runners:
        return set()
    return set(
        connection.execute(
            select(JOB_LEASE.c.name).where(
                JOB_LEASE.c.name.in_(runners), JOB_LEASE.c.expires_at >= now
            )
        )
        .scalars()
        .all()
    )


def _plan_row(connection: Connection, plan_id: str) -> Any:
    return connection.execute(select(PLAN).where(PLAN.c.id == plan_id)).first()


# --- the result -------------------------------------------------------------------------------


def result_json(result: PlanResult) -> dict[str, Any]:
    """The planner's result as the plan row stores it (and `PlanOut` shows it); checked to
    read back, so a stored plan is always readable."""
    m = result.metrics
    out = PlanResultOut(
        metrics=PlanMetricsOut(
            status=m.status,
            weeks=int(m.weeks),
            shifts=int(m.shifts),
            cost=float(m.cost),
            uncovered_hours=float(m.uncovered_hours),
            unmet_minutes=float(m.unmet_minutes),
            demand_minutes=float(m.demand_minutes),
            max_nights=int(m.max_nights),
            max_weekend_shifts=int(m.max_weekend_shifts),
            preference_misses=int(m.preference_misses),
            structural_uncovered_hours=float(m.structural_uncovered_hours),
            first_solution_seconds=_finite(m.first_solution_seconds),
            seconds=float(m.seconds),
            stages=dict(m.stages),
        ),
        shifts=[
            PlannedShift(
                radiologist=s.radiologist,
                template=s.template,
                start=s.start,
                end=s.end,
                start_local=s.start_local.isoformat(),
                end_local=s.end_local.isoformat(),
            )
            for s in result.shifts
        ],
        gaps=[
            PlanGap(
                facility=g.facility,
                state=g.state,
                need=g.need,
                start=g.start,
                end=g.end,
                hours=float(g.hours),
                kind=g.kind,
                reason=g.reason,
            )
            for g in result.gaps
        ],
        recommendations=[
            PlanRecommendation(
                radiologist=r.radiologist,
                additions=list(r.additions),
                label=r.label,
                closes_uncovered_hours=float(r.closes_uncovered_hours),
                closes_uncovered_hours_per_week=float(r.closes_uncovered_hours_per_week),
                reduces_unmet_minutes=float(r.reduces_unmet_minutes),
                alternatives=list(r.alternatives),
            )
            for r in result.recommendations
        ],
        combined=combined_out(result.combined),
        readers=[
            PlanReaderLoad(
                radiologist=load.radiologist,
                shifts=int(load.shifts),
                hours=float(load.hours),
                nights=int(load.nights),
                weekend_shifts=int(load.weekend_shifts),
                busiest_week_shifts=int(load.busiest_week_shifts),
                max_shifts_per_week=int(load.max_shifts_per_week),
                avoided_shifts=int(load.avoided_shifts),
                unpreferred_shifts=int(load.unpreferred_shifts),
                broken_preferences=load.broken_preferences,
            )
            for load in result.readers
        ],
        coverage_summary=coverage_summary(result.coverage),
    )
    stored = out.model_dump(mode="json")
    PlanResultOut.model_validate(stored)  # e.g. a NaN would come back as null: refuse it now
    return stored


def combined_out(combined: CombinedRecommendation | None) -> PlanCombined | None:
    if combined is None:
        return None
    return PlanCombined(
        additions=[
            PlanAddition(radiologist=reader, additions=list(papers))
            for reader, papers in combined.additions
        ],
        label=combined.label,
        closes_uncovered_hours=float(combined.closes_uncovered_hours),
        closes_uncovered_hours_per_week=float(combined.closes_uncovered_hours_per_week),
        reduces_unmet_minutes=float(combined.reduces_unmet_minutes),
        uncovered_hours_after=float(combined.uncovered_hours_after),
        structural_hours_before=float(combined.structural_hours_before),
        structural_hours_after=float(combined.structural_hours_after),
    )


def coverage_summary(coverage: pd.DataFrame) -> list[PlanCoverageHour]:
    """Per UTC hour with demand, the coverage rows summed over facilities (capacity is shared
    between facilities, so it is not summed: served minutes say what it achieved)."""
    if coverage.empty:
        return []
    hours = []
    for hour, group in coverage.groupby("hour", sort=True):
        uncovered = group.loc[group["uncovered"].astype(bool), "facility"]
        hours.append(
            PlanCoverageHour(
                hour=parse_utc_time(str(hour)),
                demand_minutes=round(float(group["demand_minutes"].sum()), 2),
                served_minutes=round(float(group["served_minutes"].sum()), 2),
                unmet_minutes=round(float(group["unmet_minutes"].sum()), 2),
                uncovered_facilities=sorted(str(f) for f in uncovered),
            )
        )
    return hours


def plan_out(row: Any) -> PlanOut:
    result = row.result if row.status == PlanStatus.DONE.value and row.result else {}
    return PlanOut(
        id=row.id,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        published_at=row.published_at,
        published_by=row.published_by,
        request=dict(row.request),
        **result,
    )


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
