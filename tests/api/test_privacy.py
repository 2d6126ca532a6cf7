"""A patient is grouped by a keyed hash: the reference a sender gives is stored nowhere."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from nighthawk.service.db import make_engine, migrate
from nighthawk.service.patients import PatientKey, pseudonym
from tests.api.conftest import Api
from tests.dump import DatabaseDump

MRN = "MRN-0012345"


def test_a_patient_reference_is_kept_only_as_a_keyed_hash(api: Api, database_url: str) -> None:
    api.facility("fac-1")
    api.radiologist("rad-1")
    api.radiologist("rad-2")
    first = api.study("PH1", patient_ref=MRN)
    second = api.study("PH2", patient_ref=MRN)
    other = api.study("PH3", patient_ref="MRN-0099999")
    assert first["patient_ref"] == second["patient_ref"] != other["patient_ref"]
    assert first["patient_ref"].startswith("ph_") and "0012345" not in first["patient_ref"]
    assert second["assigned_to"] == first["assigned_to"]  # still grouped with its patient

    assert api.study("PH1", status=200, patient_ref=MRN)["id"] == first["id"]  # a retry
    changed = api.study("PH1", status=409, patient_ref="MRN-0099999")
    assert "different content" in changed["detail"]

    dump = DatabaseDump(database_url)
    stored = "\n".join(dump.take())
    dump.close()
    assert "0012345" not in stored and "0099999" not in stored
    assert first["patient_ref"] in stored


def test_the_key_is_the_settings_where_given_else_the_databases(api: Api) -> None:
    engine = api.runtime.engine
    stored = PatientKey(engine)
    configured = "k" * 40
    assert PatientKey(engine).pseudonym(MRN) == stored.pseudonym(MRN)  # every process agrees
    assert PatientKey(engine, configured).pseudonym(MRN) == pseudonym(configured.encode(), MRN)
    assert PatientKey(engine, configured).pseudonym(MRN) != stored.pseudonym(MRN)
    assert stored.pseudonym(None) is None


def test_the_migration_hashes_references_already_stored(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0003")  # a database from before patients were hashed
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO facility (id, name, state, timezone) "
                "VALUES ('fac-1', 'F', 'WY', 'UTC')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO study (seq, id, facility, accession, state, modality, priority, "
                "subspecialty_required, patient_ref, expected_minutes, received_at, due_at, "
                "status, queue_rank, pinned, content_hash, version) VALUES (1, 's1', 'fac-1', "
                "'A1', 'WY', 'CT', 'STAT', 0, :ref, 10, '2026-12-01 00:00:00', "
                "'2026-12-01 00:30:00', 'received', 0, 0, 'x', 1)"
            ),
            {"ref": MRN},
        )
    migrate(engine)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT patient_ref FROM study")).scalar_one()
    assert kept == PatientKey(engine).pseudonym(MRN)
    engine.dispose()
