"""The registry's certificates and materials feed the reminders with their own dates."""

from __future__ import annotations

from datetime import date

from bot.services import reminders
from bot.storage.models import UnitDocument
from tests.conftest import ADMIN
from tests.slack import message_text
from tests.test_reminders import at, local, sent_keys  # noqa: F401 - `at` is a fixture


def add_document(bot, db, *, name: str, due_on: date, due_kind: str) -> str:
    """Register a document with a date; returns its reminder occurrence key."""
    with db.session() as session:
        document = UnitDocument(
            category="certificate",
            name=name,
            location="HR office safe",
            holder_id=ADMIN,
            due_on=due_on,
            due_kind=due_kind,
            notes="",
            added_at=bot.now(),
            added_by=ADMIN,
        )
        session.add(document)
        session.flush()
        return f"document:{document.id}@{due_on.isoformat()}"


def test_a_registry_document_is_reminded_a_month_ahead_and_before_its_date(bot, db, at, fake_slack):  # noqa: F811
    at(local(2026, 11, 27))  # the reminders start running
    occurrence = add_document(
        bot, db, name="Social insurance registration certificate", due_on=date(2026, 12, 31), due_kind="exam"
    )
    for day in (1, 2, 28, 29, 30, 31):
        at(local(2026, 12, day))
    assert [k for k in sent_keys(db) if k.startswith("document:")] == [
        f"{occurrence}:warning:2026-12-01",  # a month ahead; nothing more on the 2nd
        f"{occurrence}:warning:2026-12-28",
        f"{occurrence}:warning:2026-12-29",
        f"{occurrence}:warning:2026-12-30",
        f"{occurrence}:due_day:2026-12-31",
    ]
    texts = [message_text(c.params) for c in fake_slack.calls_to("chat.postMessage")]
    ours = [t for t in texts if "Social insurance registration certificate" in t]
    assert ours and all("HR office safe" in t and f"<@{ADMIN}>" in t for t in ours)

    with db.session() as session:
        reminders.mark_done(session, key=occurrence, actor=ADMIN, now=bot.now())
    at(local(2027, 1, 4))
    assert not [k for k in sent_keys(db) if k.startswith(f"{occurrence}:missed")]


def test_an_unhandled_document_date_becomes_a_missed_alert(bot, db, at):  # noqa: F811
    at(local(2026, 11, 27))
    occurrence = add_document(
        bot, db, name="Unit payment account agreement", due_on=date(2026, 12, 10), due_kind="expiry"
    )
    at(local(2026, 12, 11))
    assert f"{occurrence}:missed:2026-12-11" in sent_keys(db)


def test_a_document_name_typed_with_marks_formats_nothing_in_the_reminder(bot, db, at, fake_slack):  # noqa: F811
    at(local(2026, 11, 27))
    add_document(bot, db, name="*Licence* _B_", due_on=date(2026, 12, 31), due_kind="exam")
    at(local(2026, 12, 1))
    (post,) = [
        c.params for c in fake_slack.calls_to("chat.postMessage") if "Licence" in message_text(c.params)
    ]
    body = next(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    assert "∗Licence∗ ˍBˍ has its" in body and "*Licence*" not in body
