from __future__ import annotations

from fastapi import APIRouter

from api.auth import CanReadPractice, CanWritePractice, RuntimeDep
from models.api import ProcedureCodesIn, ProcedureCodesOut
from nighthawk.service import procedures

router = APIRouter(prefix="/v1/procedure-codes", tags=["procedure codes"])


@router.get("", response_model=ProcedureCodesOut)
def get_procedure_codes(state: RuntimeDep, principal: CanReadPractice) -> ProcedureCodesOut:
    """Each procedure code (HL7 OBR-4.1) and the subspecialty its studies need."""
    return procedures.get_codes(state.engine)


@router.put("", response_model=ProcedureCodesOut)
def put_procedure_codes(
    body: ProcedureCodesIn, state: RuntimeDep, principal: CanWritePractice
) -> ProcedureCodesOut:
    """Replace the map of procedure codes to subspecialties (HL7 orders use it)."""
    return procedures.put_codes(state.engine, state.clock, principal, body)
