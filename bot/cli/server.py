"""``si-bot serve`` (HTTP), ``run`` (Socket Mode), ``console`` and ``db upgrade``."""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from bot.cli.common import Say
from bot.config import Settings

log = logging.getLogger("bot")
# The console's own database: trying it out never changes the one the server uses.
CONSOLE_DATABASE = "sqlite:///si-bot-console.db"


def add_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="HTTP mode: Slack posts to POST /slack/events")
    serve.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    serve.add_argument("--threads", type=int, default=8)
    serve.set_defaults(run=serve_http)
    run = sub.add_parser("run", help="Socket Mode (needs SLACK_APP_TOKEN); no public URL needed")
    run.set_defaults(run=socket_mode)
    console_parser = sub.add_parser("console", help="a local chat that drives the app without Slack")
    console_parser.add_argument(
        "--database-url",
        default=CONSOLE_DATABASE,
        help=f"the console's database (default {CONSOLE_DATABASE}, never DATABASE_URL)",
    )
    console_parser.set_defaults(run=console)
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply schema migrations")
    db.set_defaults(run=db_upgrade)


def without_command(settings: Settings, say: Say, parser: argparse.ArgumentParser) -> int:
    """Plain ``si-bot``: what is missing to connect to Slack, and the console to try it."""
    http_missing, socket_missing = settings.missing_for_http(), settings.missing_for_socket_mode()
    # Nothing to complain about when either mode is fully configured.
    missing = sorted(set(http_missing) | set(socket_missing)) if http_missing and socket_missing else []
    if missing:
        say.out("cli.no_tokens", missing=", ".join(missing))
        return 1
    parser.print_help()
    return 0


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from bot.storage.db import Database

    Database(settings.database_url).upgrade()
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    Say(settings).out("cli.db_ready", url=url)
    return 0


def console(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bot.console.chat import Console

    Console(replace(settings, database_url=args.database_url)).run()
    return 0


def serve_http(settings: Settings, args: argparse.Namespace) -> int:
    missing = settings.missing_for_http()
    if missing:
        Say(settings).err("cli.no_tokens", missing=", ".join(missing))
        return 1
    from bot.app import build_app
    from bot.runtime import build_runtime, preload
    from bot.scheduler import start_scheduler
    from bot.web import make_wsgi_app, serve

    migrate_apart(settings.database_url)  # once, before the workers start
    preload(settings)  # what every worker reads, loaded once and shared by the fork

    def wsgi_factory():
        bot = build_runtime(settings, migrate=False)
        start_scheduler(bot)
        return make_wsgi_app(
            build_app(bot),
            bot.db,
            signing_secret=settings.signing_secret,
            max_body_bytes=settings.max_body_bytes,
        )

    log.info(
        "serving HTTP on %s:%s (%d workers x %d threads)", args.host, args.port, args.workers, args.threads
    )
    serve(wsgi_factory, host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    return 0


def migrate_apart(database_url: str) -> None:
    """Apply the schema migrations in a child process: the workers, forked from this one
    later, then don't carry Alembic (about 11 MB each)."""
    import multiprocessing

    from bot.storage.db import Database

    child = multiprocessing.get_context("fork").Process(target=lambda: Database(database_url).upgrade())
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"si-bot: the database migration failed (exit {child.exitcode}): see the log above")


def socket_mode(settings: Settings, args: argparse.Namespace) -> int:
    missing = settings.missing_for_socket_mode()
    if missing:
        Say(settings).err("cli.no_tokens", missing=", ".join(missing))
        return 1
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_app
    from bot.runtime import build_runtime, preload
    from bot.scheduler import start_scheduler

    preload(settings)
    bot = build_runtime(settings)
    start_scheduler(bot)
    app = build_app(bot, signing_secret="")
    log.info("connecting to Slack in Socket Mode")
    SocketModeHandler(app, settings.app_token, web_client=bot.client).start()
    return 0
