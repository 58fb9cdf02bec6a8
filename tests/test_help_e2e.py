"""The help channel end to end: questions arrive as signed events, answers go out through
the fake Slack, in the asker's language, from the real knowledge base."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services.help import feedback_by_topic
from bot.storage.models import HelpAnswer
from tests.conftest import ADMIN_CHANNEL, EMPLOYEE, OTHER
from tests.slack import SlackDriver, message_text

HELP = "C0HELP"
_ts = iter(range(1, 10_000))


@pytest.fixture
def help_slack(make_bot, slack_for) -> SlackDriver:
    return slack_for(make_bot(help_channels=(HELP,)))


def message(text: str, *, channel: str = HELP, user: str = EMPLOYEE, **extra) -> dict:
    ts = f"1764300000.{next(_ts):06d}"
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        **extra,
    }


def ask(slack: SlackDriver, event: dict, event_id: str | None = None) -> None:
    reply = slack.event(event, event_id=event_id or f"Ev{event['ts']}")
    assert reply.status == 200


def replies_in(slack: SlackDriver, channel: str, thread_ts: str) -> list[dict]:
    return [p for p in slack.posts_to(channel) if p.get("thread_ts") == thread_ts]


def settle(slack: SlackDriver, count: int) -> list[dict]:
    slack.wait_posts(count)
    slack.idle()  # every listener has finished: a wrong extra message would be there now
    return [c.params for c in slack.fake.calls_to("chat.postMessage")]


def test_a_question_in_the_help_channel_is_answered_in_its_thread_in_its_language(help_slack):
    zh = message("我想补缴前几个月漏缴的社保，怎么办？")
    ask(help_slack, zh)
    settle(help_slack, 1)
    (answer,) = replies_in(help_slack, HELP, zh["ts"])
    text = message_text(answer)
    assert "补缴" in text and "依据" in text  # answered in Chinese, with its source
    assert "依据：社会保险法第86条；人社部发〔2016〕132号" in text  # cited as Chinese cites a law
    buttons = {e["action_id"]: e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert buttons["help_open_form"]["value"] == "payback"
    assert {"help_helpful", "help_not_helpful"} <= set(buttons)

    en = message("How do I replace a lost social security card?")
    ask(help_slack, en)
    settle(help_slack, 2)
    (answer,) = replies_in(help_slack, HELP, en["ts"])
    assert "Source" in message_text(answer) and "card" in message_text(answer).lower()
    assert "Source: Social Insurance Law Art. 58; " in message_text(answer)  # the law named in English
    buttons = {e["action_id"]: e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert buttons["help_open_form"]["value"] == "card"
    assert buttons["help_open_form"]["text"]["text"] == "Social security card"


def test_a_question_typed_in_pinyin_is_answered_in_chinese(help_slack):
    question = message("shebaoka diule zenme banli")  # 社保卡丢了怎么办理, without an IME
    ask(help_slack, question)
    settle(help_slack, 1)
    (answer,) = replies_in(help_slack, HELP, question["ts"])
    assert "挂失" in message_text(answer)  # the card topic, in Chinese
    buttons = {e["action_id"]: e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert buttons["help_open_form"]["value"] == "card"


def test_the_bot_stays_out_of_what_is_not_a_question_for_it(help_slack):
    ignored = [
        message(
            "thanks all!",
        ),  # chatter in the help channel
        message("我想补缴社保", bot_id="B1"),  # another bot
        message("我想补缴社保", subtype="message_changed"),  # an edit
        message("我想补缴社保", thread_ts="1764300000.000001"),  # a thread reply without a mention
        message("我想补缴社保", channel="C0RANDOM"),  # not a help channel
    ]
    for event in ignored:
        ask(help_slack, event)
    help_slack.idle()
    assert not help_slack.fake.calls_to("chat.postMessage")


def test_mentions_anywhere_and_direct_messages_are_answered_once(help_slack):
    mention = message("<@UBOTSIBOT> 生孩子的生育津贴怎么算？", channel="C0RANDOM")
    ask(help_slack, {**mention, "type": "app_mention"})
    dm = message("what are the contribution rates?", channel="D0EMPLOYEE", channel_type="im")
    ask(help_slack, dm)
    # A mention in the help channel arrives twice (message + app_mention): one answer.
    both = message("<@UBOTSIBOT> 工伤怎么认定？")
    ask(help_slack, both, "EvA")
    ask(help_slack, {**both, "type": "app_mention"}, "EvB")
    ask(help_slack, both, "EvA")  # and Slack retries
    settle(help_slack, 3)
    assert len(replies_in(help_slack, "C0RANDOM", mention["ts"])) == 1
    assert len(replies_in(help_slack, "D0EMPLOYEE", dm["ts"])) == 1
    assert len(replies_in(help_slack, HELP, both["ts"])) == 1


def test_out_of_scope_questions_get_a_pointer_not_a_social_insurance_answer(help_slack, db):
    question = message("住房公积金每个月交多少？")
    ask(help_slack, question)
    settle(help_slack, 1)
    (answer,) = replies_in(help_slack, HELP, question["ts"])
    assert "公积金" in message_text(answer)
    assert not any(b["type"] == "actions" for b in answer["blocks"])
    with db.session() as session:
        row = session.scalar(select(HelpAnswer))
    assert row.topic is None and row.outcome == "out_of_scope"


def test_an_unsure_question_goes_to_the_administrators_with_a_link(help_slack, db):
    # In scope, but no topic answers it (a newborn's resident medical insurance; the
    # difference of 社保 and 医保 is the basics topic's now): the bot must not guess.
    question = message("孩子出生后怎么给他办医保？我的身份证 11010519491231002X")
    ask(help_slack, question)
    posts = settle(help_slack, 2)
    with db.session() as session:
        row = session.scalar(select(HelpAnswer))
    assert row.outcome == "escalated" and row.topic is None
    (told,) = replies_in(help_slack, HELP, question["ts"])
    assert "社保专管员" in message_text(told)
    # No feedback buttons on an escalation: only the topics it may be about.
    assert {e["action_id"] for b in told["blocks"] if b["type"] == "actions" for e in b["elements"]} <= {
        "help_offer_1",
        "help_offer_2",
        "help_offer_3",
    }
    to_admins = [p for p in posts if p["channel"] == ADMIN_CHANNEL]
    assert len(to_admins) == 1 and "fake.slack.test/archives/C0HELP" in message_text(to_admins[0])
    assert "11010519491231002X" not in message_text(to_admins[0]) and "1101**********002X" in row.question


def test_not_helpful_asks_the_administrators_and_feedback_is_counted_per_topic(help_slack, db):
    question = message("社保缴费比例是多少？")
    ask(help_slack, question)
    settle(help_slack, 1)
    answer_id = next(
        e["value"]
        for p in replies_in(help_slack, HELP, question["ts"])
        for b in p["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "help_helpful"
    )
    help_slack.press("help_helpful", answer_id, user=OTHER)
    help_slack.press("help_helpful", answer_id, user=OTHER)  # a double click counts once
    help_slack.press("help_not_helpful", answer_id, user=EMPLOYEE)
    responses = sorted(message_text(r.params) for r in help_slack.fake.wait_for("response_url", 3))
    assert sum("already rated" in r for r in responses) == 1  # (the presses run in parallel)
    assert sum("asked the administrator" in r for r in responses) == 1
    to_admins = help_slack.fake.wait_for("chat.postMessage", 2)[-1].params
    assert to_admins["channel"] == ADMIN_CHANNEL and "not helpful" in message_text(to_admins)
    with db.session() as session:
        counts = feedback_by_topic(session)
    assert [(c.topic, c.helpful, c.not_helpful) for c in counts] == [("contribution-rates", 1, 1)]


def test_the_answer_button_opens_the_matching_form(help_slack):
    help_slack.press("help_open_form", "payback", user=EMPLOYEE, trigger_id="trig-help")
    opened = help_slack.fake.wait_for("views.open", 1)[0]
    assert opened.params["trigger_id"] == "trig-help"
    assert opened.result["view"]["callback_id"] == "payback_form"
