"""The help channel: answer employees' questions from the knowledge base, or hand them
to the administrators. No Slack in here: answers and notices go through the outbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.kinds import BY_COMMAND
from bot.domain.resident_id import mask_in_text
from bot.domain.workplace import Workplace
from bot.services import roles
from bot.services.outbox import Recipient, enqueue
from bot.storage.models import HelpAnswer, HelpFeedback

ANSWERED, ESCALATED, OUT_OF_SCOPE = "answered", "escalated", "out_of_scope"
NOTICES = {ANSWERED: "help_answer", ESCALATED: "help_escalated", OUT_OF_SCOPE: "help_out_of_scope"}


class KnowledgeAnswer(Protocol):
    topic: str | None
    score: float
    lang: str
    title: str
    text: str
    sources: tuple[str, ...]
    request_kind: str | None
    escalate: bool
    out_of_scope: str | None
    quiet: bool


class Answerer(Protocol):
    topics: Mapping[str, Any]  # topic id -> its metadata (``.title(lang)``)

    def answer(
        self, question: str, lang: str | None = None, admins: Sequence[str] = ()
    ) -> KnowledgeAnswer: ...


@dataclass(frozen=True)
class Question:
    key: str  # the Slack message it comes from: msg:<channel>:<ts>
    channel: str
    thread_ts: str
    asker: str
    text: str
    addressed: bool  # a mention or a DM: the asker spoke to the bot, so chatter gets a hint


def answer_question(
    session: Session, workplace: Workplace, answerer: Answerer, question: Question, *, now: datetime
) -> HelpAnswer | None:
    """Answer in the question's thread: the matching topic, or — when the knowledge base is
    not confident — tell the asker an administrator has been asked and notify them with a
    link. Out-of-scope questions (housing fund, tax…) get a pointer to the right place;
    chatter in a help channel gets nothing. The same message is answered once, however
    often Slack delivers it. Returns the recorded answer (None when nothing is said)."""
    if session.scalar(select(HelpAnswer).where(HelpAnswer.key == question.key)) is not None:
        return None
    found = answerer.answer(question.text, admins=roles.admin_ids(session))
    if found.quiet and not found.escalate:
        if question.addressed:
            enqueue(
                session,
                key=f"help:{question.key}:hint",
                notice="mention_help",
                to=Recipient.channel(question.channel),
                params={"thread_ts": question.thread_ts, "user": question.asker},
                now=now,
            )
        return None
    outcome = (
        OUT_OF_SCOPE if found.out_of_scope else ESCALATED if found.escalate or not found.topic else ANSWERED
    )
    row = HelpAnswer(
        key=question.key,
        channel=question.channel,
        thread_ts=question.thread_ts,
        asker_id=question.asker,
        question=mask_in_text(question.text)[:2000],
        lang=found.lang,
        topic=found.topic,
        score=float(found.score),
        outcome=outcome,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # another process answered this message a moment ago
    params = {
        "thread_ts": question.thread_ts,
        "lang": found.lang,
        "answer_id": row.id,
        "topic": found.topic,
        "title": found.title,
        "text": found.text,
        "sources": list(found.sources),
        # The knowledge base names forms by their /si subcommand (retire, settle...).
        "request_kind": _form_kind(found.request_kind),
        "asker": question.asker,
    }
    enqueue(
        session,
        key=f"help:{row.id}:reply",
        notice=NOTICES[outcome],
        to=Recipient.channel(question.channel),
        params=params,
        now=now,
    )
    if outcome == ESCALATED:
        _ask_admins(session, workplace, row, reason="unsure", now=now)
    return row


def _form_kind(subcommand: str | None) -> str | None:
    spec = BY_COMMAND.get(subcommand or "")
    return spec.kind.value if spec else None


def _ask_admins(
    session: Session, workplace: Workplace, row: HelpAnswer, *, reason: str, now: datetime
) -> None:
    params = {
        "channel": row.channel,
        "thread_ts": row.thread_ts,
        "asker": row.asker_id,
        "question": row.question,
        "topic": row.topic,
        "reason": reason,
        "permalink_for": {"channel": row.channel, "ts": row.thread_ts},
    }
    for recipient in roles.administrators(session, workplace):
        enqueue(
            session,
            key=f"help:{row.id}:admins:{reason}:{recipient.id}",
            notice="help_for_admins",
            to=recipient,
            params=params,
            now=now,
        )


@dataclass(frozen=True)
class FeedbackResult:
    recorded: bool  # False: this person had already said
    escalated: bool


def record_feedback(
    session: Session, workplace: Workplace, *, answer_id: int, user: str, helpful: bool, now: datetime
) -> FeedbackResult:
    """Count one Helpful / Not helpful per person and answer. Not helpful hands the question
    to the administrators, as an unsure answer would."""
    row = session.get(HelpAnswer, answer_id)
    if row is None:
        return FeedbackResult(False, False)
    try:
        with session.begin_nested():
            session.add(HelpFeedback(answer_id=answer_id, user_id=user, helpful=helpful, at=now))
    except IntegrityError:
        return FeedbackResult(False, False)
    if not helpful:
        _ask_admins(session, workplace, row, reason="not_helpful", now=now)
    return FeedbackResult(True, not helpful)


@dataclass(frozen=True)
class TopicFeedback:
    topic: str
    helpful: int
    not_helpful: int


def feedback_by_topic(session: Session) -> list[TopicFeedback]:
    """Helpful / Not helpful counts per topic, most asked first."""
    rows = session.execute(
        select(
            HelpAnswer.topic,
            func.sum(case((HelpFeedback.helpful.is_(True), 1), else_=0)),
            func.sum(case((HelpFeedback.helpful.is_(False), 1), else_=0)),
        )
        .join(HelpFeedback, HelpFeedback.answer_id == HelpAnswer.id)
        .where(HelpAnswer.topic.is_not(None))
        .group_by(HelpAnswer.topic)
        .order_by(func.count().desc())
    )
    return [TopicFeedback(topic, int(up or 0), int(down or 0)) for topic, up, down in rows]
