"""Real databases for tests: a SQLite file per test, and PostgreSQL when it is there.

PostgreSQL tests skip only when the server is absent *and* NIGHTHAWK_REQUIRE_POSTGRES is unset;
CI sets it, so there they run or fail. Each test session gets its own freshly created database
(migrated once); each test starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from nighthawk.service.db import make_engine, migrate

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_TABLES = (
    "audit",
    "study",
    "shift",
    "radiologist",
    "facility",
    "api_token",
    "job_lease",
    "plan",
    "procedure_code",
    "hl7_message",
)


def postgres_admin_url() -> str:
    return os.environ.get("NIGHTHAWK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    engine = create_engine(postgres_admin_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as error:
        return str(error).splitlines()[0]
    finally:
        engine.dispose()


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("NIGHTHAWK_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL required (NIGHTHAWK_REQUIRE_POSTGRES) but unavailable: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


class PostgresDatabase:
    """A throwaway database on the server, created and migrated once."""

    def __init__(self) -> None:
        admin = make_url(postgres_admin_url())
        self.name = f"nighthawk_test_{uuid.uuid4().hex[:10]}"
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self._admin = create_engine(admin, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        engine = make_engine(self.url)
        migrate(engine)
        engine.dispose()

    def reset(self) -> None:
        engine = create_engine(self.url)
        with engine.begin() as connection:
            # The audit refuses TRUNCATE (a trigger); the tests' superuser empties it between
            # tests with triggers off for this session only, which the service's role cannot.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
            connection.execute(text("UPDATE practice_state SET epoch = 0"))
        engine.dispose()

    def drop(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'nighthawk.db'}"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    require_postgres()
    database = PostgresDatabase()
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test, once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    database.reset()
    return database.url
