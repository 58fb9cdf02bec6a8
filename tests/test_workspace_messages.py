"""The workspace's templates render valid Block Kit in both languages, within Slack's limits,
however long the lists get."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain.policy import load_policy
from bot.domain.requests import RequestKind
from bot.messages import Messages
from tests.slack import message_text

POLICY = load_policy()
FORM_KINDS = [k.value for k in RequestKind]


def check_message(message: dict) -> None:
    assert message["text"]
    assert 0 < len(message["blocks"]) <= 50
    for block in message["blocks"]:
        Block.parse(block).validate_json()
        assert len((block.get("text") or {}).get("text", "")) <= 3000


def row(i: int, kind: str = "change", state: str = "submitted") -> dict:
    return {
        "public_id": f"SI-2026-{i:04d}",
        "kind": kind,
        "state": state,
        "since": "2026-11-01",
        "requester": "U1",
    }


def docs(n: int) -> list[dict]:
    return [
        {
            "id": i,
            "category": ["certificate", "account", "material", "manual"][i % 4],
            "name": f"Item <{i}> & co",
            "location": "Cabinet 3",
            "holder": "UADMIN",
            "due_on": "2027-06-30" if i % 2 else "",
            "due_kind": "exam" if i % 3 else "expiry",
            "held_by_outgoing": True,
        }
        for i in range(n)
    ]


DEADLINES = [
    {"kind": "change_cutoff", "period": "2026-12", "due": "2026-12-18", "name": ""},
    {"kind": "document_expiry", "period": "", "due": "2027-01-31", "name": "U-key"},
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_app_home_renders_for_both_roles(lang):
    messages = Messages(lang)
    admin = {
        "is_admin": True,
        "today": "2026-11-27",
        "summary": {
            "waiting": 120,
            "oldest_age": 31,
            "approved": 80,
            "cutoff": "2026-12-21",
            "cutoff_days": 16,
            "complaints": 30,
        },
        "reminders": [{"kind": "payment", "period": "2026-11", "due": "2026-12-15"}] * 5,
        "open_total": 200,
        "by_kind": [{"kind": k, "submitted": 3, "approved": 2} for k in FORM_KINDS],
        "waiting": [{**row(i), "age": 31 - i} for i in range(8)],
        "waiting_more": 112,
        "month": "2026-12",
        "form": {"approved": 4, "waiting": 1, "done": 0},
        "export": {"id": 3, "rows": 4, "at": "2026-11-27 10:00", "by": "cli"},
        "deadlines": DEADLINES * 4,
        "complaints": [row(i, "complaint") for i in range(10)],
        "complaints_total": 30,
        "handover": {"id": 2, "from": "UOLD"},
    }
    employee = {
        "is_admin": False,
        "today": "2026-11-27",
        "record": {
            "name": "张伟" * 20,
            "status": "enrolled",
            "enrolled_from": "2015-07",
            "leaving_month": "",
            "base": "37731.00",
            "last_contribution": "2026-10",
        },
        "mine": [row(i) for i in range(10)],
        "handover": None,
    }
    for data in (admin, employee):
        view = messages.render(
            "home",
            home=data,
            user="U1",
            policy=POLICY,
            form_kinds=FORM_KINDS,
            common_forms=["card", "medical", "transfer"],
            help_channels=["CHELP"],
        )
        View(**view).validate_json()
        assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "<#CHELP>" in message_text(view) and "37,731.00" in message_text(view)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workspace_messages_render(lang):
    messages = Messages(lang)
    check_message(
        messages.render("contact", admins=[{"user": "U1", "filed_on": "2026-01-05"}], policy=POLICY)
    )
    check_message(messages.render("contact", admins=[], policy=POLICY))
    check_message(messages.render("docs_list", docs=docs(250)))
    check_message(messages.render("docs_list", docs=[]))
    summary = {"approved": 2, "waiting": 1, "done": 0}
    check_message(
        messages.render(
            "change_form_ready",
            month="2026-12",
            export_id=1,
            rows=2,
            counts={"add": 1, "remove": 1, "update": 0},
            summary=summary,
            files=["a.xlsx", "a.csv"],
        )
    )
    check_message(messages.render("change_form_empty", month="2026-12", summary=summary))
    check_message(
        messages.render(
            "change_form_filed",
            month="2026-12",
            done=[f"SI-2026-{i:04d}" for i in range(500)],
            skipped=["SI-2026-0999"],
            by="U1",
        )
    )
    View(
        **messages.render("form_document", callback_id="d", metadata="{}", prefill={"holder": "U1"})
    ).validate_json()
    checklist = {
        "documents": docs(70),
        "open_requests": [row(i) for i in range(60)],
        "open_complaints": {"submitted": 2, "approved": 1},
        "deadlines": [
            {"kind": d["kind"], "period": d["period"] or d["name"], "due": d["due"]} for d in DEADLINES
        ]
        * 10,
        "administrators": [{"user": "U1", "filed_on": ""}],
        "taken_on": "2026-11-27",
    }
    for role, confirmed in (("from", False), ("to", False), ("to", True)):
        message = messages.render(
            "handover_checklist",
            policy=POLICY,
            handover_id=7,
            role=role,
            outgoing="UOLD",
            successor="UNEW",
            checklist=checklist,
            started="2026-11-27T02:00:00+00:00",
            confirmed=confirmed,
        )
        check_message(message)
        assert ("handover_confirm" in str(message["blocks"])) is (role == "to" and not confirmed)
        assert "Item &lt;1&gt; &amp; co" in message_text(message)
    check_message(
        messages.render(
            "handover_done", handover_id=7, outgoing="UOLD", successor="UNEW", moved=3, role="done"
        )
    )
