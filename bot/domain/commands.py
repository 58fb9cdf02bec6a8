"""The ``/si`` command line: what the user asked for, as one typed value per subcommand.

Parsing is pure and happens once; a problem is a code (``Refused``) that messages/ words.
What each subcommand *does* is in the table of ``bot/handlers/subcommands.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from bot.domain.errors import Refused
from bot.domain.kinds import BY_COMMAND, kind_named
from bot.domain.mentions import parse_public_id, parse_user
from bot.domain.months import YearMonth
from bot.domain.requests import RequestKind, State


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class FileRequest:
    """``/si change``, ``/si payback``…: the kind's form, pre-filled from the arguments."""

    kind: RequestKind
    prefill: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    public_id: str | None = None  # None: the user's own requests
    kind: RequestKind | None = None  # the list's filters
    state: State | None = None


@dataclass(frozen=True)
class Cancel:
    public_id: str


@dataclass(frozen=True)
class Contact:
    pass


@dataclass(frozen=True)
class AdminList:
    kind: RequestKind | None = None
    state: State | None = None


@dataclass(frozen=True)
class StaffList:
    pass


@dataclass(frozen=True)
class StaffAdd:
    user: str


@dataclass(frozen=True)
class StaffRemove:
    user: str


@dataclass(frozen=True)
class AdminAdd:
    user: str
    filed_on: date | None = None  # the day filed with the social security center


@dataclass(frozen=True)
class AdminRemove:
    user: str


@dataclass(frozen=True)
class AdminHandover:
    successor: str


@dataclass(frozen=True)
class Roster:
    """``/si roster``: the person's own record and wages; with a query (``@person``, a
    name, a resident ID or a request id), the administrators' look-up."""

    query: str = ""


@dataclass(frozen=True)
class RosterRetirees:
    pass


@dataclass(frozen=True)
class RosterTemplates:
    pass


@dataclass(frozen=True)
class DocsList:
    pass


@dataclass(frozen=True)
class DocsAdd:
    pass


@dataclass(frozen=True)
class ExportChangeForm:
    month: YearMonth | None = None  # None: the month of the next cut-off


@dataclass(frozen=True)
class ExportHandover:
    number: int | None = None  # None: the latest


@dataclass(frozen=True)
class Report:
    month: YearMonth | None = None  # None: last month


@dataclass(frozen=True)
class ExportContributions:
    month: YearMonth


@dataclass(frozen=True)
class RecordPayment:
    month: YearMonth


@dataclass(frozen=True)
class Reconciliation:
    month: YearMonth


@dataclass(frozen=True)
class OwnStatement:
    year: int | None = None  # None: this year


@dataclass(frozen=True)
class SendStatements:
    year: int


@dataclass(frozen=True)
class BasesCompute:
    """``/si bases compute [YYYY]``: the base year starting in ``year`` (None: this year)."""

    year: int | None = None


@dataclass(frozen=True)
class BasesStatus:
    year: int | None = None


Subcommand = (
    Help
    | FileRequest
    | Status
    | Cancel
    | Contact
    | AdminList
    | StaffList
    | StaffAdd
    | StaffRemove
    | AdminAdd
    | AdminRemove
    | AdminHandover
    | Roster
    | RosterRetirees
    | RosterTemplates
    | DocsList
    | DocsAdd
    | ExportChangeForm
    | ExportHandover
    | Report
    | ExportContributions
    | RecordPayment
    | Reconciliation
    | OwnStatement
    | SendStatements
    | BasesCompute
    | BasesStatus
)
Args = Sequence[str]


def parse_command(text: str) -> Subcommand:
    """The text after ``/si``, as a subcommand. Refused(code) says what to fix."""
    words = text.split()
    if not words or words[0].lower() in ("help", "?", "帮助"):
        return Help()
    word, args = words[0].lower(), words[1:]
    if word in BY_COMMAND:
        spec = BY_COMMAND[word]
        return FileRequest(spec.kind, MappingProxyType(spec.arguments(word, args)))
    parse = _GRAMMAR.get(word)
    if parse is None:
        raise Refused("unknown_subcommand", sub=word)
    return parse(args)


def _status(args: Args) -> Status:
    # One word that is neither a kind nor a state is a request's id (and refused as one).
    one = args[0].lower() if len(args) == 1 else ""
    if one and not kind_named(one) and one not in {s.value for s in State}:
        return Status(parse_public_id(args[0]))
    kind, state = _list_filters(args)
    return Status(kind=kind, state=state)


def _cancel(args: Args) -> Cancel:
    if not args:
        raise Refused("usage_cancel")
    return Cancel(parse_public_id(args[0]))


def _contact(args: Args) -> Contact:
    return Contact()


def _docs(args: Args) -> DocsList | DocsAdd:
    verb = args[0].lower() if args else "list"
    if verb == "list" and len(args) <= 1:
        return DocsList()
    if verb == "add" and len(args) == 1:
        return DocsAdd()
    raise Refused("usage_docs")


def _roster(args: Args) -> Roster | RosterRetirees | RosterTemplates:
    word = args[0].lower() if len(args) == 1 else ""
    if word in ("template", "templates"):
        return RosterTemplates()
    if word == "retirees":
        return RosterRetirees()
    return Roster(" ".join(args))


def _export(args: Args) -> ExportChangeForm | ExportHandover | ExportContributions:
    what = args[0].lower() if args else ""
    if what == "contributions" and len(args) == 2:
        return ExportContributions(_month(args[1]))
    if what == "change-form" and len(args) <= 2:
        return ExportChangeForm(_month(args[1]) if len(args) == 2 else None)
    if what == "handover" and len(args) <= 2:
        if len(args) == 2 and not args[1].isdigit():
            raise Refused("usage_export")
        return ExportHandover(int(args[1]) if len(args) == 2 else None)
    raise Refused("usage_export")


def _report(args: Args) -> Report:
    if len(args) > 1:
        raise Refused("usage_report")
    return Report(_month(args[0]) if args else None)


def _month(token: str) -> YearMonth:
    try:
        return YearMonth.parse(token)
    except ValueError:
        raise Refused("bad_month", value=token) from None


def _paid(args: Args) -> RecordPayment:
    if len(args) != 1:
        raise Refused("usage_paid")
    return RecordPayment(_month(args[0]))


def _bill(args: Args) -> Reconciliation:
    if len(args) != 1:
        raise Refused("usage_bill")
    return Reconciliation(_month(args[0]))


def _year(token: str) -> int:
    if not (token.isdigit() and len(token) == 4 and token >= "1990"):
        raise Refused("bad_year", value=token)
    return int(token)


def _statement(args: Args) -> OwnStatement:
    if len(args) > 1:
        raise Refused("usage_statement")
    return OwnStatement(_year(args[0]) if args else None)


def _admin_statements(args: Args) -> SendStatements:
    if len(args) != 1:
        raise Refused("usage_admin_statements")
    return SendStatements(_year(args[0]))


def _bases(args: Args) -> BasesCompute | BasesStatus:
    verb = args[0].lower() if args else ""
    if verb not in ("compute", "status") or len(args) > 2:
        raise Refused("usage_bases")
    year = _year(args[1]) if len(args) == 2 else None
    return BasesCompute(year) if verb == "compute" else BasesStatus(year)


def _admin(args: Args) -> Subcommand:
    if not args:
        raise Refused("usage_admin")
    parse = _ADMIN_GRAMMAR.get(args[0].lower())
    if parse is None:
        raise Refused("usage_admin")
    return parse(args[1:])


def _admin_list(args: Args) -> AdminList:
    return AdminList(*_list_filters(args))


def _list_filters(args: Args) -> tuple[RequestKind | None, State | None]:
    """A list's filters in any order: a kind's word, a state, or both."""
    kind: RequestKind | None = None
    state: State | None = None
    for token in args:
        low = token.lower()
        if named := kind_named(low):
            kind = named
        elif low in {s.value for s in State}:
            state = State(low)
        else:
            raise Refused("bad_list_filter", value=token)
    return kind, state


def _staff(args: Args) -> StaffList | StaffAdd | StaffRemove:
    verb = args[0].lower() if args else "list"
    if verb == "list" and len(args) <= 1:
        return StaffList()
    user = parse_user(args[1]) if len(args) == 2 else None
    if verb in ("add", "remove") and user:
        return StaffAdd(user) if verb == "add" else StaffRemove(user)
    raise Refused("usage_staff")


def _admin_add(args: Args) -> AdminAdd:
    user = parse_user(args[0]) if args else None
    if not user:
        raise Refused("usage_admin_add_remove")
    filed_on = None
    if len(args) > 1:
        try:
            filed_on = date.fromisoformat(args[1])
        except ValueError:
            raise Refused("bad_filed_date", value=args[1]) from None
    if len(args) > 2:
        raise Refused("usage_admin_add_remove")
    return AdminAdd(user, filed_on)


def _admin_remove(args: Args) -> AdminRemove:
    user = parse_user(args[0]) if len(args) == 1 else None
    if not user:
        raise Refused("usage_admin_add_remove")
    return AdminRemove(user)


def _admin_handover(args: Args) -> AdminHandover:
    user = parse_user(args[0]) if len(args) == 1 else None
    if not user:
        raise Refused("usage_handover")
    return AdminHandover(user)


_GRAMMAR: Mapping[str, Callable[[Args], Subcommand]] = {
    "status": _status,
    "cancel": _cancel,
    "contact": _contact,
    "docs": _docs,
    "roster": _roster,
    "export": _export,
    "report": _report,
    "paid": _paid,
    "bill": _bill,
    "statement": _statement,
    "bases": _bases,
    "admin": _admin,
}
_ADMIN_GRAMMAR: Mapping[str, Callable[[Args], Subcommand]] = {
    "list": _admin_list,
    "staff": _staff,
    "add": _admin_add,
    "remove": _admin_remove,
    "handover": _admin_handover,
    "statements": _admin_statements,
}
