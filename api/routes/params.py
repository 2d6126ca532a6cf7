"""Path and query parameter types shared by the routers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Path, Query

from models.types import MAX_YEAR, MIN_YEAR, UtcDateTime
from nighthawk.service.errors import Unprocessable

EntityId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
        description="Letters, digits and - _ . : (up to 128).",
    ),
]
StudyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


MAX_WINDOW = timedelta(days=366)
TimeQuery = Annotated[UtcDateTime | None, Query(description="ISO-8601 with offset, e.g. ...Z")]


def time_window(
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    default: timedelta,
    ahead: bool,
    longest: timedelta = MAX_WINDOW,
) -> tuple[datetime, datetime]:
    """[from, to) from what the caller gave: a missing end is `default` from the other (or
    from `now`, ahead or back), the whole at most `longest`, inside the calendar we keep."""
    if start is not None and end is not None and end <= start:
        raise Unprocessable("to", "must be after from")
    if start is not None and end is not None and end - start > longest:
        raise Unprocessable("to", f"window longer than {longest.days} days")
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
