"""The ``/si`` command line: what the user asked for, as a typed value.

Parsing is pure; problems are reported as codes (``Refused``) that messages/ words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.domain.requests import ChangeType, Kind, State

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_PUBLIC_ID = re.compile(r"^SI-\d{4}-\d{4,}$", re.IGNORECASE)
FORM_COMMANDS = {
    "change": Kind.CHANGE,
    "payback": Kind.PAYBACK,
    "complaint": Kind.COMPLAINT,
    "card": Kind.CARD,
    "transfer": Kind.TRANSFER,
    "retire": Kind.RETIREMENT,
    "unemployment": Kind.UNEMPLOYMENT,
    "medical": Kind.MEDICAL,
    "settle": Kind.SETTLEMENT,
}


@dataclass(frozen=True)
class Command:
    name: str  # help, change, payback, complaint, status, cancel, admin-list, admin-staff
    kind: Kind | None = None
    public_id: str = ""
    user: str = ""
    state: str = ""  # admin list filter
    filter_kind: str = ""  # admin list filter
    verb: str = ""  # admin staff add|remove|list
    prefill: dict[str, str] = field(default_factory=dict)
    month: str = ""  # export change-form YYYY-MM
    day: str = ""  # admin add: the filing date, YYYY-MM-DD
    ref: str = ""  # export handover N

    @property
    def opens_form(self) -> bool:
        return self.kind is not None


def parse_user(token: str) -> str | None:
    m = _USER.match(token)
    return m.group(1) if m else None


def parse_command(text: str) -> Command:
    """Parse the text after ``/si``. Refused(code) says what to fix."""
    words = text.split()
    if not words or words[0].lower() in ("help", "?", "帮助"):
        return Command("help")
    sub, args = words[0].lower(), words[1:]
    if sub in FORM_COMMANDS:
        if sub == "change":
            return _parse_change(args)
        if sub in ("payback", "complaint"):
            return Command(sub, kind=FORM_COMMANDS[sub])
        from bot.domain.workspace_commands import parse_prefilled

        return parse_prefilled(sub, FORM_COMMANDS[sub], args)
    if sub in ("export", "contact", "docs"):
        from bot.domain.workspace_commands import parse_workspace

        return parse_workspace(sub, args)
    if sub == "status":
        if not args:
            return Command("status")
        return Command("status", public_id=_public_id(args[0]))
    if sub == "cancel":
        if not args:
            raise Refused("usage_cancel")
        return Command("cancel", public_id=_public_id(args[0]))
    if sub == "admin":
        return _parse_admin(args)
    raise Refused("unknown_subcommand", sub=sub)


def _public_id(token: str) -> str:
    if not _PUBLIC_ID.match(token):
        raise Refused("bad_public_id", value=token)
    return token.upper()


def _parse_change(args: list[str]) -> Command:
    prefill: dict[str, str] = {}
    if args:
        try:
            prefill["change_type"] = ChangeType(args[0].lower()).value
        except ValueError:
            raise Refused("bad_change_type", value=args[0]) from None
    for token in args[1:]:
        user = parse_user(token)
        if user:
            prefill["person"] = user
            continue
        try:
            prefill["effective_month"] = str(YearMonth.parse(token))
        except ValueError:
            raise Refused("bad_change_argument", value=token) from None
    return Command("change", kind=Kind.CHANGE, prefill=prefill)


def _parse_admin(args: list[str]) -> Command:
    if not args:
        raise Refused("usage_admin")
    verb = args[0].lower()
    if verb == "list":
        kind = state = ""
        for token in args[1:]:
            low = token.lower()
            if low in {k.value for k in Kind}:
                kind = low
            elif low in FORM_COMMANDS:  # the command's word: retire, settle
                kind = FORM_COMMANDS[low].value
            elif low in {s.value for s in State}:
                state = low
            else:
                raise Refused("bad_list_filter", value=token)
        return Command("admin-list", state=state, filter_kind=kind)
    if verb in ("add", "remove", "handover"):
        from bot.domain.workspace_commands import parse_admin_workspace

        return parse_admin_workspace(verb, args[1:])
    if verb == "staff":
        action = args[1].lower() if len(args) > 1 else "list"
        if action == "list":
            return Command("admin-staff", verb="list")
        if action not in ("add", "remove"):
            raise Refused("usage_staff")
        user = parse_user(args[2]) if len(args) > 2 else None
        if not user:
            raise Refused("usage_staff")
        return Command("admin-staff", verb=action, user=user)
    raise Refused("usage_admin")
