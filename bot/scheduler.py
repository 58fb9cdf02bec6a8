"""Background work of a running bot: the outbox sweep, the reminder tick, the monthly
report and the reminder of the base declaration's publicity.

APScheduler 3.x with an in-memory job store: each process runs its own jobs, and the
work they do is claimed in the database, so several processes never do it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.domain.months import YearMonth
from bot.presenters.report import topic_titles
from bot.runtime import SiBot
from bot.services.bases import remind_unanswered
from bot.services.reminders import DueReminder, send_due
from bot.services.report import send_monthly_report

log = logging.getLogger(__name__)
SWEEP_SECONDS = 20
# The reminder tick: every few minutes of the clock in SI_TIMEZONE; each tick sends what is
# due and not yet sent, so a reminder goes out within this many minutes of its time.
TICK_MINUTES = 5


def start_scheduler(bot: SiBot) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=bot.settings.tz)
    scheduler.add_job(
        _sweep,
        "interval",
        args=[bot],
        seconds=SWEEP_SECONDS,
        id="outbox-sweep",
        max_instances=1,
        coalesce=True,
        # A sweep missed while the process was busy still runs (the default grace is 1 s).
        misfire_grace_time=None,
    )
    # The reminder tick and the monthly report's: ticks missed while the process slept run
    # once when it wakes, however late: each works out from the database what is due and
    # unsent, so a late run only catches up (APScheduler's default grace of 1 s would silently
    # drop it). Both run at start too, not 5 minutes later.
    for work, job_id in (
        (_remind, "reminder-tick"),
        (_report, "monthly-report"),
        (_bases_remind, "bases-publicity-reminder"),
    ):
        scheduler.add_job(
            work,
            "cron",
            args=[bot],
            minute=f"*/{TICK_MINUTES}",
            id=job_id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(bot.settings.tz),
        )
    scheduler.start()
    return scheduler


def reminder_tick(bot: SiBot, now: datetime | None = None) -> list[DueReminder]:
    """Claim every reminder due at ``now`` (default: the bot's clock) in one transaction,
    then deliver the outbox. Returns what this tick claimed."""
    now = now or bot.now()
    with bot.db.session() as session:
        claimed = send_due(session, bot.workplace, now)
    bot.deliverer.deliver_pending()  # this tick's, and whatever an earlier run left behind
    return claimed


def report_tick(bot: SiBot, now: datetime | None = None) -> YearMonth | None:
    """Claim the monthly report if it is due at ``now`` (default: the bot's clock), then
    deliver the outbox. Returns the month claimed, if any."""
    now = now or bot.now()
    with bot.db.session() as session:
        month = send_monthly_report(session, bot.workplace, now, titles=lambda: topic_titles(bot.knowledge))
    if month is not None:
        bot.deliverer.deliver_pending()
    return month


def bases_reminder_tick(bot: SiBot, now: datetime | None = None) -> int:
    """Remind the people who have not answered their new base's DM (once each, whichever
    process claims them first), then deliver the outbox. Returns how many were queued."""
    now = now or bot.now()
    with bot.db.session() as session:
        queued = remind_unanswered(session, bot.workplace, now)
    if queued:
        bot.deliverer.deliver_pending()
    return queued


def _bases_remind(bot: SiBot) -> None:
    try:
        queued = bases_reminder_tick(bot)
    except Exception:
        log.exception("base publicity reminder tick failed; the next tick retries")
        return
    if queued:
        log.info("reminded %d person(s) of their new contribution base", queued)


def _report(bot: SiBot) -> None:
    try:
        month = report_tick(bot)
    except Exception:
        log.exception("monthly report tick failed; the next tick retries")
        return
    if month is not None:
        log.info("the monthly report of %s was sent", month)


def _remind(bot: SiBot) -> None:
    try:
        claimed = reminder_tick(bot)
    except Exception:
        log.exception("reminder tick failed; the next tick retries")
        return
    if claimed:
        log.info("reminder tick sent %d reminder(s): %s", len(claimed), ", ".join(r.key for r in claimed))


def _sweep(bot: SiBot) -> None:
    try:
        sent = bot.deliverer.sweep()  # sends what is due, and tells about what never goes
    except Exception:
        log.exception("outbox sweep failed; the next sweep retries")
        return
    if sent:
        log.info("outbox sweep sent %d message(s)", sent)
