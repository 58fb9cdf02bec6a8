"""``si-bot``: the command line. Each group of subcommands is a module of this package with
``add_parser(sub)``, which names the function that runs it (``set_defaults(run=...)``)."""

from __future__ import annotations

import argparse
import sys

from bot.cli import ask, bases, exports, kb, ledger, outbox, policy, reminders, report, roster, server
from bot.cli.common import Say
from bot.config import ConfigError, load_settings
from bot.logs import setup_logging

GROUPS = (server, ask, reminders, exports, policy, roster, kb, report, ledger, bases, outbox)
# Commands whose output is for a person at a terminal: the log stays out of it (the
# console's goes to a file of its own).
QUIET = {"console", "ask", "roster", "wages", "kb", "bill", "bases", "outbox"}
CONSOLE_LOG = "si-bot-console.log"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="si-bot", description="Social insurance requests and reminders in Slack."
    )
    sub = parser.add_subparsers(dest="command")
    for group in GROUPS:
        group.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"si-bot: {exc}", file=sys.stderr)
        return 2
    setup_logging(
        "WARNING" if args.command in QUIET else settings.log_level,
        file=CONSOLE_LOG if args.command == "console" else None,
    )
    if args.command is None:
        return server.without_command(settings, Say(settings), parser)
    return args.run(settings, args)


if __name__ == "__main__":
    raise SystemExit(main())
