"""Shared fixtures: a database (SQLite, or a fresh PostgreSQL database when
SI_TEST_DATABASE_URL points at a server), the fake Slack, and the real app served over HTTP."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.config import Settings
from bot.console.fake_slack import FakeSlack
from bot.domain.policy import DEFAULT_HOLIDAYS_FILE, DEFAULT_POLICY_FILE
from bot.logs import install_masking
from bot.runtime import SiBot, build_runtime
from bot.services import roles
from bot.storage.db import Database
from bot.storage.models import Base
from tests.slack import ListenerPool, SlackDriver, serve_wsgi

ADMIN = "UADMIN0001"
ADMIN2 = "UADMIN0002"
EMPLOYEE = "UEMPLOYEE1"
OTHER = "UOTHER0001"
HR = "UHRSTAFF01"
ADMIN_CHANNEL = "C0ADMIN"
SECRET = "test-signing-secret"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A fixed "now" for the stories: Friday 27 November 2026, 10:00 in Shanghai.
STORY_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)

install_masking()


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """A test that runs ``si-bot`` configures logging as the command does (``force=True``:
    the root logger's handlers replaced by one on that test's captured stderr). Put back
    after it, or every later log line goes to a closed stream ("--- Logging error ---")."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def admins(db: Database) -> list[str]:
    """The filed administrators now."""
    with db.session(read_only=True) as session:
        return roles.admin_ids(session)


def is_admin(db: Database, user: str) -> bool:
    with db.session(read_only=True) as session:
        return roles.is_admin(session, user)


def policy_moving_back(folder: Path, *, reminders_to: str = "channel") -> Path:
    """A copy of the shipped policy that moves holiday deadlines to the working day *before*
    and keeps the registration certificate's examination: the reminder engine's stories were
    worked out on it (the shipped default moves them after, and has no certificate exam:
    tests/test_deadlines.py pins that). ``reminders_to``: its ``[reminders] to``."""
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    text = text.replace('to = "channel"', f'to = "{reminders_to}"')
    text = text.replace('holiday_shift = "next_working_day"', 'holiday_shift = "previous_working_day"')
    text = text.replace("reminders = false", "reminders = true")
    path = folder / "policy-moving-back.toml"
    path.write_text(text, encoding="utf-8")
    shutil.copy(DEFAULT_HOLIDAYS_FILE, folder / "holidays.toml")
    return path


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    server = os.environ.get("SI_TEST_DATABASE_URL", "").strip()
    if not server or server.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'si-bot-test.db'}"
        return
    # A database of our own on the shared server, dropped at the end: the server outlives us.
    name = f"si_bot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database(database_url) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.engine.dispose()


@pytest.fixture
def db(database) -> Iterator[Database]:
    yield database
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(db, fake_slack) -> Settings:
    return Settings(
        bot_token="xoxb-test",
        signing_secret=SECRET,
        api_url=fake_slack.api_url,
        database_url=db.url,
        admins=(ADMIN, ADMIN2),
        admin_channel=ADMIN_CHANNEL,
        language="en",
    )


@pytest.fixture
def clock():
    """The stories happen on STORY_NOW; the clock ticks on from there."""
    with time_machine.travel(STORY_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def make_bot(db, settings, clock):
    def make(**changes) -> SiBot:
        return build_runtime(replace(settings, **changes), db=db, migrate=False)

    return make


@pytest.fixture
def bot(make_bot) -> SiBot:
    return make_bot()


@pytest.fixture
def slack_for(db, fake_slack) -> Iterator:
    """Serve a bot's real app behind a real HTTP server; returns a driver that talks to it
    like Slack. At the end the server stops and the lazy listeners still running are
    waited for, before the database is emptied for the next test."""
    from bot.web import make_wsgi_app

    with contextlib.ExitStack() as stack:

        def serve(bot: SiBot) -> SlackDriver:
            pool = ListenerPool()
            stack.callback(pool.shutdown, wait=True)  # after the server has stopped
            wsgi = make_wsgi_app(
                build_app(bot, executor=pool),
                bot.db,
                signing_secret=SECRET,
                max_body_bytes=bot.settings.max_body_bytes,
            )
            url = stack.enter_context(serve_wsgi(wsgi))
            return SlackDriver(url=url, secret=SECRET, fake=fake_slack, bot=bot, pool=pool)

        yield serve


@pytest.fixture
def slack(bot, slack_for) -> SlackDriver:
    """The story's bot, served like Slack would reach it."""
    return slack_for(bot)
