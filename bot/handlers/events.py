"""Events: questions in the help channels, mentions of the bot, and DMs to it."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.runtime import SiBot
from bot.services.help import Question, answer_question

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def _ack(ack: Ack) -> None:
    ack()


def question_from(event: dict[str, Any], *, help_channels: tuple[str, ...], mention: bool) -> Question | None:
    """The question a message event asks the bot, or None when the bot should stay out of
    it: other bots, edits and deletions, its own messages, thread replies that don't
    mention it, and channels that are not help channels."""
    if event.get("bot_id") or event.get("subtype") or not event.get("user"):
        return None
    channel, ts = event.get("channel", ""), event.get("ts", "")
    thread_ts = event.get("thread_ts")
    direct = event.get("channel_type") == "im"
    top_level = thread_ts in (None, ts)
    if not (mention or direct or (channel in help_channels and top_level)):
        return None
    text = _MENTION.sub(" ", event.get("text", "")).strip()
    if not text and not mention:
        return None
    return Question(
        key=f"msg:{channel}:{ts}",  # a mention in a help channel arrives twice: one answer
        channel=channel,
        thread_ts=thread_ts or ts,
        asker=event["user"],
        text=text,
        addressed=mention or direct,
    )


def register(app: App, bot: SiBot) -> None:
    def answer(event: dict[str, Any], mention: bool) -> None:
        question = question_from(event, help_channels=bot.settings.help_channels, mention=mention)
        if question is None:
            return
        with bot.db.session() as session:
            answer_question(session, bot.workplace, bot.knowledge, question, now=bot.now())
        bot.deliverer.deliver_pending()

    def on_mention(event: dict[str, Any]) -> None:
        answer(event, mention=True)

    def on_message(event: dict[str, Any]) -> None:
        answer(event, mention=False)

    app.event("app_mention")(ack=_ack, lazy=[on_mention])
    app.event("message")(ack=_ack, lazy=[on_message])
