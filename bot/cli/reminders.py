"""``si-bot reminders``: due, send (an administrator's manual tick) and calendar.

``--at`` is a local time in SI_TIMEZONE (``2026-12-10T09:00``); without it, now. What the
command prints comes from ``messages/<lang>/reminders.toml`` (``reminder.cli.*``).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cli import common
from bot.config import Settings

DEFAULT_WAIT = 30.0


def add_parser(sub: Any) -> None:
    """The ``reminders`` subcommand group, on the main parser's subparsers."""
    reminders = sub.add_parser("reminders", help="deadline reminders: due, send, calendar")
    group = reminders.add_subparsers(dest="reminders_command", required=True)
    at_help = "local time in SI_TIMEZONE, YYYY-MM-DDTHH:MM (default: now)"
    due = group.add_parser("due", help="list the reminders due at a moment (sends nothing)")
    due.add_argument("--at", help=at_help)
    send = group.add_parser("send", help="send the reminders due at a moment (a manual tick)")
    send.add_argument("--at", help=at_help)
    send.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        help=f"seconds to keep retrying messages Slack postponed (default {DEFAULT_WAIT:g})",
    )
    calendar = group.add_parser("calendar", help="a year's deadlines after holiday moves")
    calendar.add_argument("year", type=int)
    reminders.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    say = _Sayer(settings)
    if args.reminders_command == "calendar":
        return calendar(settings, say, args.year)
    try:
        at = parse_at(args.at, settings) if args.at else None
    except ValueError:
        print(say("bad_at", value=args.at))
        return 2
    if args.reminders_command == "due":
        return due(settings, say, at)
    return send(settings, say, at, args.wait)


def parse_at(text: str, settings: Settings) -> datetime:
    """``2026-12-10T09:00`` (or with a space, or seconds) as a local time in SI_TIMEZONE;
    an explicit offset is honoured."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=settings.tz)
    return value


def due(settings: Settings, say: _Sayer, at: datetime | None) -> int:
    from bot.services.reminders import due_reminders

    bot = common.runtime(settings)
    now = at or bot.now()
    with bot.db.session(read_only=True) as session:
        found = due_reminders(session, bot.workplace, now)
    stamp = dict(at=_local(now, settings), tz=settings.timezone)
    if not found:
        print(say("nothing_due", **stamp))
        return 0
    print(say("due_header", **stamp))
    _print_rows(say, found, bot.workplace.calendar)
    return 0


def send(settings: Settings, say: _Sayer, at: datetime | None, wait: float) -> int:
    if not settings.bot_token:
        print(say.plain("cli.no_tokens", missing="SLACK_BOT_TOKEN"))
        return 1
    from bot.scheduler import reminder_tick

    bot = common.runtime(settings, clock=_clock_from(at) if at else None)
    now = bot.now()
    claimed = reminder_tick(bot, now)
    stamp = dict(at=_local(now, settings), tz=settings.timezone)
    if not claimed:
        print(say("nothing_sent", **stamp))
    else:
        print(say("sent_header", count=len(claimed), **stamp))
        _print_rows(say, claimed, bot.workplace.calendar)
    pending = _wait_for_delivery(bot, [r.key for r in claimed], wait)
    if pending:
        print(say("pending", n=pending))
    return 0


def _wait_for_delivery(bot, keys: list[str], wait: float) -> int:
    """Keep delivering until this tick's messages are out or ``wait`` seconds pass (Slack
    may have asked to wait, 429, or failed, 5xx). Returns how many are still queued."""
    from sqlalchemy import or_, select

    from bot.storage.models import OutboxMessage

    if not keys:
        return 0
    give_up = time.monotonic() + wait
    while True:
        with bot.db.session() as session:
            queued = session.scalars(
                select(OutboxMessage.not_before).where(
                    or_(*(OutboxMessage.key.startswith(f"reminder:{key}:") for key in keys)),
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.dropped_at.is_(None),
                )
            ).all()
        left = give_up - time.monotonic()
        if not queued or left <= 0:
            return len(queued)
        pause = (min(queued) - bot.now()).total_seconds()
        time.sleep(min(max(pause, 0.2), left))
        bot.deliverer.deliver_pending()


def calendar(settings: Settings, say: _Sayer, year: int) -> int:
    from bot.domain.calendar import WEEKENDS_ONLY
    from bot.domain.deadlines import Stage, deadlines_for_year
    from bot.domain.reminders import plan

    workplace = common.workplace(settings)
    policy, cal = workplace.policy, workplace.calendar
    deadlines = deadlines_for_year(policy, cal, year)
    summary = policy.summary_zh if settings.language == "zh" else policy.summary
    print(say("calendar_header", year=year, tz=settings.timezone, summary=summary))
    source = cal.source(year)
    print(say("calendar_source", source=say("weekends_only") if source == WEEKENDS_ONLY else source))
    if not cal.covered(year):
        print(say("calendar_uncovered", year=year, file=policy.holidays_file or cal.label))
    print()
    for deadline in deadlines:
        moved = ""
        if deadline.moved:
            moved = say("calendar_moved", nominal=deadline.nominal, weekday=say.weekday(deadline.nominal))
        title = say.title(deadline.kind.value, deadline.period)
        print(
            say("calendar_row", due=deadline.due, weekday=say.weekday(deadline.due), title=title, moved=moved)
        )
        days = plan(deadline, policy, cal)
        before = ", ".join(f"{d:%m-%d}" for d, stage in days if stage is not Stage.MISSED)
        missed = [d for d, stage in days if stage is Stage.MISSED]
        if missed:
            print(say("calendar_reminders", days=before, missed=f"{missed[0]:%m-%d}"))
        else:
            print(say("calendar_reminders_open", days=before))
    return 0


def _print_rows(say: _Sayer, rows, calendar) -> None:
    uncovered: set[int] = set()
    for r in rows:
        print(
            say(
                "row",
                scheduled_on=r.scheduled_on,
                title=say.title(r.kind, r.period),
                stage=say.plain(f"reminder.stage.{r.stage}"),
                due=r.due,
                late=say("late") if r.late else "",
                ref=r.key,
            )
        )
        if not r.calendar_covered:
            uncovered |= {y for y in (r.scheduled_on.year, r.due.year) if not calendar.covered(y)}
    if uncovered:
        print(say("uncovered", years=", ".join(str(y) for y in sorted(uncovered))))


def _local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")


def _clock_from(at: datetime):
    """A clock that starts at ``at`` and runs on in real time, so back-offs still elapse."""
    started = time.monotonic()
    start = at.astimezone(UTC)

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - started)

    return clock


class _Sayer(common.Say):
    """The words of ``reminder.cli.*``, reminders' titles and the days of the week."""

    def __call__(self, name: str, /, **params: Any) -> str:
        return super().__call__(f"reminder.cli.{name}", **params)

    def plain(self, key: str, /, **params: Any) -> str:
        return super().__call__(key, **params)

    def title(self, kind: str, period: str) -> str:
        return self.plain(f"reminder.title.{kind}", period=period)

    def weekday(self, day) -> str:
        return self.plain(f"reminder.weekday.{day.weekday()}")
