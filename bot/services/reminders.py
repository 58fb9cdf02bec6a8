"""Reminders to the administrators: what is due now, claimed once, sent through the outbox.

No Slack in here. When each reminder comes is the domain's (:mod:`bot.domain.reminders`,
on the deadlines of :mod:`bot.domain.deadlines`); this module reads what the database says
of each occurrence (handled, snoozed, already sent), claims what is due, and records the
messages. What a reminder shows is :mod:`bot.presenters.reminders`.

Exactly once: every reminder has a key (``payment:2026-02:warning:2026-02-24``: what,
which period, which stage on which day) and its outbox messages one per audience
(``reminder:<key>:<administrator or channel>``). Sending inserts the key into
``reminder_sends`` in the same transaction that records the messages; a second process,
or the same one after a restart, meets the unique key and records nothing.

The stale-request digest: one a working day, when some open request has waited the
policy's ``stale_after_working_days``; never sent for an earlier day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain import reminders as schedule
from bot.domain.audience import Audience
from bot.domain.deadlines import (
    Deadline,
    DeadlineKind,
    deadlines_for_year,
    document_deadline,
    document_id,
    is_stale,
    reminder_key,
)
from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.domain.requests import OPEN_STATES, State
from bot.domain.workplace import Workplace
from bot.presenters.reminders import DIGEST, ReminderData, for_audience, live_params, reminder_params
from bot.services import change_form, ledger, roles
from bot.services.documents import documents_due
from bot.services.outbox import Recipient, enqueue
from bot.storage.models import (
    ReminderEngine,
    ReminderMessage,
    ReminderOccurrence,
    ReminderSend,
    Request,
    RequestEvent,
    UnitDocument,
)

log = logging.getLogger(__name__)

DIGEST_STAGE = "digest"
# A reminder sent more than this after its moment says it is late.
LATE_GRACE = timedelta(minutes=30)
# How far back a tick looks for reminders that fell due while no tick ran.
LOOKBACK = timedelta(days=62)
# Request ids listed in one reminder; the rest are counted.
MAX_IDS = 30
# Done and Snooze redraw the copies of this many of an occurrence's latest reminders.
REDRAW_SENDS = 5


@dataclass(frozen=True)
class DueReminder:
    """One reminder due at a moment: claim it under ``key``."""

    key: str  # what, which period, which stage on which day
    occurrence: str  # ``kind:period``: what Done and Snooze act on
    kind: str  # a DeadlineKind value, or "stale_digest"
    period: str
    stage: str  # warning | due_day | missed | digest
    scheduled_on: date  # the working day it belongs to
    due: date  # the deadline (the digest: its own day)
    late: bool  # its moment passed while no tick ran
    calendar_covered: bool
    deadline: Deadline | None = None


@dataclass(frozen=True)
class Snoozed:
    occurrence: ReminderOccurrence
    until: date


def notice_for(kind: str) -> str:
    """The ``messages/blocks`` template of a reminder of ``kind``."""
    return "reminder_digest" if kind == DIGEST else "reminder"


def audience(session: Session, workplace: Workplace) -> list[Recipient]:
    """Who is reminded, as the policy's ``[reminders] to`` says: the admin channel, or every
    filed administrator by DM (also when there is no admin channel) — never both."""
    if workplace.policy.reminder_to == "channel" and workplace.admin_channel:
        return [Recipient.channel(workplace.admin_channel)]
    return [Recipient.person(admin) for admin in roles.admin_ids(session)]


# -- what is due ---------------------------------------------------------------------------


def due_reminders(session: Session, workplace: Workplace, now: datetime) -> list[DueReminder]:
    """Every reminder due at ``now`` and not yet sent: the day's reminders from the policy's
    send time on, those that fell due while no tick ran (``late``), missed-deadline alerts
    and the stale-request digest. Handled occurrences, snoozed ones (until their day) and
    reminders already claimed are left out. Reads only; sends nothing."""
    today = workplace.today(now)
    since = _since(session, today, now, start=False)
    policy, calendar = workplace.policy, workplace.calendar
    # Last year's periods for their late and missed reminders; next year's only in December,
    # when its January deadlines may warn (and its holidays may not be known yet).
    years = range(today.year - 1, today.year + (2 if today.month == 12 else 1))
    deadlines = [d for year in years for d in deadlines_for_year(policy, calendar, year)]
    window_ends = {d.period: d.due for d in deadlines if d.kind is DeadlineKind.BASE_DECLARATION_CLOSE}
    # No reminder comes earlier than this before its deadline (the certificate exam's is the
    # first working day of the month before; warnings are working days): plan only those near.
    horizon = today + timedelta(days=75 + 2 * policy.warn_working_days)
    # The registry's certificates and materials bring their own dates.
    deadlines += [
        document_deadline(doc.id, doc.due_on, policy, calendar)
        for doc in documents_due(session, horizon)
        if doc.due_on is not None
    ]
    near = [d for d in deadlines if d.due <= horizon and schedule.matters_until(d, window_ends) >= since]
    plans = {d.key: schedule.plan(d, policy, calendar) for d in near}
    active = [d for d in near if plans[d.key][0][0] <= today]
    states = _occurrences(session, [d.key for d in active])
    found: list[DueReminder] = []
    for deadline in active:
        occurrence = states.get(deadline.key)
        if occurrence is not None and occurrence.handled_at is not None:
            continue
        picked = schedule.pick(
            deadline,
            plans[deadline.key],
            snoozed_until=occurrence.snoozed_until if occurrence is not None else None,
            since=since,
            now=now,
            policy=policy,
            tz=workplace.tz,
            window_ends=window_ends,
        )
        if picked is None:
            continue
        day, stage = picked
        found.append(
            DueReminder(
                key=reminder_key(deadline, stage, day),
                occurrence=deadline.key,
                kind=deadline.kind.value,
                period=deadline.period,
                stage=stage.value,
                scheduled_on=day,
                due=deadline.due,
                late=now - schedule.moment(day, policy, workplace.tz) > LATE_GRACE,
                calendar_covered=deadline.calendar_covered and calendar.covered(day.year),
                deadline=deadline,
            )
        )
    digest = _digest_due(session, workplace, today, since, now)
    if digest is not None:
        found.append(digest)
    sent = set(session.scalars(select(ReminderSend.key).where(ReminderSend.key.in_([r.key for r in found]))))
    return sorted(
        (r for r in found if r.key not in sent),
        key=lambda r: (r.due, r.occurrence, r.scheduled_on),
    )


def _since(session: Session, today: date, now: datetime, *, start: bool) -> date:
    """The first day a tick looks at: the day reminders first ran (recorded by the first
    sending tick), and not more than LOOKBACK ago."""
    engine = session.get(ReminderEngine, 1)
    if engine is None and start:
        try:
            with session.begin_nested():
                session.add(ReminderEngine(id=1, started_on=today, started_at=now))
        except IntegrityError:
            pass  # another process started a moment ago: use its row
        engine = session.get(ReminderEngine, 1)
    started = engine.started_on if engine is not None else today
    return max(min(started, today), today - LOOKBACK)


def _occurrences(session: Session, keys: list[str]) -> dict[str, ReminderOccurrence]:
    if not keys:
        return {}
    rows = session.scalars(select(ReminderOccurrence).where(ReminderOccurrence.key.in_(keys)))
    return {row.key: row for row in rows}


def _digest_due(
    session: Session, workplace: Workplace, today: date, since: date, now: datetime
) -> DueReminder | None:
    calendar = workplace.calendar
    moment = schedule.moment(today, workplace.policy, workplace.tz)
    if not calendar.is_working_day(today) or today < since or now < moment:
        return None
    key = f"{DIGEST}:{today.isoformat()}"
    occurrence = _occurrences(session, [key]).get(key)
    if occurrence is not None and occurrence.handled_at is not None:
        return None
    if not stale_requests(session, workplace, today):
        return None
    return DueReminder(
        key=key,
        occurrence=key,
        kind=DIGEST,
        period=today.isoformat(),
        stage=DIGEST_STAGE,
        scheduled_on=today,
        due=today,
        late=now - moment > LATE_GRACE,
        calendar_covered=calendar.covered(today.year),
    )


# -- sending -------------------------------------------------------------------------------


def send_due(session: Session, workplace: Workplace, now: datetime) -> list[DueReminder]:
    """Claim every reminder due at ``now`` and record its messages in the outbox (one DM
    per filed administrator, one for the admin channel), in this session's transaction:
    the caller commits, then delivers. Returns what this call claimed. A reminder another
    process (or an earlier run) claimed is skipped, so each goes out once however many
    processes tick. Records the first tick's day (nothing before it is sent late). Claims
    nothing when there is nobody to send to (no SI_ADMINS, no SI_ADMIN_CHANNEL)."""
    _since(session, workplace.today(now), now, start=True)
    due = due_reminders(session, workplace, now)
    recipients = audience(session, workplace)
    if due and not recipients:
        log.warning("%d reminder(s) due but SI_ADMINS and SI_ADMIN_CHANNEL are empty: nothing sent", len(due))
        return []
    claimed: list[DueReminder] = []
    for reminder in due:
        try:
            with session.begin_nested():
                _claim(session, workplace, reminder, recipients, now)
        except IntegrityError:
            log.info("reminder %s was claimed by another process", reminder.key)
            continue
        except Exception:
            # One broken reminder must not hold back the others; it stays due for the next tick.
            log.exception("reminder %s could not be recorded; the next tick retries", reminder.key)
            continue
        claimed.append(reminder)
        log.info("reminder %s claimed%s", reminder.key, " (late)" if reminder.late else "")
        if not reminder.calendar_covered:
            log.warning(
                "reminder %s: the public holidays of %s are not known, dates counted on weekends "
                "only; add the State Council's arrangement to %s",
                reminder.key,
                reminder.scheduled_on.year,
                workplace.calendar.label,
            )
    return claimed


def _claim(
    session: Session,
    workplace: Workplace,
    reminder: DueReminder,
    recipients: list[Recipient],
    now: datetime,
) -> None:
    occurrence = _occurrence(session, reminder, now)
    params = reminder_params(reminder, workplace, now, reminder_data(session, workplace, reminder, now))
    session.add(
        ReminderSend(
            key=reminder.key,
            occurrence_id=occurrence.id,
            stage=reminder.stage,
            scheduled_on=reminder.scheduled_on,
            sent_at=now,
            late=reminder.late,
            params=params,
        )
    )
    session.flush()  # the claim: IntegrityError here when another process has it
    for recipient in recipients:
        shown = for_audience(params, recipient.audience)
        if shown is None:
            continue
        enqueue(
            session,
            key=f"reminder:{reminder.key}:{recipient.id}",
            notice=notice_for(reminder.kind),
            to=recipient,
            params={**shown, "reminder": reminder.key},
            now=now,
        )


def _occurrence(session: Session, reminder: DueReminder, now: datetime) -> ReminderOccurrence:
    found = _occurrences(session, [reminder.occurrence]).get(reminder.occurrence)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = ReminderOccurrence(
                key=reminder.occurrence,
                kind=reminder.kind,
                period=reminder.period,
                due_on=reminder.due,
                created_at=now,
            )
            session.add(row)
        return row
    except IntegrityError:
        found = _occurrences(session, [reminder.occurrence]).get(reminder.occurrence)
        assert found is not None
        return found


# -- what a reminder is about ------------------------------------------------------------------


def reminder_data(
    session: Session, workplace: Workplace, reminder: DueReminder, now: datetime
) -> ReminderData:
    """What the database says that a reminder shows: the changes waiting at a cut-off,
    the stale requests of the digest, a registry document."""
    if reminder.kind == DIGEST:
        return ReminderData(stale=stale_requests(session, workplace, workplace.today(now)))
    deadline = reminder.deadline
    assert deadline is not None
    if deadline.kind is DeadlineKind.CHANGE_CUTOFF:
        month = YearMonth.parse(deadline.period)
        summary = change_form.month_summary(session, month)
        return ReminderData(
            approved=summary["approved"], waiting=summary["waiting"], waiting_ids=waiting_ids(session, month)
        )
    if deadline.kind is DeadlineKind.DOCUMENT:
        return ReminderData(document=session.get(UnitDocument, document_id(deadline)))
    if deadline.kind is DeadlineKind.PAYMENT:
        # What the month comes to (the ledger), so that the reminder and the missed alert
        # say what is owed, and what a late day costs.
        owed = ledger.month_total(session, workplace, YearMonth.parse(deadline.period))
        if owed is not None:
            return ReminderData(total=owed.total, people=len(owed.lines), assumed=owed.assumed)
    return ReminderData()


def waiting_ids(session: Session, month: YearMonth) -> list[str]:
    """The first ids of the month's changes still waiting for approval at its cut-off."""
    query = change_form.month_changes(month, (State.SUBMITTED,)).with_only_columns(Request.public_id)
    return list(session.scalars(query.order_by(Request.id).limit(MAX_IDS)))


def cutoff_requests(session: Session, *, viewer: str, occurrence: str) -> list[Request]:
    """The open changes a cut-off reminder counts (administrators only), oldest first."""
    roles.require_admin(session, viewer)
    try:
        month = YearMonth.parse(occurrence.partition(":")[2])
    except ValueError as exc:
        raise Refused("reminder_not_found", key=occurrence) from exc
    query = change_form.month_changes(month, (State.SUBMITTED, State.APPROVED))
    return list(session.scalars(query.order_by(Request.id).limit(MAX_IDS)))


def stale_requests(session: Session, workplace: Workplace, today: date) -> list[dict[str, Any]]:
    """Open requests nobody has acted on for the policy's ``stale_after_working_days``
    working days, longest waiting first: id, kind, state, since when, working days."""
    calendar = workplace.calendar
    # The last event of each open request only (by index), not of every request ever filed.
    rows = session.execute(
        select(Request.public_id, Request.kind, Request.state, func.max(RequestEvent.at))
        .join(RequestEvent, RequestEvent.request_id == Request.id)
        .where(Request.state.in_(OPEN_STATES))
        .group_by(Request.id, Request.public_id, Request.kind, Request.state)
        .order_by(Request.id)
    )
    found = []
    for public_id, kind, state, at in rows:
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite: a naive UTC aggregate
        since = workplace.today(at)
        if is_stale(since, today, workplace.policy, calendar):
            waited = calendar.working_days_between(since, today)
            found.append(
                {
                    "public_id": public_id,
                    "kind": kind,
                    "state": state,
                    "since": since.isoformat(),
                    "waited": waited,
                }
            )
    return sorted(found, key=lambda row: (-row["waited"], row["public_id"]))


# -- Done and Snooze ------------------------------------------------------------------------


def mark_done(session: Session, *, key: str, actor: str, now: datetime) -> ReminderOccurrence:
    """Mark an occurrence handled (administrators only): no more reminders or missed alert
    for it, and every recent copy is redrawn to say who handled it. Refused when the actor
    is not an administrator, when there is no such occurrence, and when it was already
    marked done (so two presses at once make one change)."""
    occurrence = _find(session, key, actor)
    moved = session.execute(
        update(ReminderOccurrence)
        .where(ReminderOccurrence.id == occurrence.id, ReminderOccurrence.handled_at.is_(None))
        .values(handled_at=now, handled_by=actor)
        .execution_options(synchronize_session=False)
    )
    session.refresh(occurrence)
    if moved.rowcount != 1:
        raise Refused("reminder_already_done", by=occurrence.handled_by)
    _redraw(session, occurrence, f"reminder:{occurrence.key}:done", now)
    return occurrence


def snooze(session: Session, workplace: Workplace, *, key: str, actor: str, now: datetime) -> Snoozed:
    """Snooze an occurrence until the next working day (administrators only): nothing more
    of it today, and one reminder that day. Refused when the actor is not an administrator,
    when there is no such occurrence and when it is already marked done. Pressing it again
    the same day changes nothing."""
    occurrence = _find(session, key, actor)
    if occurrence.handled_at is not None:
        raise Refused("reminder_already_done", by=occurrence.handled_by)
    until = workplace.calendar.add_working_days(workplace.today(now), 1)
    if occurrence.snoozed_until != until:
        occurrence.snoozed_until = until
        occurrence.snoozed_by = actor
        session.flush()
        _redraw(session, occurrence, f"reminder:{occurrence.key}:snooze:{until.isoformat()}", now)
    return Snoozed(occurrence, until)


def handled_elsewhere(
    session: Session, workplace: Workplace, *, deadline: Deadline, actor: str, now: datetime
) -> bool:
    """The duty of ``deadline`` was done another way (a month's payment recorded): its
    occurrence is marked handled by ``actor`` — no more reminders, no missed alert — and
    the copies already posted are redrawn. False when it was handled already."""
    occurrence = _occurrences(session, [deadline.key]).get(deadline.key)
    if occurrence is None:
        try:
            with session.begin_nested():
                occurrence = ReminderOccurrence(
                    key=deadline.key,
                    kind=deadline.kind.value,
                    period=deadline.period,
                    due_on=deadline.due,
                    created_at=now,
                )
                session.add(occurrence)
        except IntegrityError:  # a tick created it a moment ago
            occurrence = _occurrences(session, [deadline.key])[deadline.key]
    moved = session.execute(
        update(ReminderOccurrence)
        .where(ReminderOccurrence.id == occurrence.id, ReminderOccurrence.handled_at.is_(None))
        .values(handled_at=now, handled_by=actor)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        return False
    session.refresh(occurrence)
    _redraw(session, occurrence, f"reminder:{occurrence.key}:done", now)
    return True


def _find(session: Session, key: str, actor: str) -> ReminderOccurrence:
    roles.require_admin(session, actor)
    occurrence = _occurrences(session, [key]).get(key)
    if occurrence is None:
        raise Refused("reminder_not_found", key=key)
    return occurrence


def _redraw(session: Session, occurrence: ReminderOccurrence, key: str, now: datetime) -> None:
    enqueue(
        session,
        key=key,
        notice=notice_for(occurrence.kind),
        to=Recipient.copies_of(occurrence.key),
        now=now,
    )


def record_copy(session: Session, reminder: str, channel: str, ts: str, audience: Audience) -> None:
    """Remember where a reminder's message landed, so Done and Snooze can redraw it."""
    send_id = session.scalar(select(ReminderSend.id).where(ReminderSend.key == reminder))
    if send_id is not None:
        session.add(ReminderMessage(send_id=send_id, channel=channel, ts=ts, audience=audience.value))


def current_params(session: Session, workplace: Workplace, params: dict[str, Any]) -> dict[str, Any]:
    """A reminder's values with its occurrence's state now (handled, snoozed)."""
    occurrence = _occurrences(session, [params["occurrence"]]).get(params["occurrence"])
    return live_params(params, occurrence, workplace.tz)


def copies(
    session: Session, workplace: Workplace, occurrence_key: str
) -> list[tuple[str, str, dict[str, Any]]]:
    """Where the latest reminders of an occurrence were posted, with what to show there
    now: ``(channel, ts, params)``."""
    sends = session.scalars(
        select(ReminderSend)
        .join(ReminderOccurrence, ReminderOccurrence.id == ReminderSend.occurrence_id)
        .where(ReminderOccurrence.key == occurrence_key)
        .order_by(ReminderSend.id.desc())
        .limit(REDRAW_SENDS)
    ).all()
    found = []
    for send in sends:
        params = current_params(session, workplace, send.params)
        for message in session.scalars(select(ReminderMessage).where(ReminderMessage.send_id == send.id)):
            shown = for_audience(params, Audience(message.audience))
            if shown is not None:
                found.append((message.channel, message.ts, {**shown, "reminder": send.key}))
    return found
