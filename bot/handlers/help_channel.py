"""The help channel: questions in the help channels, mentions of the bot and DMs to it,
and the buttons under the answers (Helpful, Not helpful, the matching form)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.requests import RequestKind
from bot.handlers.forms import form_view
from bot.handlers.listen import Interaction, Listen
from bot.handlers.replies import notice
from bot.ids import ActionId
from bot.services.help import Question, answer_question, record_feedback

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


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


def register(listen: Listen) -> None:
    bot = listen.bot

    def answer(event: dict[str, Any], *, mention: bool) -> None:
        question = question_from(event, help_channels=bot.settings.help_channels, mention=mention)
        if question is None:
            return
        with bot.work() as session:
            answer_question(session, bot.workplace, bot.knowledge, question, now=bot.now())

    @listen.event("app_mention")
    def on_mention(event: dict[str, Any]) -> None:
        answer(event, mention=True)

    @listen.event("message")
    def on_message(event: dict[str, Any]) -> None:
        answer(event, mention=False)

    @listen.button(ActionId.HELPFUL, ActionId.NOT_HELPFUL)
    def feedback(press: Interaction, session: Session) -> None:
        result = record_feedback(
            session,
            bot.workplace,
            answer_id=int(press.value),
            user=press.user,
            helpful=press.action_id == ActionId.HELPFUL,
            now=bot.now(),
        )
        if not result.recorded:
            press.reply(notice(bot, "help.thanks_already"))
        else:
            press.reply(notice(bot, "help.thanks_escalated" if result.escalated else "help.thanks"))

    @listen.button(ActionId.OPEN_FORM, read_only=True)
    def open_form(press: Interaction, session: Session) -> None:
        press.open(form_view(bot, session, RequestKind(press.value), user=press.user, channel=press.channel))
