"""``si-bot outbox list|retry|drop ID``: the messages not delivered yet, and a person's
decision about one that Slack keeps refusing.

The outbox never gives a message up (bot/delivery.py); ``retry`` makes one due now (the
running server's next sweep sends it), ``drop`` gives one up for good, recorded with who
(``--by``, default the login name) and when: it stays in the database, marked, and is never
sent. ``list`` shows no message content, and what Slack said is masked. What the command
prints comes from ``messages/<lang>/outbox.toml`` (``outbox.cli.*``).
"""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime
from typing import Any

from bot.cli import common
from bot.config import Settings


def add_parser(sub: Any) -> None:
    """The ``outbox`` subcommand group, on the main parser's subparsers."""
    outbox = sub.add_parser("outbox", help="messages not delivered yet: list, retry or drop one")
    group = outbox.add_subparsers(dest="outbox_command", required=True)
    group.add_parser("list", help="the messages waiting or failing (failing first), masked")
    retry = group.add_parser("retry", help="make a message due now (the server's next sweep sends it)")
    retry.add_argument("id", type=int, help="the message's number (#ID in `si-bot outbox list`)")
    drop = group.add_parser("drop", help="give a message up for good (recorded with who and when)")
    drop.add_argument("id", type=int, help="the message's number (#ID in `si-bot outbox list`)")
    drop.add_argument("--by", default=None, help="who decided (default: your login name)")
    outbox.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import undeliverable
    from bot.services.undeliverable import Decision

    say = common.Say(settings)
    bot = common.runtime(settings)
    now = bot.now()

    def local(moment: datetime | None) -> str:
        return f"{moment.astimezone(settings.tz):%Y-%m-%d %H:%M:%S}" if moment else ""

    if args.outbox_command == "list":
        with bot.db.session(read_only=True) as session:
            rows, total = undeliverable.queued(session)
        if not rows:
            say.out("outbox.cli.none")
            return 0
        say.out("outbox.cli.header", total=total, shown=len(rows))
        for row in rows:
            say.out(
                "outbox.cli.row",
                id=row.id,
                notice=row.notice,
                target=row.target,
                attempts=row.attempts,
                next=local(row.not_before),
                failing_since=local(row.first_failed_at),
                alerted=row.alerted,
                in_doubt=row.in_doubt,
                key=row.key,
                error=row.last_error,
            )
        return 0
    with bot.db.session() as session:
        if args.outbox_command == "retry":
            outcome = undeliverable.retry(session, args.id, now)
        else:
            by = args.by or getpass.getuser()
            outcome = undeliverable.drop(session, args.id, by, now)
    if outcome.decision is Decision.DONE:
        done = "outbox.cli.retried" if args.outbox_command == "retry" else "outbox.cli.dropped"
        say.out(done, id=args.id, by=outcome.dropped_by, at=local(outcome.dropped_at))
        return 0
    refusal = {
        Decision.MISSING: "outbox.cli.missing",
        Decision.ALREADY_SENT: "outbox.cli.already_sent",
        Decision.DROPPED: "outbox.cli.already_dropped",
    }[outcome.decision]
    say.err(refusal, id=args.id, by=outcome.dropped_by, at=local(outcome.dropped_at))
    return 1
