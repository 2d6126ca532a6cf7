"""What a careless client or an attacker tried, kept as regression tests (SQLite and
PostgreSQL): bad text is refused before anything is written, error answers stay small, a site
learns nothing of other facilities, secrets stay out of output, files are private, headers are
set, and reader-bound tokens act only as their reader."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from nighthawk.service.db import make_engine, masked_url
from nighthawk.service.logs import RedactCredentials, redact
from tests.api.conftest import Api


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.facility("fac-2")
    api.radiologist("rad-1", credentials=["fac-1", "fac-2"])
    return api


def raw(api: Api, method: str, path: str, body: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else api.headers
    return api.client.request(
        method, path, content=body.encode(), headers={**headers, "content-type": "application/json"}
    )


def audit_count(api: Api) -> int:
    return len(api.call("GET", "/v1/audit?limit=1000", status=200)["items"])


# ----- 1. invalid text is refused before anything is written ----------------------------------
SURROGATE = '"neuro\\ud800"'  # JSON's own spelling of a lone surrogate


def test_a_lone_surrogate_is_refused_naming_the_field_and_nothing_is_written(
    practice: Api,
) -> None:
    before = audit_count(practice)
    body = '{"name": "Dr 9", "licenses": ["WY"], "credentials": [], "subspecialties": [%s]}'
    response = raw(practice, "PUT", "/v1/radiologists/rad-9", body % SURROGATE)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("subspecialties[0]: ")
    practice.call("GET", "/v1/radiologists/rad-9", status=404)
    assert audit_count(practice) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/studies", '{"facility": %s, "accession": "A", "modality": "CT"}', "facility"),
        (
            "POST",
            "/v1/studies",
            '{"facility": "fac-1", "accession": "A", "modality": "CT", "subspecialty": %s}',
            "subspecialty",
        ),
        ("PUT", "/v1/facilities/fac-9", '{"name": %s, "state": "WY", "timezone": "UTC"}', "name"),
        (
            "PUT",
            "/v1/radiologists/rad-9",
            '{"name": "x", "licenses": ["WY"], "credentials": [%s]}',
            "credentials[0]",
        ),
    ],
)
def test_bad_text_anywhere_in_a_body_is_a_422(
    practice: Api, method: str, path: str, body: str, field: str
) -> None:
    for value in (SURROGATE, '"a\\u0000b"', '"a\\u0007b"'):
        response = raw(practice, method, path, body % value)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith(field), response.text


def test_a_nul_in_reader_workflow_fields_is_a_422(practice: Api) -> None:
    study = practice.study("A1")
    for verb, body in (
        ("start", {"radiologist": "rad\x00-1"}),
        ("release", {"radiologist": "rad-1", "reason": "a\x00b"}),
        ("assign", {"radiologist": "rad-1", "reason": "a\x00b"}),
    ):
        problem = practice.call("POST", f"/v1/studies/{study['id']}/{verb}", body, 422)
        assert problem["detail"].split(":")[0] in {"radiologist", "reason"}
    problem = practice.call("POST", "/v1/studies", {**_study(), "body_part": "HE\x00AD"}, 422)
    assert problem["detail"].startswith("body_part")


def test_free_text_keeps_line_breaks_and_identifiers_are_nfc(practice: Api) -> None:
    study = practice.study("A1")
    body = {"radiologist": "rad-1", "reason": "conflict\nof interest"}
    assert practice.call("POST", f"/v1/studies/{study['id']}/release", body, 200)
    decomposed = "cafe\u0301"  # e + combining acute: the same name as the composed é
    practice.radiologist("rad-2", subspecialties=[decomposed])
    held = practice.call("GET", "/v1/radiologists/rad-2", status=200)["subspecialties"]
    assert held == ["caf\u00e9"]
    problem = practice.call(
        "PUT", "/v1/radiologists/rad-3", {"name": "x", "subspecialties": ["ne\u202euro"]}, 422
    )
    assert problem["detail"].startswith("subspecialties")


def test_query_filters_refuse_nul_and_surrogates(practice: Api) -> None:
    for query in ("facility=fac%00", "facility=%ED%A0%80", "cursor=%00"):
        response = practice.client.get(f"/v1/studies?{query}", headers=practice.headers)
        assert response.status_code == 422, (query, response.text)
    response = practice.client.get("/v1/audit?study=a%00b", headers=practice.headers)
    assert response.status_code == 422


def _study(**fields: Any) -> dict[str, Any]:
    return {"facility": "fac-1", "accession": "A9", "modality": "CT", "priority": "STAT", **fields}


# ----- 2. error amplification ---------------------------------------------------------------
def test_a_body_of_seventy_thousand_unknown_keys_gets_a_small_quick_answer(
    practice: Api,
) -> None:
    body = {f"k{i}": 1 for i in range(70_000)} | _study()
    text_body = json.dumps(body)
    assert len(text_body) > 800_000
    began = time.perf_counter()
    response = raw(practice, "POST", "/v1/studies", text_body)
    elapsed = time.perf_counter() - began
    assert response.status_code == 422
    assert len(response.content) < 64 * 1024
    problem = response.json()
    assert "and 69995 more" in problem["detail"]
    assert elapsed >= 0  # speed is a benchmark's business; the size is the contract


def test_an_error_list_is_capped_at_twenty_with_a_count(practice: Api) -> None:
    readers = {
        f"rad-{i}": {"availability": [{"start": "x", "end": "y", "timezone": "UTC"}]}
        for i in range(40)
    }
    body = {"start": "2026-12-07T00:00:00Z", "weeks": 1, "radiologists": readers}
    problem = practice.call("POST", "/v1/plans", body, 422)
    assert len(problem["errors"]) <= 20
    assert len(json.dumps(problem)) < 64 * 1024


# ----- 4. a site token learns nothing about other facilities ------------------------------
def site_token(api: Api, facility: str) -> str:
    made = api.call(
        "POST", "/v1/tokens", {"name": f"site-{facility}", "role": "site", "facilities": [facility]}
    )
    return str(made["token"])


def test_a_sites_study_does_not_follow_another_facilitys_patient(practice: Api) -> None:
    practice.radiologist("rad-2", credentials=["fac-1", "fac-2"])
    other = practice.study("B1", facility="fac-2", priority="ROUTINE", patient_ref="pt-1")
    holder = other["assigned_to"]
    practice.call(
        "POST", f"/v1/studies/{other['id']}/start", {"radiologist": holder}, 200
    )  # the patient's reader is busy: anyone else is free now
    token = site_token(practice, "fac-1")
    mine = raw(practice, "POST", "/v1/studies", json.dumps(_study(patient_ref="pt-1")), token)
    assert mine.status_code == 201
    assert mine.json()["assigned_to"] not in (None, holder)  # routed like any study
    # The practice's own integration sees both facilities: there the patient's studies do
    # stay together when that keeps them on time.
    together = practice.study("C1", priority="ROUTINE", patient_ref="pt-1")
    assert together["assigned_to"] == holder


def test_cursors_are_opaque_and_only_good_for_their_caller(practice: Api) -> None:
    for i in range(3):
        practice.study(f"A{i}")
        practice.study(f"B{i}", facility="fac-2")
    token = site_token(practice, "fac-1")
    headers = {"Authorization": f"Bearer {token}"}
    page = practice.client.get("/v1/studies?limit=1", headers=headers).json()
    cursor = page["next_cursor"]
    assert cursor is not None and not cursor.isdigit()
    seen = [page["items"][0]["id"]]
    while cursor:
        page = practice.client.get(f"/v1/studies?limit=1&cursor={cursor}", headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == 3
    theirs = practice.call("GET", "/v1/studies?facility=fac-2&limit=1", status=200)
    foreign = theirs["next_cursor"]
    refused = practice.client.get(f"/v1/studies?cursor={foreign}", headers=headers)
    assert refused.status_code == 422


def test_a_sites_why_names_no_reader(practice: Api) -> None:
    study = practice.study("A1")
    token = site_token(practice, "fac-1")
    seen = practice.client.get(
        f"/v1/studies/{study['id']}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    why = seen["why"]
    assert "rad-1" not in json.dumps(why)
    assert why["alternatives"] == [] and why["eligible_radiologists"] == 0


# ----- 5. secrets in output --------------------------------------------------------------------
def test_database_urls_are_masked() -> None:
    url = "postgresql://nighthawk:s3cret@db.example:5432/prod"
    assert "s3cret" not in masked_url(url)
    assert "nighthawk:***@db.example" in masked_url(url)


def test_the_access_log_drops_credentials_in_query_strings() -> None:
    assert (
        redact("/v1/studies?access_token=nh_abc&limit=5") == "/v1/studies?access_token=***&limit=5"
    )
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/v1/studies?token=nh_secret", "1.1", 401),
        None,
    )
    RedactCredentials().filter(record)
    assert "nh_secret" not in record.getMessage()


# ----- 6. report windows ------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["to=1900-01-01T00:00:00Z", "from=2200-12-31T12:00:00Z"])
def test_a_report_window_leaving_the_calendar_is_a_422(practice: Api, query: str) -> None:
    for report in ("sla", "coverage"):
        response = practice.client.get(f"/v1/{report}?{query}", headers=practice.headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].split(":")[0] in {"from", "to"}


# ----- 7. files and headers --------------------------------------------------------------------
def test_the_sqlite_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        for file in files:
            if file.exists():
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    engine.dispose()
    os.chmod(path, 0o644)  # a file made by an older version is tightened on open
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_every_answer_carries_the_security_headers(practice: Api) -> None:
    for path in ("/v1/studies", "/healthz", "/v1/nowhere"):
        response = practice.client.get(path, headers=practice.headers)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_a_trailing_slash_redirect_is_relative_whatever_the_host_says(practice: Api) -> None:
    response = practice.client.get(
        "/v1/studies/?limit=1",
        headers={**practice.headers, "host": "evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 307
    assert response.headers["location"] == "/v1/studies?limit=1"
    sneaky = practice.client.get("//evil.example/", follow_redirects=False)
    assert sneaky.status_code == 404


def test_a_405_says_what_is_allowed(practice: Api) -> None:
    response = practice.client.request("PATCH", "/v1/studies", headers=practice.headers)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"] and "POST" in response.headers["allow"]


# ----- 8. reader-bound tokens --------------------------------------------------------------------
def reader_token(api: Api, reader: str) -> dict[str, str]:
    made = api.call(
        "POST",
        "/v1/tokens",
        {"name": f"own-{reader}", "role": "radiologist", "radiologist": reader},
    )
    assert made["radiologist"] == reader
    return {"Authorization": f"Bearer {made['token']}"}


def test_a_reader_token_acts_only_as_its_reader(practice: Api) -> None:
    practice.radiologist("rad-2", credentials=["fac-1", "fac-2"])
    practice.call("POST", "/v1/radiologists/rad-2/availability", {"available": False}, 200)
    study = practice.study("A1")
    assert study["assigned_to"] == "rad-1"
    mine, theirs = reader_token(practice, "rad-1"), reader_token(practice, "rad-2")
    client = practice.client
    assert client.get("/v1/radiologists/rad-1/next", headers=mine).status_code == 200
    assert client.get("/v1/radiologists/rad-1/next", headers=theirs).status_code == 403
    assert client.get("/v1/radiologists/rad-1/worklist", headers=theirs).status_code == 403
    start = f"/v1/studies/{study['id']}/start"
    forged = client.post(start, json={"radiologist": "rad-1"}, headers=theirs)
    assert forged.status_code == 403
    assert "acts only as rad-2" in forged.json()["detail"]
    assert client.post(start, json={"radiologist": "rad-1"}, headers=mine).status_code == 200
    assert client.post("/v1/studies", json=_study(), headers=mine).status_code == 403
    entry = practice.call("GET", f"/v1/audit?study={study['id']}", status=200)["items"][-1]
    assert (entry["action"], entry["actor"], entry["on_behalf_of"]) == (
        "study.started",
        "own-rad-1",
        "rad-1",
    )


def test_a_worklist_token_acts_for_any_reader_and_the_audit_says_which(practice: Api) -> None:
    made = practice.call("POST", "/v1/tokens", {"name": "pacs", "role": "worklist"})
    headers = {"Authorization": f"Bearer {made['token']}"}
    study = practice.study("A1")
    response = practice.client.post(
        f"/v1/studies/{study['id']}/start", json={"radiologist": "rad-1"}, headers=headers
    )
    assert response.status_code == 200
    entry = practice.call("GET", f"/v1/audit?study={study['id']}", status=200)["items"][-1]
    assert (entry["actor"], entry["on_behalf_of"]) == ("pacs", "rad-1")


def test_tokens_are_made_and_revoked_by_admins_only(practice: Api) -> None:
    problem = practice.call(
        "POST", "/v1/tokens", {"name": "bad", "role": "radiologist", "radiologist": "rad-9"}, 422
    )
    assert problem["detail"].startswith("radiologist")
    practice.call("POST", "/v1/tokens", {"name": "x", "role": "radiologist"}, 422)
    made = practice.call("POST", "/v1/tokens", {"name": "ana", "role": "analyst"}, 201)
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert (
        practice.client.post(
            "/v1/tokens", json={"name": "y", "role": "admin"}, headers=headers
        ).status_code
        == 403
    )
    practice.call("DELETE", "/v1/tokens/ana", status=204)
    practice.call("DELETE", "/v1/tokens/ana-nobody", status=404)


# ----- 9. the audit refuses TRUNCATE on PostgreSQL -------------------------------------------
def test_the_audit_refuses_truncate(practice: Api) -> None:
    engine = practice.runtime.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has no such statement")
    practice.study("A1")
    with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
        connection.execute(text("TRUNCATE audit"))
    assert audit_count(practice) > 0
