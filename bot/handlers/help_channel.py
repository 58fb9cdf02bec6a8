"""The help channel: questions in the help channels, mentions of the bot and DMs to it,
the buttons under the answers (Helpful, Not helpful, the matching form, the topics
offered), administrators' replies in the threads, and teaching (Teach, New answer)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.errors import Refused
from bot.domain.requests import RequestKind
from bot.handlers.forms import form_view
from bot.handlers.listen import Interaction, Listen, Submission
from bot.handlers.replies import modal, notice
from bot.ids import OFFERS, ActionId, CallbackId
from bot.messages import literal
from bot.runtime import SiBot
from bot.services.help import (
    Question,
    Taught,
    TaughtLessons,
    ThreadReply,
    answer_question,
    new_topic_draft,
    pick_offered_topic,
    record_admin_reply,
    record_feedback,
    teach_phrasing,
    teach_topic,
)

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def _plain_message(event: dict[str, Any]) -> bool:
    """A person's own new message: not another bot's, an edit, a deletion or a join."""
    return not (event.get("bot_id") or event.get("subtype")) and bool(event.get("user"))


def question_from(event: dict[str, Any], *, help_channels: tuple[str, ...], mention: bool) -> Question | None:
    """The question a message event asks the bot, or None when the bot should stay out of
    it: other bots, edits and deletions, its own messages, thread replies that don't
    mention it, and channels that are not help channels."""
    if not _plain_message(event):
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
        private=direct,
    )


def thread_reply_from(event: dict[str, Any]) -> ThreadReply | None:
    """A person's reply in a thread (an administrator answering a question, maybe)."""
    ts, thread_ts = event.get("ts", ""), event.get("thread_ts")
    if not _plain_message(event) or thread_ts in (None, ts):
        return None
    channel = event.get("channel", "")
    return ThreadReply(
        key=f"msg:{channel}:{ts}",
        channel=channel,
        thread_ts=thread_ts,
        user=event["user"],
        text=event.get("text", ""),
    )


def register(listen: Listen) -> None:
    bot = listen.bot
    # The database's lessons, read again only when they changed (one per app).
    taught = TaughtLessons()

    def knowledge(session: Session):
        return taught.knowledge(session, bot.knowledge)

    def answer(event: dict[str, Any], *, mention: bool) -> None:
        question = question_from(event, help_channels=bot.settings.help_channels, mention=mention)
        if question is not None:
            with bot.work() as session:
                answer_question(session, bot.workplace, knowledge(session), question, now=bot.now())
            return
        reply = None if mention else thread_reply_from(event)
        if reply is not None:
            with bot.work() as session:
                record_admin_reply(session, bot.workplace, knowledge(session), reply, now=bot.now())

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
            knowledge(session),
            answer_id=_number(press.value),
            user=press.user,
            helpful=press.action_id == ActionId.HELPFUL,
            now=bot.now(),
        )
        if not result.recorded:
            press.reply(notice(bot, "help.thanks_already"))
        else:
            press.reply(notice(bot, "help.thanks_escalated" if result.escalated else "help.thanks"))

    @listen.button(*OFFERS)
    def pick(press: Interaction, session: Session) -> None:
        answer_id, _, topic = press.value.partition(":")
        picked = pick_offered_topic(
            session,
            bot.workplace,
            knowledge(session),
            answer_id=_number(answer_id),
            topic=topic,
            user=press.user,
            now=bot.now(),
        )
        press.reply(
            notice(
                bot,
                "help.offer.thanks" if picked.recorded else "help.offer.already",
                title=literal(picked.title),
            )
        )

    @listen.button(ActionId.OPEN_FORM, read_only=True)
    def open_form(press: Interaction, session: Session) -> None:
        press.open(form_view(bot, session, RequestKind(press.value), user=press.user, channel=press.channel))

    listen.choice(ActionId.TEACH_TOPIC)

    @listen.button(ActionId.TEACH)
    def teach(press: Interaction, session: Session) -> None:
        answer_id, _, likely = press.value.partition(":")
        topic = press.chosen.get(ActionId.TEACH_TOPIC) or likely
        if not topic:
            raise Refused("teach_no_topic")
        taught_now = teach_phrasing(
            session,
            knowledge(session),
            answer_id=_number(answer_id),
            topic=topic,
            admin=press.user,
            now=bot.now(),
        )
        press.redraw(taught_message(bot, taught_now, admin=press.user))

    @listen.button(ActionId.TEACH_NEW, read_only=True)
    def new_answer(press: Interaction, session: Session) -> None:
        from bot.knowledge.kb import MAX_ANSWER_CHARS

        draft = new_topic_draft(session, answer_id=_number(press.value), admin=press.user)
        view = bot.messages.render(
            "help_new_topic",
            callback_id=CallbackId.TEACH_NEW_TOPIC.value,
            answer_id=draft.answer_id,
            question=draft.question,
            reply=draft.reply,
            reply_lang=draft.lang,
            max_answer=MAX_ANSWER_CHARS,
        )
        press.open(view)

    @listen.submission(CallbackId.TEACH_NEW_TOPIC)
    def submit_new_answer(form: Submission, session: Session) -> dict[str, Any]:
        taught_now = teach_topic(
            session,
            knowledge(session),
            answer_id=_number(form.view.get("private_metadata", "")),
            titles={"zh": form.values.get("title_zh", ""), "en": form.values.get("title_en", "")},
            answers={"zh": form.values.get("answer_zh", ""), "en": form.values.get("answer_en", "")},
            admin=form.user,
            now=bot.now(),
        )
        return {
            "response_action": "update",
            "view": modal(bot, taught_message(bot, taught_now, admin=form.user), "lesson"),
        }


def taught_message(bot: SiBot, taught: Taught, *, admin: str) -> dict[str, Any]:
    return bot.messages.render(
        "help_taught",
        kind=taught.kind,
        title=taught.title(bot.lang),
        question=taught.question,
        lesson=taught.lesson_id,
        already=taught.already,
        admin=admin,
    )


def _number(value: str) -> int:
    """An answer's id from a button or a form; anything else was not sent by us."""
    if not value.isdigit():
        raise Refused("help_question_gone")
    return int(value)
