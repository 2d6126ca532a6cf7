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
    on_behalf_of: str | None = None,
) -> None:
    """One entry: `actor` is the token (or the engine's job) that acted, `on_behalf_of` the
    person it acted for, when one was named."""
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
            "on_behalf_of": on_behalf_of,
        },
    )


def record_many(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Several entries in one round trip (a re-plan may move hundreds of studies)."""
    if rows:
        connection.execute(_INSERT, [{"on_behalf_of": None, **row} for row in rows])


_INSERT = insert(AUDIT)
