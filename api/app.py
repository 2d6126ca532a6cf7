"""The FastAPI application: `create_app(settings)` builds it; nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import select

from api.errors import PROBLEM_RESPONSES, BodySizeLimit, CatchAll, install_error_handlers
from api.routes import (
    facilities,
    health,
    plans,
    procedure_codes,
    radiologists,
    reports,
    shifts,
    studies,
    tokens,
)
from api.runtime import Runtime
from api.security import RelativeSlashRedirect, SecurityHeaders
from models.tables import OPEN, STUDY, Role
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.auth import TokenVerifier, ensure_token
from nighthawk.service.clock import Clock, SystemClock
from nighthawk.service.db import make_engine, migrate, read_transaction
from nighthawk.service.jobs import Jobs, JobSettings, Lease
from nighthawk.service.plans import PlanService
from nighthawk.service.roster import RosterService
from nighthawk.service.settings import ServiceSettings

log = logging.getLogger("nighthawk.api")

API_VERSION = "1.0.0"


def create_app(settings: ServiceSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = start_runtime(settings, clock)
        app.state.runtime = runtime
        try:
            if settings.hl7_port is not None:
                runtime.hl7 = await _start_hl7(runtime)
            yield
        finally:
            if runtime.hl7 is not None:
                runtime.hl7.close()
            if runtime.jobs is not None:
                runtime.jobs.shutdown()
            runtime.plans.shutdown()
            runtime.engine.dispose()

    app = FastAPI(
        title="nighthawk",
        version=API_VERSION,
        summary="Teleradiology assignment: who reads what, and when.",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    routers = (facilities, radiologists, shifts, studies, reports, plans, tokens, health)
    for module in (*routers, procedure_codes):
        app.include_router(module.router)
    app.router.redirect_slashes = False  # Starlette's builds Location from the Host header
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RelativeSlashRedirect)
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)  # added last: outermost of ours, on every answer
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def start_runtime(settings: ServiceSettings, clock: Clock) -> Runtime:
    engine = make_engine(settings.db)
    migrate(engine)
    if settings.admin_token:
        ensure_token(
            engine, name="admin", role=Role.ADMIN, token=settings.admin_token, now=clock.now()
        )
    assignments = AssignmentService(engine, clock, settings.patient_key)
    roster = RosterService(assignments)
    plans = PlanService(engine, clock, assignments)
    plans.recover()  # plans a stopped server left queued or running are failed, not lost
    runtime = Runtime(settings, engine, clock, assignments, roster, TokenVerifier(engine), plans)
    feed = None
    if settings.demo:
        feed = _start_demo(runtime)
    if settings.jobs:
        job_settings = JobSettings(
            tick_seconds=settings.tick_seconds,
            replan_seconds=settings.replan_seconds,
            min_replan_gap_seconds=settings.min_replan_gap_seconds,
            replan_time_limit=settings.replan_time_limit,
        )
        runtime.jobs = Jobs(assignments, Lease(engine, clock), job_settings, feed=feed)
        runtime.jobs.start()
    return runtime


async def _start_hl7(runtime: Runtime) -> Any:
    """The MLLP listener on this process's event loop, sharing its service and live plan:
    an order arriving by HL7 takes the same fast path as one posted over REST."""
    from nighthawk.service.hl7.intake import Hl7Intake
    from nighthawk.service.hl7.listener import start_listener

    settings = runtime.settings
    assert settings.hl7_port is not None
    intake = Hl7Intake(
        runtime.assignments,
        priorities=settings.hl7_priorities,
        accession_fields=settings.hl7_accession_fields,
    )
    server = await start_listener(intake, settings.hl7_host, settings.hl7_port)
    log.info("HL7 v2 (MLLP) listening on %s:%d", settings.hl7_host, settings.hl7_port)
    return server


def _start_demo(runtime: Runtime) -> Any:
    from nighthawk.service.demo import DemoFeed, seed_demo_practice

    practice = seed_demo_practice(runtime.roster, now=runtime.clock.now())
    log.info(
        "demo practice: %d facilities in %d states, %d radiologists",
        practice.facilities,
        len(practice.states),
        practice.radiologists,
    )
    feed = DemoFeed(runtime.assignments, studies_per_hour=runtime.settings.demo_studies_per_hour)
    if not _has_open_studies(runtime):
        log.info("demo: posted %d studies from the last hour", feed.warm_up(60.0))
    return feed.tick


def _has_open_studies(runtime: Runtime) -> bool:
    with read_transaction(runtime.engine) as connection:
        found = connection.execute(
            select(STUDY.c.seq).where(STUDY.c.status.in_([s.value for s in OPEN])).limit(1)
        ).first()
    return found is not None


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with FastAPI's default validation-error body replaced by ours."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    problem_ref = {"$ref": "#/components/schemas/ProblemOut"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"]["content"] = {"application/json": {"schema": problem_ref}}
            responses.setdefault(
                "500",
                {
                    "description": "Internal error (never for bad input)",
                    "content": {"application/json": {"schema": problem_ref}},
                },
            )
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
