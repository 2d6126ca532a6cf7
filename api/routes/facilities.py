from __future__ import annotations

from fastapi import APIRouter

from api.auth import CanReadPractice, CanWritePractice, RuntimeDep
from api.routes.params import EntityId
from models.api import FacilityIn, FacilityList, FacilityOut
from nighthawk.service.directory import list_facilities

router = APIRouter(prefix="/v1/facilities", tags=["facilities"])


@router.get("", response_model=FacilityList)
def get_facilities(state: RuntimeDep, principal: CanReadPractice) -> FacilityList:
    """Every facility, by id."""
    return list_facilities(state.engine)


@router.put("/{facility_id}", response_model=FacilityOut)
def put_facility(
    facility_id: EntityId,
    body: FacilityIn,
    state: RuntimeDep,
    principal: CanWritePractice,
) -> FacilityOut:
    """Create or replace a facility and its SLA contract."""
    return state.roster.put_facility(principal, facility_id, body)


@router.get("/{facility_id}", response_model=FacilityOut)
def get_facility(
    facility_id: EntityId,
    state: RuntimeDep,
    principal: CanReadPractice,
) -> FacilityOut:
    return state.roster.get_facility(facility_id)
