"""Engine, sessions and migrations. One Session per unit of work, via ``session_scope``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.glance import Glance

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "si_read_only"

if TYPE_CHECKING:
    from alembic.config import Config


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy, not pysqlite, begin transactions, so SAVEPOINTs work.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            # WAL lets readers go on while one writer writes; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # A unit of work that may write takes the write lock at the start: a deferred
            # transaction that later writes fails at once ("database is locked") when
            # another writer got in between. Reads (WAL) need no lock and wait for nobody.
            # Sent on the driver's connection: a statement through SQLAlchemy's execution
            # (events, cursor, result) would cost more than the transaction's own work on the
            # ack path's one-row reads.
            begin = "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
            conn.connection.driver_connection.execute(begin)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.glance = Glance(self.engine)  # one-statement reads outside a unit of work
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on an exception.
        ``read_only``: it only reads, so on SQLite it takes no write lock."""
        session = (self._read_sessions if read_only else self._sessions)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self) -> None:
        """Apply every pending schema migration. (Alembic is imported here: a server's
        workers never migrate, and don't carry it.)"""
        from alembic import command

        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Processes starting at once migrate one after the other (SQLite's BEGIN
                # IMMEDIATE does the same); the later ones find the schema up to date.
                conn.execute(text("SELECT pg_advisory_xact_lock(7305202611)"))
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
