"""One-statement reads outside a unit of work, for the ack path.

A ``Session`` costs more to open, begin, commit and close than the one-row read ``/si
status`` makes in it, and SQLAlchemy's execution layer (events, cursor wrapping, ``Result``)
more again: together about 0.2 ms of a 0.5 ms ack (``python -m bench.run``). A glance runs
a Core SELECT that SQLAlchemy compiled once for the engine's dialect, with SQLAlchemy's own
bind and result processors (aware UTC datetimes, enums), on a connection of the engine's
pool: the SQL and the types stay SQLAlchemy's, only the per-call machinery is left out.

A lone SELECT needs no transaction: SQLite runs it in one of its own (the pool's connections
are in autocommit, bot/storage/db.py); PostgreSQL's driver begins one, and the pool rolls it
back when the connection returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None


class Prepared:
    """A SELECT compiled for one dialect: its SQL, its parameters' order and processors,
    and its columns' names and processors (each type's implementation for the dialect, as
    SQLAlchemy's own execution uses: SQLite's datetimes are strings to parse)."""

    def __init__(self, statement: Select, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:  # an IN list expanded per call: not for here
            raise ValueError("a glance takes no expanding parameters")
        self.compiled = compiled
        self.sql = compiled.string
        self.order = compiled.positiontup if compiled.positional else None
        self.binds: dict[str, Processor] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        columns = list(statement.selected_columns)
        self.names = [column.key for column in columns]
        self.results: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def parameters(self, given: Mapping[str, Any]) -> Any:
        values = self.compiled.construct_params(dict(given))
        for name, process in self.binds.items():
            if process is not None and values.get(name) is not None:
                values[name] = process(values[name])
        return [values[name] for name in self.order] if self.order is not None else values

    def row(self, raw: tuple[Any, ...]) -> dict[str, Any]:
        return {
            name: (process(value) if process is not None else value)
            for name, process, value in zip(self.names, self.results, raw, strict=True)
        }


class Glance:
    """Reads of ``engine``: ``rows(statement, params)``. Statements are prepared once each;
    pass the same statement object every time (build it once, e.g. under
    ``functools.cache``)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._prepared: dict[int, tuple[Select, Prepared]] = {}

    def prepare(self, statement: Select) -> Prepared:
        found = self._prepared.get(id(statement))
        if found is None or found[0] is not statement:
            found = (statement, Prepared(statement, self.engine.dialect))
            self._prepared[id(statement)] = found  # keeps the statement: its id stays its own
        return found[1]

    def rows(self, statement: Select, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        prepared = self.prepare(statement)
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(prepared.sql, prepared.parameters(params))
                return [prepared.row(raw) for raw in cursor.fetchall()]
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, which ends any transaction the driver began
