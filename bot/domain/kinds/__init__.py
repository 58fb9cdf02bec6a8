"""The registry of request kinds: one :class:`~bot.domain.kinds.spec.KindSpec` per kind,
each in a module of its own (its form, how the form is checked, what the rules say about
it). Everything that differs by kind is looked up here: the ``/si`` word, the form, its
parser, the insured person, confidentiality, the materials checklist and the facts.

Adding a kind: a module here with its ``SPEC``, its value in ``RequestKind``, its entry
in ``KINDS``, its words in ``messages/`` and its form template (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bot.domain.fields import FormReader, from_payload, to_payload
from bot.domain.kinds import (
    card,
    change,
    complaint,
    correction,
    medical,
    payback,
    retirement,
    settlement,
    transfer,
    unemployment,
)
from bot.domain.kinds.spec import Fact, FactContext, FormContext, KindSpec
from bot.domain.requests import RequestKind

KINDS: Mapping[RequestKind, KindSpec] = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            change.SPEC,
            payback.SPEC,
            complaint.SPEC,
            card.SPEC,
            transfer.SPEC,
            retirement.SPEC,
            unemployment.SPEC,
            medical.SPEC,
            settlement.SPEC,
            correction.SPEC,
        )
    }
)
BY_COMMAND: Mapping[str, KindSpec] = MappingProxyType({spec.command: spec for spec in KINDS.values()})

__all__ = ["BY_COMMAND", "KINDS", "Fact", "FactContext", "FiledForm", "FormContext", "KindSpec"]


def spec_for(kind: RequestKind | str) -> KindSpec:
    return KINDS[RequestKind(kind)]


def words_of(kind: RequestKind | str) -> str:
    """The prefix of a kind's own words for its states, actions and buttons ("complaint."),
    or "" for the common ones: ``t(words_of(kind) ~ 'state.' ~ state)`` in a template."""
    spec = spec_for(kind)
    return f"{spec.kind.value}." if spec.own_words else ""


def kind_named(word: str) -> RequestKind | None:
    """The kind a word names: its value (``retirement``) or its ``/si`` word (``retire``)."""
    word = word.lower()
    if word in BY_COMMAND:
        return BY_COMMAND[word].kind
    try:
        return RequestKind(word)
    except ValueError:
        return None


@dataclass(frozen=True)
class FiledForm:
    form: Any
    subject: str  # the insured person's user id
    payload: dict[str, str | None]
    effective_month: str | None  # YYYY-MM, for kinds that have one (KindSpec.month_field)


def parse_form(kind: RequestKind, raw: Mapping[str, Any], ctx: FormContext) -> FiledForm:
    """Check a filled-in form of ``kind``; ``FieldErrors`` names every field to fix."""
    spec = KINDS[kind]
    form = spec.parse(FormReader(raw), ctx)
    subject = getattr(form, spec.subject_field) if spec.subject_field else ctx.actor
    month = getattr(form, spec.month_field) if spec.month_field else None
    return FiledForm(form, subject, to_payload(form), str(month) if month else None)


def read_form(kind: RequestKind | str, payload: Mapping[str, Any]) -> Any:
    """A stored request's form, from its payload."""
    return from_payload(spec_for(kind).form, payload)


def facts(kind: RequestKind | str, form: Any, ctx: FactContext) -> list[Fact]:
    spec = spec_for(kind)
    return spec.facts(form, ctx) if spec.facts else []


def materials(kind: RequestKind | str, form: Any) -> str:
    spec = spec_for(kind)
    return spec.materials(form) if spec.materials else ""
