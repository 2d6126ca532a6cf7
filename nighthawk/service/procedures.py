"""Procedure codes: which subspecialty a sender's ordered procedure needs (a head CT: neuro).

HL7 orders name their procedure in OBR-4; its code picks the study's subspecialty here. The
map is replaced whole by `PUT /v1/procedure-codes` and audited like any practice change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select
from sqlalchemy.engine import Connection

from models.api import ProcedureCodeOut, ProcedureCodesIn, ProcedureCodesOut
from models.tables import PROCEDURE_CODE
from nighthawk.service import audit
from nighthawk.service.auth import Principal
from nighthawk.service.clock import Clock
from nighthawk.service.db import read_transaction, write_transaction

_BY_CODE = select(PROCEDURE_CODE).where(PROCEDURE_CODE.c.code == bindparam("code"))


def get_codes(engine: Engine) -> ProcedureCodesOut:
    with read_transaction(engine) as connection:
        return _codes(connection)


def put_codes(
    engine: Engine, clock: Clock, principal: Principal, body: ProcedureCodesIn
) -> ProcedureCodesOut:
    """Replace the map; studies already received keep the subspecialty they came with."""
    rows = [
        {
            "code": code,
            "subspecialty": item.subspecialty,
            "subspecialty_required": item.subspecialty_required,
        }
        for code, item in sorted(body.codes.items())
    ]
    with write_transaction(engine) as connection:
        before = _codes(connection)
        connection.execute(delete(PROCEDURE_CODE))
        if rows:
            connection.execute(insert(PROCEDURE_CODE), rows)
        after = _codes(connection)
        audit.record(
            connection,
            at=clock.now(),
            actor=principal.name,
            action="procedure_codes.put",
            entity="procedure_codes",
            before=before.model_dump(mode="json"),
            after=after.model_dump(mode="json"),
        )
    return after


def lookup(connection: Connection, code: str) -> Any:
    """The row for `code` (subspecialty, subspecialty_required), or None."""
    return connection.execute(_BY_CODE, {"code": code}).first()


def _codes(connection: Connection) -> ProcedureCodesOut:
    rows = connection.execute(select(PROCEDURE_CODE).order_by(PROCEDURE_CODE.c.code)).all()
    return ProcedureCodesOut(
        codes={
            row.code: ProcedureCodeOut(
                subspecialty=row.subspecialty, subspecialty_required=row.subspecialty_required
            )
            for row in rows
        }
    )
