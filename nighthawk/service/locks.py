"""Locking many study rows without waiting (the plan lock's partner; see assignment.py).

An operation on many studies holds the plan lock and touches only rows it can lock at once
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer, so every row): a row another
request holds keeps what that request decides.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.tables import STUDY, UNSTARTED

_UNSTARTED = {s.value for s in UNSTARTED}


def lock_free_studies(connection: Connection, study_ids: list[str]) -> set[str]:
    """The subset of studies this transaction could lock without waiting (all, on SQLite)."""
    return set(_lock_without_waiting(connection, study_ids))


def lock_unchanged(connection: Connection, expected: dict[str, int]) -> set[str]:
    """Studies still unstarted at the version a plan was made from, locked for this transaction.

    Whatever is returned can be updated with certainty, so the audit written beside the
    update records exactly what changed.
    """
    return {
        study_id
        for study_id, (version, status) in _lock_without_waiting(connection, list(expected)).items()
        if version == expected[study_id] and status in _UNSTARTED
    }


def _lock_without_waiting(
    connection: Connection, study_ids: list[str]
) -> dict[str, tuple[int, str]]:
    locked: dict[str, tuple[int, str]] = {}
    for chunk in range(0, len(study_ids), 1000):  # keep IN lists within driver limits
        query = select(STUDY.c.id, STUDY.c.version, STUDY.c.status).where(
            STUDY.c.id.in_(study_ids[chunk : chunk + 1000])
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        locked.update({row.id: (row.version, row.status) for row in connection.execute(query)})
    return locked
