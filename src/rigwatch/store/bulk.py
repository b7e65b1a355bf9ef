"""executemany at driver speed for the ingest hot path.

SQLAlchemy's Core executemany rebuilds every parameter dict in Python
(`construct_params`), which measured as the largest single cost of ingest
(~3 µs per row, more than SQLite's own insert). The statements here are still
built with Core (so the SQL stays dialect-correct, ON CONFLICT included); they
are compiled once per call and the rows go to the DBAPI cursor's executemany
as the same list of dicts. pysqlite takes named parameters whatever paramstyle
SQLAlchemy picked, and psycopg takes pyformat dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.expression import Executable

_named: dict[type[Dialect], Dialect] = {}


def _named_dialect(dialect_type: type[Dialect]) -> Dialect:
    dialect = _named.get(dialect_type)
    if dialect is None:
        dialect = _named[dialect_type] = dialect_type(paramstyle="named")  # type: ignore[call-arg]
    return dialect


def executemany(conn: Connection, statement: Executable, rows: Sequence[dict[str, Any]]) -> None:
    """Run `statement` once per row dict, in one driver executemany; no-op for no rows.

    The dicts are converted in place by the type's bind processors (if any), so
    pass rows built for this call only.
    """
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name == "sqlite":
        dialect = _named_dialect(type(dialect))
    compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]))  # type: ignore[attr-defined]
    if compiled.positional:
        raise RuntimeError(f"{dialect.name} compiled positional parameters; expected named")
    processors = [
        (key, proc) for key, proc in compiled._bind_processors.items() if proc is not None
    ]
    if processors:
        # The rows are the caller's fresh dicts, built for this call: convert in place.
        for row in rows:
            for key, proc in processors:
                if key in row:
                    row[key] = proc(row[key])
    conn.exec_driver_sql(compiled.string, list(rows))
