"""Engines, migrations and transactions for SQLite (embedded) and PostgreSQL (production).

Every change to the plan runs in a *write transaction*: `BEGIN IMMEDIATE` on SQLite (one writer
at a time, taken up front so two writers never deadlock upgrading their locks) and, on
PostgreSQL, a `SELECT ... FOR UPDATE` of the single practice-state row, which serializes plan
changes across every API process while reads carry on.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, bindparam, create_engine, event, make_url, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from models.tables import PRACTICE_STATE

_MIGRATIONS = Path(__file__).with_name("migrations")
_WRITE = "nighthawk_write"
DEFAULT_SQLITE_URL = "sqlite:///nighthawk.db"


def normalise_url(url: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def masked_url(url: str) -> str:
    """The URL fit for a log or a terminal: the password replaced by ***."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: hide anything between '//user:' and '@'
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def make_engine(url: str = DEFAULT_SQLITE_URL, *, pool_size: int = 10) -> Engine:
    """An engine whose errors never carry the statement's parameters (a study's patient_ref,
    a reason) into a message or a log (`hide_parameters`)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if not url.startswith("postgresql"):
        raise ValueError(
            f"db: unsupported database URL {masked_url(url)!r} (use sqlite:/// or postgresql://)"
        )
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def _sqlite_engine(url: str) -> Engine:
    if url in ("sqlite://", "sqlite:///:memory:"):
        # Several connections must see one database: an in-memory one would be per connection.
        raise ValueError("db: use a SQLite file (sqlite:///path.db), not an in-memory database")
    _private_files(url)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=NullPool if ":memory:" in url else None,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writes can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps commits
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _private_files(url: str) -> None:
    """The database file is readable by its owner only (0600), and so are the WAL and
    shared-memory files SQLite creates beside it (they take the database's mode)."""
    path = sqlite_path(url)
    if path is None:
        return
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that may change the plan; commits on success, rolls back on error.

    On SQLite the threads of one process first queue on a Python lock: SQLite's own busy
    handler makes a waiting writer sleep in steps of up to 100 ms, which turned a 2 ms write
    into a 600 ms one under load. Across processes the busy handler still arbitrates.
    """
    with _writer_turn(engine), engine.connect() as connection:
        connection = connection.execution_options(**{_WRITE: True})
        with connection.begin():
            yield connection


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def _writer_turn(engine: Engine) -> AbstractContextManager[object]:
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _REGISTRY_LOCK:
        lock = _SQLITE_WRITERS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITERS[engine] = threading.Lock()
    return lock


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection, connection.begin():
        yield connection


def lock_plan(connection: Connection) -> int:
    """Take the plan lock (PostgreSQL row lock; SQLite already holds its write lock).

    Returns the current epoch; `bump_epoch` moves it on so other processes rebuild their caches.
    """
    query = _LOCK_PLAN if connection.dialect.name == "postgresql" else _READ_EPOCH
    return int(connection.execute(query).scalar_one())


def bump_epoch(connection: Connection, epoch: int) -> int:
    connection.execute(_BUMP_EPOCH, {"next_epoch": epoch + 1})
    return epoch + 1


# Built once: the hot paths run these hundreds of times a second, and building a statement
# (and its cache key) costs more than executing it on SQLite.
_READ_EPOCH = select(PRACTICE_STATE.c.epoch).where(PRACTICE_STATE.c.id == 1)
_LOCK_PLAN = _READ_EPOCH.with_for_update()
_BUMP_EPOCH = (
    update(PRACTICE_STATE).where(PRACTICE_STATE.c.id == 1).values(epoch=bindparam("next_epoch"))
)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest revision (or `revision`); safe when several servers
    start at once."""
    with engine.connect() as connection:
        if is_postgres(engine):
            # One migrator at a time across processes; the others wait, then find nothing to do.
            connection.execute(text("SELECT pg_advisory_lock(7262021)"))
            connection.commit()
        try:
            config = Config()
            config.set_main_option("script_location", str(_MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if is_postgres(engine):
                connection.execute(text("SELECT pg_advisory_unlock(7262021)"))
                connection.commit()


def sqlite_path(url: str) -> Path | None:
    url = normalise_url(url)
    if not url.startswith("sqlite:///"):
        return None
    return Path(url.removeprefix("sqlite:///"))
