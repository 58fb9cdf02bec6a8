"""The modals that file things: a request of any kind, and a registry document."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.kinds import spec_for
from bot.domain.requests import RequestKind
from bot.ids import CallbackId, form_callback
from bot.runtime import SiBot
from bot.services import roles, roster


@dataclass(frozen=True)
class FormMetadata:
    """Carried in a modal's private_metadata: where the form was opened from, and the
    request it is about."""

    channel: str = ""
    public_id: str = ""
    employee: str = ""  # a roster record's id (a wage correction)

    def dump(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def load(cls, raw: str | None) -> FormMetadata:
        try:
            data = json.loads(raw or "{}")
        except json.JSONDecodeError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})


def form_view(
    bot: SiBot,
    session: Session,
    kind: RequestKind,
    *,
    user: str,
    channel: str = "",
    prefill: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The modal for filing a request of ``kind``, pre-filled where the user said so (the
    insured person is the user unless they chose someone)."""
    spec = spec_for(kind)
    prefill = dict(prefill or {})
    if spec.subject_field and not prefill.get(spec.subject_field):
        prefill[spec.subject_field] = user
    if kind is RequestKind.CHANGE and prefill.get("change_type") in ("remove", "update"):
        # A leaver or a correction: what the roster knows of them (a new hire is not on it).
        prefill = {**roster.change_prefill(session, viewer=user, person=prefill["person"]), **prefill}
    return bot.messages.render(
        spec.template,
        callback_id=form_callback(kind),
        metadata=FormMetadata(channel=channel).dump(),
        prefill=prefill,
        for_others=spec.for_others and roles.may_file_for_others(session, user),
        policy=bot.policy,
        # The base period of this month: its floor and ceiling in the hints.
        period=bot.policy.period_on(bot.workplace.today(bot.now())),
    )


def document_form(bot: SiBot, user: str) -> dict[str, Any]:
    """The registry's form: a certificate, material or account of the unit."""
    return bot.messages.render(
        "form_document",
        callback_id=CallbackId.DOCUMENT_FORM.value,
        metadata=FormMetadata().dump(),
        prefill={"holder": user},
    )
