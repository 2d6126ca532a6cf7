from __future__ import annotations

from fastapi import APIRouter, status

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
    AvailabilityIn,
    AvailabilityOut,
    NextOut,
    RadiologistIn,
    RadiologistOut,
    ShiftIn,
    ShiftOut,
    WorklistOut,
)
from nighthawk.service.queries import worklist

router = APIRouter(prefix="/v1/radiologists", tags=["radiologists"])


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
    """Breaks and log-outs: unstarted work goes back to the pool and is re-assigned."""
    return state.roster.set_availability(principal, radiologist_id, body)


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
