"""The modals that file things: a request of any kind, and a registry document; and the
redraw of a request's modal when a choice changes which fields apply."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.domain import unemployment
from bot.domain.fields import MAX_AMOUNT, MAX_YEARS, MonthWindow
from bot.domain.kinds import spec_for
from bot.domain.months import YearMonth, month_range
from bot.domain.policy import MonthFigures, Policy
from bot.domain.requests import RequestKind
from bot.handlers.listen import Interaction, Listen, field_values
from bot.ids import FORM_CALLBACKS, ActionId, CallbackId, form_callback
from bot.runtime import SiBot
from bot.services import roles, roster

log = logging.getLogger("bot.handlers")


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
    """The modal for filing a request of ``kind``, pre-filled where the user said so, or
    with what they had typed when a choice redraws it (:func:`redraw`). The insured person
    is the user unless they chose someone (never preselected for a death)."""
    spec = spec_for(kind)
    prefill = {key: value for key, value in (prefill or {}).items() if value}
    for_others = spec.for_others and roles.may_file_for_others(session, user)
    # Employees file for themselves: no picker, unless they named someone else (``/si
    # change add @x``), whom the form then shows, and refuses on submission.
    picker = for_others
    if spec.subject_field:
        named = prefill.get(spec.subject_field)
        picker = for_others or bool(named and named != user)
        if prefill.get("settle_reason") == "death":
            if named == user:
                del prefill[spec.subject_field]  # one does not file one's own death
        elif not named:
            prefill[spec.subject_field] = user
    if kind is RequestKind.CHANGE and prefill.get("change_type") in ("remove", "update"):
        # A leaver or a correction: what the roster knows of them (a new hire is not on it).
        person = prefill.get("person", user)
        prefill = {**roster.change_prefill(session, viewer=user, person=person), **prefill}
    today = bot.workplace.today(bot.now())
    return bot.messages.render(
        spec.template,
        callback_id=form_callback(kind),
        metadata=FormMetadata(channel=channel).dump(),
        **form_context(bot.policy, kind, prefill, today=today, for_others=for_others, picker=picker),
    )


def form_context(
    policy: Policy,
    kind: RequestKind,
    prefill: Mapping[str, str],
    *,
    today: date,
    for_others: bool,
    picker: bool | None = None,
) -> dict[str, Any]:
    """What a request kind's form template is drawn from, besides its ids: ``for_others``,
    the filer may file for others; ``picker``, the form shows the insured person (by
    default when the filer may file for others)."""
    months = _months(spec_for(kind).month_windows(policy, today), prefill)
    base = _base_figures(policy, kind, prefill, months, today)
    low, high = min(f.floor for f in base), max(f.ceiling for f in base)
    # A number outside its element's bounds can't be its initial value (Slack may refuse
    # the view): such a value was not accepted anyway, and the hint says the bounds.
    bounds = {
        "contribution_base": (low, high),
        "monthly_base": (low, high),
        "contribution_years": (Decimal(0), MAX_YEARS),
        "carried_over_months": (Decimal(0), Decimal(unemployment.MAX_MONTHS)),
        "expected": (Decimal(0), MAX_AMOUNT),
    }
    prefill = {k: v for k, v in prefill.items() if k not in bounds or _within(v, *bounds[k])}
    return {
        "prefill": prefill,
        "for_others": for_others,
        "picker": for_others if picker is None else picker,
        "policy": policy,
        "months": months,
        # The base period that applies (the form's month, else this month's): its floor
        # and ceiling bound the base field and are in its hint.
        "period": base[0],
        "base_min": f"{low:f}",
        "base_max": f"{high:f}",
        "max_amount": f"{MAX_AMOUNT:f}",
        "max_years": f"{MAX_YEARS:f}",
        "max_benefit_months": unemployment.MAX_MONTHS,
    }


def correction_modal(
    bot: SiBot, *, callback_id: str, metadata: str, prefill: Mapping[str, str]
) -> dict[str, Any]:
    """The record correction form opened from elsewhere (a bill's difference, a disputed
    statement or base): the filer's own request, its months offered from today."""
    today = bot.workplace.today(bot.now())
    context = form_context(bot.policy, RequestKind.CORRECTION, prefill, today=today, for_others=False)
    return bot.messages.render("form_correction", callback_id=callback_id, metadata=metadata, **context)


def _within(value: str, low: Decimal, high: Decimal) -> bool:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    return number.is_finite() and low <= number <= high


def _months(windows: Mapping[str, MonthWindow], prefill: Mapping[str, str]) -> dict[str, list[YearMonth]]:
    """The months each month field offers, in its window's order; a pre-filled month outside its
    window (a correction of an older bill) is offered too, so that it stays chosen."""
    months = {}
    for key, window in windows.items():
        offered = window.months()
        try:
            chosen = YearMonth.parse(prefill.get(key, ""))
        except ValueError:
            chosen = None
        if chosen and chosen not in window:
            offered = window.ordered({*offered, chosen})
        months[key] = offered
    return months


def _base_figures(
    policy: Policy, kind: RequestKind, prefill: Mapping[str, str], months: Mapping[str, list], today: date
) -> list[MonthFigures]:
    """The figures whose floor and ceiling bound the base: of the change's month; of the
    payback's months (each base year has its own bounds: the widest of them, the parser
    holds each month to its own); else this month's."""
    chosen = {}
    for key in ("effective_month", "month_from", "month_to"):
        try:
            chosen[key] = YearMonth.parse(prefill.get(key, ""))
        except ValueError:
            continue
    current = YearMonth.of(today)
    if kind is RequestKind.CHANGE:
        return [policy.period_for(chosen.get("effective_month", current))]
    if kind is RequestKind.PAYBACK:
        first, last = chosen.get("month_from"), chosen.get("month_to")
        if first and last and first <= last:
            span = month_range(first, last)
        else:
            span = [m for m in (first, last) if m] or months.get("month_from") or [current]
        return [policy.period_for(m) for m in sorted(span, reverse=True)]
    return [policy.period_for(current)]


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.button(ActionId.FORM_REDRAW, read_only=True)
    def redraw(press: Interaction, session: Session) -> None:
        """A choice that changes the form (a change's type, a settlement's reason, a month
        whose base period bounds the base): the modal drawn again for it, keeping what was
        typed. The view's hash makes Slack refuse it if a later choice redrew it first."""
        view = press.view
        kind = FORM_CALLBACKS[view["callback_id"]]
        channel = FormMetadata.load(view.get("private_metadata")).channel
        new = form_view(bot, session, kind, user=press.user, channel=channel, prefill=field_values(view))
        press.then(lambda: _update(press.client, view, new))


def _update(client: WebClient, view: Mapping[str, Any], new: dict[str, Any]) -> None:
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise
        # Two choices in quick succession: the later one's redraw stands.
        log.info("form %s was redrawn meanwhile; this redraw is dropped", view["id"])


def document_form(bot: SiBot, user: str) -> dict[str, Any]:
    """The registry's form: a certificate, material or account of the unit."""
    return bot.messages.render(
        "form_document",
        callback_id=CallbackId.DOCUMENT_FORM.value,
        metadata=FormMetadata().dump(),
        prefill={"holder": user},
    )
