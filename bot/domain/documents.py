"""The unit's certificates, materials and accounts (证照、材料、账户): what the
administrator keeps, where, who holds it, and when it is next examined or expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.fields import FormReader

MAX_TEXT = 200


class DocumentCategory(StrEnum):
    CERTIFICATE = "certificate"  # the unit's social insurance registration certificate, licences
    MATERIAL = "material"  # forms, filed copies, records kept for audits
    ACCOUNT = "account"  # online system logins, digital certificate (U-key), payment account
    MANUAL = "manual"  # procedures and manuals of the role


class DueKind(StrEnum):
    EXAM = "exam"  # annual examination
    EXPIRY = "expiry"


@dataclass(frozen=True)
class DocumentForm:
    category: DocumentCategory
    name: str
    location: str
    holder: str  # Slack user id
    due_on: date | None
    due_kind: DueKind | None
    notes: str


def parse_document(raw: dict[str, Any], *, today: date) -> DocumentForm:
    """Validate a registry entry: what, where kept, who holds it; a due date (annual
    examination or expiry) within ten years, with its kind."""
    form = FormReader(raw)
    category = form.choice("category", DocumentCategory)
    name = form.name("name", limit=MAX_TEXT)
    location = form.name("location", limit=MAX_TEXT)
    holder = form.text("holder", required=True)
    due_on = form.day(
        "due_on",
        required=False,
        earliest=today - timedelta(days=366),
        latest=today + timedelta(days=3660),
    )
    due_kind = None
    if due_on or form.text("due_kind"):
        due_kind = form.choice("due_kind", DueKind)
        if due_kind and not due_on and not form.has_problem("due_on"):
            form.problem("due_on", "required")
    notes = form.notes("notes")
    form.done()
    return DocumentForm(category, name, location, holder, due_on, due_kind, notes)
