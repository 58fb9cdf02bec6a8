"""Background work of a running bot: the outbox sweep and the reminder tick.

APScheduler 3.x with an in-memory job store: each process runs its own jobs, and the
work they do is claimed in the database, so several processes never do it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime import SiBot
from bot.services.reminders import DueReminder, send_due

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
    scheduler.add_job(
        _remind,
        "cron",
        args=[bot],
        minute=f"*/{TICK_MINUTES}",
        id="reminder-tick",
        max_instances=1,
        # Ticks missed while the process slept run once when it wakes, however late: the tick
        # works out from the database what is due and unsent, so a late run only catches up
        # (APScheduler's default grace of 1 s would silently drop it).
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(bot.settings.tz),  # catch up at start, not in 5 minutes
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
        sent = bot.deliverer.deliver_pending()
    except Exception:
        log.exception("outbox sweep failed; the next sweep retries")
        return
    if sent:
        log.info("outbox sweep sent %d message(s)", sent)
