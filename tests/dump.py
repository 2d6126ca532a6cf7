"""A database as text, to prove a request changed nothing: every row of every table."""

from __future__ import annotations

import difflib
import sqlite3

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# The plan service renews its job lease every 20 s once it owns a plan, whatever the requests
# do: that timestamp is the one value a quiet database still changes.
IGNORED_COLUMNS = {"job_lease": {"expires_at"}}


class DatabaseDump:
    """Every row of every table as text, ordered by primary key.

    PostgreSQL renders each value as text (`CAST(... AS TEXT)`: JSON exactly as stored, floats
    in their shortest exact form); SQLite values come back as stored and are `repr`-ed. Sequences
    are left out: PostgreSQL spends a sequence number on an insert that is rolled back, by design.
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        if self.sqlite:
            uri = f"file:{parsed.database}?mode=ro"
            self.engine = create_engine(
                "sqlite://",
                creator=lambda: sqlite3.connect(uri, uri=True),
                poolclass=NullPool,
            )
        else:
            self.engine = create_engine(parsed, isolation_level="AUTOCOMMIT", pool_size=1)
        self.queries = self._queries()

    def _queries(self) -> list[tuple[str, str]]:
        inspector = inspect(self.engine)
        quote_name = self.engine.dialect.identifier_preparer.quote
        queries = []
        for table in sorted(inspector.get_table_names()):
            ignored = IGNORED_COLUMNS.get(table, set())
            columns = [c["name"] for c in inspector.get_columns(table) if c["name"] not in ignored]
            keys = inspector.get_pk_constraint(table)["constrained_columns"] or columns
            shown = [
                quote_name(c) if self.sqlite else f"CAST({quote_name(c)} AS TEXT)" for c in columns
            ]
            order = ", ".join(quote_name(c) for c in keys)
            queries.append(
                (table, f"SELECT {', '.join(shown)} FROM {quote_name(table)} ORDER BY {order}")
            )
        return queries

    def take(self) -> list[str]:
        lines = []
        with self.engine.connect() as connection:
            for table, query in self.queries:
                lines.append(f"-- {table}")
                lines.extend(repr(tuple(row)) for row in connection.exec_driver_sql(query))
        return lines

    def close(self) -> None:
        self.engine.dispose()


def difference(before: list[str], after: list[str], lines: int = 12) -> str:
    """The first lines of a unified diff of two dumps, each cut to 300 characters."""
    diff = difflib.unified_diff(before, after, "before", "after", n=0, lineterm="")
    shown = []
    for number, line in enumerate(diff):
        if number >= lines:
            shown.append("...")
            break
        shown.append(line if len(line) <= 300 else f"{line[:300]}... ({len(line)} chars)")
    return "\n".join(shown)
