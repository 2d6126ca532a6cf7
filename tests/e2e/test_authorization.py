"""Every endpoint × every role against a real server, expectations derived from `GRANTS`.

The table below says which permission each endpoint needs; what each role may do comes from
`api.auth.GRANTS`, so the test fails when a route is guarded by a different dependency than the
table (checked statically on the routers, and over HTTP wherever the two permissions' role sets
differ), when an endpoint exists that the table does not list, or when a token of any role gets
an answer its role does not allow. Tokens are made the way an operator makes them: with
`nighthawk token create` against the same database.
"""

from __future__ import annotations

import inspect
import itertools
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.auth import GRANTS, Permission
from models.tables import Role
from tests.e2e.server import (
    Server,
    all_studies,
    check,
    create_token,
    facility_body,
    iso,
    nighthawk_command,
    own_database,
    radiologist_body,
    running_server,
    seed_practice,
    study_body,
)

pytestmark = pytest.mark.slow

Body = dict[str, Any] | None


@dataclass
class Practice:
    """The seeded practice plus factories for fresh objects, so every call can succeed."""

    admin: httpx.Client
    accessions: Iterator[int] = field(default_factory=itertools.count)
    shift_hours: Iterator[int] = field(default_factory=lambda: itertools.count(48, 2))
    fac1_study: str = ""
    fac2_study: str = ""

    def new_study(self, facility: str = "fac-1") -> dict[str, Any]:
        body = study_body(f"AUTHZ-{next(self.accessions)}", facility=facility)
        study: dict[str, Any] = check(self.admin.post("/v1/studies", json=body), 201)
        assert study["assigned_to"] in {"rad-1", "rad-2"}, study
        return study

    def finish_reading(self, reader: str) -> None:
        for study in all_studies(self.admin, status="reading"):
            if study["assigned_to"] == reader:
                body = {"radiologist": reader, "report": "final"}
                check(self.admin.post(f"/v1/studies/{study['id']}/complete", json=body), 200)

    def future_shift(self) -> dict[str, str]:
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(
            hours=next(self.shift_hours)
        )
        return {"start": iso(start), "end": iso(start + timedelta(hours=1))}

    def new_shift(self) -> str:
        shift = check(
            self.admin.post("/v1/radiologists/rad-3/shifts", json=self.future_shift()), 201
        )
        return str(shift["id"])


def _other(reader: str) -> str:
    return "rad-2" if reader == "rad-1" else "rad-1"


def _start(p: Practice) -> tuple[str, Body]:
    study = p.new_study()
    p.finish_reading(study["assigned_to"])  # one read at a time: the reader must be free
    return f"/v1/studies/{study['id']}/start", {"radiologist": study["assigned_to"]}


def _complete(p: Practice) -> tuple[str, Body]:
    study = p.new_study()
    body = {"radiologist": study["assigned_to"], "report": "final"}
    return f"/v1/studies/{study['id']}/complete", body


def _release(p: Practice) -> tuple[str, Body]:
    study = p.new_study()
    body = {"radiologist": study["assigned_to"], "reason": "conflict of interest"}
    return f"/v1/studies/{study['id']}/release", body


def _assign(p: Practice) -> tuple[str, Body]:
    study = p.new_study()
    body = {"radiologist": _other(study["assigned_to"]), "reason": "subspecialty read"}
    return f"/v1/studies/{study['id']}/assign", body


def _new_accession(p: Practice) -> tuple[str, Body]:
    return "/v1/studies", study_body(f"AUTHZ-POST-{next(p.accessions)}")


def _plan_body() -> dict[str, Any]:
    return {
        "start": "2031-01-06T00:00:00Z",
        "shift_templates": [
            {"id": "am", "start": "00:00", "end": "12:00", "timezone": "UTC"},
            {"id": "pm", "start": "12:00", "end": "24:00", "timezone": "UTC"},
        ],
        "arrivals": [{"facility": "fac-1", "modality": "CT", "priority": "STAT", "per_hour": 1}],
        "time_limit": 1,
        "recommendations": 0,
    }


def _plan(p: Practice) -> tuple[str, Body]:
    plan = check(p.admin.post("/v1/plans", json=_plan_body()), 202)
    return f"/v1/plans/{plan['id']}", None


def _done_plan(p: Practice) -> tuple[str, Body]:
    """A plan solved and not yet published, so publishing it can succeed."""
    path, _ = _plan(p)
    deadline = time.monotonic() + 60
    while check(p.admin.get(path), 200)["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"{path} not solved in 60 s"
        time.sleep(0.1)
    return f"{path}/publish", None


def _new_token(p: Practice) -> tuple[str, Body]:
    return "/v1/tokens", {"name": f"authz-new-{next(p.accessions)}", "role": "analyst"}


def _token_to_delete(p: Practice) -> tuple[str, Body]:
    name = f"authz-old-{next(p.accessions)}"
    check(p.admin.post("/v1/tokens", json={"name": name, "role": "analyst"}), 201)
    return f"/v1/tokens/{name}", None


def _correct(p: Practice) -> tuple[str, Body]:
    return f"/v1/studies/{p.new_study()['id']}", {"priority": "STAT", "reason": "upgraded"}


def _cancel(p: Practice) -> tuple[str, Body]:
    return f"/v1/studies/{p.new_study()['id']}/cancel", {"reason": "ordered in error"}


def _absence_to_delete(p: Practice) -> tuple[str, Body]:
    start = datetime.now(UTC) + timedelta(hours=next(p.shift_hours))
    window = {"available": False, "from": iso(start), "to": iso(start + timedelta(minutes=30))}
    booked = check(p.admin.post("/v1/radiologists/rad-3/availability", json=window), 200)
    return f"/v1/radiologists/rad-3/absences/{booked['absence']['id']}", None


def fixed(path: str, body: Body = None) -> Callable[[Practice], tuple[str, Body]]:
    return lambda _: (path, body)


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # the path as the OpenAPI schema and the router spell it
    permission: Permission | None  # None: open to anyone, no token needed
    make: Callable[[Practice], tuple[str, Body]]  # a concrete path and body, fresh each call


ENDPOINTS = [
    Endpoint(
        "PUT",
        "/v1/facilities/{facility_id}",
        Permission.PRACTICE_WRITE,
        fixed("/v1/facilities/fac-1", facility_body("fac-1")),
    ),
    Endpoint(
        "GET",
        "/v1/facilities/{facility_id}",
        Permission.PRACTICE_READ,
        fixed("/v1/facilities/fac-1"),
    ),
    Endpoint("GET", "/v1/facilities", Permission.PRACTICE_READ, fixed("/v1/facilities")),
    Endpoint(
        "PUT",
        "/v1/procedure-codes",
        Permission.PRACTICE_WRITE,
        fixed("/v1/procedure-codes", {"codes": {"CTHEAD": {"subspecialty": "neuro"}}}),
    ),
    Endpoint("GET", "/v1/procedure-codes", Permission.PRACTICE_READ, fixed("/v1/procedure-codes")),
    Endpoint("GET", "/v1/radiologists", Permission.PRACTICE_READ, fixed("/v1/radiologists")),
    Endpoint("GET", "/v1/shifts", Permission.PRACTICE_READ, fixed("/v1/shifts?radiologist=rad-3")),
    Endpoint(
        "GET",
        "/v1/radiologists/{radiologist_id}/absences",
        Permission.WORKLIST_READ,
        fixed("/v1/radiologists/rad-1/absences"),
    ),
    Endpoint(
        "DELETE",
        "/v1/radiologists/{radiologist_id}/absences/{absence_id}",
        Permission.AVAILABILITY_WRITE,
        _absence_to_delete,
    ),
    Endpoint("PATCH", "/v1/studies/{study_id}", Permission.STUDY_CREATE, _correct),
    Endpoint("POST", "/v1/studies/{study_id}/cancel", Permission.STUDY_CREATE, _cancel),
    Endpoint(
        "PUT",
        "/v1/radiologists/{radiologist_id}",
        Permission.PRACTICE_WRITE,
        fixed("/v1/radiologists/rad-3", radiologist_body("rad-3", ("WY",), ("fac-1", "fac-2"))),
    ),
    Endpoint(
        "GET",
        "/v1/radiologists/{radiologist_id}",
        Permission.PRACTICE_READ,
        fixed("/v1/radiologists/rad-1"),
    ),
    Endpoint(
        "POST",
        "/v1/radiologists/{radiologist_id}/shifts",
        Permission.PRACTICE_WRITE,
        lambda p: ("/v1/radiologists/rad-3/shifts", p.future_shift()),
    ),
    Endpoint(
        "POST",
        "/v1/radiologists/{radiologist_id}/availability",
        Permission.AVAILABILITY_WRITE,
        fixed("/v1/radiologists/rad-3/availability", {"available": True, "reason": "on duty"}),
    ),
    Endpoint(
        "GET",
        "/v1/radiologists/{radiologist_id}/worklist",
        Permission.WORKLIST_READ,
        fixed("/v1/radiologists/rad-1/worklist"),
    ),
    Endpoint(
        "GET",
        "/v1/radiologists/{radiologist_id}/next",
        Permission.STUDY_WORKFLOW,
        fixed("/v1/radiologists/rad-1/next"),
    ),
    Endpoint(
        "DELETE",
        "/v1/shifts/{shift_id}",
        Permission.PRACTICE_WRITE,
        lambda p: (f"/v1/shifts/{p.new_shift()}", None),
    ),
    Endpoint("POST", "/v1/studies", Permission.STUDY_CREATE, _new_accession),
    Endpoint("GET", "/v1/studies", Permission.STUDY_READ, fixed("/v1/studies?limit=5")),
    Endpoint(
        "GET",
        "/v1/studies/{study_id}",
        Permission.STUDY_READ,
        lambda p: (f"/v1/studies/{p.fac1_study}", None),
    ),
    Endpoint("POST", "/v1/studies/{study_id}/start", Permission.STUDY_WORKFLOW, _start),
    Endpoint("POST", "/v1/studies/{study_id}/complete", Permission.STUDY_WORKFLOW, _complete),
    Endpoint("POST", "/v1/studies/{study_id}/release", Permission.STUDY_WORKFLOW, _release),
    Endpoint("POST", "/v1/studies/{study_id}/assign", Permission.STUDY_ASSIGN, _assign),
    Endpoint("GET", "/v1/sla", Permission.SLA_READ, fixed("/v1/sla")),
    Endpoint("GET", "/v1/coverage", Permission.COVERAGE_READ, fixed("/v1/coverage")),
    Endpoint("GET", "/v1/audit", Permission.AUDIT_READ, fixed("/v1/audit?limit=5")),
    Endpoint("POST", "/v1/plans", Permission.PLAN_WRITE, fixed("/v1/plans", _plan_body())),
    Endpoint("GET", "/v1/plans/{plan_id}", Permission.PLAN_READ, _plan),
    Endpoint("POST", "/v1/plans/{plan_id}/publish", Permission.PLAN_WRITE, _done_plan),
    Endpoint("POST", "/v1/tokens", Permission.TOKEN_WRITE, _new_token),
    Endpoint("DELETE", "/v1/tokens/{name}", Permission.TOKEN_WRITE, _token_to_delete),
    Endpoint("GET", "/healthz", None, fixed("/healthz")),
]
# The reader a radiologist token in this module is bound to; it may act for nobody else.
BOUND_READER = "rad-1"
# Served by FastAPI itself, outside the schema; open to anyone.
UNLISTED_OPEN = [("GET", "/openapi.json"), ("GET", "/docs")]


def allowed(role: Role, permission: Permission | None) -> bool:
    return permission is None or role in GRANTS[permission]


def named_reader(path: str, body: Body) -> str | None:
    """The radiologist a call acts for: the body's `radiologist`, else the one in its path."""
    if body is not None and "radiologist" in body:
        return str(body["radiologist"])
    parts = path.split("?")[0].split("/")
    return parts[3] if parts[1:3] == ["v1", "radiologists"] and len(parts) > 4 else None


def acts_for_someone_else(role: Role, endpoint: Endpoint, path: str, body: Body) -> bool:
    """A reader-bound token naming another reader is refused even where its role is allowed.

    Only workflow, worklist and availability calls act for a person; a practice read of
    `/v1/radiologists/rad-3` does not.
    """
    acting = {Permission.STUDY_WORKFLOW, Permission.WORKLIST_READ, Permission.AVAILABILITY_WRITE}
    reader = named_reader(path, body)
    return (
        role is Role.RADIOLOGIST
        and endpoint.permission in acting
        and reader
        not in (
            None,
            BOUND_READER,
        )
    )


# --- the static half: what each route's dependency actually requires -----------------------


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """(method, path, route) of every API route, through included routers of any FastAPI."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x wraps included routers
            context = getattr(route, "include_context", None)
            inner = prefix + (getattr(context, "prefix", "") or "")
            yield from _api_routes(route.original_router.routes, inner)


def _permissions(dependant: Any) -> list[Permission]:
    """The permissions checked by `api.auth.require(...)` anywhere in a route's dependencies."""
    found = []
    for dependency in dependant.dependencies:
        call = dependency.call
        if call is not None and getattr(call, "__qualname__", "") == "require.<locals>.check":
            found.append(inspect.getclosurevars(call).nonlocals["permission"])
        found.extend(_permissions(dependency))
    return found


def test_table_matches_every_route_and_its_dependency() -> None:
    from api.app import create_app

    app = create_app()  # nothing starts until the lifespan runs
    routes = {(method, path): route for method, path, route in _api_routes(app.routes)}
    table = {(e.method, e.template): e for e in ENDPOINTS}
    assert set(routes) == set(table), (
        f"routes missing from the table: {sorted(set(routes) - set(table))}; "
        f"table entries with no route: {sorted(set(table) - set(routes))}"
    )
    for key, route in routes.items():
        required = _permissions(route.dependant)
        expected = [table[key].permission] if table[key].permission is not None else []
        assert required == expected, f"{key}: route requires {required}, table says {expected}"


# --- the live half --------------------------------------------------------------------------


@dataclass
class Authz:
    server: Server
    practice: Practice
    tokens: dict[Role, str]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def authz(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Authz]:
    """One server per database for the whole module: tokens cost a CLI run each."""
    directory = tmp_path_factory.mktemp(f"authz-{request.param}")
    with (
        own_database(request.param, directory) as url,
        running_server(url, directory / "logs", jobs=False) as server,
        server.client() as admin,
    ):
        seed_practice(admin, facilities=("fac-1", "fac-2"), radiologists=("rad-1", "rad-2"))
        check(
            admin.put(
                "/v1/radiologists/rad-3",
                json=radiologist_body("rad-3", ("WY",), ("fac-1", "fac-2")),
            ),
            200,
        )
        tokens = {
            role: create_token(
                url,
                f"e2e-{role.value}",
                role.value,
                ("fac-1",) if role is Role.SITE else (),
                BOUND_READER if role is Role.RADIOLOGIST else None,
            )
            for role in Role
        }
        practice = Practice(admin)
        practice.fac1_study = practice.new_study("fac-1")["id"]
        practice.fac2_study = practice.new_study("fac-2")["id"]
        yield Authz(server, practice, tokens)


def call(client: httpx.Client, method: str, path: str, body: Body, token: str | None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return client.request(method, path, json=body, headers=headers)


def test_every_endpoint_for_every_role(authz: Authz) -> None:
    assert set(authz.tokens) == set(Role)
    failures: list[str] = []
    with httpx.Client(base_url=authz.server.base_url, timeout=60) as client:
        for endpoint, role in itertools.product(ENDPOINTS, Role):
            path, body = endpoint.make(authz.practice)
            response = call(client, endpoint.method, path, body, authz.tokens[role])
            status = response.status_code
            if acts_for_someone_else(role, endpoint, path, body):
                ok = status == 403 and f"acts only as {BOUND_READER}" in response.json()["detail"]
            elif allowed(role, endpoint.permission):
                ok = 200 <= status < 300  # the inputs are valid, so allowed means done
            else:
                ok = status == 403 and "may not" in response.json()["detail"]
            if not ok:
                failures.append(
                    f"{role.value:>16} {endpoint.method} {path}: {status} {response.text[:200]} "
                    f"(needs {endpoint.permission}, allowed={allowed(role, endpoint.permission)})"
                )
    assert not failures, "\n".join(failures)


BAD_CREDENTIALS = {
    "none": {},
    "unknown": {"Authorization": "Bearer nh_not_a_real_token_at_all_0123456789"},
    "empty": {"Authorization": "Bearer"},
    "basic": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "no-scheme": {"Authorization": "nh_e2e_admin_token_0123456789abcdef"},
    "lower-case": {"Authorization": "bearer nh_not_a_real_token_at_all_0123456789"},
}


def test_no_or_bad_token_is_401_everywhere(authz: Authz) -> None:
    failures = []
    with httpx.Client(base_url=authz.server.base_url, timeout=60) as client:
        for (name, headers), endpoint in itertools.product(BAD_CREDENTIALS.items(), ENDPOINTS):
            path, body = endpoint.make(authz.practice)
            response = client.request(endpoint.method, path, json=body, headers=headers)
            expected = 200 if endpoint.permission is None else 401
            if response.status_code != expected:
                failures.append(f"{name}: {endpoint.method} {path}: {response.status_code}")
            elif expected == 401:
                assert response.headers.get("www-authenticate", "").lower() == "bearer"
                problem = response.json()
                assert problem["detail"] and problem["errors"] == [], problem
        for method, path in UNLISTED_OPEN:
            if client.request(method, path).status_code != 200:
                failures.append(f"{method} {path}")
    assert not failures, failures


def test_table_covers_the_published_schema(authz: Authz) -> None:
    with httpx.Client(base_url=authz.server.base_url, timeout=60) as client:
        schema = check(client.get("/openapi.json"), 200)
    published = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert published == {(e.method, e.template) for e in ENDPOINTS}


def test_site_token_sees_only_its_facilities(authz: Authz) -> None:
    practice = authz.practice
    site = authz.server.client(authz.tokens[Role.SITE])
    analyst = authz.server.client(authz.tokens[Role.ANALYST])
    with site, analyst:
        mine = check(site.get(f"/v1/studies/{practice.fac1_study}"), 200)
        assert mine["facility"] == "fac-1"
        hidden = check(site.get(f"/v1/studies/{practice.fac2_study}"), 404)
        assert "not found" in hidden["detail"]
        # Another role sees the same study: it is the token's scope, not the study, at work.
        assert check(analyst.get(f"/v1/studies/{practice.fac2_study}"), 200)["facility"] == "fac-2"
        unknown = check(site.get("/v1/studies/doesnotexist"), 404)
        assert set(unknown) == set(hidden)  # indistinguishable from a study that is not there

        listed = all_studies(site)
        assert listed and {s["facility"] for s in listed} == {"fac-1"}
        assert all_studies(site, facility="fac-2") == []
        assert {s["facility"] for s in all_studies(analyst)} == {"fac-1", "fac-2"}

        refused = check(site.post("/v1/studies", json=study_body("SITE-1", "fac-2")), 422)
        assert [e["field"] for e in refused["errors"]] == ["facility"], refused
        assert not [s for s in all_studies(analyst) if s["accession"] == "SITE-1"]
        created = check(site.post("/v1/studies", json=study_body("SITE-2", "fac-1")), 201)
        assert created["facility"] == "fac-1"

        # The SLA report is scoped too.
        sla = check(site.get("/v1/sla"), 200)
        assert {row["facility"] for row in sla["by_facility"]} <= {"fac-1"}, sla
        # Workflow is not a site's to run, whether or not it can see the study.
        for study in (practice.fac1_study, practice.fac2_study):
            response = site.post(f"/v1/studies/{study}/start", json={"radiologist": "rad-1"})
            assert response.status_code == 403, response.text


def test_revoked_token_stops_working(authz: Authz) -> None:
    token = create_token(authz.server.db, "e2e-revokee", Role.ANALYST.value)
    url = authz.server.db
    with authz.server.client(token) as analyst:
        check(analyst.get("/v1/sla"), 200)
        done = subprocess.run(
            [*nighthawk_command(), "token", "revoke", "--name", "e2e-revokee", "--db", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 60  # documented: "within seconds" (a 5 s cache)
        status = 200
        while status == 200 and time.monotonic() < deadline:
            status = analyst.get("/v1/sla").status_code
            time.sleep(0.25)
        assert status == 401
