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
