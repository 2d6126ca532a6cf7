from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import CanReadAudit, CanReadCoverage, CanReadSla, RuntimeDep
from api.routes.params import TimeQuery, time_window
from models.api import AuditPage, CoverageOut, SlaOut
from models.tables import Role
from nighthawk.service.db import read_transaction
from nighthawk.service.reports import audit_page, coverage_report, sla_report

router = APIRouter(prefix="/v1", tags=["reports"])


@router.get("/sla", response_model=SlaOut, response_model_by_alias=True)
def get_sla(
    state: RuntimeDep,
    principal: CanReadSla,
    from_: Annotated[TimeQuery, Query(alias="from")] = None,
    to: TimeQuery = None,
) -> SlaOut:
    """SLA compliance and TAT percentiles by priority and facility (default: the last 24 h)."""
    now = state.clock.now()
    # The window is [from, to); by default it includes a study received this very second.
    start, end = time_window(
        from_, to, now + timedelta(seconds=1), timedelta(hours=24), ahead=False
    )
    scope = principal.facilities if principal.role is Role.SITE else None
    with read_transaction(state.engine) as connection:
        return sla_report(connection, start=start, end=end, now=now, facilities=scope)


@router.get("/coverage", response_model=CoverageOut, response_model_by_alias=True)
def get_coverage(
    state: RuntimeDep,
    principal: CanReadCoverage,
    from_: Annotated[TimeQuery, Query(alias="from")] = None,
    to: TimeQuery = None,
) -> CoverageOut:
    """Per hour and facility, the eligible radiologists on shift, gaps marked (default: 24 h)."""
    now = state.clock.now()
    start, end = time_window(from_, to, now, timedelta(hours=24), ahead=True)
    with read_transaction(state.engine) as connection:
        return coverage_report(connection, start=start, end=end)


@router.get("/audit", response_model=AuditPage)
def get_audit(
    state: RuntimeDep,
    principal: CanReadAudit,
    study: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[0-9]+$")] = None,
) -> AuditPage:
    with read_transaction(state.engine) as connection:
        return audit_page(connection, study=study, limit=limit, cursor=cursor)
