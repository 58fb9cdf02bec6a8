"""``si-bot``: serve (HTTP), run (Socket Mode), console, db upgrade."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="si-bot", description="Social insurance requests and reminders in Slack."
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="HTTP mode: Slack posts to POST /slack/events")
    serve.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    serve.add_argument("--threads", type=int, default=8)
    sub.add_parser("run", help="Socket Mode (needs SLACK_APP_TOKEN); no public URL needed")
    sub.add_parser("console", help="a local chat that drives the app without Slack")
    ask = sub.add_parser("ask", help="print the help channel's answer to a question")
    ask.add_argument("question", help='the question, or "-" to read one question a line from standard input')
    ask.add_argument("--lang", choices=["zh", "en"], help="answer in this language (default: the question's)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply schema migrations")
    from bot import cli_reminders

    cli_reminders.add_parser(sub)
    from bot import cli_workspace

    cli_workspace.add_parser(sub)
    from bot import cli_roster

    cli_roster.add_parser(sub)
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"si-bot: {exc}", file=sys.stderr)
        return 2
    setup_logging("WARNING" if args.command in ("console", "ask") else settings.log_level)

    if args.command == "reminders":
        return cli_reminders.run(settings, args)
    if args.command == "export":
        return cli_workspace.run(settings, args)
    if args.command in cli_roster.COMMANDS:
        return cli_roster.run(settings, args)
    if args.command == "db":
        return db_upgrade(settings)
    if args.command == "ask":
        return ask_questions(settings, args.question, args.lang, args.json)
    if args.command == "console":
        return console(settings)
    if args.command == "serve":
        return serve_http(settings, args.host, args.port, args.workers, args.threads)
    if args.command == "run":
        return socket_mode(settings)
    http_missing, socket_missing = settings.missing_for_http(), settings.missing_for_socket_mode()
    # Nothing to complain about when either mode is fully configured.
    missing = sorted(set(http_missing) | set(socket_missing)) if http_missing and socket_missing else []
    if missing:
        print(_say(settings, "no_tokens", missing=", ".join(missing)))
        return 1
    parser.print_help()
    return 0


def db_upgrade(settings: Settings) -> int:
    from bot.storage.db import Database

    Database(settings.database_url).upgrade()
    print(_say(settings, "db_ready", url=_safe_url(settings.database_url)))
    return 0


def ask_questions(settings: Settings, question: str, lang: str | None, as_json: bool) -> int:
    """Answer like the help channel does, without Slack or a database."""
    import json

    from bot.domain.policy import load_policy
    from bot.knowledge import KnowledgeBase

    kb = KnowledgeBase.load(policy=load_policy(settings.policy_file or None))
    questions = (line.strip() for line in sys.stdin) if question == "-" else [question]
    for text in questions:
        if not text:
            continue
        found = kb.answer(text, lang=lang, admins=settings.admins)
        escalate = found.escalate or not found.topic
        if as_json:
            record = {
                "question": text,
                "topic": found.topic,
                "score": round(float(found.score), 4),
                "lang": found.lang,
                "escalate": escalate and not found.out_of_scope and not found.quiet,
                "out_of_scope": found.out_of_scope,
                "quiet": found.quiet,
                "answer": found.text,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            topic = found.topic or (f"- ({found.out_of_scope})" if found.out_of_scope else "-")
            print(_say(settings, "ask_result", topic=topic, score=f"{found.score:.3f}"))
            if found.text:
                print(found.text)
            elif escalate:
                print(_say(settings, "ask_escalate"))
    return 0


def console(settings: Settings) -> int:
    from bot.console.chat import Console

    Console(settings).run()
    return 0


def serve_http(settings: Settings, host: str, port: int, workers: int, threads: int) -> int:
    missing = settings.missing_for_http()
    if missing:
        print(_say(settings, "no_tokens", missing=", ".join(missing)), file=sys.stderr)
        return 1
    from bot.app import build_app
    from bot.runtime import build_runtime
    from bot.scheduler import start_scheduler
    from bot.storage.db import Database
    from bot.web import make_wsgi_app, serve

    Database(settings.database_url).upgrade()  # once, before the workers start

    def wsgi_factory():
        bot = build_runtime(settings, migrate=False)
        bot.knowledge  # noqa: B018 - load the knowledge base now, not on the first question
        start_scheduler(bot)
        return make_wsgi_app(build_app(bot), bot.db)

    log.info("serving HTTP on %s:%s (%d workers x %d threads)", host, port, workers, threads)
    serve(wsgi_factory, host=host, port=port, workers=workers, threads=threads)
    return 0


def socket_mode(settings: Settings) -> int:
    missing = settings.missing_for_socket_mode()
    if missing:
        print(_say(settings, "no_tokens", missing=", ".join(missing)), file=sys.stderr)
        return 1
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_app
    from bot.runtime import build_runtime
    from bot.scheduler import start_scheduler

    bot = build_runtime(settings)
    bot.knowledge  # noqa: B018 - load the knowledge base now, not on the first question
    start_scheduler(bot)
    app = build_app(bot, signing_secret="")
    log.info("connecting to Slack in Socket Mode")
    SocketModeHandler(app, settings.app_token, web_client=bot.client).start()
    return 0


def _say(settings: Settings, key: str, **params: str) -> str:
    from bot.messages import Messages

    return str(Messages(settings.language).text(f"cli.{key}", **params))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    raise SystemExit(main())
