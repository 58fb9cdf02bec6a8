"""The two WSGI apps the benchmark serves: si-bot itself, and a bare Bolt app configured
for speed (process_before_response=True, a /si listener and an Approve listener that only ack)."""

from __future__ import annotations

import os
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import DEFAULT_MAX_BODY_BYTES
from bot.storage.db import Database
from bot.web import make_wsgi_app


def preload() -> None:
    """What ``si-bot serve`` does before it forks its workers: migrate apart, load what they
    share (bot/cli/server.py)."""
    from bot.cli.server import migrate_apart
    from bot.config import load_settings
    from bot.runtime import preload as load_shared

    settings = load_settings()
    migrate_apart(settings.database_url)
    load_shared(settings)


def si_bot(executor: Executor | None = None):
    """si-bot as served; ``executor``: where the work after the acks goes (default: the
    lazy pool)."""
    from bot.app import build_app
    from bot.config import load_settings
    from bot.runtime import build_runtime

    settings = load_settings()
    bot = build_runtime(settings, migrate=False)
    app = build_app(bot, executor=executor)
    limit = settings.max_body_bytes
    return make_wsgi_app(app, bot.db, signing_secret=settings.signing_secret, max_body_bytes=limit)


def bare():
    client = WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"])
    app = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
        token_verification_enabled=False,
    )

    @app.command("/si")
    def only_ack(ack):
        ack()

    @app.action("request_approve")
    def only_ack_the_press(ack):
        ack()

    return make_wsgi_app(
        app,
        Database(os.environ["DATABASE_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        max_body_bytes=DEFAULT_MAX_BODY_BYTES,
    )
