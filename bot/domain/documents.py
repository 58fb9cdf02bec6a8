"""The unit's certificates, materials and accounts (证照、材料、账户): what the
administrator keeps, where, who holds it, and when it is next examined or expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.errors import Collector
from bot.domain.procedures import _date, _name
from bot.domain.requests import _enum, _notes, _text

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
    errors = Collector()
    category = _enum(errors, raw, "category", DocumentCategory)
    name = _name(errors, raw, "name", limit=MAX_TEXT)
    location = _name(errors, raw, "location", limit=MAX_TEXT)
    holder = _text(raw, "holder")
    if not holder:
        errors.add("holder", "required")
    due_on = _date(
        errors,
        raw,
        "due_on",
        required=False,
        earliest=today - timedelta(days=366),
        latest=today + timedelta(days=3660),
    )
    due_kind = None
    if due_on or _text(raw, "due_kind"):
        due_kind = _enum(errors, raw, "due_kind", DueKind)
        if due_kind and not due_on and "due_on" not in errors.problems:
            errors.add("due_on", "required")
    notes = _notes(errors, raw, "notes")
    errors.raise_if_any()
    return DocumentForm(category, name, location, holder, due_on, due_kind, notes)
