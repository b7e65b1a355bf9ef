"""executemany at driver speed for the ingest hot path.

SQLAlchemy's Core executemany rebuilds every parameter dict in Python
(`construct_params`), which measured as the largest single cost of ingest
(~3 µs per row, more than SQLite's own insert). The statements here are still
built with Core (so the SQL stays dialect-correct, ON CONFLICT included).

Two forms:
- `executemany(conn, statement, dicts)`: compiled per call, rows are dicts (pysqlite
  takes named parameters whatever paramstyle SQLAlchemy picked, psycopg takes
  pyformat dicts). For the occasional statement.
- `Positional`: compiled once per dialect with positional parameters (`?` on SQLite,
  `%s` on psycopg); rows are tuples in the order of `keys`. Binding a tuple skips a
  dict lookup per value in the driver and building the dict in Python: the hot path's
  row form. psycopg gets them through the cursor's executemany (pipelined). On SQLite
  they go as multi-row `VALUES (...), (...)` statements of up to a few hundred rows:
  pysqlite's executemany releases and re-takes the GIL around every single row, and
  while the event loop thread holds the GIL each re-take waits (up to the 5 ms switch
  interval), so under load the writer crawled; measured on 2 cores with a busy second
  thread, 21 µs per row with executemany against ~6 µs multi-row (and 2.7 against 1.9
  µs with no other thread). Chunk sizes are powers of two so that the prepared
  statements stay few and cached by the driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Float
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.expression import Executable

_named: dict[type[Dialect], Dialect] = {}
_positional: dict[type[Dialect], Dialect] = {}
_POSITIONAL_STYLE = {"sqlite": "qmark", "postgresql": "format"}
# Rows per multi-row statement on SQLite, at most (fewer when the variable limit is low).
_MAX_CHUNK = 512


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


def _positional_dialect(dialect: Dialect) -> Dialect:
    found = _positional.get(type(dialect))
    if found is None:
        style = _POSITIONAL_STYLE.get(dialect.name)
        if style is None:
            raise ValueError(f"unsupported database dialect {dialect.name!r}")
        found = _positional[type(dialect)] = type(dialect)(paramstyle=style)  # type: ignore[call-arg]
    return found


class _Compiled:
    """One statement's SQL for one dialect, and what it needs per row."""

    def __init__(self, sql: str, processors: list[tuple[int, Callable[[Any], Any]]]) -> None:
        self.sql = sql
        self.processors = processors
        self.chunks: dict[int, str] = {}
        self.max_chunk = 1
        self.head = self.group = self.tail = ""


class Positional:
    """One statement for tuple rows, compiled once per database dialect.

    `build(conn)` makes the Core statement, an INSERT (ON CONFLICT allowed); `keys`
    name the tuple's positions and must be the statement's parameter order (checked
    at compile time, so a mismatch fails the first call, never silently binds a value
    to the wrong column).
    """

    def __init__(self, build: Callable[[Connection], Executable], keys: Sequence[str]) -> None:
        self._build = build
        self.keys = tuple(keys)
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, conn: Connection) -> _Compiled:
        name = conn.dialect.name
        found = self._compiled.get(name)
        if found is None:
            compiled = self._build(conn).compile(  # type: ignore[attr-defined]
                dialect=_positional_dialect(conn.dialect), column_keys=list(self.keys)
            )
            order = tuple(compiled.positiontup or ())
            if order != self.keys:
                raise RuntimeError(f"parameter order {order} is not {self.keys}")
            processors: list[tuple[int, Callable[[Any], Any]]] = []
            for position, key in enumerate(self.keys):
                proc = compiled._bind_processors.get(key)
                if proc is None:
                    continue
                if name == "sqlite" and isinstance(compiled.binds[key].type, Float):
                    # int -> float: SQLite's REAL affinity (FLOAT columns) does it on store.
                    continue
                processors.append((position, proc))
            found = _Compiled(compiled.string, processors)
            if name == "sqlite":
                group = "(" + ", ".join("?" for _ in self.keys) + ")"
                head, values, tail = found.sql.partition(" VALUES " + group)
                if not values or group in tail:
                    raise RuntimeError(f"not a one-row INSERT: {found.sql}")
                found.head, found.group, found.tail = head + " VALUES ", group, tail
                dbapi = conn.connection.dbapi_connection
                limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
                while (
                    found.max_chunk * 2 <= _MAX_CHUNK
                    and found.max_chunk * 2 * len(self.keys) <= limit
                ):
                    found.max_chunk *= 2
            self._compiled[name] = found
        return found

    def run(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Execute once per tuple, in the caller's transaction."""
        if not rows:
            return
        compiled = self._compile(conn)
        if compiled.processors:
            converted: list[tuple[Any, ...]] = []
            for row in rows:
                values = list(row)
                for position, proc in compiled.processors:
                    values[position] = proc(values[position])
                converted.append(tuple(values))
            rows = converted
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if conn.dialect.name != "sqlite":
                cursor.executemany(compiled.sql, rows)
                return
            start, size = 0, compiled.max_chunk
            while start < len(rows):
                while size > len(rows) - start:
                    size //= 2
                sql = compiled.chunks.get(size)
                if sql is None:
                    groups = ", ".join([compiled.group] * size)
                    sql = compiled.chunks[size] = compiled.head + groups + compiled.tail
                cursor.execute(sql, list(chain.from_iterable(rows[start : start + size])))
                start += size
        finally:
            cursor.close()
