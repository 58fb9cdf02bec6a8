"""Masking free text, plain notification text, and Slack's text limits checked at render
time (issue 15)."""

from __future__ import annotations

import pytest

from bot.domain.masking import mask_free_text
from bot.messages import Messages, plain_notification


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        # A resident ID, as the ID field is masked.
        ("身份证 11010519491231002X。", "身份证 1101**********002X。"),
        ("id 44052419800101001x", "id 4405**********001x"),
        # A bank card, with or without spaces or dashes; a phone number.
        ("卡号 6222 0212 3456 7890", "卡号 ************7890"),
        ("card 6222-0212-3456-7890-123", "card ***************0123"),
        ("call 13812345678", "call *******5678"),
        # Amounts: with a currency mark, a separator, decimals, or three digits or more.
        ("工资 8500 元", "工资 ****"),
        ("¥12,000.50 and RMB 300", "**** and ****"),
        ("base 9,100 vs 9000", "base **** vs ****"),
        ("月薪1.2万", "月薪****"),
        ("paid 450", "paid ****"),
        # Kept: months, dates, request ids, a year alone, small numbers.
        ("从 2026-12 起，2026-12-01 入职", "从 2026-12 起，2026-12-01 入职"),
        ("2026年12月1日 SI-2026-0042", "2026年12月1日 SI-2026-0042"),
        ("in 2026, aged 35, 3 months", "in 2026, aged 35, 3 months"),
        ("2026元", "****"),
    ],
)
def test_personal_numbers_in_free_text_are_masked(typed, shown):
    assert mask_free_text(typed) == shown


def test_a_notification_text_is_plain():
    text = ":rotating_light: *Lost a card?* Call `12333` at 10:02; snake_case stays, _this_ does not ~x~"
    assert plain_notification(text) == "Lost a card? Call 12333 at 10:02; snake_case stays, this does not x"


def write(tmp_path, name: str, source: str) -> Messages:
    for folder in ("blocks", "en", "zh"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "blocks" / f"{name}.json.j2").write_text(source)
    return Messages("en", root=tmp_path)


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        (
            '{"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "{{ v }}"}}]}',
            "3000",
        ),
        (
            '{"text": "x", "blocks": [{"type": "header",'
            ' "text": {"type": "plain_text", "text": "{{ v }}"}}]}',
            "150",
        ),
        ('{"text": "{{ v * 20 }}", "blocks": []}', "40000"),
        ('{"type": "modal", "title": {"type": "plain_text", "text": "{{ v[:30] }}"}, "blocks": []}', "24"),
        (
            '{"text": "x", "blocks": [{"type": "actions", "elements": [{"type": "button", "action_id": "a",'
            ' "text": {"type": "plain_text", "text": "{{ v[:80] }}"}}]}]}',
            "75",
        ),
    ],
)
def test_render_refuses_text_over_slacks_limits(tmp_path, source, complaint):
    messages = write(tmp_path, "long", source)
    with pytest.raises(ValueError, match=complaint):
        messages.render("long", v="y" * 3001)
    assert messages.render("long", v="y" * 20)  # within every limit


# --- every request template with realistic, long and hostile values -------------------------

HOSTILE_NAME = ("*&<_~`" * 20)[:100]  # a name at the form's limit, every character Slack reads
HOSTILE_TEXT = ("*bold* _it_ ~s~ `code` & <!channel> 6222 0212 3456 7890 11010519491231002X " * 30)[:2000]
FREE_TEXT = {"full_name": HOSTILE_NAME, "notes": HOSTILE_TEXT, "description": HOSTILE_TEXT}


def hostile_request(kind, state):
    from tests.test_messages import sample_request

    request = sample_request(kind, state)
    request.payload = {k: FREE_TEXT.get(k, v) if v else v for k, v in request.payload.items()}
    request.payload = {
        **request.payload,
        **{k: HOSTILE_TEXT for k in ("notes", "description") if k in request.payload},
    }
    for event in request.events:
        event.reason = event.reason and ("& " * 250)  # a reason of 500 characters, each escaped
    return request


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_request_template_renders_hostile_values_within_slacks_limits(lang):
    from bot.domain.requests import RequestKind, State
    from bot.presenters.requests import present
    from tests.test_messages import POLICY, WORKPLACE, check_message

    messages = Messages(lang)
    for kind in RequestKind:
        for state in State:
            request = hostile_request(kind, state)
            event = request.events[-1]
            for whole in (True, False):
                view = present(request, WORKPLACE, whole=whole)
                for name in ("request_card", "request_detail", "request_received", "request_for_you"):
                    check_message(messages.render(name, view=view, policy=POLICY))
                check_message(messages.render("request_state_changed", view=view, event=event, policy=POLICY))
                check_message(
                    messages.render(
                        "request_message", view=view, author="U1", message=HOSTILE_TEXT, policy=POLICY
                    )
                )
                for modal in ("request_detail_modal", "contact_admin"):
                    messages.render(modal, view=view, callback_id="c", metadata="{}", policy=POLICY)
            shared = present(request, WORKPLACE, whole=False)
            card = messages.render("request_card", view=shared, policy=POLICY)
            plain = [
                b["text"]["text"] for b in card["blocks"] if (b.get("text") or {}).get("type") == "plain_text"
            ]
            if not shared.withheld and ("notes" in request.payload or "description" in request.payload):
                # Typed marks stay as typed (plain text); the numbers in it are masked.
                long_text = next(t for t in plain if "_it_" in t)
                assert "*bold* _it_ ~s~ `code` &amp; &lt;!channel&gt;" in long_text
                assert "6222 0212" not in long_text and "************7890" in long_text


def test_a_300_row_change_form_and_500_open_requests_stay_within_slacks_limits():
    from tests.test_messages import POLICY, check_message

    messages = Messages("zh")
    ids = [f"SI-2026-{i:04d}" for i in range(1, 301)]
    filed = messages.render("change_form_filed", month="2026-12", done=ids, skipped=ids, by="U1")
    check_message(filed)
    assert "SI-2026-0100 等，另有 200 件" in str(filed["blocks"])
    docs = [
        {
            "id": i,
            "category": "certificate",
            "name": "&" * 200,
            "location": "<" * 200,
            "holder": "U1",
            "due_on": "2027-06-30",
            "due_kind": "exam",
        }
        for i in range(200)
    ]
    listed = messages.render("docs_list", docs=docs)
    check_message(listed)
    requests = [
        {"public_id": f"SI-2026-{i:04d}", "kind": "change", "state": "submitted", "since": "2026-11-01"}
        for i in range(500)
    ]
    checklist = {
        "documents": docs[:60],
        "open_requests": requests,
        "open_complaints": {"submitted": 2, "approved": 1},
        "deadlines": [],
        "administrators": [{"user": "U1", "filed_on": ""}],
        "taken_on": "2026-11-27",
    }
    for role in ("from", "to"):
        message = messages.render(
            "handover_checklist",
            policy=POLICY,
            handover_id=7,
            role=role,
            outgoing="UOLD",
            successor="UNEW",
            checklist=checklist,
            started="2026-11-27T02:00:00+00:00",
            confirmed=False,
        )
        check_message(message)


# --- a person's typed words format nothing in mrkdwn (issue 15, item 11) --------------------

HOSTILE_SHORT = "*bold* _it_ ~s~ `code` ＊粗＊"
MARKED = ("*bold*", "_it_", "~s~", "`code`", "＊粗＊")
# What Slack shows for it in mrkdwn: look-alikes that format nothing (bot/messages.py literal).
SHOWN = "∗bold∗ ˍitˍ ∼s∼ ˋcodeˋ ﹡粗﹡"
TYPED_SHORT = ("full_name", "other_city", "hospital")


def text_objects(value, found=None):
    """Every text object of a rendered message or view: (type, text)."""
    found = [] if found is None else found
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            found.append((value["type"], value["text"]))
        for inner in value.values():
            text_objects(inner, found)
    elif isinstance(value, list):
        for inner in value:
            text_objects(inner, found)
    return found


def marked_request(kind, state):
    from tests.test_messages import sample_request

    request = sample_request(kind, state)
    request.payload = {k: HOSTILE_SHORT if k in TYPED_SHORT else v for k, v in request.payload.items()}
    for event in request.events:
        event.reason = event.reason and HOSTILE_SHORT
    return request


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_typed_marks_in_names_and_reasons_format_nothing_in_any_request_template(lang):
    from bot.domain.requests import RequestKind, State
    from bot.presenters.requests import present
    from tests.test_messages import POLICY, WORKPLACE

    messages = Messages(lang)
    shown_somewhere = set()
    for kind in RequestKind:
        for state in State:
            request = marked_request(kind, state)
            event = request.events[-1]
            for whole in (True, False):
                view = present(request, WORKPLACE, whole=whole)
                rendered = {
                    name: messages.render(name, view=view, policy=POLICY)
                    for name in ("request_card", "request_detail", "request_received", "request_for_you")
                }
                rendered["request_state_changed"] = messages.render(
                    "request_state_changed", view=view, event=event, policy=POLICY
                )
                rendered["request_message"] = messages.render(
                    "request_message", view=view, author="U1", message="hi", policy=POLICY
                )
                for name in ("request_detail_modal", "contact_admin", "form_reject"):
                    rendered[name] = messages.render(
                        name, view=view, callback_id="c", metadata="{}", month="2026-12", policy=POLICY
                    )
                if state is not State.SUBMITTED and view.events:  # withheld: no history
                    rendered["form_moved_on"] = messages.render("form_moved_on", view=view, month="2026-12")
                for name, message in rendered.items():
                    for kind_of_text, text in text_objects(message):
                        if kind_of_text == "mrkdwn":
                            assert not [m for m in MARKED if m in text], (name, kind, text)
                            if SHOWN in text:
                                shown_somewhere.add((name, kind.value))
    # The names, places and reasons are shown (as look-alikes), not dropped: in the card's
    # fields, the detail's history, the moved-on answer, and the what of the DMs.
    for expected in [
        ("request_card", "change"),
        ("request_card", "transfer"),
        ("request_card", "medical"),
        ("request_detail", "payback"),
        ("request_detail_modal", "complaint"),
        ("request_for_you", "change"),
        ("request_message", "retirement"),
        ("contact_admin", "settlement"),
        ("form_moved_on", "change"),
    ]:
        assert expected in shown_somewhere, expected


def test_plain_text_keeps_the_typed_marks_and_masks_keep_their_stars():
    from bot.domain.requests import RequestKind, State
    from bot.presenters.requests import present
    from tests.test_messages import POLICY, WORKPLACE

    messages = Messages("en")
    request = marked_request(RequestKind.CHANGE, State.SUBMITTED)
    card = messages.render("request_card", view=present(request, WORKPLACE, whole=False), policy=POLICY)
    # The header is plain text: shown exactly as typed.
    assert card["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "Details change · *bold* _it_ ~s~ `code` ＊粗＊ · 2026-12",
    }
    fields = " ".join(t for kind, t in text_objects(card) if kind == "mrkdwn")
    assert "1101**********002X" in fields  # the masked resident ID reads as before
    assert "*Monthly contribution base (yuan)*\n****" in fields  # our bold label; a masked amount


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_typed_names_format_nothing_in_the_lists_and_forms_that_show_them(lang):
    from tests.test_messages import check_message

    messages = Messages(lang)
    person = {
        "full_name": HOSTILE_SHORT,
        "masked_id": "1101**********002X",
        "status": "enrolled",
        "enrolled_from": "2026-01",
        "retired_on": None,
    }
    document = {
        "id": 1,
        "category": "certificate",
        "name": HOSTILE_SHORT,
        "location": "> " + HOSTILE_SHORT,
        "holder": "U1",
        "due_on": "",
        "due_kind": "",
    }
    rendered = [
        messages.render(
            "roster_list", title_key="roster.found", query=HOSTILE_SHORT, people=[person, person]
        ),
        messages.render("docs_list", docs=[document]),
        messages.render(
            "form_wage_correction",
            callback_id="w",
            metadata="{}",
            name=HOSTILE_SHORT,
            months=[],
            max_amount="1",
        ),
    ]
    for message in rendered[:2]:
        check_message(message)
    for message in rendered:
        mrkdwn = [t for kind, t in text_objects(message) if kind == "mrkdwn"]
        assert any(SHOWN in t for t in mrkdwn)
        assert not [t for t in mrkdwn for m in MARKED if m in t]
    assert "&gt; ∗bold∗" in str(rendered[1]["blocks"])
    assert "1101**********002X" in str(rendered[0]["blocks"])


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("*bold* _it_ ~s~ `code`", "∗bold∗ ˍitˍ ∼s∼ ˋcodeˋ"),
        ("＊粗＊ ＿斜＿ ｀码｀", "﹡粗﹡ ⸏斜⸏ ˋ码ˋ"),
        ("**x** ___y___", "∗∗x∗∗ ˍˍˍyˍˍˍ"),
        # A line that starts with > would be a quote: a soft hyphen first keeps it text.
        ("> quoted\nline 2\n>> again", "\u00ad&gt; quoted\nline 2\n\u00ad&gt;&gt; again"),
        ("A & <!channel>", "A &amp; &lt;!channel&gt;"),
        # Kept: our masks, an underscore inside a word, a Chinese tilde of ranges.
        ("1101**********002X ****", "1101**********002X ****"),
        ("zhang_wei@corp.cn 10～20", "zhang_wei@corp.cn 10～20"),
    ],
)
def test_literal_shows_typed_marks_as_look_alikes(typed, shown):
    from bot.messages import literal

    assert str(literal(typed)) == shown
