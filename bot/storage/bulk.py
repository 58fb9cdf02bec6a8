"""Inserting many rows at once, as fast as each database allows: PostgreSQL's COPY, which
takes a hundred thousand rows in about a second where one INSERT a row (even pipelined)
takes tens of seconds; an executemany elsewhere (SQLite runs it in-process)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names of ``table``) in the
    session's transaction. The column types' own conversions apply as for any insert."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    preparer = dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    statement = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"
    pairs = list(zip(names, processors, strict=True))
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] if process is None else process(row[name]) for name, process in pairs])
