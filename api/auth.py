"""Bearer-token authentication and the role-by-permission table.

401 when the token is missing or unknown; 403 when the role lacks the permission. A site token
sees only its own facilities: other facilities' studies are 404, as if they did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.runtime import Runtime
from models.tables import Role
from models.text import shown
from nighthawk.service.auth import Principal
from nighthawk.service.errors import Unprocessable

MAX_UNKNOWN_LISTED = 20


class Permission(StrEnum):
    PRACTICE_READ = "practice:read"
    PRACTICE_WRITE = "practice:write"
    AVAILABILITY_WRITE = "availability:write"
    STUDY_CREATE = "study:create"
    STUDY_READ = "study:read"
    STUDY_WORKFLOW = "study:workflow"
    STUDY_ASSIGN = "study:assign"
    WORKLIST_READ = "worklist:read"
    SLA_READ = "sla:read"
    COVERAGE_READ = "coverage:read"
    AUDIT_READ = "audit:read"
    PLAN_READ = "plan:read"
    PLAN_WRITE = "plan:write"
    TOKEN_WRITE = "token:write"


_EVERYONE_BUT_SITE = {Role.ADMIN, Role.COVERAGE_MANAGER, Role.WORKLIST, Role.ANALYST}
# A reader's own token: their worklist, their next, reading, handing back, their breaks; the
# routes check that it acts only as its reader (`Principal.act_as`).
_READER = Role.RADIOLOGIST
GRANTS: dict[Permission, set[Role]] = {
    Permission.PRACTICE_READ: _EVERYONE_BUT_SITE,
    Permission.PRACTICE_WRITE: {Role.ADMIN, Role.COVERAGE_MANAGER},
    Permission.AVAILABILITY_WRITE: {Role.ADMIN, Role.COVERAGE_MANAGER, Role.WORKLIST, _READER},
    Permission.STUDY_CREATE: {Role.ADMIN, Role.WORKLIST, Role.SITE},
    Permission.STUDY_READ: {*_EVERYONE_BUT_SITE, Role.SITE, _READER},
    Permission.STUDY_WORKFLOW: {Role.ADMIN, Role.WORKLIST, _READER},
    Permission.STUDY_ASSIGN: {Role.ADMIN, Role.COVERAGE_MANAGER},
    Permission.WORKLIST_READ: {*_EVERYONE_BUT_SITE, _READER},
    Permission.SLA_READ: {*_EVERYONE_BUT_SITE, Role.SITE},
    Permission.COVERAGE_READ: {Role.ADMIN, Role.COVERAGE_MANAGER, Role.ANALYST},
    Permission.AUDIT_READ: {Role.ADMIN},
    Permission.PLAN_READ: {Role.ADMIN, Role.COVERAGE_MANAGER, Role.ANALYST},
    Permission.PLAN_WRITE: {Role.ADMIN, Role.COVERAGE_MANAGER},
    Permission.TOKEN_WRITE: {Role.ADMIN},
}

bearer = HTTPBearer(auto_error=False, description="A named nighthawk token: `nh_...`")


def runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def require(permission: Permission) -> Callable[..., Principal]:
    def check(
        request: Request,
        state: RuntimeDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        principal = state.tokens.verify(credentials.credentials)
        if principal is None:
            raise HTTPException(
                401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"}
            )
        if principal.role not in GRANTS[permission]:
            raise HTTPException(
                403, f"role {principal.role.value} may not {permission.value.replace(':', ' ')}"
            )
        refuse_unknown_query(request)
        return principal

    return check


def refuse_unknown_query(request: Request) -> None:
    """A misspelt filter (`?acession=`) must not silently return everything: a query parameter
    the operation does not take is a 422, like an unknown field in a body. Checked once the
    caller is known, so an anonymous caller learns nothing of the operation's parameters."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    taken = _query_names(route)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in taken]
    if not unknown:
        return
    listed = unknown[:MAX_UNKNOWN_LISTED]
    error = Unprocessable(
        shown(listed[0]),
        f"unknown query parameter; this operation takes {', '.join(sorted(taken)) or 'none'}",
    )
    error.fields = [(shown(name), "unknown query parameter") for name in listed]
    raise error


def _query_names(route: APIRoute) -> frozenset[str]:
    names = getattr(route, "_nighthawk_query_names", None)
    if names is None:
        names = frozenset(_query_params(route.dependant))
        route._nighthawk_query_names = names  # type: ignore[attr-defined]
    return names


def _query_params(dependant: Dependant) -> list[str]:
    names = [param.alias for param in dependant.query_params]
    for inner in dependant.dependencies:
        names += _query_params(inner)
    return names


# Route signatures say what they need: `principal: CanAssign`.
CanReadPractice = Annotated[Principal, Depends(require(Permission.PRACTICE_READ))]
CanWritePractice = Annotated[Principal, Depends(require(Permission.PRACTICE_WRITE))]
CanSetAvailability = Annotated[Principal, Depends(require(Permission.AVAILABILITY_WRITE))]
CanCreateStudy = Annotated[Principal, Depends(require(Permission.STUDY_CREATE))]
CanReadStudies = Annotated[Principal, Depends(require(Permission.STUDY_READ))]
CanRunWorkflow = Annotated[Principal, Depends(require(Permission.STUDY_WORKFLOW))]
CanAssign = Annotated[Principal, Depends(require(Permission.STUDY_ASSIGN))]
CanReadWorklist = Annotated[Principal, Depends(require(Permission.WORKLIST_READ))]
CanReadSla = Annotated[Principal, Depends(require(Permission.SLA_READ))]
CanReadCoverage = Annotated[Principal, Depends(require(Permission.COVERAGE_READ))]
CanReadAudit = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
CanReadPlans = Annotated[Principal, Depends(require(Permission.PLAN_READ))]
CanWritePlans = Annotated[Principal, Depends(require(Permission.PLAN_WRITE))]
CanWriteTokens = Annotated[Principal, Depends(require(Permission.TOKEN_WRITE))]
