from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import (
    CanReadPractice,
    CanReadWorklist,
    CanRunWorkflow,
    CanSetAvailability,
    CanWritePractice,
    RuntimeDep,
)
from api.routes.params import EntityId
from models.api import (
    AbsenceList,
    AvailabilityIn,
    AvailabilityOut,
    NextOut,
    RadiologistIn,
    RadiologistList,
    RadiologistOut,
    ShiftIn,
    ShiftOut,
    WorklistOut,
)
from nighthawk.service.availability import cancel_absence, list_absences
from nighthawk.service.directory import list_radiologists
from nighthawk.service.queries import worklist

router = APIRouter(prefix="/v1/radiologists", tags=["radiologists"])


@router.get("", response_model=RadiologistList)
def get_radiologists(state: RuntimeDep, principal: CanReadPractice) -> RadiologistList:
    """Every radiologist, by id."""
    return list_radiologists(state.engine)


@router.put("/{radiologist_id}", response_model=RadiologistOut)
def put_radiologist(
    radiologist_id: EntityId,
    body: RadiologistIn,
    state: RuntimeDep,
    principal: CanWritePractice,
) -> RadiologistOut:
    """Create or replace a radiologist; work they may no longer read is handed off at once."""
    return state.roster.put_radiologist(principal, radiologist_id, body)


@router.get("/{radiologist_id}", response_model=RadiologistOut)
def get_radiologist(
    radiologist_id: EntityId,
    state: RuntimeDep,
    principal: CanReadPractice,
) -> RadiologistOut:
    return state.roster.get_radiologist(radiologist_id)


@router.post(
    "/{radiologist_id}/shifts", response_model=ShiftOut, status_code=status.HTTP_201_CREATED
)
def add_shift(
    radiologist_id: EntityId,
    body: ShiftIn,
    state: RuntimeDep,
    principal: CanWritePractice,
) -> ShiftOut:
    return state.roster.add_shift(principal, radiologist_id, body)


@router.post("/{radiologist_id}/availability", response_model=AvailabilityOut)
def set_availability(
    radiologist_id: EntityId,
    body: AvailabilityIn,
    state: RuntimeDep,
    principal: CanSetAvailability,
) -> AvailabilityOut:
    """Breaks and log-outs: unstarted work goes back to the pool and is re-assigned.

    `{"available": false}` takes the reader off now, until `{"available": true}`; with `to`
    (and `from`, default now) it books an absence ahead instead, which cuts their shifts."""
    return state.roster.set_availability(principal, radiologist_id, body)


@router.get("/{radiologist_id}/absences", response_model=AbsenceList, response_model_by_alias=True)
def get_absences(
    radiologist_id: EntityId,
    state: RuntimeDep,
    principal: CanReadWorklist,
) -> AbsenceList:
    """The reader's absences not yet over."""
    principal.act_as(radiologist_id)
    return list_absences(state.engine, radiologist_id, state.clock.now())


@router.delete(
    "/{radiologist_id}/absences/{absence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def delete_absence(
    radiologist_id: EntityId,
    absence_id: EntityId,
    state: RuntimeDep,
    principal: CanSetAvailability,
) -> Response:
    """Call off a booked absence (one under way ends now)."""
    cancel_absence(state.assignments, principal, radiologist_id, absence_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{radiologist_id}/worklist", response_model=WorklistOut)
def get_worklist(
    radiologist_id: EntityId,
    state: RuntimeDep,
    principal: CanReadWorklist,
) -> WorklistOut:
    """The reader's studies in the order to read them, with predicted times from now."""
    principal.act_as(radiologist_id)
    return worklist(state.engine, radiologist_id, state.clock.now())


@router.get("/{radiologist_id}/next", response_model=NextOut)
def get_next(
    radiologist_id: EntityId,
    state: RuntimeDep,
    principal: CanRunWorkflow,
) -> NextOut:
    """The study this reader should start now, with why (the live dispatcher's choice: the
    same rules the simulator's `optimizer` policy runs). It becomes the head of their worklist
    and is theirs while they stay free; `POST /v1/studies/{id}/start` accepts it from them."""
    return state.assignments.next_for(principal, radiologist_id)
