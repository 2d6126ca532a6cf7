from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import CanAssign, CanCreateStudy, CanReadStudies, CanRunWorkflow, RuntimeDep
from api.routes.params import StudyId
from models.api import (
    AssignIn,
    CancelIn,
    CompleteIn,
    ReleaseIn,
    StartIn,
    StudyIn,
    StudyOut,
    StudyPage,
    StudyPatch,
)
from models.priority import Priority
from models.tables import StudyStatus
from nighthawk.service.queries import MAX_PAGE, list_studies, study_with_why

router = APIRouter(prefix="/v1/studies", tags=["studies"])


@router.post(
    "",
    response_model=StudyOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": StudyOut, "description": "Already received: the same study"}},
)
def post_study(
    body: StudyIn,
    response: Response,
    state: RuntimeDep,
    principal: CanCreateStudy,
) -> StudyOut:
    """Receive a study and assign it at once (the engine's fast path).

    The same (facility, accession) again returns 200 and the same study; with different
    content it is a 409.
    """
    result = state.assignments.ingest(principal, body)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return result.study


@router.get("", response_model=StudyPage)
def get_studies(
    state: RuntimeDep,
    principal: CanReadStudies,
    status: StudyStatus | None = None,
    facility: Annotated[
        str | None, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
    ] = None,
    priority: Priority | None = None,
    accession: Annotated[
        str | None, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-/]+$")
    ] = None,
    assigned_to: Annotated[
        str | None, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")
    ] = None,
) -> StudyPage:
    return list_studies(
        state.engine,
        principal,
        status=status,
        facility=facility,
        priority=priority,
        limit=limit,
        cursor=cursor,
        accession=accession,
        assigned_to=assigned_to,
    )


@router.get("/{study_id}", response_model=StudyOut)
def get_study(
    study_id: StudyId,
    state: RuntimeDep,
    principal: CanReadStudies,
) -> StudyOut:
    """Status, assignment, predictions, due time and why it went where it did."""
    return study_with_why(state.engine, principal, study_id, state.clock.now())


@router.patch("/{study_id}", response_model=StudyOut)
def correct_study(
    study_id: StudyId,
    body: StudyPatch,
    state: RuntimeDep,
    principal: CanCreateStudy,
) -> StudyOut:
    """Correct an unstarted study (priority, modality, subspecialty, ...); only the fields
    sent change, the due time follows a new priority, and the study is placed again. A study
    being read or reported is a 409."""
    return state.assignments.correct(principal, study_id, body)


@router.post("/{study_id}/cancel", response_model=StudyOut)
def cancel_study(
    study_id: StudyId,
    body: CancelIn,
    state: RuntimeDep,
    principal: CanCreateStudy,
) -> StudyOut:
    """Withdraw an unstarted study: it leaves every queue and every report (state
    `cancelled`). Cancelling it again changes nothing; a started study is a 409."""
    return state.assignments.cancel(principal, study_id, body.reason)


@router.post("/{study_id}/start", response_model=StudyOut)
def start_study(
    study_id: StudyId,
    body: StartIn,
    state: RuntimeDep,
    principal: CanRunWorkflow,
) -> StudyOut:
    """Only the assigned reader may start a study; anyone else gets 409."""
    return state.assignments.start(principal, study_id, body.radiologist)


@router.post("/{study_id}/complete", response_model=StudyOut)
def complete_study(
    study_id: StudyId,
    body: CompleteIn,
    state: RuntimeDep,
    principal: CanRunWorkflow,
) -> StudyOut:
    return state.assignments.complete(principal, study_id, body.radiologist, body.report)


@router.post("/{study_id}/release", response_model=StudyOut)
def release_study(
    study_id: StudyId,
    body: ReleaseIn,
    state: RuntimeDep,
    principal: CanRunWorkflow,
) -> StudyOut:
    """Hand a study back; it is re-assigned at once to someone else if anyone can take it."""
    return state.assignments.release(principal, study_id, body.radiologist, body.reason)


@router.post("/{study_id}/assign", response_model=StudyOut)
def assign_study(
    study_id: StudyId,
    body: AssignIn,
    state: RuntimeDep,
    principal: CanAssign,
) -> StudyOut:
    """Manual override with a reason; an ineligible reader is refused with the reasons."""
    return state.assignments.assign(principal, study_id, body.radiologist, body.reason)
