"""The production set-up the README documents, run for real: the API as a PostgreSQL role that
owns no table, and no secret in any log line of a whole run of bad input, on both databases."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from tests.dump import DatabaseDump
from tests.e2e.server import (
    ADMIN_TOKEN,
    check,
    nighthawk_command,
    own_database,
    running_server,
    seed_practice,
    study_body,
)

pytestmark = pytest.mark.slow

API_ROLE = "nighthawk_api"
GRANTS_SQL = Path(__file__).parents[2] / "deploy" / "postgresql-api-role.sql"
SECRET = "Plantedsecret7Q4"  # a password, a token, a patient: it may appear in no log line
PATIENT = f"MRN-{SECRET}"


def statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def grant_api_role(owner_url: str) -> str:
    """Create the API role if the cluster lacks it, run the documented grants; its URL."""
    engine = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(
            text(
                "DO $$ BEGIN CREATE ROLE nighthawk_api LOGIN; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        )
        for statement in statements(GRANTS_SQL.read_text()):
            connection.exec_driver_sql(statement)
    engine.dispose()
    return make_url(owner_url).set(username=API_ROLE).render_as_string(hide_password=False)


def refused(url: str, statement: str) -> str:
    """The error PostgreSQL gives `statement` run as the role in `url` (fails if it runs)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection, pytest.raises(ProgrammingError) as caught:
            connection.exec_driver_sql(statement)
        return str(caught.value.orig)
    finally:
        engine.dispose()


def test_the_api_runs_as_a_role_that_owns_no_table(tmp_path: Path) -> None:
    with own_database("postgresql", tmp_path) as owner_url:
        api_url = grant_api_role(owner_url)
        with running_server(api_url, tmp_path / "logs") as server, server.client() as admin:
            seed_practice(admin)
            study = check(admin.post("/v1/studies", json=study_body("ROLE-1")), 201)
            reader = {"radiologist": study["assigned_to"]}
            check(admin.post(f"/v1/studies/{study['id']}/start", json=reader), 200)
            done = {**reader, "report": "final"}
            check(admin.post(f"/v1/studies/{study['id']}/complete", json=done), 200)
            check(admin.delete("/v1/tokens/nobody"), 404)
            actions = [e["action"] for e in check(admin.get("/v1/audit?limit=100"), 200)["items"]]
            assert {"study.started", "study.reported"} <= set(actions), actions
        assert "permission denied" in refused(api_url, "TRUNCATE audit")
        assert "permission denied" in refused(api_url, "DELETE FROM audit")
        assert "permission denied" in refused(api_url, "UPDATE audit SET actor = 'x'")
        assert "must be owner" in refused(api_url, "ALTER TABLE study ADD COLUMN x int")
        assert "must be owner" in refused(api_url, "DROP TABLE api_token")
        assert "permission denied" in refused(api_url, "UPDATE alembic_version SET version_num='0'")


def test_a_database_error_at_the_command_line_masks_the_password() -> None:
    url = f"postgresql+psycopg://nighthawk:{SECRET}@127.0.0.1:9/nighthawk"
    for command in (["migrate", "--db", url], ["token", "revoke", "--name", "x", "--db", url]):
        done = subprocess.run(
            [*nighthawk_command(), *command], capture_output=True, text=True, timeout=120
        )
        assert done.returncode != 0, done.stdout
        assert SECRET not in done.stdout + done.stderr, done.stderr
        assert "nighthawk:***@127.0.0.1:9" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr


# --- a whole run of bad input, and the log afterwards -----------------------------------------


def nasty_requests(study_id: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx keyword arguments), each carrying the secret somewhere. They go
    with the admin's token unless they name headers of their own."""
    bearer = {"Authorization": f"Bearer nh_{SECRET}"}
    anonymous = {"Authorization": ""}
    yield "GET", f"/v1/studies?access_token={ADMIN_TOKEN}", {"headers": anonymous}
    yield (
        "GET",
        f"/v1/sla?token={SECRET}&api_key={SECRET}&password={SECRET}",
        {"headers": anonymous},
    )
    yield "GET", "/v1/studies", {"headers": bearer}
    # Paths and filters hold identifiers (a facility, a study id), which the access log keeps.
    yield "GET", "/v1/studies?facility=fac%00", {}
    yield "GET", "/v1/audit?study=s%00", {}
    yield "GET", "/v1/studies/s%00", {}
    body = {**study_body("LOG-1"), "patient_ref": PATIENT, "body_part": f"chest\x00{SECRET}"}
    yield "POST", "/v1/studies", {"json": body}
    yield "POST", "/v1/studies", {"json": {**study_body("LOG-2"), "patient_ref": f"{PATIENT}\x00"}}
    facility = {"name": f"{SECRET}\x00", "state": "WY", "timezone": "America/Denver"}
    yield "PUT", "/v1/facilities/fac-9", {"json": facility}
    surrogate = f'{{"name": "Dr", "licenses": ["WY"], "subspecialties": ["{SECRET}\\ud800"]}}'
    headers = {"content-type": "application/json"}
    yield "PUT", "/v1/radiologists/rad-9", {"content": surrogate, "headers": {**headers}}
    yield "POST", f"/v1/studies/{study_id}/start", {"json": {"radiologist": f"{SECRET}\x00"}}
    release = {"radiologist": "rad-1", "reason": f"{SECRET}\x00"}
    yield "POST", f"/v1/studies/{study_id}/release", {"json": release}
    unknown = {f"{SECRET}-{n}": n for n in range(20_000)}
    yield "POST", "/v1/studies", {"json": {**study_body("LOG-3"), **unknown}}
    yield "POST", "/v1/studies", {"content": f"{{{SECRET}", "headers": {**headers}}
    yield "GET", f"/v1/sla?from=2026-01-01&password={SECRET}", {}
    yield "POST", "/v1/tokens", {"json": {"name": SECRET, "role": "root"}}


def test_no_secret_reaches_the_logs(kind: str, tmp_path: Path) -> None:
    with own_database(kind, tmp_path) as url:
        if kind == "postgresql":  # trust authentication accepts the password and ignores it
            url = make_url(url).set(password=SECRET).render_as_string(hide_password=False)
        with running_server(url, tmp_path / "logs") as server, server.client() as admin:
            seed_practice(admin)
            body = {**study_body("LOG-0"), "patient_ref": PATIENT}
            study = check(admin.post("/v1/studies", json=body), 201)
            statuses = []
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                for method, path, options in nasty_requests(study["id"]):
                    headers = httpx.Headers(admin.headers)
                    headers.update(options.pop("headers", {}))
                    response = client.request(method, path, headers=headers, **options)
                    statuses.append((method, path[:60], response.status_code))
            assert all(400 <= status < 500 for *_, status in statuses), statuses
            dump = DatabaseDump(url)
            stored = "\n".join(dump.take())
            dump.close()
        log = server.log_text()
    assert "POST /v1/studies" in log  # the access log is on: the test can see what it logs
    assert SECRET not in log, [line for line in log.splitlines() if SECRET in line][:5]
    assert ADMIN_TOKEN not in log
    assert "Traceback" not in log
    assert SECRET not in stored, "the patient reference is stored only as a keyed hash"
    assert "password=***" in log  # redacted, not dropped: the request is still traceable


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_requests_carry_the_secret() -> None:
    """The referee of the test above: every request really does hold the secret."""
    for method, path, options in nasty_requests("s-1"):
        carried = path + json.dumps(options.get("json", {}), ensure_ascii=False)
        carried += str(options.get("content", "")) + str(options.get("headers", {}))
        assert SECRET in carried or ADMIN_TOKEN in carried or "%00" in path, (method, path)
