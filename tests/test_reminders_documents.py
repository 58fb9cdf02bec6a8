"""The registry's certificates and materials feed the reminders with their own dates."""

from __future__ import annotations

from datetime import date

from bot.services import reminders
from bot.storage.models import UnitDocument
from tests.conftest import ADMIN
from tests.slack import message_text
from tests.test_reminders import at, local, sent_keys  # noqa: F401 - `at` is a fixture


def test_a_registry_document_is_reminded_a_month_ahead_and_before_its_date(bot, db, at, fake_slack):  # noqa: F811
    at(local(2026, 11, 27))  # the reminders start running
    with db.session() as session:
        document = UnitDocument(
            category="certificate",
            name="Social insurance registration certificate",
            location="HR office safe",
            holder_id=ADMIN,
            due_on=date(2026, 12, 31),
            due_kind="exam",
            notes="",
            added_at=bot.now(),
            added_by=ADMIN,
        )
        session.add(document)
        session.flush()
        occurrence = f"document:{document.id}@2026-12-31"
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
        reminders.mark_done(session, bot.workplace, key=occurrence, actor=ADMIN, now=bot.now())
    at(local(2027, 1, 4))
    assert not [k for k in sent_keys(db) if k.startswith(f"{occurrence}:missed")]


def test_an_unhandled_document_date_becomes_a_missed_alert(bot, db, at):  # noqa: F811
    at(local(2026, 11, 27))
    with db.session() as session:
        document = UnitDocument(
            category="material",
            name="Unit payment account agreement",
            location="Finance",
            holder_id=ADMIN,
            due_on=date(2026, 12, 10),
            due_kind="expiry",
            notes="",
            added_at=bot.now(),
            added_by=ADMIN,
        )
        session.add(document)
        session.flush()
        occurrence = f"document:{document.id}@2026-12-10"
    at(local(2026, 12, 11))
    assert f"{occurrence}:missed:2026-12-11" in sent_keys(db)
