from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.auth import RuntimeDep
from models.api import Health
from models.tables import PRACTICE_STATE
from nighthawk.service.db import read_transaction

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(state: RuntimeDep) -> Health:
    """Liveness and the database round trip; no token needed."""
    with read_transaction(state.engine) as connection:
        epoch = connection.execute(select(PRACTICE_STATE.c.epoch)).scalar_one()
    return Health(
        status="ok",
        database=state.engine.dialect.name,
        epoch=int(epoch),
        scheduler=bool(state.jobs and state.jobs.running),
    )
