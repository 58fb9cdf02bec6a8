"""Background work of a running bot: the outbox sweep (and, later, reminders).

APScheduler 3.x with an in-memory job store: each process runs its own jobs, and the
work they do is claimed in the database, so several processes never do it twice.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime import SiBot

log = logging.getLogger(__name__)
SWEEP_SECONDS = 20


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
    scheduler.start()
    return scheduler


def _sweep(bot: SiBot) -> None:
    try:
        sent = bot.deliverer.deliver_pending()
    except Exception:
        log.exception("outbox sweep failed; the next sweep retries")
        return
    if sent:
        log.info("outbox sweep sent %d message(s)", sent)
