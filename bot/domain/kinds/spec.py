"""What a request kind is made of: one :class:`KindSpec` per kind (see ``__init__``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.domain.calendar import WorkingCalendar
from bot.domain.errors import Refused
from bot.domain.fields import FormReader, MonthWindow
from bot.domain.months import YearMonth
from bot.domain.policy import Policy
from bot.domain.requests import RequestKind

# How a form's field is shown (dataclass field metadata); a StrEnum field is shown as its
# option's words and needs none. See bot/presenters.py.
PERSON = {"show": "person"}  # a Slack user id: a mention
RESIDENT_ID = {"show": "resident_id"}  # masked outside the administrators' and the person's view
ID_DOCUMENT = {"show": "id_document"}  # a resident ID or a passport number: masked likewise
AMOUNT = {"show": "amount"}  # money: masked likewise
YEARS = {"show": "years"}  # contribution years, ``15.5``
LONG = {"show": "long"}  # free text, shown in a section of its own


def option_of(options: type[StrEnum]) -> dict[str, Any]:
    """A text field picked from ``options`` (a select): shown as the option's words; a
    value stored before it was a select is shown as the text it is (masked likewise)."""
    return {"show": "option", "options": options}


@dataclass(frozen=True)
class FormContext:
    """What a form is checked against besides its own fields."""

    actor: str  # who files it
    may_file_for_others: bool  # HR staff and administrators
    today: date  # in SI_TIMEZONE
    policy: Policy


@dataclass(frozen=True)
class Fact:
    """What the rules say about a request (a statutory date, an eligibility, an
    estimate): a text key of ``messages/`` and its parameters. ``private`` facts tell
    something personal (a birth month, an amount) and are shown only to those entitled;
    an ``aside`` is how a figure was worked out, shown in small print."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    private: bool = False
    aside: bool = False


@dataclass(frozen=True)
class FactContext:
    policy: Policy
    calendar: WorkingCalendar  # deadlines move off holidays
    filed_on: date  # the day the request was filed (estimates are frozen at it)


def no_arguments(word: str, args: Sequence[str]) -> dict[str, str]:
    """``/si <word>`` takes no arguments."""
    if args:
        raise Refused("usage_no_arguments", sub=word, value=args[0])
    return {}


# The months each month field of a form offers, from the policy and today.
MonthWindows = Callable[[Policy, date], dict[str, MonthWindow]]


def no_months(policy: Policy, today: date) -> dict[str, MonthWindow]:
    """A form without month fields."""
    return {}


def past_months(*keys: str, back: Callable[[Policy], int]) -> MonthWindows:
    """Month fields ``keys`` offering the months from ``back(policy)`` months ago to this one."""

    def windows(policy: Policy, today: date) -> dict[str, MonthWindow]:
        window = MonthWindow.back(YearMonth.of(today), back(policy))
        return dict.fromkeys(keys, window)

    return windows


def option_argument(name: str, enum: type[StrEnum], usage: str) -> Callable[[str, Sequence[str]], dict]:
    """``/si card lost``, ``/si transfer in``: one optional word that picks the form's
    option ``name``."""

    def read(word: str, args: Sequence[str]) -> dict[str, str]:
        if not args:
            return {}
        try:
            value = enum(args[0].lower().replace("-", "_")).value
        except ValueError:
            raise Refused(usage, value=args[0]) from None
        if len(args) > 1:
            raise Refused(usage, value=args[1])
        return {name: value}

    return read


@dataclass(frozen=True)
class KindSpec:
    """Everything about one request kind, in one place.

    - ``command``: its ``/si`` word; ``arguments`` reads what follows the word into the
      form's pre-filled values. The form's template is ``messages/blocks/form_<kind>``.
    - ``form``: the form dataclass (stored as its payload); ``parse`` validates a filled-in
      form; the insured person is ``subject_field`` of the form, else the requester.
    - ``for_others``: HR staff and administrators may file it for someone else.
    - ``confidential``: its card goes to each administrator privately, never to a channel.
    - ``own_words``: its states, actions and buttons have words of their own, the texts
      ``<kind>.state.*``, ``<kind>.action.*`` and ``<kind>.button.*`` (a complaint is
      accepted, not approved: 受理 / 不予受理 / 已解决).
    - ``sensitive``: its card in a channel shows only its kind, id and state (health,
      dismissal, death, retirement); the administrators open Details for the rest.
    - ``materials``: the text key of what to prepare; ``facts``: what the rules say about it.
    - ``month_field``: the form's month stored as the request's ``effective_month`` column,
      for the queries that select by it (the monthly change form).
    - ``month_windows``: the months each month field of the form offers, from the policy
      and today (its select of months).
    """

    kind: RequestKind
    command: str
    form: type
    parse: Callable[[FormReader, FormContext], Any]
    arguments: Callable[[str, Sequence[str]], dict[str, str]] = no_arguments
    subject_field: str | None = None
    for_others: bool = False
    confidential: bool = False
    own_words: bool = False
    sensitive: bool = False
    materials: Callable[[Any], str] | None = None
    facts: Callable[[Any, FactContext], list[Fact]] | None = None
    month_field: str | None = None
    month_windows: MonthWindows = no_months

    @property
    def template(self) -> str:
        return f"form_{self.kind.value}"
