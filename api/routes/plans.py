from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import CanReadPlans, CanWritePlans, RuntimeDep
from api.routes.params import EntityId
from models.plans_api import PlanIn, PlanOut, PlanPublishedOut

router = APIRouter(prefix="/v1/plans", tags=["plans"])


@router.post("", response_model=PlanOut, status_code=status.HTTP_202_ACCEPTED)
def start_plan(
    body: PlanIn,
    response: Response,
    state: RuntimeDep,
    principal: CanWritePlans,
) -> PlanOut:
    """Queue a coverage-planning job; poll `Location` until it is done (or failed)."""
    planned = state.plans.start(principal, body)
    response.headers["Location"] = f"/v1/plans/{planned.id}"
    return planned


@router.get("/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: EntityId, state: RuntimeDep, principal: CanReadPlans) -> PlanOut:
    """The job's status; once done, the roster, its coverage, gaps and recommendations."""
    return state.plans.get(plan_id)


@router.post("/{plan_id}/publish", response_model=PlanPublishedOut)
def publish_plan(
    plan_id: EntityId, state: RuntimeDep, principal: CanWritePlans
) -> PlanPublishedOut:
    """Turn a done plan's roster into shifts the live assignment uses (once per plan)."""
    return state.plans.publish(principal, plan_id)
