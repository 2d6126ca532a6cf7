from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import CanReadAudit, CanReadCoverage, CanReadSla, RuntimeDep
from models.api import AuditPage, CoverageOut, SlaOut
from models.tables import Role
from models.types import MAX_YEAR, MIN_YEAR, UtcDateTime
from nighthawk.service.db import read_transaction
from nighthawk.service.errors import Unprocessable
from nighthawk.service.reports import audit_page, coverage_report, sla_report

router = APIRouter(prefix="/v1", tags=["reports"])

MAX_WINDOW = timedelta(days=366)
TimeQuery = Annotated[UtcDateTime | None, Query(description="ISO-8601 with offset, e.g. ...Z")]


def _window(
    start: datetime | None, end: datetime | None, now: datetime, default: timedelta, ahead: bool
) -> tuple[datetime, datetime]:
    if start is not None and end is not None and end <= start:
        raise Unprocessable("to", "must be after from")
    if start is not None and end is not None and end - start > MAX_WINDOW:
        raise Unprocessable("to", f"window longer than {MAX_WINDOW.days} days")
    if start is None and end is None:
        start, end = (now, now + default) if ahead else (now - default, now)
    elif start is None:
        assert end is not None
        start = _shifted(end, -default, "from")
    elif end is None:
        end = _shifted(start, default, "to")
    assert start is not None and end is not None
    for name, moment in (("from", start), ("to", end)):
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise Unprocessable(name, f"time outside {MIN_YEAR}-{MAX_YEAR}")
    return start, end


def _shifted(moment: datetime, by: timedelta, field: str) -> datetime:
    """The other end of a default window; refused (naming it) if it leaves the calendar."""
    try:
        return moment + by
    except OverflowError:
        raise Unprocessable(field, f"time outside {MIN_YEAR}-{MAX_YEAR}") from None


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
    start, end = _window(from_, to, now + timedelta(seconds=1), timedelta(hours=24), ahead=False)
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
    start, end = _window(from_, to, now, timedelta(hours=24), ahead=True)
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
