"""The help channel: answer employees' questions from the knowledge base, or hand them
to the administrators, and learn from what the administrators teach. No Slack in here:
answers and notices go through the outbox.

- An answer may offer other topics (``Answer.alternatives``: a close runner-up, or the best
  few with an escalation); each offer is a ``help_offers`` row, and a pick of one (one a
  person and answer, like Helpful / Not helpful) a ``help_choices`` row.
- An administrator's message in the thread of a question handed to them, or the asker's
  pick of another topic after "Not helpful", asks the administrators to teach: "this
  question belongs to topic …" (a phrasing) or a new answer (a topic). Lessons are
  ``help_lessons`` rows, never deleted (retired), and count at once on every replica:
  :class:`TaughtLessons` checks a cheap version of them on every question.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import case, distinct, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Collector, Refused
from bot.domain.kinds import BY_COMMAND
from bot.domain.resident_id import mask_in_text
from bot.domain.workplace import Workplace
from bot.services import roles
from bot.services.outbox import Recipient, enqueue
from bot.storage.models import HelpAnswer, HelpChoice, HelpFeedback, HelpLesson, HelpOffer, HelpReply

log = logging.getLogger(__name__)

ANSWERED, ESCALATED, OUT_OF_SCOPE = "answered", "escalated", "out_of_scope"
NOTICES = {ANSWERED: "help_answer", ESCALATED: "help_escalated", OUT_OF_SCOPE: "help_out_of_scope"}
# The two kinds of lesson (bot/knowledge/lessons.py): a question belongs to a topic, or a new topic.
PHRASING, TOPIC = "phrasing", "topic"
# Why the administrators are asked to teach: one of them answered in the thread, or the
# asker found the answer not helpful and picked an offered topic.
REPLIED, PICKED = "replied", "picked"
# Topics offered under one answer: the knowledge base offers at most three
# (kb.OFFER_WHEN_UNSURE), and the templates have a button id for each (bot/ids.py).
MAX_OFFERS = 3
# A static select holds at most 100 options (Slack's limit).
MAX_TOPIC_OPTIONS = 100
CLI_ACTOR = "cli"


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
    alternatives: tuple[str, ...]


class Answerer(Protocol):
    """What the help channel needs of the knowledge base (bot.knowledge.KnowledgeBase)."""

    topics: Mapping[str, Any]  # topic id -> its metadata (``.title(lang)``)
    refused: tuple[tuple[Any, str], ...]  # lessons left out, with the reason

    def answer(
        self, question: str, lang: str | None = None, admins: Sequence[str] = ()
    ) -> KnowledgeAnswer: ...

    def render(self, topic_id: str, lang: str = "zh", admins: Sequence[str] = ()) -> KnowledgeAnswer: ...

    def refusal(self, lesson: Any) -> str | None: ...

    def with_lessons(self, lessons: Any) -> Answerer: ...


@dataclass(frozen=True)
class Question:
    key: str  # the Slack message it comes from: msg:<channel>:<ts>
    channel: str
    thread_ts: str
    asker: str
    text: str
    addressed: bool  # a mention or a DM: the asker spoke to the bot, so chatter gets a hint
    private: bool = False  # a DM to the bot: nobody else can open its thread


@dataclass(frozen=True)
class ThreadReply:
    """Someone's message in a thread (the help channel's, or any the bot is in)."""

    key: str  # msg:<channel>:<ts>
    channel: str
    thread_ts: str
    user: str
    text: str


def answer_question(
    session: Session, workplace: Workplace, answerer: Answerer, question: Question, *, now: datetime
) -> HelpAnswer | None:
    """Answer in the question's thread: the matching topic, or — when the knowledge base is
    not confident — tell the asker an administrator has been asked and notify them with a
    link. Out-of-scope questions (housing fund, tax…) get a pointer to the right place;
    chatter in a help channel gets nothing. The topics the knowledge base offers besides
    (a close runner-up, or the best few with an escalation) are offered as buttons, titled
    in the asker's language, and recorded. The same message is answered once, however
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
        private=question.private,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # another process answered this message a moment ago
    offers = [t for t in found.alternatives if t in answerer.topics and t != found.topic][:MAX_OFFERS]
    for rank, topic in enumerate(offers, 1):
        session.add(HelpOffer(answer_id=row.id, rank=rank, topic=topic))
    params = {
        **_answer_params(row, found),
        "private": row.private,
        "answer_id": row.id,
        "offers": [{"topic": t, "title": answerer.topics[t].title(found.lang)} for t in offers],
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
        _ask_admins(session, workplace, answerer, row, reason="unsure", now=now)
    return row


def _answer_params(row: HelpAnswer, found: KnowledgeAnswer) -> dict[str, Any]:
    return {
        "thread_ts": row.thread_ts,
        "lang": found.lang,
        "topic": found.topic,
        "title": found.title,
        "text": found.text,
        "sources": list(found.sources),
        # The knowledge base names forms by their /si subcommand (retire, settle...).
        "request_kind": _form_kind(found.request_kind),
        "asker": row.asker_id,
    }


def _form_kind(subcommand: str | None) -> str | None:
    spec = BY_COMMAND.get(subcommand or "")
    return spec.kind.value if spec else None


def _ask_admins(
    session: Session, workplace: Workplace, answerer: Answerer, row: HelpAnswer, *, reason: str, now: datetime
) -> None:
    """Hand a question to the administrators (``reason``: unsure, not_helpful), with a link
    to its thread, where their reply is what they are then asked to teach. A question asked
    in a DM to the bot has a thread nobody else can open or reply in: they answer the asker
    by DM and are asked to teach it at once."""
    if row.private and _active_lesson(session, row.id) is None:
        _ask_to_teach(session, workplace, answerer, row, reason=reason, now=now)
        return
    params = {
        "channel": row.channel,
        "thread_ts": row.thread_ts,
        "asker": row.asker_id,
        "question": row.question,
        "topic": row.topic,
        "reason": reason,
        "private": row.private,
        **_thread_link(row),
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
    session: Session,
    workplace: Workplace,
    answerer: Answerer,
    *,
    answer_id: int,
    user: str,
    helpful: bool,
    now: datetime,
) -> FeedbackResult:
    """Count one Helpful / Not helpful per person and answer. Not helpful hands the question
    to the administrators, as an unsure answer would; when the asker has already picked
    another topic offered with the answer, they are asked to teach it instead."""
    row = session.get(HelpAnswer, answer_id)
    if row is None:
        return FeedbackResult(False, False)
    try:
        with session.begin_nested():
            session.add(HelpFeedback(answer_id=answer_id, user_id=user, helpful=helpful, at=now))
    except IntegrityError:
        return FeedbackResult(False, False)
    if not helpful:
        if user == row.asker_id and _pick_of(session, row.id, user) is not None:
            _ask_to_teach(session, workplace, answerer, row, reason=PICKED, now=now)
        else:
            _ask_admins(session, workplace, answerer, row, reason="not_helpful", now=now)
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


# --- topics offered with an answer -----------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    recorded: bool  # False: this person had already picked a topic for this question
    topic: str  # the topic picked (the earlier one, when already picked)
    title: str


def pick_offered_topic(
    session: Session,
    workplace: Workplace,
    answerer: Answerer,
    *,
    answer_id: int,
    topic: str,
    user: str,
    now: datetime,
) -> Pick:
    """Someone pressed one of the topics offered with an answer ("Or is your question about
    …?"): that topic's answer is posted in the question's thread, in the asker's language
    (once a topic, however many pick it), and the pick counts as the person's feedback on
    the answer, one a person and answer (a second press changes nothing). When the asker
    had found the answer not helpful, the administrators are asked to teach the question to
    a topic (the picked one is pre-selected). Refuses a topic that was not offered with
    this answer (``help_not_offered``) or that the knowledge base no longer has
    (``help_topic_gone``: a retired lesson's topic)."""
    row = session.get(HelpAnswer, answer_id)
    offer = (
        session.scalar(select(HelpOffer).where(HelpOffer.answer_id == answer_id, HelpOffer.topic == topic))
        if row is not None
        else None
    )
    if row is None or offer is None:
        raise Refused("help_not_offered")
    earlier = _pick_of(session, row.id, user)
    if earlier is not None:
        return Pick(False, earlier.topic, _title(answerer, earlier.topic, row.lang))
    try:
        found = answerer.render(topic, row.lang, roles.admin_ids(session))
    except KeyError:
        raise Refused("help_topic_gone") from None
    try:
        with session.begin_nested():
            session.add(HelpChoice(answer_id=row.id, user_id=user, topic=topic, rank=offer.rank, at=now))
    except IntegrityError:  # their other press, a moment ago
        earlier = _pick_of(session, row.id, user)
        return Pick(False, earlier.topic if earlier else topic, _title(answerer, topic, row.lang))
    enqueue(
        session,
        key=f"help:{row.id}:offer:{topic}",
        notice="help_answer",
        to=Recipient.channel(row.channel),
        params={**_answer_params(row, found), "picked_by": user},
        now=now,
    )
    if user == row.asker_id and _found_not_helpful(session, row.id, user):
        _ask_to_teach(session, workplace, answerer, row, reason=PICKED, now=now)
    return Pick(True, topic, found.title)


def _pick_of(session: Session, answer_id: int, user: str) -> HelpChoice | None:
    return session.scalar(
        select(HelpChoice).where(HelpChoice.answer_id == answer_id, HelpChoice.user_id == user)
    )


def _found_not_helpful(session: Session, answer_id: int, user: str | None = None) -> bool:
    query = select(HelpFeedback.id).where(
        HelpFeedback.answer_id == answer_id, HelpFeedback.helpful.is_(False)
    )
    if user is not None:
        query = query.where(HelpFeedback.user_id == user)
    return session.scalar(query.limit(1)) is not None


def _title(answerer: Answerer, topic: str, lang: str) -> str:
    found = answerer.topics.get(topic)
    return found.title(lang) if found is not None else topic


@dataclass(frozen=True)
class OfferSummary:
    """How often the right topic was among those offered, as far as anyone said."""

    offered: int  # questions answered or escalated with topics offered
    picked: int  # of those, questions where someone picked an offered topic
    taught: int  # of those, questions an administrator taught (lessons that count)
    taught_offered: int  # … to a topic that was among those offered


def offer_summary(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> OfferSummary:
    """Counts over the questions asked from ``since`` to before ``until`` (all by default)."""
    asked = select(HelpAnswer.id)
    if since is not None:
        asked = asked.where(HelpAnswer.created_at >= since)
    if until is not None:
        asked = asked.where(HelpAnswer.created_at < until)
    offered = select(HelpOffer.answer_id).where(HelpOffer.answer_id.in_(asked))
    taught = select(func.count(distinct(HelpLesson.answer_id))).where(
        HelpLesson.retired_at.is_(None), HelpLesson.answer_id.in_(offered)
    )
    on_offer = exists().where(
        HelpOffer.answer_id == HelpLesson.answer_id, HelpOffer.topic == HelpLesson.topic
    )

    def number(query) -> int:
        return int(session.scalar(query) or 0)

    return OfferSummary(
        offered=number(
            select(func.count(distinct(HelpOffer.answer_id))).where(HelpOffer.answer_id.in_(asked))
        ),
        picked=number(
            select(func.count(distinct(HelpChoice.answer_id))).where(HelpChoice.answer_id.in_(offered))
        ),
        taught=number(taught),
        taught_offered=number(taught.where(on_offer)),
    )


# --- learning from the administrators --------------------------------------------------------


def record_admin_reply(
    session: Session, workplace: Workplace, answerer: Answerer, reply: ThreadReply, *, now: datetime
) -> bool:
    """An administrator's message in the thread of a question handed to the administrators
    (escalated, or found not helpful) is recorded, and that administrator is asked, once a
    question, to teach it ("this question belongs to topic …", or a new answer prefilled
    with what they wrote) unless it is taught already. False for anyone else's message,
    another thread, or a message seen before (Slack retries)."""
    if not roles.is_admin(session, reply.user):
        return False
    row = _handed_over(session, reply.channel, reply.thread_ts)
    if row is None:
        return False
    try:
        with session.begin_nested():
            session.add(
                HelpReply(
                    key=reply.key,
                    answer_id=row.id,
                    admin_id=reply.user,
                    text=mask_in_text(reply.text)[:4000],
                    at=now,
                )
            )
    except IntegrityError:
        return False
    _ask_to_teach(session, workplace, answerer, row, reason=REPLIED, now=now, to=Recipient.person(reply.user))
    return True


def _handed_over(session: Session, channel: str, thread_ts: str) -> HelpAnswer | None:
    """The latest question of a thread that the administrators were asked to answer."""
    rows = session.scalars(
        select(HelpAnswer)
        .where(HelpAnswer.channel == channel, HelpAnswer.thread_ts == thread_ts)
        .order_by(HelpAnswer.id.desc())
        .limit(5)
    )
    for row in rows:
        if row.outcome == ESCALATED or _found_not_helpful(session, row.id):
            return row
    return None


def _ask_to_teach(
    session: Session,
    workplace: Workplace,
    answerer: Answerer,
    row: HelpAnswer,
    *,
    reason: str,
    now: datetime,
    to: Recipient | None = None,
) -> None:
    """The message with the Teach button and the topic select (pre-selected with the likely
    topic) and New answer; once a question and recipient, and not for a question taught."""
    if _active_lesson(session, row.id) is not None:
        return
    topics = [
        {"id": topic_id, "zh": topic.title("zh"), "en": topic.title("en")}
        for topic_id, topic in list(answerer.topics.items())[:MAX_TOPIC_OPTIONS]
    ]
    likely = _likely_topic(session, row)
    params = {
        "channel": row.channel,
        "thread_ts": row.thread_ts,
        "asker": row.asker_id,
        "question": row.question,
        "answer_id": row.id,
        "reason": reason,
        "private": row.private,
        "likely": likely if any(t["id"] == likely for t in topics) else None,
        "topics": topics,
        **_thread_link(row),
    }
    for recipient in [to] if to is not None else roles.administrators(session, workplace):
        enqueue(
            session,
            key=f"help:{row.id}:teach:{reason}:{recipient.id}",
            notice="help_teach",
            to=recipient,
            params=params,
            now=now,
        )


def _thread_link(row: HelpAnswer) -> dict[str, Any]:
    """The link to a question's thread, made when the message is sent (chat.getPermalink);
    none to a DM's, which only the asker can open."""
    return {} if row.private else {"permalink_for": {"channel": row.channel, "ts": row.thread_ts}}


def _likely_topic(session: Session, row: HelpAnswer) -> str | None:
    """The asker's pick among the offered topics, else the best offered, else the answer's."""
    picked = _pick_of(session, row.id, row.asker_id)
    if picked is not None:
        return picked.topic
    first = session.scalar(
        select(HelpOffer.topic).where(HelpOffer.answer_id == row.id).order_by(HelpOffer.rank).limit(1)
    )
    return first or row.topic


def _active_lesson(session: Session, answer_id: int) -> HelpLesson | None:
    return session.scalar(
        select(HelpLesson).where(HelpLesson.answer_id == answer_id, HelpLesson.retired_at.is_(None))
    )


def _question(session: Session, answer_id: int) -> HelpAnswer:
    row = session.get(HelpAnswer, answer_id)
    if row is None:
        raise Refused("help_question_gone")
    return row


@dataclass(frozen=True)
class Taught:
    """A lesson as it stands after teaching."""

    lesson_id: int
    kind: str  # PHRASING | TOPIC
    topic: str
    title_zh: str
    title_en: str
    question: str
    already: bool  # it was taught so already: nothing changed

    def title(self, lang: str) -> str:
        return (self.title_zh if lang == "zh" else self.title_en) or self.title_zh or self.title_en


def teach_phrasing(
    session: Session, answerer: Answerer, *, answer_id: int, topic: str, admin: str, now: datetime
) -> Taught:
    """An administrator says the question of ``answer_id`` belongs to ``topic`` (a shipped or
    a taught topic): from the next question on, on every replica, the help channel answers it
    and questions close to it with that topic. Teaching it again to another topic retires
    the earlier lesson; to the same topic changes nothing. Refuses: a non-administrator
    (``admins_only``); a phrasing the knowledge base must not learn (``teach_chatter``,
    ``teach_out_of_scope``, ``teach_empty``, ``teach_unknown_topic``: kb.refusal); a
    question that made a new topic (``teach_made_topic``: retire that topic first); a
    question another administrator taught a moment ago (``teach_just_taught``)."""
    from bot.knowledge import TaughtPhrasing

    roles.require_admin(session, admin)
    row = _question(session, answer_id)
    current = _active_lesson(session, row.id)
    if current is not None:
        if current.kind == TOPIC:
            raise Refused("teach_made_topic", title=current.title_zh or current.title_en, lesson=current.id)
        if current.topic == topic:
            return _taught(current, answerer, already=True)
    reason = answerer.refusal(TaughtPhrasing(row.question, topic))
    if reason:
        raise Refused(refusal_code(reason), topic=topic)
    lesson = HelpLesson(
        kind=PHRASING, topic=topic, question=row.question, answer_id=row.id, taught_by=admin, taught_at=now
    )
    _add_lesson(session, lesson, replacing=current, admin=admin, now=now)
    return _taught(lesson, answerer, already=False)


@dataclass(frozen=True)
class NewTopicDraft:
    """What the New answer form starts from."""

    answer_id: int
    question: str
    reply: str  # the administrators' replies in the thread, to start the answer from
    lang: str  # the language the reply is written in (else the question's)


def new_topic_draft(session: Session, *, answer_id: int, admin: str) -> NewTopicDraft:
    """The question and what the administrators replied in its thread (oldest first), for
    the New answer form. Refuses a non-administrator (``admins_only``)."""
    from bot.knowledge import detect_lang

    roles.require_admin(session, admin)
    row = _question(session, answer_id)
    replies = session.scalars(
        select(HelpReply.text).where(HelpReply.answer_id == row.id).order_by(HelpReply.id)
    )
    reply = "\n\n".join(text.strip() for text in replies if text.strip())
    return NewTopicDraft(row.id, row.question, reply, detect_lang(reply) if reply else row.lang)


def teach_topic(
    session: Session,
    answerer: Answerer,
    *,
    answer_id: int,
    titles: Mapping[str, str],
    answers: Mapping[str, str],
    admin: str,
    now: datetime,
) -> Taught:
    """An administrator writes a new answer for a question no topic covers: a new topic
    (titles and answer in Chinese and/or English; the other language falls back to the one
    given) with the question as its first phrasing, answering from the next question on,
    on every replica. Its id is made from the English title (else ``taught-<n>``), never
    one in use or used before. A phrasing taught earlier for the same question is retired.
    Field errors: no title (``teach_no_title``), no answer (``teach_no_answer``), an answer
    too long (``teach_too_long``). Refuses a non-administrator (``admins_only``), a
    question that already made a topic (``teach_made_topic``) and a question taught a
    moment ago (``teach_just_taught``)."""
    from bot.knowledge import TaughtTopic
    from bot.knowledge.kb import MAX_ANSWER_CHARS

    roles.require_admin(session, admin)
    row = _question(session, answer_id)
    title = {lang: (titles.get(lang) or "").strip() for lang in ("zh", "en")}
    answer = {lang: (answers.get(lang) or "").strip() for lang in ("zh", "en")}
    problems = Collector()
    if not (title["zh"] or title["en"]):
        problems.add("title_zh", "teach_no_title")
    if not (answer["zh"] or answer["en"]):
        problems.add("answer_zh", "teach_no_answer")
    for lang in ("zh", "en"):
        if len(answer[lang]) > MAX_ANSWER_CHARS:
            problems.add(f"answer_{lang}", "teach_too_long", limit=MAX_ANSWER_CHARS)
    problems.raise_if_any()
    current = _active_lesson(session, row.id)
    if current is not None and current.kind == TOPIC:
        raise Refused("teach_made_topic", title=current.title_zh or current.title_en, lesson=current.id)
    topic_id = _new_topic_id(session, answerer, title["en"], row.id)
    taught = TaughtTopic(topic_id, title["zh"], title["en"], answer["zh"], answer["en"], (row.question,))
    reason = answerer.refusal(taught)
    if reason:
        raise Refused(refusal_code(reason), topic=topic_id)
    lesson = HelpLesson(
        kind=TOPIC,
        topic=topic_id,
        question=row.question,
        title_zh=title["zh"],
        title_en=title["en"],
        answer_zh=answer["zh"],
        answer_en=answer["en"],
        answer_id=row.id,
        taught_by=admin,
        taught_at=now,
    )
    _add_lesson(session, lesson, replacing=current, admin=admin, now=now)
    return _taught(lesson, answerer, already=False)


def _add_lesson(
    session: Session, lesson: HelpLesson, *, replacing: HelpLesson | None, admin: str, now: datetime
) -> None:
    try:
        with session.begin_nested():
            if replacing is not None:
                replacing.retired_at, replacing.retired_by = now, admin
            session.add(lesson)
    except IntegrityError:
        # One lesson a question counts (ux_help_lessons_active_answer): another
        # administrator taught this question a moment ago.
        raise Refused("teach_just_taught") from None


def _new_topic_id(session: Session, answerer: Answerer, title_en: str, answer_id: int) -> str:
    from bot.knowledge import TaughtTopic

    base = re.sub(r"[^a-z0-9]+", "-", title_en.lower()).strip("-")[:32].strip("-") or f"taught-{answer_id}"
    used = set(session.scalars(select(HelpLesson.topic).where(HelpLesson.kind == TOPIC)))

    def taken(candidate: str) -> bool:
        probe = TaughtTopic(candidate, "-", "-", "-")
        return candidate in used or candidate in answerer.topics or answerer.refusal(probe) == "id-taken"

    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def refusal_code(reason: str) -> str:
    """kb.refusal's reason (``out-of-scope``) as an error code (``teach_out_of_scope``)."""
    return "teach_" + reason.replace("-", "_")


def _taught(lesson: HelpLesson, answerer: Answerer, *, already: bool) -> Taught:
    if lesson.kind == TOPIC:
        titles = (lesson.title_zh, lesson.title_en)
    else:
        titles = (_title(answerer, lesson.topic, "zh"), _title(answerer, lesson.topic, "en"))
    return Taught(lesson.id, lesson.kind, lesson.topic, *titles, lesson.question, already)


def retire_lesson(session: Session, *, lesson_id: int, actor: str, now: datetime) -> HelpLesson:
    """Stop a lesson counting, at once and on every replica; its row stays, with who retired
    it and when. A retired topic's phrasings stop counting with it. Refuses a lesson that
    does not exist (``lesson_not_found``) or is retired already (``lesson_retired``)."""
    lesson = session.get(HelpLesson, lesson_id)
    if lesson is None:
        raise Refused("lesson_not_found", number=lesson_id)
    if lesson.retired_at is not None:
        raise Refused("lesson_retired", number=lesson_id)
    lesson.retired_at, lesson.retired_by = now, actor
    return lesson


def taught_lessons(session: Session, *, retired: bool = False) -> list[HelpLesson]:
    """The lessons in the order taught: those that count, or every one with ``retired``."""
    query = select(HelpLesson).order_by(HelpLesson.id)
    if not retired:
        query = query.where(HelpLesson.retired_at.is_(None))
    return list(session.scalars(query))


def lessons_of(rows: Iterable[HelpLesson]):  # -> bot.knowledge.Lessons
    """The knowledge base's value of lesson rows (retired ones are left out)."""
    from bot.knowledge import Lessons, TaughtPhrasing, TaughtTopic

    phrasings, topics = [], []
    for row in rows:
        if row.retired_at is not None:
            continue
        if row.kind == TOPIC:
            questions = (row.question,) if row.question.strip() else ()
            topics.append(
                TaughtTopic(row.topic, row.title_zh, row.title_en, row.answer_zh, row.answer_en, questions)
            )
        else:
            phrasings.append(TaughtPhrasing(row.question, row.topic))
    return Lessons(tuple(phrasings), tuple(topics))


def lessons_version(session: Session) -> tuple[int, int]:
    """Changes whenever a lesson is taught or retired, and only then: rows are only added
    and retired (never deleted, never un-retired), so the number of rows and of retired
    rows only grow. Counts rather than the highest id: ids are handed out before commit,
    so a lesson committed late can have a lower id than one already seen."""
    taught, retired = session.execute(
        select(func.count(HelpLesson.id), func.count(HelpLesson.retired_at))
    ).one()
    return int(taught), int(retired)


class TaughtLessons:
    """The knowledge base as the help channel uses it: the shipped topics with the lessons
    in the database, which count from the next question on, in every process. Each question
    costs one small query (:func:`lessons_version`); the lessons are read and indexed
    again only when it changed. One per process (or app); safe across threads."""

    def __init__(self) -> None:
        self._seen: tuple[tuple[int, int], Answerer, Answerer] | None = None

    def knowledge(self, session: Session, shipped: Answerer) -> Answerer:
        version = lessons_version(session)
        seen = self._seen
        if seen is not None and seen[0] == version and seen[1] is shipped:
            return seen[2]
        view = shipped.with_lessons(lessons_of(taught_lessons(session)))
        for lesson, reason in view.refused:
            log.warning("a taught lesson does not count (%s): %r", reason, lesson)
        self._seen = (version, shipped, view)
        return view
