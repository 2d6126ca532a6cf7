"""Schemathesis against the live server's own /openapi.json, every operation, admin token.

Checks: no 5xx for any input (`not_a_server_error`), every response body matches the schema
declared for its status (`response_schema_conformance`), and every status is one the schema
declares (`status_code_conformance`). A small practice is seeded first, and generated path
parameters and body references are sometimes swapped for ids that exist, so the cases reach
past the 404s into the real handlers. Each operation runs with positive and with negative
(schema-violating) data, derandomized so CI sees the same cases every run; examples per
operation are bounded to keep the module well under a minute and a half. Inputs that fuzzing
once turned into a 500 or an undocumented status are pinned as `EDGE_CASES`, and finally the
server's log must hold no internal error at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.server import (
    ADMIN_TOKEN,
    Server,
    check,
    radiologist_body,
    running_server,
    seed_practice,
    study_body,
)

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 60
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Known:
    """Ids that exist in the seeded practice, by the parameter or field that names them."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = {
            "facility_id": ["fac-1", "fac-2"],
            "radiologist_id": ["rad-1", "rad-2"],
            "study_id": [],
            "shift_id": [],
        }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Known]]:
    directory = tmp_path_factory.mktemp("schema")
    known = Known()
    db = f"sqlite:///{directory / 'schema.db'}"
    with running_server(db, directory / "logs", jobs=False) as server:
        with server.client() as admin:
            seed_practice(admin, facilities=("fac-1", "fac-2"), radiologists=("rad-1", "rad-2"))
            for number, priority in enumerate(("STAT", "URGENT", "ROUTINE", "STAT", "ROUTINE")):
                facility = "fac-1" if number % 2 else "fac-2"
                study = check(
                    admin.post(
                        "/v1/studies", json=study_body(f"SCHEMA-{number}", facility, priority)
                    ),
                    201,
                )
                known.ids["study_id"].append(study["id"])
            first = known.ids["study_id"][0]
            reader = check(admin.get(f"/v1/studies/{first}"), 200)["assigned_to"]
            check(admin.post(f"/v1/studies/{first}/start", json={"radiologist": reader}), 200)
            shifts = [
                check(
                    admin.post(
                        "/v1/radiologists/rad-2/shifts",
                        json={
                            "start": f"2031-01-0{day}T08:00:00Z",
                            "end": f"2031-01-0{day}T16:00:00Z",
                        },
                    ),
                    201,
                )["id"]
                for day in (1, 2, 3)
            ]
            known.ids["shift_id"].extend(shifts)
        yield server, known


@pytest.fixture(scope="module")
def api_schema(live: tuple[Server, Known]) -> Any:
    server, known = live
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json", timeout=30)

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        """Half the time, aim the generated case at something that exists."""
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        options = [
            st.sampled_from(known.ids[name]).map(lambda value, name=name: (name, value))
            for name in path_parameters
            if known.ids.get(name)
        ]
        if not options:
            return st.just(path_parameters)
        return st.one_of(st.just(None), *options).map(
            lambda swap: path_parameters if swap is None else {**path_parameters, swap[0]: swap[1]}
        )

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        """Body references (`radiologist`, `facility`) likewise, sometimes, point at real ones."""
        if not isinstance(body, dict):
            return st.just(body)
        swaps: list[Any] = [st.just(body)]
        if isinstance(body.get("radiologist"), str):
            swaps.append(
                st.sampled_from(known.ids["radiologist_id"]).map(
                    lambda value: {**body, "radiologist": value}
                )
            )
        if isinstance(body.get("facility"), str):
            swaps.append(
                st.sampled_from(known.ids["facility_id"]).map(
                    lambda value: {**body, "facility": value}
                )
            )
        return st.one_of(*swaps)

    return schema


def _operations() -> list[Any]:
    """pytest params (METHOD, path, mode) for every operation, from the app's schema built
    in-process (no server needed to collect). Negative data needs something to negate."""
    from api.app import create_app

    params = []
    for path, operations in create_app().openapi()["paths"].items():
        for method, operation in operations.items():
            modes = [GenerationMode.POSITIVE]
            if operation.get("parameters") or operation.get("requestBody"):
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                params.append(
                    pytest.param(
                        method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}"
                    )
                )
    return params


OPERATIONS = _operations()


def test_live_schema_is_the_apps_schema(api_schema: Any) -> None:
    live = {
        (method.upper(), path)
        for path, ops in api_schema.raw_schema["paths"].items()
        for method in ops
    }
    assert live == {(param.values[0], param.values[1]) for param in OPERATIONS}


@pytest.mark.parametrize(("method", "path", "mode"), OPERATIONS)
def test_operation_conforms_to_its_schema(
    api_schema: Any, live: tuple[Server, Known], method: str, path: str, mode: GenerationMode
) -> None:
    """Schemathesis's own pytest integration (`from_fixture`) breaks on pytest 9 (it reads
    `request.node._nodeid`), so each operation's strategy is driven by Hypothesis here."""
    server, _ = live
    operation = api_schema[path][method]

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,  # the same cases on every run: CI is reproducible
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(base_url=server.base_url, headers=AUTH, checks=CHECKS, timeout=60)

    run()


def _license(expires_on: str) -> dict[str, Any]:
    """rad-2 (on shift, so the live plan computes its validity) licensed until `expires_on`."""
    body = radiologist_body("rad-2", ("WY",), ("fac-1", "fac-2"))
    body["licenses"] = [{"state": "WY", "expires_on": expires_on}]
    return body


JSON = {"content-type": "application/json"}
# Inputs at the edges of the types, each found once by fuzzing; pinned here so they stay fixed.
# (method, path, JSON body or raw bytes, the statuses acceptable for it)
EDGE_CASES: list[tuple[str, str, Any, set[int]]] = [
    (
        "POST",
        "/v1/radiologists/rad-2/shifts",
        {"start": "0001-01-01T00:00:00+01:00", "end": "2030-01-01T00:00:00Z"},
        {422},
    ),
    (
        "POST",
        "/v1/radiologists/rad-2/shifts",
        {"start": "2030-01-01T00:00:00Z", "end": "9999-12-31T23:59:59-01:00"},
        {422},
    ),
    (
        "POST",
        "/v1/studies",
        {**study_body("EDGE-1"), "received_at": "0001-01-01T00:00:00+01:00"},
        {422},
    ),
    ("GET", "/v1/sla?to=0001-01-01T00:00:00%2B01:00", None, {422}),
    ("GET", "/v1/sla?to=0001-01-01T07:24:17Z", None, {200, 422}),
    ("GET", "/v1/sla?from=9999-12-31T23:00:00Z", None, {200, 422}),
    ("GET", "/v1/coverage?to=0001-01-01T07:24:17Z", None, {200, 422}),
    ("GET", "/v1/coverage?from=9999-12-31T23:00:00Z", None, {200, 422}),
    ("GET", "/v1/coverage?from=9999-12-31T22:00:00Z&to=9999-12-31T23:59:00Z", None, {200, 422}),
    ("PUT", "/v1/radiologists/rad-2", _license("9999-12-31"), {200, 422}),
    ("GET", "/v1/studies?cursor=%C2%B3", None, {422}),  # '³': str.isdigit() but not int()
    ("GET", "/v1/audit?cursor=%C2%B3", None, {422}),
    ("PUT", "/v1/facilities/fac-edge", b"\xffv", {422}),
    ("POST", "/v1/studies", b"\x80", {422}),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    EDGE_CASES,
    ids=[
        f"{m} {p.split('?')[-1] if '?' in p else p} {i}"
        for i, (m, p, _, _) in enumerate(EDGE_CASES)
    ],
)
def test_edge_input_is_refused_or_served_never_a_500(
    live: tuple[Server, Known], method: str, path: str, body: Any, expected: set[int]
) -> None:
    server, _ = live
    with server.client() as client:  # a fresh connection: a 500 makes uvicorn drop it
        # Undo what the fuzzing did to the readers, so each case meets the seeded practice.
        for reader in ("rad-1", "rad-2"):
            seed = radiologist_body(reader, ("WY",), ("fac-1", "fac-2"))
            check(client.put(f"/v1/radiologists/{reader}", json=seed), 200)
            back = {"available": True, "reason": "edge cases"}
            check(client.post(f"/v1/radiologists/{reader}/availability", json=back), 200)
            worklist = check(client.get(f"/v1/radiologists/{reader}/worklist"), 200)
            assert worklist["on_shift"], worklist
    with server.client() as client:
        if isinstance(body, bytes):
            response = client.request(method, path, content=body, headers=JSON)
        else:
            response = client.request(method, path, json=body)
    assert response.status_code in expected, (
        f"{method} {path} {body!r} -> {response.status_code} {response.text[:300]}"
    )
    if response.status_code == 422:
        problem = response.json()
        assert problem["errors"] and problem["detail"].startswith(problem["errors"][0]["field"])


def test_server_logged_no_internal_error(live: tuple[Server, Known]) -> None:
    """Runs after the fuzzing (same module, same server): nothing was logged as a 500."""
    server, _ = live
    log = server.log_text()
    assert "internal error on" not in log, log[-5000:]
    assert "Traceback" not in log, log[-5000:]
