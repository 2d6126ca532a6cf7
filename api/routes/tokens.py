"""Tokens for the API (admin): a site's, a worklist system's, or one bound to a radiologist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.auth import CanWriteTokens, RuntimeDep
from models.api import TokenIn, TokenOut
from nighthawk.service.auth import create_token, revoke_named

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.post("", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def post_token(body: TokenIn, state: RuntimeDep, principal: CanWriteTokens) -> TokenOut:
    """Create a named token; the secret is in this answer only (its hash is stored). A
    `radiologist` token acts only as that reader: their worklist, `next`, start, complete,
    hand back and availability."""
    secret = create_token(
        state.engine,
        name=body.name,
        role=body.role,
        facilities=list(body.facilities),
        radiologist=body.radiologist,
        now=state.clock.now(),
        actor=principal.name,
    )
    return TokenOut(
        name=body.name,
        role=body.role,
        facilities=sorted(set(body.facilities)),
        radiologist=body.radiologist,
        token=secret,
    )


TokenName = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@\-]+$")]


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_token(name: TokenName, state: RuntimeDep, principal: CanWriteTokens) -> Response:
    """Revoke a token; it stops working within seconds."""
    revoke_named(state.engine, name=name, actor=principal.name, now=state.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
