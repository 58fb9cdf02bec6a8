"""The help channel offers the topics it hesitates between, and learns from the
administrators: end to end, through signed requests to the real app, on the database the
suite runs on (SQLite, or PostgreSQL with SI_TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.models import HelpChoice, HelpLesson, HelpOffer
from tests.conftest import ADMIN, ADMIN_CHANNEL, EMPLOYEE, OTHER
from tests.slack import SlackDriver, message_text
from tests.test_help_e2e import HELP, message

# The bot escalates this question: no topic answers it with confidence.
ESCALATED = "社保局发的短信说我有一笔待遇要确认"
# … and this one, that no topic covers and no other domain claims (supplementary medical
# *insurance* would be declined as commercial insurance).
UNCOVERED = "社保里的大额医疗补助公司交了吗"
# Two close topics: answered with one, the other offered. (Round 8's words made "在老家住院医保能报吗"
# a sure medical-elsewhere: this one stays close.)
CLOSE_ZH = "辞职后如何自己交社保"
CLOSE_EN = "the company stopped paying social insurance months ago"  # answered, the runner-up offered


def say(slack: SlackDriver, event: dict) -> dict:
    assert slack.event(event, event_id=f"Ev{event['ts']}").status == 200
    return event


def posted(slack: SlackDriver, condition) -> list[dict]:
    """Wait until some post matches ``condition``; every post that does."""

    def found(calls) -> list[dict]:
        return [c.params for c in calls if c.method == "chat.postMessage" and condition(c.params)]

    assert slack.fake.wait_until(lambda calls: bool(found(calls))), "no such message was posted"
    return found(slack.fake.calls)


def thread_replies(slack: SlackDriver, event: dict) -> list[dict]:
    return posted(slack, lambda p: p["channel"] == event["channel"] and p.get("thread_ts") == event["ts"])


def buttons(post: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]}


def offered(post: dict) -> list[tuple[str, str]]:
    """(topic, title) of each topic offered under an answer."""
    return [
        (e["value"].split(":", 1)[1], e["text"]["text"])
        for action_id, e in buttons(post).items()
        if action_id.startswith("help_offer_")
    ]


def select_of(post: dict) -> dict:
    return next(
        b["accessory"] for b in post["blocks"] if b.get("accessory", {}).get("type") == "static_select"
    )


def choose(topic: str) -> dict:
    """A teaching message's state once the administrator chose ``topic`` in its select."""
    return {
        "teach_topic": {"help_teach_topic": {"type": "static_select", "selected_option": {"value": topic}}}
    }


def ephemeral_texts(slack: SlackDriver, count: int) -> list[str]:
    return [message_text(c.params) for c in slack.fake.wait_for("response_url", count)]


@pytest.fixture
def help_slack(make_bot, slack_for) -> SlackDriver:
    return slack_for(make_bot(help_channels=(HELP,)))


# --- topics offered ------------------------------------------------------------------------


def test_a_close_runner_up_is_offered_in_the_askers_language_and_pressing_it_answers(help_slack, db):
    kb = help_slack.bot.knowledge
    question = say(help_slack, message(CLOSE_ZH))
    (answer,) = thread_replies(help_slack, question)
    ((topic, title),) = offered(answer)
    assert title == kb.topics[topic].title("zh") and "或者" in message_text(answer)
    assert {"help_helpful", "help_not_helpful"} <= set(buttons(answer))

    value = buttons(answer)["help_offer_1"]["value"]
    help_slack.press("help_offer_1", value, user=EMPLOYEE)
    picked = posted(
        help_slack,
        lambda p: p.get("thread_ts") == question["ts"] and p is not answer and "选择了" in message_text(p),
    )
    assert len(picked) == 1
    assert kb.render(topic, "zh").text in message_text(picked[0])
    assert "help_helpful" not in buttons(picked[0])  # the pick was the feedback
    # Pressing again changes nothing; someone else's pick counts, but posts nothing more.
    help_slack.press("help_offer_1", value, user=EMPLOYEE)
    help_slack.press("help_offer_1", value, user=OTHER)
    texts = ephemeral_texts(help_slack, 3)
    assert sum("already picked" in t for t in texts) == 1 and sum("in the thread" in t for t in texts) == 2
    help_slack.idle()  # every listener has finished: a third post would be there now
    assert len(thread_replies(help_slack, question)) == 2
    with db.session() as session:
        offers = session.execute(select(HelpOffer.rank, HelpOffer.topic)).all()
        picks = session.execute(select(HelpChoice.user_id, HelpChoice.topic, HelpChoice.rank)).all()
    assert offers == [(1, topic)]
    assert sorted(picks) == sorted([(EMPLOYEE, topic, 1), (OTHER, topic, 1)])


def test_an_english_question_is_offered_english_titles(help_slack):
    kb = help_slack.bot.knowledge
    question = say(help_slack, message(CLOSE_EN))
    (answer,) = thread_replies(help_slack, question)
    ((topic, title),) = offered(answer)
    assert title == kb.topics[topic].title("en") and "Or is your question about" in message_text(answer)


def test_an_escalation_offers_the_best_three_and_a_pick_answers_in_the_thread(help_slack):
    kb = help_slack.bot.knowledge
    # (After round 8's retraining "社保的事情怎么弄" offers the administrators' topic third, whose
    # text names the filed administrators: this vague question offers three plain topics.)
    question = say(help_slack, message("社保这块怎么弄啊"))
    (told,) = thread_replies(help_slack, question)
    topics = offered(told)
    assert len(topics) == 3 and "社保专管员" in message_text(told)
    assert [t for t, _ in topics] == list(kb.answer("社保这块怎么弄啊").alternatives)
    third = buttons(told)["help_offer_3"]
    help_slack.press("help_offer_3", third["value"], user=EMPLOYEE)
    picked = posted(
        help_slack, lambda p: p.get("thread_ts") == question["ts"] and "选择了" in message_text(p)
    )
    assert kb.render(topics[2][0], "zh").text in message_text(picked[0])


# --- learning from the administrators ------------------------------------------------------


def test_a_question_the_bot_escalates_is_answered_after_one_teaching_on_every_replica(
    make_bot, slack_for, db
):
    first = slack_for(make_bot(help_channels=(HELP,)))
    replica = slack_for(make_bot(help_channels=(HELP,)))  # another process on the same database
    kb = first.bot.knowledge

    asked = say(replica, message(ESCALATED))
    (told,) = thread_replies(replica, asked)
    assert "社保专管员" in message_text(told)

    # An administrator answers in the thread: they are asked, privately, to teach it.
    say(
        first,
        message(
            "这是社保局的待遇资格认证提醒，按短信里的方式确认一下就行。", user=ADMIN, thread_ts=asked["ts"]
        ),
    )
    (prompt,) = posted(first, lambda p: p["channel"] == ADMIN and "Teach" in message_text(p))
    menu = select_of(prompt)
    likely = kb.answer(ESCALATED).alternatives[0]
    assert menu["initial_option"]["value"] == likely
    assert "statement-query" in {o["value"] for o in menu["options"]}
    assert "New answer" in message_text(prompt)

    # They choose the right topic in the select and press Teach.
    teach = buttons(prompt)["help_teach"]
    first.press("help_teach", teach["value"], user=ADMIN, channel=ADMIN, state=choose("statement-query"))
    (redrawn,) = [c.params for c in first.fake.wait_for("chat.update", 1)]
    assert "belongs to" in message_text(redrawn) and kb.topics["statement-query"].title("en") in message_text(
        redrawn
    )

    # At once, on both processes: the same question, and one asked a little differently.
    for slack, text in (
        (replica, ESCALATED),
        (first, ESCALATED),
        (replica, "社保局给我发了短信，说有一笔待遇需要我确认"),
    ):
        again = say(slack, message(text))
        (answer,) = thread_replies(slack, again)
        assert kb.render("statement-query", "zh").text in message_text(answer), text
        assert "社保专管员" not in message_text(answer)
    with db.session() as session:
        (lesson,) = session.scalars(select(HelpLesson)).all()
    assert (lesson.kind, lesson.topic, lesson.question, lesson.taught_by) == (
        "phrasing",
        "statement-query",
        ESCALATED,
        ADMIN,
    )
    assert lesson.taught_at is not None and lesson.retired_at is None


def test_a_new_answer_for_a_question_no_topic_covers(help_slack, db):
    asked = say(help_slack, message(UNCOVERED))
    thread_replies(help_slack, asked)
    reply = "我们公司目前没有大额医疗补助，只有基本医疗保险。"
    say(help_slack, message(reply, user=ADMIN, thread_ts=asked["ts"]))
    (prompt,) = posted(help_slack, lambda p: p["channel"] == ADMIN and "Teach" in message_text(p))

    help_slack.press("help_teach_new", buttons(prompt)["help_teach_new"]["value"], user=ADMIN, channel=ADMIN)
    view = help_slack.fake.wait_for("views.open", 1)[0].result["view"]
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["answer_zh"].get("initial_value") == reply  # prefilled with what they wrote
    assert UNCOVERED in message_text(view)

    # A title is needed: the error shows on the field, nothing is saved.
    missing = help_slack.submit(view, {"answer_zh": reply}, user=ADMIN)
    assert missing.body["response_action"] == "errors" and "title_zh" in missing.body["errors"]
    done = help_slack.submit(
        view,
        {"title_zh": "大额医疗补助", "title_en": "Large medical expense subsidy", "answer_zh": reply},
        user=ADMIN,
    )
    assert done.body["response_action"] == "update" and "大额医疗补助" in message_text(done.body["view"])

    again = say(help_slack, message(UNCOVERED))
    (answer,) = thread_replies(help_slack, again)
    assert reply in message_text(answer) and "大额医疗补助" in message_text(answer)
    english = say(help_slack, message("Does the company pay the large medical expense subsidy?"))
    with db.session() as session:
        (lesson,) = session.scalars(select(HelpLesson)).all()
    assert (lesson.kind, lesson.topic, lesson.title_en) == (
        "topic",
        "large-medical-expense-subsidy",
        "Large medical expense subsidy",
    )
    thread_replies(help_slack, english)

    # Teaching the same question to a topic now is refused in words, with the way out.
    help_slack.press("help_teach", buttons(prompt)["help_teach"]["value"], user=ADMIN, channel=ADMIN)
    (refusal,) = ephemeral_texts(help_slack, 1)
    assert "made a topic of its own" in refusal and f"si-bot kb retire {lesson.id}" in refusal


def test_not_helpful_then_picking_another_topic_asks_the_administrators_to_teach_it(help_slack, db):
    question = say(help_slack, message(CLOSE_ZH))
    (answer,) = thread_replies(help_slack, question)
    ((topic, _),) = offered(answer)
    help_slack.press("help_not_helpful", buttons(answer)["help_not_helpful"]["value"], user=EMPLOYEE)
    posted(help_slack, lambda p: p["channel"] == ADMIN_CHANNEL and "not helpful" in message_text(p))
    help_slack.press("help_offer_1", buttons(answer)["help_offer_1"]["value"], user=EMPLOYEE)

    (prompt,) = posted(
        help_slack, lambda p: p["channel"] == ADMIN_CHANNEL and "picked another topic" in message_text(p)
    )
    assert select_of(prompt)["initial_option"]["value"] == topic  # the asker's pick
    # Not an administrator: refused in words.
    help_slack.press("help_teach", buttons(prompt)["help_teach"]["value"], user=EMPLOYEE)
    # The administrator keeps the pre-selected topic (Slack sends no choice) and presses Teach.
    help_slack.press("help_teach", buttons(prompt)["help_teach"]["value"], user=ADMIN)
    texts = ephemeral_texts(help_slack, 3)  # the feedback, the pick, the refusal
    assert any("Only the filed" in t for t in texts)
    help_slack.fake.wait_for("chat.update", 1)

    again = say(help_slack, message(CLOSE_ZH))
    replies = thread_replies(help_slack, again)
    assert help_slack.bot.knowledge.render(topic, "zh").title in message_text(replies[0])


def test_someone_elses_reply_in_the_thread_asks_nobody_to_teach(help_slack):
    asked = say(help_slack, message(ESCALATED))
    thread_replies(help_slack, asked)
    say(help_slack, message("我也收到了这个短信", user=OTHER, thread_ts=asked["ts"]))
    help_slack.idle()  # every listener has finished: a prompt would be there now
    assert not [p for p in help_slack.posts_to(ADMIN) if "Teach" in message_text(p)]


def test_a_question_asked_in_a_dm_is_answered_by_dm_and_taught_at_once(help_slack, db):
    """Nobody but the asker can open a DM with the bot: the asker is told the administrator
    will reply by DM, not in the thread, and the administrators get the question with Teach
    at once (there is no thread reply of theirs to wait for), without a link they can't open."""
    in_dm = {"channel": "D0EMPLOYEE", "channel_type": "im"}
    asked = say(help_slack, message(ESCALATED, **in_dm))
    (told,) = thread_replies(help_slack, asked)
    assert "私信回复你" in message_text(told) and "话题里" not in message_text(told)
    (prompt,) = posted(help_slack, lambda p: p["channel"] == ADMIN_CHANNEL and "Teach" in message_text(p))
    said = message_text(prompt)
    assert "in a direct message" in said and "answer them by DM" in said and ESCALATED in said
    assert "archives/D0EMPLOYEE" not in said and "Open the thread" not in said and "#D0EMPLOYEE" not in said
    help_slack.idle()
    assert len(help_slack.posts_to(ADMIN_CHANNEL)) == 1  # the prompt is the whole hand-over

    teach = buttons(prompt)["help_teach"]
    help_slack.press(
        "help_teach", teach["value"], user=ADMIN, channel=ADMIN_CHANNEL, state=choose("statement-query")
    )
    help_slack.fake.wait_for("chat.update", 1)
    again = say(help_slack, message(ESCALATED, **in_dm))
    (answer,) = thread_replies(help_slack, again)
    assert help_slack.bot.knowledge.render("statement-query", "zh").text in message_text(answer)

    # An answer found not helpful in a DM is handed over the same way.
    help_slack.press("help_not_helpful", buttons(answer)["help_not_helpful"]["value"], user=EMPLOYEE)
    (handed,) = posted(
        help_slack, lambda p: p["channel"] == ADMIN_CHANNEL and "not helpful" in message_text(p)
    )
    assert "in a direct message" in message_text(handed) and "Teach" in message_text(handed)
    assert "archives/D0EMPLOYEE" not in message_text(handed)
