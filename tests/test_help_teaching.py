"""Teaching the help channel, through the services: what a lesson may be, how it is kept
(never deleted: retired), and how the answering code sees it at once and cheaply."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import FieldErrors, Refused
from bot.services import help as helpdesk
from bot.storage.models import HelpAnswer, HelpLesson
from tests.conftest import ADMIN, ADMIN2, EMPLOYEE, STORY_NOW

HELP = "C0HELP"
ESCALATED = "社保局发的短信说我有一笔待遇要确认"
_ts = count(1)


@pytest.fixture
def kb(bot):
    return bot.knowledge


def ask(bot, session, text: str, *, lessons: helpdesk.TaughtLessons | None = None) -> HelpAnswer | None:
    ts = f"1764500000.{next(_ts):06d}"
    question = helpdesk.Question(f"msg:{HELP}:{ts}", HELP, ts, EMPLOYEE, text, addressed=False)
    answerer = (lessons or helpdesk.TaughtLessons()).knowledge(session, bot.knowledge)
    return helpdesk.answer_question(session, bot.workplace, answerer, question, now=STORY_NOW)


def recorded(bot, text: str, outcome: str = "escalated") -> int:
    """A question on record as if the bot had met it (whatever it would say to it now)."""
    with bot.db.session() as session:
        row = HelpAnswer(
            key=f"msg:{HELP}:x{next(_ts)}",
            channel=HELP,
            thread_ts="1",
            asker_id=EMPLOYEE,
            question=text,
            lang="zh",
            topic=None,
            score=0.1,
            outcome=outcome,
            created_at=STORY_NOW,
        )
        session.add(row)
        session.flush()
        return row.id


def teach(bot, answer_id: int, topic: str, admin: str = ADMIN) -> helpdesk.Taught:
    with bot.db.session() as session:
        return helpdesk.teach_phrasing(
            session, bot.knowledge, answer_id=answer_id, topic=topic, admin=admin, now=STORY_NOW
        )


def new_topic(bot, answer_id: int, *, title_en: str = "Enterprise annuity", **more) -> helpdesk.Taught:
    with bot.db.session() as session:
        return helpdesk.teach_topic(
            session,
            bot.knowledge,
            answer_id=answer_id,
            titles={"zh": more.get("title_zh", "企业年金"), "en": title_en},
            answers={"zh": more.get("answer_zh", "公司目前没有企业年金。"), "en": more.get("answer_en", "")},
            admin=ADMIN,
            now=STORY_NOW,
        )


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("谢谢大家", "teach_chatter"),
        ("中午吃什么", "teach_chatter"),
        ("公积金怎么提取", "teach_out_of_scope"),
        (":tada:", "teach_empty"),
    ],
)
def test_teaching_never_makes_the_bot_answer_chatter_or_another_domain(bot, db, question, code):
    answer_id = recorded(bot, question)
    with pytest.raises(Refused) as refused:
        teach(bot, answer_id, "payback")
    assert refused.value.code == code
    assert bot.messages.text(f"error.{code}", "en", **refused.value.params)  # said in words
    with db.session() as session:
        assert session.scalars(select(HelpLesson)).all() == []


def test_only_administrators_teach_and_only_to_a_topic_that_exists(bot, db):
    answer_id = recorded(bot, ESCALATED)
    with pytest.raises(Refused, match="admins_only"):
        teach(bot, answer_id, "statement-query", admin=EMPLOYEE)
    with pytest.raises(Refused, match="teach_unknown_topic"):
        teach(bot, answer_id, "no-such-topic")


def test_teaching_again_retires_the_earlier_lesson_and_the_same_changes_nothing(bot, db):
    answer_id = recorded(bot, ESCALATED)
    first = teach(bot, answer_id, "administrator")
    assert not first.already and first.title("en") == bot.knowledge.topics["administrator"].title("en")
    assert teach(bot, answer_id, "administrator", admin=ADMIN2).already
    second = teach(bot, answer_id, "statement-query", admin=ADMIN2)
    with db.session() as session:
        rows = session.scalars(select(HelpLesson).order_by(HelpLesson.id)).all()
    assert [(r.id, r.topic, r.retired_by) for r in rows] == [
        (first.lesson_id, "administrator", ADMIN2),
        (second.lesson_id, "statement-query", None),
    ]
    lessons = helpdesk.TaughtLessons()
    with db.session() as session:
        assert ask(bot, session, ESCALATED, lessons=lessons).topic == "statement-query"


def test_one_lesson_a_question_counts_even_when_two_are_written_at_once(bot, db):
    answer_id = recorded(bot, ESCALATED)
    teach(bot, answer_id, "administrator")
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(
            HelpLesson(
                kind="phrasing",
                topic="payback",
                question=ESCALATED,
                answer_id=answer_id,
                taught_by=ADMIN2,
                taught_at=STORY_NOW,
            )
        )


def test_a_new_topic_gets_an_id_from_its_title_never_one_in_use(bot, db):
    assert new_topic(bot, recorded(bot, "我的养老保险个人账户余额")).topic == "enterprise-annuity"
    assert new_topic(bot, recorded(bot, "年金怎么领")).topic == "enterprise-annuity-2"
    assert (
        new_topic(bot, recorded(bot, "补缴怎么办"), title_en="Payback").topic == "payback-2"
    )  # a shipped id
    only_zh = recorded(bot, "公司有食堂补贴吗")
    assert new_topic(bot, only_zh, title_en="").topic == f"taught-{only_zh}"


def test_a_new_topic_needs_a_title_and_an_answer_shown_on_the_fields(bot, db):
    answer_id = recorded(bot, "我的养老保险个人账户余额")
    with pytest.raises(FieldErrors) as errors:
        new_topic(bot, answer_id, title_zh="", title_en="", answer_zh="")
    assert {k: v.code for k, v in errors.value.problems.items()} == {
        "title_zh": "teach_no_title",
        "answer_zh": "teach_no_answer",
    }
    with pytest.raises(FieldErrors) as errors:
        new_topic(bot, answer_id, answer_en="x" * 2000)
    assert errors.value.problems["answer_en"].code == "teach_too_long"


def test_a_question_that_made_a_topic_is_not_taught_elsewhere_until_that_topic_is_retired(bot, db):
    answer_id = recorded(bot, "我的养老保险个人账户余额")
    made = new_topic(bot, answer_id)
    with pytest.raises(Refused) as refused:
        teach(bot, answer_id, "payback")
    assert refused.value.code == "teach_made_topic" and refused.value.params["lesson"] == made.lesson_id
    with db.session() as session:
        helpdesk.retire_lesson(session, lesson_id=made.lesson_id, actor="cli", now=STORY_NOW)
    with pytest.raises(Refused, match="lesson_retired"), db.session() as session:
        helpdesk.retire_lesson(session, lesson_id=made.lesson_id, actor="cli", now=STORY_NOW)
    assert not teach(bot, answer_id, "contribution-rates").already


def test_the_answering_code_reads_the_lessons_only_when_they_changed(bot, db):
    lessons = helpdesk.TaughtLessons()
    statements: list[str] = []

    def count_statements(conn, cursor, statement, *args):
        statements.append(statement)

    with db.session() as session:
        before = ask(bot, session, ESCALATED, lessons=lessons)
    assert before.outcome == "escalated"
    event.listen(db.engine, "before_cursor_execute", count_statements)
    try:
        with db.session(read_only=True) as session:
            view = lessons.knowledge(session, bot.knowledge)
            assert lessons.knowledge(session, bot.knowledge) is view
    finally:
        event.remove(db.engine, "before_cursor_execute", count_statements)
    reads = [s for s in statements if "help_lessons" in s]
    assert len(reads) == 2 and all("count(" in s.lower() for s in reads)  # the version, no rows

    taught = teach(bot, recorded(bot, ESCALATED), "statement-query")
    with db.session() as session:
        assert ask(bot, session, ESCALATED, lessons=lessons).topic == "statement-query"
    with db.session() as session:
        helpdesk.retire_lesson(session, lesson_id=taught.lesson_id, actor="cli", now=STORY_NOW)
    with db.session() as session:
        assert ask(bot, session, ESCALATED, lessons=lessons).outcome == "escalated"


def test_the_version_changes_with_every_lesson_taught_or_retired(bot, db):
    with db.session() as session:
        start = helpdesk.lessons_version(session)
    taught = teach(bot, recorded(bot, ESCALATED), "statement-query")
    with db.session() as session:
        after_teaching = helpdesk.lessons_version(session)
        helpdesk.retire_lesson(session, lesson_id=taught.lesson_id, actor="cli", now=STORY_NOW)
    with db.session() as session:
        after_retiring = helpdesk.lessons_version(session)
    assert len({start, after_teaching, after_retiring}) == 3


def test_how_often_the_right_topic_was_among_those_offered(bot, db):
    with db.session() as session:
        close = ask(bot, session, "我的养老保险个人账户余额")
        unsure = ask(bot, session, "社保那个事情怎么弄")
        ask(bot, session, "社保卡丢了怎么补办")  # nothing offered
    with db.session() as session:
        offered = session.get(HelpAnswer, close.id)
        topic = bot.knowledge.answer("我的养老保险个人账户余额").alternatives[0]
        helpdesk.pick_offered_topic(
            session,
            bot.workplace,
            bot.knowledge,
            answer_id=offered.id,
            topic=topic,
            user=EMPLOYEE,
            now=STORY_NOW,
        )
    teach(bot, unsure.id, "statement-query")  # not among the three offered
    with db.session() as session:
        summary = helpdesk.offer_summary(session)
        later = helpdesk.offer_summary(session, since=STORY_NOW + timedelta(days=1))
    assert summary == helpdesk.OfferSummary(offered=2, picked=1, taught=1, taught_offered=0)
    assert later == helpdesk.OfferSummary(0, 0, 0, 0)


def test_a_topic_that_was_not_offered_cannot_be_picked(bot, db):
    with db.session() as session:
        answered = ask(bot, session, "我的养老保险个人账户余额")
    with pytest.raises(Refused, match="help_not_offered"), db.session() as session:
        helpdesk.pick_offered_topic(
            session,
            bot.workplace,
            bot.knowledge,
            answer_id=answered.id,
            topic="payback",
            user=EMPLOYEE,
            now=STORY_NOW,
        )


# --- the messages ----------------------------------------------------------------------------

# kb.refusal's reasons (bot/knowledge/kb.py).
REFUSAL_REASONS = ("empty", "unknown-topic", "chatter", "out-of-scope", "bad-id", "id-taken", "no-title")
REFUSAL_REASONS += ("no-answer", "too-long")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_refusal_of_a_lesson_and_every_help_error_has_words(lang):
    import re
    from pathlib import Path

    from tests.test_messages import texts

    codes = {helpdesk.refusal_code(reason) for reason in REFUSAL_REASONS}
    source = Path(helpdesk.__file__).read_text(encoding="utf-8")
    codes |= set(re.findall(r'(?:Refused\(|problems\.add\([^,]+, )"([a-z_]+)"', source))
    assert {"teach_made_topic", "teach_no_title", "help_not_offered"} <= codes
    missing = sorted(c for c in codes if f"error.{c}" not in texts(lang))
    assert not missing


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_help_channels_messages_render_as_valid_block_kit(lang):
    from slack_sdk.models.views import View

    from bot.messages import Messages
    from tests.test_messages import check_message

    messages = Messages(lang)
    offers = [{"topic": f"t{n}", "title": "很长的标题" * 20} for n in range(3)]
    answer = dict(
        thread_ts="1", topic="payback", title="补缴", text="*x* <b>", sources=[], asker="U1", answer_id=7
    )
    check_message(messages.render("help_answer", request_kind="payback", offers=offers[:1], **answer))
    check_message(messages.render("help_answer", request_kind=None, picked_by="U2", **answer))
    check_message(messages.render("help_answer", request_kind=None, **{**answer, "sources": ["a", "b"]}))
    check_message(messages.render("help_escalated", asker="U1", answer_id=7, offers=offers))
    check_message(messages.render("help_escalated", asker="U1", answer_id=7, offers=[]))
    check_message(messages.render("help_escalated", asker="U1", answer_id=7, offers=[], private=True))
    for reason in ("unsure", "not_helpful"):
        for private, permalink in ((False, "https://x"), (False, ""), (True, "")):
            for_admins = messages.render(
                "help_for_admins", channel="D1", thread_ts="1", asker="U1", question="q", reason=reason,
                topic=None, private=private, **({"permalink": permalink} if permalink else {}),
            )  # fmt: skip
            check_message(for_admins)
            assert ("D1" in str(for_admins)) == (not private)  # a DM is never named
    topics = [{"id": f"t{n}", "zh": "标题" * 50, "en": "Title " * 20} for n in range(30)]
    for likely in ("t3", None):
        for reason in (helpdesk.REPLIED, helpdesk.PICKED):
            teach = messages.render(
                "help_teach", channel="C1", thread_ts="1", asker="U1", question="q <!channel>", answer_id=7,
                reason=reason, likely=likely, topics=topics, permalink="https://x",
            )  # fmt: skip
            check_message(teach)
            assert "<!channel>" not in str(teach)
        for reason in ("unsure", "not_helpful", helpdesk.PICKED):  # asked in a DM: no link
            teach = messages.render(
                "help_teach", channel="D1", thread_ts="1", asker="U1", question="q", answer_id=7,
                reason=reason, likely=likely, topics=topics, private=True,
            )  # fmt: skip
            check_message(teach)
            assert "D1" not in str(teach)
    for kind, already in (("phrasing", False), ("topic", False), ("phrasing", True)):
        check_message(
            messages.render(
                "help_taught", kind=kind, title="T", question="q", lesson=3, already=already, admin="U1"
            )
        )
    View(
        **messages.render(
            "help_new_topic", callback_id="c", answer_id=7, question="q", reply="<@U1> 你好" * 400,
            reply_lang=lang, max_answer=1500,
        )
    ).validate_json()  # fmt: skip
