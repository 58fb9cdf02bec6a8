"""Buttons on reminders: Done, Snooze until tomorrow, and the cut-off's "See them".

Each acks at once; the lazy part calls the service, then the outbox redraws every copy of
the reminder in place (Done: who handled it, no buttons; Snooze: until when). Refusals (not
an administrator, already done) come back ephemerally and change nothing.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.domain.calendar import WorkingCalendar
from bot.handlers.ids import ActionId
from bot.handlers.replies import ephemeral, notice, replying, to_presser
from bot.presenters import present
from bot.runtime import SiBot
from bot.services import reminders


def _ack(ack: Ack) -> None:
    ack()


def _pressed(body: dict[str, Any]) -> tuple[str, str]:
    action = body["actions"][0]
    return body["user"]["id"], action.get("value", "")


def register(app: App, bot: SiBot) -> None:
    def done(body: dict[str, Any], respond) -> None:
        user, key = _pressed(body)
        with replying(bot, to_presser(respond), "reminder done"), bot.db.session() as session:
            reminders.mark_done(session, bot.workplace, key=key, actor=user, now=bot.now())
        bot.deliverer.deliver_pending()

    def snooze(body: dict[str, Any], respond) -> None:
        user, key = _pressed(body)
        with replying(bot, to_presser(respond), "reminder snooze"):
            calendar = WorkingCalendar.from_policy(bot.policy)
            with bot.db.session() as session:
                snoozed = reminders.snooze(
                    session, bot.workplace, calendar, key=key, actor=user, now=bot.now()
                )
            respond(
                replace_original=False, **notice(bot, "reminder.snoozed", until=snoozed.until.isoformat())
            )
        bot.deliverer.deliver_pending()

    def see_changes(body: dict[str, Any], respond) -> None:
        user, key = _pressed(body)
        with replying(bot, to_presser(respond), "reminder see changes"):
            period = key.partition(":")[2]
            with bot.db.session(read_only=True) as session:
                rows = reminders.cutoff_requests(session, bot.workplace, viewer=user, period=period)
                views = [present(r, bot.workplace, whole=True) for r in rows]
            listing = ephemeral(bot, "request_list", views=views[:30], total=len(views), mine=False)
            respond(replace_original=False, **listing)

    app.action(ActionId.REMINDER_DONE.value)(ack=_ack, lazy=[done])
    app.action(ActionId.REMINDER_SNOOZE.value)(ack=_ack, lazy=[snooze])
    app.action(ActionId.REMINDER_SEE_CHANGES.value)(ack=_ack, lazy=[see_changes])
