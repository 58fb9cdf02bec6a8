"""``/si``: one listener, and one table entry per subcommand.

Slack gives a slash command 3 seconds. Each subcommand's entry says what the ack answers
(computed in the request thread, in a session that only reads when the entry says so, or
with no database at all), and what runs after the ack, if anything (a modal, files, the
messages recorded): only those hand work to the lazy pool. ``/si help`` lists the entries'
usage lines, and a test holds the README's command table against them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.domain import commands as cmd
from bot.domain.errors import Refused
from bot.domain.kinds import KINDS
from bot.domain.requests import Action
from bot.handlers import bases as bases_handlers
from bot.handlers import ledger as ledger_handlers
from bot.handlers import report, workspace
from bot.handlers import roster as roster_handlers
from bot.handlers.forms import document_form, form_view
from bot.handlers.listen import Interaction, Listen
from bot.handlers.lists import list_message
from bot.handlers.replies import apology, ephemeral, notice, refused
from bot.presenters.requests import present
from bot.runtime import SiBot
from bot.services import bills, documents, filing, handover, payments, roles
from bot.services.report import window
from bot.services.requests import ListFilter, act_on_request, own_first_page, request_page, visible_request


class Db(Enum):
    NONE = "none"  # answers without the database (it may be down)
    OWN = "own"  # reads what it needs itself: a one-statement read needs no unit of work
    READ = "read"
    WRITE = "write"


Answer = Callable[[SiBot, Any, str, Session | None], dict[str, Any]]
FollowUp = Callable[[Interaction, Any, Session], None]


@dataclass(frozen=True)
class Entry:
    """What one subcommand does: ``answer`` within the ack (with a session as ``db``
    says), then ``follow_up`` after it in a unit of work of its own, if any."""

    answer: Answer
    db: Db = Db.READ
    follow_up: FollowUp | None = None
    follow_up_writes: bool = False


# --- answers within the ack -------------------------------------------------------------------


def _help(bot: SiBot, command: cmd.Help, user: str, session: Session | None) -> dict:
    return ephemeral(bot, "help", everyone=USAGE_EVERYONE, admins=USAGE_ADMINS)


def _nothing_yet(bot: SiBot, command: Any, user: str, session: Session | None) -> dict:
    return {}  # the ack is empty: a modal opens after it


def _status(bot: SiBot, command: cmd.Status, user: str, session: Session | None) -> dict:
    if command.public_id is None:
        # The commonest request of all: one statement, without a unit of work.
        which = ListFilter(mine=True, kind=command.kind, state=command.state)
        return list_message(bot, own_first_page(bot.db.glance, viewer=user, which=which), which=which)
    with bot.db.session(read_only=True) as session:
        request = visible_request(session, public_id=command.public_id, viewer=user)
        return ephemeral(bot, "request_detail", view=present(request, bot.workplace, whole=True))


def _cancel(bot: SiBot, command: cmd.Cancel, user: str, session: Session) -> dict:
    request = act_on_request(
        session,
        public_id=command.public_id,
        action=Action.CANCEL,
        actor=user,
        now=bot.now(),
        tz=bot.workplace.tz,
    )
    return notice(bot, "request.cancelled", public_id=request.public_id)


def _admin_list(bot: SiBot, command: cmd.AdminList, user: str, session: Session) -> dict:
    which = ListFilter(mine=False, kind=command.kind, state=command.state)
    return list_message(bot, request_page(session, viewer=user, which=which), which=which)


def _staff_list(bot: SiBot, command: cmd.StaffList, user: str, session: Session) -> dict:
    return ephemeral(bot, "staff_list", staff=roles.list_staff(session, actor=user))


def _staff_add(bot: SiBot, command: cmd.StaffAdd, user: str, session: Session) -> dict:
    changed = roles.add_staff(session, actor=user, user_id=command.user, now=bot.now())
    return notice(bot, "staff.added" if changed else "staff.already", user=command.user)


def _staff_remove(bot: SiBot, command: cmd.StaffRemove, user: str, session: Session) -> dict:
    changed = roles.remove_staff(session, actor=user, user_id=command.user, now=bot.now())
    return notice(bot, "staff.removed" if changed else "staff.not_there", user=command.user)


def _contact(bot: SiBot, command: cmd.Contact, user: str, session: Session) -> dict:
    return workspace.contact_message(bot, session)


def _docs_list(bot: SiBot, command: cmd.DocsList, user: str, session: Session) -> dict:
    return workspace.docs_message(bot, documents.registry(session, viewer=user))


def _docs_add(bot: SiBot, command: cmd.DocsAdd, user: str, session: Session) -> dict:
    roles.require_admin(session, user)
    return {}  # the form opens after the ack


def _export_change_form(bot: SiBot, command: cmd.ExportChangeForm, user: str, session: Session) -> dict:
    roles.require_admin(session, user)
    month = command.month or workspace.form_month(bot)
    return notice(bot, "change_form.building", month=str(month))


def _export_handover(bot: SiBot, command: cmd.ExportHandover, user: str, session: Session) -> dict:
    record = handover.find_handover(session, viewer=user, number=command.number)
    return notice(bot, "handover.exporting", number=record.id)


def _report(bot: SiBot, command: cmd.Report, user: str, session: Session) -> dict:
    roles.require_admin(session, user)
    month = command.month or report.last_month(bot)
    window(bot.workplace, month, bot.now())  # Refused for a month that has not begun
    return notice(bot, "report.building", month=str(month))


def _admin_add(bot: SiBot, command: cmd.AdminAdd, user: str, session: Session) -> dict:
    change = filing.add_admin(
        session, bot.workplace, actor=user, user_id=command.user, filed_on=command.filed_on, now=bot.now()
    )
    return notice(bot, f"filing.{change.outcome}", user=command.user, day=str(change.filed_on or ""))


def _admin_remove(bot: SiBot, command: cmd.AdminRemove, user: str, session: Session) -> dict:
    refusal = filing.check_removal(session, actor=user, user_id=command.user)
    if refusal is not None:
        return notice(bot, f"filing.{refusal.outcome}", user=command.user)
    return ephemeral(bot, "admin_remove_confirm", user=command.user)  # asks first


def _admin_handover(bot: SiBot, command: cmd.AdminHandover, user: str, session: Session) -> dict:
    started = handover.start_handover(
        session, bot.workplace, actor=user, successor=command.successor, now=bot.now()
    )
    key = "handover.started" if started.created else "handover.still_pending"
    return notice(bot, key, successor=command.successor, number=started.handover.id)


def _export_contributions(bot: SiBot, command: cmd.ExportContributions, user: str, session: Session) -> dict:
    roles.require_admin(session, user)
    return notice(bot, "ledger.building", month=str(command.month))


def _record_payment(bot: SiBot, command: cmd.RecordPayment, user: str, session: Session) -> dict:
    payments.check_month(session, bot.workplace, actor=user, month=command.month, now=bot.now())
    return {}  # the form opens after the ack


def _reconciliation(bot: SiBot, command: cmd.Reconciliation, user: str, session: Session) -> dict:
    roles.require_admin(session, user)
    if bills.latest_bill(session, command.month) is None:
        raise Refused("bill_not_found", month=str(command.month))
    return notice(bot, "bill.building", month=str(command.month))


# --- after the ack ----------------------------------------------------------------------------


def _open_form(turn: Interaction, command: cmd.FileRequest, session: Session) -> None:
    turn.open(
        form_view(
            turn.bot, session, command.kind, user=turn.user, channel=turn.channel, prefill=command.prefill
        )
    )


def _open_document_form(turn: Interaction, command: cmd.DocsAdd, session: Session) -> None:
    roles.require_admin(session, turn.user)
    turn.open(document_form(turn.bot, turn.user))


def _send_change_form(turn: Interaction, command: cmd.ExportChangeForm, session: Session) -> None:
    workspace.send_change_form(turn, session, command.month or workspace.form_month(turn.bot))


def _send_handover(turn: Interaction, command: cmd.ExportHandover, session: Session) -> None:
    workspace.send_handover(turn, session, command.number)


def _send_report(turn: Interaction, command: cmd.Report, session: Session) -> None:
    report.send_report(turn, session, command.month or report.last_month(turn.bot))


def _send_contributions(turn: Interaction, command: cmd.ExportContributions, session: Session) -> None:
    ledger_handlers.send_contributions(turn, session, command.month)


def _open_payment_form(turn: Interaction, command: cmd.RecordPayment, session: Session) -> None:
    turn.open(ledger_handlers.payment_form(turn.bot, session, user=turn.user, month=command.month))


def _send_reconciliation(turn: Interaction, command: cmd.Reconciliation, session: Session) -> None:
    ledger_handlers.send_reconciliation(turn, session, command.month)


def _deliver(turn: Interaction, command: Any, session: Session) -> None:
    """The messages the ack recorded (sent after the ack, not within it)."""
    turn.then(turn.bot.deliverer.deliver_pending)


def _deliver_and_redraw_homes(turn: Interaction, command: Any, session: Session) -> None:
    """The messages the ack recorded, and the Home of those concerned (a change of who
    administers)."""
    _deliver(turn, command, session)
    people = [turn.user, getattr(command, "user", "") or getattr(command, "successor", "")]
    turn.then(lambda: turn.bot.home.refresh(people, admins=True))


TABLE: dict[type, Entry] = {
    cmd.Help: Entry(_help, db=Db.NONE),
    cmd.FileRequest: Entry(_nothing_yet, db=Db.NONE, follow_up=_open_form),
    cmd.Status: Entry(_status, db=Db.OWN),
    cmd.Cancel: Entry(_cancel, db=Db.WRITE, follow_up=_deliver),
    cmd.Contact: Entry(_contact),
    cmd.AdminList: Entry(_admin_list),
    cmd.StaffList: Entry(_staff_list),
    cmd.StaffAdd: Entry(_staff_add, db=Db.WRITE),
    cmd.StaffRemove: Entry(_staff_remove, db=Db.WRITE),
    cmd.AdminAdd: Entry(_admin_add, db=Db.WRITE, follow_up=_deliver_and_redraw_homes),
    cmd.AdminRemove: Entry(_admin_remove, db=Db.READ),
    cmd.AdminHandover: Entry(_admin_handover, db=Db.WRITE, follow_up=_deliver_and_redraw_homes),
    cmd.Roster: Entry(roster_handlers.answer),
    cmd.RosterRetirees: Entry(roster_handlers.retirees),
    cmd.RosterTemplates: Entry(roster_handlers.templates_coming, follow_up=roster_handlers.send_templates),
    cmd.DocsList: Entry(_docs_list),
    cmd.DocsAdd: Entry(_docs_add, follow_up=_open_document_form),
    cmd.ExportChangeForm: Entry(_export_change_form, follow_up=_send_change_form, follow_up_writes=True),
    cmd.ExportHandover: Entry(_export_handover, follow_up=_send_handover),
    cmd.Report: Entry(_report, follow_up=_send_report),
    cmd.ExportContributions: Entry(_export_contributions, follow_up=_send_contributions),
    cmd.RecordPayment: Entry(_record_payment, follow_up=_open_payment_form),
    cmd.Reconciliation: Entry(_reconciliation, follow_up=_send_reconciliation),
    cmd.OwnStatement: Entry(ledger_handlers.own_statement),
    cmd.SendStatements: Entry(ledger_handlers.statements_starting, follow_up=ledger_handlers.send_statements),
    cmd.BasesCompute: Entry(
        bases_handlers.computing, follow_up=bases_handlers.send_review, follow_up_writes=True
    ),
    cmd.BasesStatus: Entry(bases_handlers.status),
}

# /si help, in this order: (text key of the usage line, for administrators only).
USAGE_EVERYONE = [
    *(f"usage.{spec.command}" for spec in KINDS.values()),
    "usage.status",
    "usage.cancel",
    "usage.contact",
    "usage.roster",
    "usage.statement",
    "usage.help",
]
USAGE_ADMINS = [
    "usage.admin_list",
    "usage.staff",
    "usage.admin_add_remove",
    "usage.handover",
    "usage.roster_admin",
    "usage.docs",
    "usage.export_change_form",
    "usage.export_handover",
    "usage.report",
    "usage.export_contributions",
    "usage.paid",
    "usage.bill",
    "usage.admin_statements",
    "usage.bases",
]


@lru_cache(maxsize=512)
def _parse(text: str) -> cmd.Subcommand | Refused:
    """The subcommand ``text`` asks for, or the refusal saying what to fix (the same
    words, ``/si status`` above all, are parsed once)."""
    try:
        return cmd.parse_command(text)
    except Refused as exc:
        return exc


def register(listen: Listen) -> None:
    bot = listen.bot

    def ack_si(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        parsed = _parse(command.get("text", ""))
        try:
            if isinstance(parsed, Refused):
                raise parsed
            entry = TABLE[type(parsed)]
            if entry.db in (Db.NONE, Db.OWN):
                ack(**entry.answer(bot, parsed, command["user_id"], None))
            else:
                with bot.db.session(read_only=entry.db is Db.READ) as session:
                    answer = entry.answer(bot, parsed, command["user_id"], session)
                ack(**answer)
        except Refused as exc:
            ack(**refused(bot, exc))
            return
        except Exception as exc:
            ack(**apology(bot, exc, "/si"))
            return
        # Only the subcommands with work after the ack pay for it.
        if entry.follow_up is not None:
            turn = Interaction.of_command(bot, command, client)
            listen.later(lambda: follow_up(turn, parsed, entry), "/si")

    def follow_up(turn: Interaction, parsed: cmd.Subcommand, entry: Entry) -> None:
        work = entry.follow_up
        assert work is not None
        # A refusal here was already the ack's answer (the same checks run there).
        turn.run(
            lambda t, session: work(t, parsed, session),
            read_only=not entry.follow_up_writes,
            where="/si",
            refusals_answered=True,
        )

    listen.app.command("/si")(ack_si)
