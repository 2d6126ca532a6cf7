"""The re-plan and the watchdog: keeping the database's plan equal to the dispatcher's forecast.

`refresh` forecasts from now on the cached live dispatcher (no rebuild: arrivals, starts,
finishes and roster changes were applied to it as deltas by the requests that made them) and
writes only what moved (`refresh.py`). `replan` (after changes, and every 30 s) and `watchdog`
(every 5 s) are the same refresh under two names, so the audit says which job moved a study.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nighthawk.service.assignment import AssignmentService
from nighthawk.service.db import lock_plan, write_transaction
from nighthawk.service.refresh import apply_forecast

REPLAN_ACTOR = "engine/re-plan"
WATCHDOG_ACTOR = "engine/watchdog"


@dataclass(frozen=True)
class ReplanResult:
    studies: int
    moved: int
    applied: int
    skipped: int
    status: str
    seconds: float
    solve_seconds: float
    at_risk: int = 0


@dataclass(frozen=True)
class WatchdogResult:
    handed_off: int
    at_risk: int
    refreshed: int


def replan(service: AssignmentService, *, time_limit: float = 1.0, seed: int = 0) -> ReplanResult:
    """Bring every unstarted study's row in line with the dispatcher's forecast.

    `time_limit` and `seed` are kept for callers of the former CP-SAT re-plan: the forecast is
    exact and deterministic, and takes a fraction of that."""
    del time_limit, seed
    return refresh(service, actor=REPLAN_ACTOR, reason="re-plan")


def watchdog(service: AssignmentService) -> WatchdogResult:
    """Between re-plans: the same refresh (readers who left, predictions, at-risk marks)."""
    result = refresh(service, actor=WATCHDOG_ACTOR, reason="reader left or shift ending")
    return WatchdogResult(result.moved, result.at_risk, result.applied)


def refresh(service: AssignmentService, *, actor: str, reason: str) -> ReplanResult:
    started = time.perf_counter()
    now = service.clock.now()
    with write_transaction(service.engine) as connection, service.cache.lock:
        epoch = lock_plan(connection)
        live = service.cache.get(connection, epoch, now)
        with service.cache.changing(connection, epoch) as change:
            outcome = apply_forecast(connection, live, now, actor=actor, reason=reason)
            change.changed = outcome.applied > 0
    return ReplanResult(
        studies=outcome.studies,
        moved=outcome.moved,
        applied=outcome.applied,
        skipped=outcome.skipped,
        status="FORECAST",
        seconds=round(time.perf_counter() - started, 3),
        solve_seconds=round(outcome.forecast_seconds, 3),
        at_risk=outcome.at_risk,
    )
