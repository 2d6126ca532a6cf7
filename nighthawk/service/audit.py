"""The append-only audit log: who did what to which study, when, before and after, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from models.tables import AUDIT

ENGINE_ACTOR = "engine"


def record(
    connection: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    study_id: str | None = None,
    entity: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    connection.execute(
        _INSERT,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "study_id": study_id,
            "entity": entity,
            "before": before,
            "after": after,
            "reason": reason,
        },
    )


def record_many(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Several entries in one round trip (a re-plan may move hundreds of studies)."""
    if rows:
        connection.execute(_INSERT, rows)


_INSERT = insert(AUDIT)
