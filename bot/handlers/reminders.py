"""Buttons on reminders: Done, Snooze until tomorrow, and the cut-off's "See them".

Each acks at once; the lazy part calls the service, then the outbox redraws every copy of
the reminder in place (Done: who handled it, no buttons; Snooze: until when). Refusals (not
an administrator, already done) come back ephemerally and change nothing.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.domain.calendar import WorkingCalendar
from bot.domain.errors import Refused
from bot.handlers.ids import ActionId
from bot.handlers.replies import apology, ephemeral, notice, refused
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
        try:
            with bot.db.session() as session:
                reminders.mark_done(session, bot.workplace, key=key, actor=user, now=bot.now())
        except Refused as exc:
            respond(replace_original=False, **refused(bot, exc))
        except Exception as exc:
            respond(replace_original=False, **apology(bot, exc, "reminder done"))
        bot.deliverer.deliver_pending()

    def snooze(body: dict[str, Any], respond) -> None:
        user, key = _pressed(body)
        try:
            calendar = WorkingCalendar.from_policy(bot.policy)
            with bot.db.session() as session:
                snoozed = reminders.snooze(
                    session, bot.workplace, calendar, key=key, actor=user, now=bot.now()
                )
            respond(
                replace_original=False, **notice(bot, "reminder.snoozed", until=snoozed.until.isoformat())
            )
        except Refused as exc:
            respond(replace_original=False, **refused(bot, exc))
        except Exception as exc:
            respond(replace_original=False, **apology(bot, exc, "reminder snooze"))
        bot.deliverer.deliver_pending()

    def see_changes(body: dict[str, Any], respond) -> None:
        user, key = _pressed(body)
        try:
            period = key.partition(":")[2]
            with bot.db.session() as session:
                rows = reminders.cutoff_requests(session, bot.workplace, viewer=user, period=period)
                views = [present(r, bot.workplace, whole=True) for r in rows]
            respond(
                replace_original=False,
                **ephemeral(bot, "request_list", views=views[:30], total=len(views), mine=False),
            )
        except Refused as exc:
            respond(replace_original=False, **refused(bot, exc))
        except Exception as exc:
            respond(replace_original=False, **apology(bot, exc, "reminder see changes"))

    app.action(ActionId.REMINDER_DONE.value)(ack=_ack, lazy=[done])
    app.action(ActionId.REMINDER_SNOOZE.value)(ack=_ack, lazy=[snooze])
    app.action(ActionId.REMINDER_SEE_CHANGES.value)(ack=_ack, lazy=[see_changes])
