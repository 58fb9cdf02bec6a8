"""The administrator's workspace on the ``/si`` command line: the prefilled procedure
forms, the change-form export, contact, the certificate registry, and the administrators'
filing and handover. Pure parsing; ``Refused(code)`` says what to fix."""

from __future__ import annotations

from datetime import date

from bot.domain.commands import Command, parse_user
from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.domain.procedures import CardAction, SettleReason, TransferDirection
from bot.domain.requests import Kind

# Subcommands answered by bot/handlers/workspace.py (the request forms go the usual way).
WORKSPACE_COMMANDS = frozenset(
    {
        "export-change-form",
        "export-handover",
        "contact",
        "docs",
        "docs-add",
        "admin-add",
        "admin-remove",
        "admin-handover",
    }
)
# /si card lost, /si transfer in, /si settle death: the first word picks the form's option.
_PREFILL = {
    "card": ("card_action", CardAction, "usage_card"),
    "transfer": ("direction", TransferDirection, "usage_transfer"),
    "settle": ("settle_reason", SettleReason, "usage_settle"),
}


def parse_prefilled(sub: str, kind: Kind, args: list[str]) -> Command:
    prefill: dict[str, str] = {}
    if sub in _PREFILL and args:
        name, enum, usage = _PREFILL[sub]
        try:
            prefill[name] = enum(args[0].lower().replace("-", "_")).value
        except ValueError:
            raise Refused(usage, value=args[0]) from None
        if len(args) > 1:
            raise Refused(usage, value=args[1])
    elif args:
        raise Refused("usage_no_arguments", sub=sub, value=args[0])
    return Command(sub, kind=kind, prefill=prefill)


def parse_workspace(sub: str, args: list[str]) -> Command:
    """``export``, ``contact`` and ``docs``."""
    if sub == "contact":
        return Command("contact")
    if sub == "docs":
        if not args or args[0].lower() == "list":
            return Command("docs", verb="list")
        if args[0].lower() == "add":
            return Command("docs-add")
        raise Refused("usage_docs")
    # export
    what = args[0].lower() if args else ""
    if what == "change-form":
        if len(args) > 2:
            raise Refused("usage_export")
        month = ""
        if len(args) == 2:
            try:
                month = str(YearMonth.parse(args[1]))
            except ValueError:
                raise Refused("bad_month", value=args[1]) from None
        return Command("export-change-form", month=month)
    if what == "handover":
        ref = args[1] if len(args) > 1 else ""
        if ref and not ref.isdigit():
            raise Refused("usage_export")
        return Command("export-handover", ref=ref)
    raise Refused("usage_export")


def parse_admin_workspace(verb: str, args: list[str]) -> Command:
    """``admin add @person [YYYY-MM-DD]``, ``admin remove @person``,
    ``admin handover @successor``."""
    user = parse_user(args[0]) if args else None
    if verb == "handover":
        if not user or len(args) > 1:
            raise Refused("usage_handover")
        return Command("admin-handover", user=user)
    if not user:
        raise Refused("usage_admin_add_remove")
    if verb == "remove":
        if len(args) > 1:
            raise Refused("usage_admin_add_remove")
        return Command("admin-remove", user=user)
    day = ""
    if len(args) > 1:
        try:
            day = date.fromisoformat(args[1]).isoformat()
        except ValueError:
            raise Refused("bad_filed_date", value=args[1]) from None
    if len(args) > 2:
        raise Refused("usage_admin_add_remove")
    return Command("admin-add", user=user, day=day)
