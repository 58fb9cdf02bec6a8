"""Events: mentions of the bot get a reply in their thread."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.runtime import SiBot
from bot.services.conversations import reply_to_mention


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, bot: SiBot) -> None:
    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return  # other bots, edits and our own messages
        with bot.db.session() as session:
            reply_to_mention(
                session,
                event_id=body["event_id"],
                channel=event["channel"],
                thread_ts=event.get("thread_ts") or event["ts"],
                user=event.get("user", ""),
                now=bot.now(),
            )
        bot.deliverer.deliver_pending()

    app.event("app_mention")(ack=_ack, lazy=[on_mention])
