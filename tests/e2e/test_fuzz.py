"""Every operation of the live server's own /openapi.json, fuzzed with the nastiest input, on
SQLite and on PostgreSQL.

Requests come from `tests.e2e.fuzzing.Fuzzer`: path, query and body values drawn from the
schema, broken at a rate drawn per case (lone surrogates, NUL and C0 controls, bidi controls,
combining marks, 4-byte characters, 100,000-character strings, numbers at and past their bounds,
NaN, wrong types, missing and unknown keys), and whole-body mischief (tens of thousands of
unknown keys up to just over 1 MiB, deep nesting, bytes that are not JSON). Each case goes out
with an admin, a site or a worklist token (among those the endpoint admits, plus now and then
one it refuses). The properties, per request:

- never a 5xx, and always an answer (a dropped connection is as bad as a 500);
- an answer of at most 64 KiB, except a successful read (a page of up to 1,000 audit entries
  is as large as what is stored; the writes that stored it are held to the cap);
- a refused request (4xx) leaves the database byte-for-byte as it was: every row of every
  table, dumped before and after; and a 422 lists at most 20 errors.

One server per database serves the whole module, without background jobs, so nothing but the
requests writes (and the solver of a plan a case got accepted: the case waits for it). Cases
are derandomized, so CI sees the same ones every run; each failure names the operation, the
request's shape, the status and the first 300 characters of the answer. Explicit cases pin
what the issue found and what this fuzzing found since, a referee test shows the database
check failing on a write slipped in beside a refusal, and at the end the server's log must
hold no traceback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, Verbosity, given, settings

from models.tables import Role
from tests.dump import DatabaseDump, difference
from tests.e2e.fuzzing import Case, Fuzzer, Operation, encode, operations
from tests.e2e.server import (
    Server,
    check,
    create_token,
    facility_body,
    own_database,
    running_server,
    seed_practice,
    study_body,
)
from tests.e2e.test_authorization import ENDPOINTS, allowed

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 10
MAX_RESPONSE_BYTES = 64 * 1024
MAX_LISTED_ERRORS = 20
REQUEST_TIMEOUT = 60.0
PLAN_TIMEOUT = 120.0
FUZZ_ROLES = (Role.ADMIN, Role.SITE, Role.WORKLIST)
DECOY_TOKEN = "fuzz-decoy"  # a token the fuzzing may revoke; the ones it uses are never named
JSON = {"Content-Type": "application/json"}


@dataclass
class Live:
    server: Server
    dump: DatabaseDump
    tokens: dict[str, str]  # by role
    fuzzer: Fuzzer
    spec: dict[str, Any]
    studies: list[dict[str, Any]]

    def __repr__(self) -> str:  # pytest shows the fixture in every failure: keep it short
        return f"Live({self.server.db})"


def _plan_body(**changes: Any) -> dict[str, Any]:
    body = {
        "start": "2031-01-06T00:00:00Z",
        "shift_templates": [
            {"id": "am", "start": "00:00", "end": "12:00", "timezone": "UTC"},
            {"id": "pm", "start": "12:00", "end": "24:00", "timezone": "UTC"},
        ],
        "arrivals": [{"facility": "fac-1", "modality": "CT", "priority": "STAT", "per_hour": 1}],
        "time_limit": 1,
        "recommendations": 0,
    }
    return {**body, **changes}


def _wait_for_plan(admin: httpx.Client, plan_id: str) -> dict[str, Any]:
    """Until the plan is done or failed: its solve writes the plan's row in the background."""
    deadline = time.monotonic() + PLAN_TIMEOUT
    while True:
        plan: dict[str, Any] = check(admin.get(f"/v1/plans/{plan_id}"), 200)
        if plan["status"] not in ("queued", "running"):
            return plan
        assert time.monotonic() < deadline, f"plan {plan_id} not solved in {PLAN_TIMEOUT} s"
        time.sleep(0.1)


def _seed(admin: httpx.Client) -> tuple[dict[str, list[Any]], list[dict[str, Any]]]:
    """Two facilities and two readers on shift, studies (one being read), future shifts and a
    solved plan; returns hints (values worth trying, by field name) and the studies."""
    facilities, readers = ["fac-1", "fac-2"], ["rad-1", "rad-2"]
    seed_practice(admin, facilities=facilities, radiologists=readers)
    studies = [
        check(admin.post("/v1/studies", json=study_body(f"FUZZ-{n}", facility, priority)), 201)
        for n, (facility, priority) in enumerate(
            [("fac-1", "STAT"), ("fac-2", "URGENT"), ("fac-1", "ROUTINE"), ("fac-2", "STAT")]
        )
    ]
    first = studies[0]
    check(admin.post(f"/v1/studies/{first['id']}/start", json={"radiologist": "rad-1"}), 200)
    shifts = [
        check(
            admin.post(
                "/v1/radiologists/rad-2/shifts",
                json={"start": f"2031-02-0{day}T08:00:00Z", "end": f"2031-02-0{day}T16:00:00Z"},
            ),
            201,
        )["id"]
        for day in (1, 2, 3)
    ]
    plan = _wait_for_plan(admin, check(admin.post("/v1/plans", json=_plan_body()), 202)["id"])
    assert plan["status"] == "done", plan
    study_ids = [study["id"] for study in studies]
    hints: dict[str, list[Any]] = {
        "facility_id": facilities,
        "facility": facilities,
        "facilities": facilities,
        "radiologist_id": readers,
        "radiologist": readers,
        "radiologists": readers,
        "study_id": study_ids,
        "study": study_ids,
        "shift_id": shifts,
        "plan_id": [plan["id"]],
        "name": [DECOY_TOKEN, "Fuzz General"],
        "state": ["WY", "CO"],
        "timezone": ["UTC", "America/Denver"],
        "subspecialties": ["neuro", "msk"],
        "subspecialty": ["neuro"],
        "id": ["am", "pm"],
        "prefers": ["am", "pm"],
        "avoids": ["pm"],
        "start": ["00:00", "08:00", "12:00"],
        "end": ["12:00", "20:00", "24:00"],
        "reason": ["fuzzing"],
    }
    return hints, studies


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One server per database for the module, background jobs off, three tokens, a practice."""
    directory = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with (
        own_database(request.param, directory) as url,
        running_server(url, directory / "logs", jobs=False) as server,
        server.client() as admin,
    ):
        hints, studies = _seed(admin)
        tokens = {
            Role.ADMIN.value: server.admin_token,
            Role.SITE.value: create_token(url, "fuzz-site", "site", ("fac-1",)),
            Role.WORKLIST.value: create_token(url, "fuzz-worklist", "worklist"),
        }
        create_token(url, DECOY_TOKEN, "analyst")
        spec = check(admin.get("/openapi.json"), 200)
        dump = DatabaseDump(url)
        try:
            yield Live(server, dump, tokens, Fuzzer(spec, hints), spec, studies)
        finally:
            dump.close()


# --- the operations, collected from the app's schema built in-process ------------------------


def _collected() -> list[Any]:
    """pytest params (METHOD, path): no server is needed to collect; the live schema is
    checked against this list below, and each case is built from the live schema."""
    from api.app import create_app

    return [
        pytest.param(operation.method, operation.path, id=f"{operation.method} {operation.path}")
        for operation in operations(create_app().openapi())
    ]


OPERATIONS = _collected()


def _roles(method: str, path: str) -> list[str]:
    """The fuzzing roles the endpoint admits, four times over, and once each one it refuses
    (so most cases reach the handler and some meet the 403)."""
    permissions = [e.permission for e in ENDPOINTS if (e.method, e.template) == (method, path)]
    if not permissions:  # not in the authorization table yet: try all three alike
        return [role.value for role in FUZZ_ROLES]
    admitted = [role for role in FUZZ_ROLES if allowed(role, permissions[0])]
    refused = [role for role in FUZZ_ROLES if role not in admitted]
    return [role.value for role in admitted] * 4 + [role.value for role in refused]


def _plan_budget(operation: Operation, body: Any) -> Any:
    """An accepted plan is solved in the server's background and writes its row meanwhile;
    the fuzzing waits for it, so keep its solve short: a valid time limit, horizon or number
    of recommendations is lowered (values past their bounds still go out as drawn)."""
    if (operation.method, operation.path) != ("POST", "/v1/plans") or not isinstance(body, dict):
        return body
    for key, cap, high in (("time_limit", 0.5, 600), ("weeks", 1, 12), ("recommendations", 1, 50)):
        value = body.get(key)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and math.isfinite(value) and cap < value <= high:
            body = {**body, key: cap}
    return body


def _live_operation(live: Live, method: str, path: str) -> Operation:
    for operation in operations(live.spec):
        if (operation.method, operation.path) == (method, path):
            return operation
    raise AssertionError(f"{method} {path} is not in the live /openapi.json")


# --- what the issue found, pinned ---------------------------------------------------------------


def _audit(client: httpx.Client) -> list[dict[str, Any]]:
    page = check(client.get("/v1/audit", params={"limit": 1000}), 200)
    return list(page["items"])


def _refused(
    live: Live,
    method: str,
    url: str,
    field: str | None,
    *,
    body: Any = None,
    token: str | None = None,
) -> httpx.Response:
    """Send (the body encoded by hand, lone surrogates as `\\ud800`); expect a 422 under 64 KiB
    whose first error names `field` (if given), and the database and the audit unchanged."""
    content = None if body is None else encode(body)
    with live.server.client(token) as client, live.server.client() as admin:
        audit = _audit(admin)
        before = live.dump.take()
        response = client.request(method, url, content=content, headers=JSON)
        where = f"{method} {url[:200]} -> {response.status_code}: {response.text[:300]!r}"
        assert response.status_code == 422, where
        assert len(response.content) <= MAX_RESPONSE_BYTES, (
            f"{len(response.content)} bytes: {where}"
        )
        problem = response.json()
        assert problem["errors"] and problem["detail"], where
        if field is not None:
            assert problem["errors"][0]["field"] == field, where
            assert problem["detail"].startswith(f"{field}: "), where
        assert live.dump.take() == before, where
        assert _audit(admin) == audit, where
    return response


def test_lone_surrogate_in_subspecialties_is_refused(live: Live) -> None:
    body = {"name": "Dr Surrogate", "subspecialties": ["\ud800"]}
    assert b'["\\ud800"]' in encode(body)  # what goes over the wire: the JSON escape
    _refused(live, "PUT", "/v1/radiologists/rad-surrogate", "subspecialties[0]", body=body)
    with live.server.client() as admin:
        check(admin.get("/v1/radiologists/rad-surrogate"), 404)


def test_lone_surrogate_in_a_shift_template_id_is_refused(live: Live) -> None:
    body = _plan_body()
    body["shift_templates"][1] = {**body["shift_templates"][1], "id": "pm\ud800"}
    _refused(live, "POST", "/v1/plans", "shift_templates[1].id", body=body)


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("study body_part", "body_part"),
        ("facility name", "name"),
        ("release reason", "reason"),
        ("start radiologist", "radiologist"),
        ("studies facility filter", "facility"),
    ],
)
def test_nul_is_refused_naming_the_field(live: Live, case: str, field: str) -> None:
    """On PostgreSQL these used to reach the database: a 500 that logged the SQL parameters."""
    study = live.studies[2]  # assigned, not started: every workflow step is open to it
    with live.server.client() as admin:
        reader = check(admin.get(f"/v1/studies/{study['id']}"), 200)["assigned_to"] or "rad-1"
    method, url, body = {
        "study body_part": ("POST", "/v1/studies", {**study_body("NUL-1"), "body_part": "kn\0ee"}),
        "facility name": ("PUT", "/v1/facilities/fac-nul", facility_body("Fac\0ility")),
        "release reason": (
            "POST",
            f"/v1/studies/{study['id']}/release",
            {"radiologist": reader, "reason": "conflict\0"},
        ),
        "start radiologist": (
            "POST",
            f"/v1/studies/{study['id']}/start",
            {"radiologist": f"{reader}\0"},
        ),
        "studies facility filter": ("GET", "/v1/studies?facility=fac-1%00", None),
    }[case]
    _refused(live, method, url, field, body=body)


def test_seventy_thousand_unknown_keys_from_a_site_token(live: Live) -> None:
    body = {**study_body("BULK-1", "fac-1"), **{f"k{n}": 0 for n in range(70_000)}}
    assert 850_000 < len(encode(body)) < 1_000_000
    response = _refused(live, "POST", "/v1/studies", "k0", body=body, token=live.tokens["site"])
    assert "more" in response.json()["detail"], response.text[:300]


def test_error_list_is_capped_with_a_count_of_the_rest(live: Live) -> None:
    body = {"name": "Dr Many", "licenses": [{"state": f"Q{n}"} for n in range(60)]}
    response = _refused(live, "PUT", "/v1/radiologists/rad-many", "licenses[0].state", body=body)
    problem = response.json()
    assert len(problem["errors"]) == MAX_LISTED_ERRORS, problem
    assert problem["more_errors"] == 60 - MAX_LISTED_ERRORS, problem


def _shift_tomorrow(**extra: Any) -> dict[str, Any]:
    return {"start": "2031-01-07T08:00:00Z", "end": "2031-01-07T16:00:00Z", **extra}


def _with_template_zone(zone: str) -> dict[str, Any]:
    body = _plan_body()
    body["shift_templates"][0] = {**body["shift_templates"][0], "timezone": zone}
    return body


# Inputs this module's fuzzing turned into a 500 or an oversized answer; pinned here.
# (method, path, body, the field the 422 should name, or None where any name will do)
FOUND_BY_FUZZING = [
    pytest.param(
        "POST",
        "/v1/studies",
        {**study_body("FOUND-1"), "\ud800": 1},
        None,
        id="unknown key a lone surrogate",
    ),
    pytest.param(
        "POST",
        "/v1/radiologists/rad-1/shifts",
        _shift_tomorrow(**{"x\udfff": 1}),
        None,
        id="unknown key holding a lone surrogate",
    ),
    pytest.param(
        "POST",
        "/v1/studies",
        {**study_body("FOUND-2"), **{f"{n}" + "x" * 100_000: 1 for n in range(5)}},
        None,
        id="five unknown keys of 100,000 characters",
    ),
    pytest.param(
        "PUT",
        "/v1/facilities/fac-found",
        facility_body() | {"timezone": "America"},
        "timezone",
        id="time zone naming a tzdata directory",
    ),
    pytest.param(
        "PUT",
        "/v1/facilities/fac-found",
        facility_body() | {"timezone": "\u00e9" * 200},
        "timezone",
        id="time zone too long for a file name",
    ),
    pytest.param(
        "POST",
        "/v1/plans",
        _with_template_zone("b" * 300),
        "shift_templates[0].timezone",
        id="shift template time zone too long for a file name",
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "field"), FOUND_BY_FUZZING)
def test_input_found_by_fuzzing_is_refused(
    live: Live, method: str, url: str, body: Any, field: str | None
) -> None:
    _refused(live, method, url, field, body=body)


# --- the properties ---------------------------------------------------------------------------


def exercise(live: Live, case: Case) -> None:
    """Send one case; hold the answer and the database to the properties."""
    headers = {"Authorization": f"Bearer {live.tokens[case.role]}"}
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    before = live.dump.take()
    with httpx.Client(base_url=live.server.base_url, timeout=REQUEST_TIMEOUT) as client:
        try:
            response = client.request(case.method, case.url, content=case.content, headers=headers)
        except httpx.HTTPError as error:
            raise AssertionError(
                f"{case.describe()} -> no answer: {error!r} (server up: {live.server.running})"
            ) from error
    status = response.status_code
    where = f"{case.describe()} -> {status}: {response.text[:300]!r}"
    assert status < 500, f"server error: {where}"
    if not (case.method == "GET" and status < 300):
        size = len(response.content)
        assert size <= MAX_RESPONSE_BYTES, f"answer of {size} bytes: {where}"
    if 400 <= status < 500:
        after = live.dump.take()
        assert after == before, f"refused, yet the database changed: {where}\n" + difference(
            before, after
        )
    if status == 422:
        errors = response.json().get("errors", [])
        assert len(errors) <= MAX_LISTED_ERRORS, f"{len(errors)} errors listed: {where}"
    if (case.method, case.operation.path) == ("POST", "/v1/plans") and status < 300:
        with live.server.client() as admin:
            _wait_for_plan(admin, response.json()["id"])


def test_live_schema_lists_the_collected_operations(live: Live) -> None:
    published = {(operation.method, operation.path) for operation in operations(live.spec)}
    assert published == {(param.values[0], param.values[1]) for param in OPERATIONS}


def test_the_referee_sees_a_write_beside_a_refused_request(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check failing on a deliberately wrong case: a write slips in beside a 404."""
    take = live.dump.take
    looks = 0

    def take_after_a_write() -> list[str]:
        nonlocal looks
        looks += 1
        if looks == 2:  # between the request and the second look
            with live.server.client() as admin:
                check(admin.put("/v1/facilities/fac-referee", json=facility_body("Ref")), 200)
        return take()

    monkeypatch.setattr(live.dump, "take", take_after_a_write)
    operation = _live_operation(live, "GET", "/v1/facilities/{facility_id}")
    case = Case(operation, Role.ADMIN.value, "/v1/facilities/fac-absent", None, None, "referee")
    with pytest.raises(AssertionError, match="refused, yet the database changed") as failure:
        exercise(live, case)
    assert "404" in str(failure.value) and "fac-referee" in str(failure.value)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_operation_survives_fuzzing(live: Live, method: str, path: str) -> None:
    operation = _live_operation(live, method, path)
    cases = live.fuzzer.requests(operation, _roles(method, path), adjust=_plan_budget)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,  # the same cases on every run: CI is reproducible
        database=None,
        # No shrinking: each case changes the server's state, so a replay is not the same
        # experiment; the failure message carries the whole case instead.
        phases=[Phase.explicit, Phase.generate],
        verbosity=Verbosity.quiet,  # its "Failing test case" line would only repeat the message
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: Case) -> None:
        exercise(live, case)

    run()


def test_server_logged_no_internal_error(live: Live) -> None:
    """Runs last on each server: nothing became a 500 or leaked SQL parameters to the log."""
    log = live.server.log_text()
    for marker in ("internal error on", "Traceback", "[parameters:"):
        at = log.find(marker)
        excerpt = log[max(0, at - 300) : at + 1500]
        assert at < 0, (
            f"the server logged {marker!r} ({log.count(marker)} times); first:\n{excerpt}"
        )
