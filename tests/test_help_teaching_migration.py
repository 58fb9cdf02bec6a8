"""The teaching tables' migration runs on SQLite and PostgreSQL (a fresh database on the
server, as in the processes test) over a database that already holds answers; so does the
one that marks questions asked in a DM (0014), the answers before it not private."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Database, alembic_config
from bot.storage.models import Base, HelpAnswer, HelpLesson, HelpOffer
from tests.test_reminders_processes import shared_database  # noqa: F401 - the fixture, shared

THEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_existing_answers_stay_and_lessons_keep_one_active_a_question(shared_database):  # noqa: F811
    db = Database(shared_database)
    with db.engine.begin() as conn:
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        conn.execute(
            text(
                "INSERT INTO help_answers (key, channel, thread_ts, asker_id, question, lang, topic, score,"
                " outcome, created_at) VALUES ('msg:C0HELP:1', 'C0HELP', '1', 'U1', '社保怎么交', 'zh', NULL,"
                " 0.1, 'escalated', :then)"
            ),
            {"then": THEN},
        )
    db.upgrade()
    lesson = dict(kind="phrasing", topic="payback", question="社保怎么交", taught_by="U1", taught_at=THEN)
    with db.session() as session:
        (answer,) = session.scalars(select(HelpAnswer)).all()
        assert answer.question == "社保怎么交" and answer.private is False
        session.add(HelpOffer(answer_id=answer.id, rank=1, topic="payback"))
        session.add(HelpLesson(answer_id=answer.id, retired_at=THEN, retired_by="U1", **lesson))
        session.add(HelpLesson(answer_id=answer.id, **lesson))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(HelpLesson(answer_id=answer.id, **lesson))
    with db.session() as session:
        assert len(session.scalars(select(HelpLesson)).all()) == 2
    db.engine.dispose()


def test_the_help_tables_match_their_migrations(db):
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Tables, columns and indexes; not types: SQLite reads the score's FLOAT back as REAL.
    mine = [d for d in differences if "'help_" in repr(d) and "modify_type" not in repr(d)]
    assert mine == []
