from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import CanWritePractice, RuntimeDep
from api.routes.params import EntityId

router = APIRouter(prefix="/v1/shifts", tags=["radiologists"])


@router.delete("/{shift_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_shift(
    shift_id: EntityId,
    state: RuntimeDep,
    principal: CanWritePractice,
) -> Response:
    state.roster.delete_shift(principal, shift_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
