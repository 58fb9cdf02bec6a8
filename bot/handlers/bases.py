"""The yearly contribution-base declaration in Slack: ``/si bases compute [YYYY]`` (the
review with Override and Lock), ``/si bases status [YYYY]`` (the publicity, with Resolve a
dispute), the lock (the declaration sheet to the administrator's DM, then the DMs to
everyone queued), and the person's Confirm / Dispute on their DM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.bases_files import declaration_files
from bot.domain import commands as cmd
from bot.domain.bases import base_year_start
from bot.domain.months import YearMonth
from bot.exports import plain_words, upload_to_dm
from bot.handlers.forms import FormMetadata, correction_modal
from bot.handlers.listen import Interaction, Listen, Submission
from bot.handlers.replies import ephemeral, modal, notice
from bot.ids import ActionId, CallbackId
from bot.runtime import SiBot
from bot.services import bases, roles

# Names shown under each count in a message (all of them are in the files and the CLI).
SHOWN = 20


@dataclass(frozen=True)
class BasesMetadata(FormMetadata):
    """Carried in a declaration modal's private_metadata: the year, or the person's
    reference (``item``), and the DM it was opened from (``channel``, ``ts``)."""

    item: str = ""
    ts: str = ""


def _year(bot: SiBot, year: int | None) -> int:
    return year or bot.workplace.today(bot.now()).year


# --- /si bases ------------------------------------------------------------------------------------


def computing(bot: SiBot, command: cmd.BasesCompute, user: str, session: Session) -> dict[str, Any]:
    """Within the ack: what happens next (the review comes after the computation)."""
    roles.require_admin(session, user)
    year = _year(bot, command.year)
    base_year_start(bot.policy, year)  # Refused at once when the policy has no such period
    if bases.is_locked(session, year):
        return notice(bot, "bases.already_locked", year=year)
    return notice(bot, "bases.computing", year=year)


def send_review(turn: Interaction, command: cmd.BasesCompute, session: Session) -> None:
    """After the ack: compute the draft, then show the administrator its review. A locked
    declaration is not computed again: its review and its sheet are sent again, and any
    DM not queued yet (a lock whose follow-up failed halfway) is queued."""
    bot = turn.bot
    year = _year(bot, command.year)
    if bases.is_locked(session, year):
        review = bases.review(session, bot.workplace, year=year, viewer=turn.user)
        locked_by = bases.declaration_of(session, year).locked_by
        turn.reply(ephemeral(bot, "bases_review", r=review, shown=SHOWN, locked_by=locked_by))
        turn.then(lambda: _declare(turn, year))
        return
    review = bases.compute(session, bot.workplace, year=year, actor=turn.user, now=bot.now())
    turn.reply(ephemeral(bot, "bases_review", r=review, shown=SHOWN, locked_by=None))


def status(bot: SiBot, command: cmd.BasesStatus, user: str, session: Session) -> dict[str, Any]:
    found = bases.status(session, year=_year(bot, command.year), viewer=user)
    return ephemeral(bot, "bases_status", s=found, shown=SHOWN)


def _form(bot: SiBot, session: Session, *, year: int, user: str, resolve: bool) -> dict[str, Any]:
    roles.require_admin(session, user)
    declaration = bases.declaration_of(session, year)
    figures = bot.policy.period_for(YearMonth.parse(declaration.start))
    return bot.messages.render(
        "form_bases_override",
        callback_id=(CallbackId.BASES_RESOLVE_FORM if resolve else CallbackId.BASES_OVERRIDE_FORM).value,
        metadata=BasesMetadata(item=str(year)).dump(),
        year=year,
        start=declaration.start,
        floor=figures.floor,
        ceiling=figures.ceiling,
        resolve=resolve,
    )


def register(listen: Listen) -> None:
    bot = listen.bot

    @listen.button(ActionId.BASES_OVERRIDE, read_only=True)
    def override_pressed(press: Interaction, session: Session) -> None:
        press.open(_form(bot, session, year=int(press.value), user=press.user, resolve=False))

    @listen.submission(CallbackId.BASES_OVERRIDE_FORM)
    def overridden(form: Submission, session: Session) -> dict:
        year = int(BasesMetadata.load(form.view.get("private_metadata")).item)
        line = bases.override(
            session, bot.workplace, year=year, raw=form.values, actor=form.user, now=bot.now()
        )
        shown = notice(
            bot,
            "bases.overridden",
            name=line.full_name,
            year=year,
            base=line.base,
            reason=line.override_reason,
        )
        return {"response_action": "update", "view": modal(bot, shown, "base_override")}

    @listen.button(ActionId.BASES_LOCK)
    def lock_pressed(press: Interaction, session: Session) -> None:
        year = int(press.value)
        review = bases.lock(session, bot.workplace, year=year, actor=press.user, now=bot.now())
        press.redraw(bot.messages.render("bases_review", r=review, shown=SHOWN, locked_by=press.user))
        press.then(lambda: _declare(press, year))

    @listen.button(ActionId.BASES_RESOLVE, read_only=True)
    def resolve_pressed(press: Interaction, session: Session) -> None:
        press.open(_form(bot, session, year=int(press.value), user=press.user, resolve=True))

    @listen.submission(CallbackId.BASES_RESOLVE_FORM)
    def resolved(form: Submission, session: Session) -> dict:
        year = int(BasesMetadata.load(form.view.get("private_metadata")).item)
        line = bases.resolve(
            session, bot.workplace, year=year, raw=form.values, actor=form.user, now=bot.now()
        )
        shown = notice(bot, "bases.resolved", name=line.full_name, base=line.base)
        return {"response_action": "update", "view": modal(bot, shown, "base_resolved")}

    @listen.button(ActionId.BASES_CONFIRM)
    def confirmed(press: Interaction, session: Session) -> None:
        shown = bases.confirm(session, reference=press.value, actor=press.user, now=bot.now())
        press.redraw(bot.messages.render("base_publicity", **shown))

    @listen.button(ActionId.BASES_DISPUTE, read_only=True)
    def dispute_pressed(press: Interaction, session: Session) -> None:
        prefill = bases.dispute_form(
            session, bot.workplace, reference=press.value, actor=press.user, now=bot.now()
        )
        metadata = BasesMetadata(item=press.value, channel=press.channel, ts=press.message_ts).dump()
        callback = CallbackId.BASES_DISPUTE_FORM.value
        press.open(correction_modal(bot, callback_id=callback, metadata=metadata, prefill=prefill))

    @listen.submission(CallbackId.BASES_DISPUTE_FORM)
    def dispute_filed(form: Submission, session: Session) -> dict:
        metadata = BasesMetadata.load(form.view.get("private_metadata"))
        public_id = bases.dispute(
            session,
            bot.workplace,
            reference=metadata.item,
            raw=form.values,
            actor=form.user,
            submission_key=form.key,
            now=bot.now(),
        )
        return {
            "response_action": "update",
            "view": modal(bot, notice(bot, "bases.dispute_filed", public_id=public_id), "base_dispute"),
        }


def _declare(turn: Interaction, year: int) -> None:
    """After the lock's commit: the DMs to everyone queued first (each chunk a transaction
    of its own: in the database, whatever happens to Slack next), then the declaration
    sheet to the administrator's DM, then the count."""
    bot = turn.bot
    queued = bases.send_publicity(bot.db.session, bot.workplace, year=year, actor=turn.user, now=bot.now())
    words = plain_words(bot.messages)
    with bot.db.session(read_only=True) as session:
        declaration = bases.declaration_of(session, year)
        files = declaration_files(
            year, declaration.start, lambda: bases.lines(session, declaration.id), words
        )
    upload_to_dm(bot.client, turn.user, files, title=words("bases.sheet_title", year=year))
    turn.reply_now(notice(bot, "bases.locked", year=year, queued=queued.queued))
