from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import CanReadPractice, CanWritePractice, RuntimeDep
from api.routes.params import EntityId, TimeQuery, time_window
from models.api import ShiftList
from nighthawk.service.directory import DEFAULT_SHIFT_WINDOW, MAX_SHIFT_WINDOW, list_shifts

router = APIRouter(prefix="/v1/shifts", tags=["radiologists"])


@router.get("", response_model=ShiftList)
def get_shifts(
    state: RuntimeDep,
    principal: CanReadPractice,
    from_: Annotated[TimeQuery, Query(alias="from")] = None,
    to: TimeQuery = None,
    radiologist: Annotated[
        str | None, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
    ] = None,
) -> ShiftList:
    """Shifts overlapping [from, to) (default: the next 7 days; at most 92), by start."""
    now = state.clock.now()
    start, end = time_window(from_, to, now, DEFAULT_SHIFT_WINDOW, True, MAX_SHIFT_WINDOW)
    return list_shifts(state.engine, start=start, end=end, radiologist=radiologist)


@router.delete("/{shift_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_shift(
    shift_id: EntityId,
    state: RuntimeDep,
    principal: CanWritePractice,
) -> Response:
    state.roster.delete_shift(principal, shift_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
