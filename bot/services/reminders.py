"""Reminders to the administrators: what is due when, claimed once, sent through the outbox.

No Slack in here. The rules, on top of the deadlines of :mod:`bot.domain.deadlines`:

- A working day's reminders go out from the policy's ``[reminders] send_at`` (local time
  in SI_TIMEZONE). A tick may run as often as it likes: it sends what is due and unsent.
- Before a deadline: the schedule's warnings and the due day. After the last advance
  warning (for the certificate exam: the first working day of its month) the reminder
  repeats each working day until the deadline, as long as it is not marked Done.
- After a deadline that is not marked Done: one ``missed`` alert on the next working day,
  saying what is now owed.
- Snooze until tomorrow: nothing more of that occurrence before the next working day, and
  one reminder on it (the stage that day calls for) even if the schedule has none.
- Downtime: a reminder that fell due while no tick ran is sent at the next tick, marked
  late, while it still matters (only the latest one of an occurrence; the deadline, or for
  the base-declaration opening the window's end, not yet passed). After its deadline it
  becomes the missed alert instead. Nothing before the day reminders first ran (or more
  than ``LOOKBACK`` ago) is sent late or reported missed.
- The stale-request digest: one a working day, when some open request has waited the
  policy's ``stale_after_working_days``; never sent for an earlier day.

Exactly once: every reminder has a key (``payment:2026-02:warning:2026-02-24``: what,
which period, which stage on which day) and its outbox messages one per audience
(``reminder:<key>:<administrator or channel>``). Sending inserts the key into
``reminder_sends`` in the same transaction that records the messages; a second process,
or the same one after a restart, meets the unique key and records nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.calendar import WorkingCalendar
from bot.domain.deadlines import (
    Deadline,
    Kind,
    Stage,
    deadlines_for_year,
    document_deadline,
    document_id,
    is_stale,
    late_fee_from,
    reminder_key,
    reminder_schedule,
)
from bot.domain.errors import Refused
from bot.domain.months import YearMonth
from bot.domain.requests import Kind as RequestKind
from bot.domain.requests import State
from bot.services.documents import documents_due
from bot.services.outbox import enqueue
from bot.services.workplace import Workplace
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

DIGEST = "stale_digest"
DIGEST_STAGE = "digest"
# A reminder sent more than this after its moment says it is late.
LATE_GRACE = timedelta(minutes=30)
# How far back a tick looks for reminders that fell due while no tick ran.
LOOKBACK = timedelta(days=62)
# Request ids listed in one reminder; the rest are counted.
MAX_IDS = 30
# Done and Snooze redraw the copies of this many of an occurrence's latest reminders.
REDRAW_SENDS = 5
_OPEN_STATES = (State.SUBMITTED.value, State.APPROVED.value)


@dataclass(frozen=True)
class DueReminder:
    """One reminder due at a moment: claim it under ``key``."""

    key: str  # what, which period, which stage on which day
    occurrence: str  # ``kind:period``: what Done and Snooze act on
    kind: str  # a deadlines.Kind value, or "stale_digest"
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


def targets(workplace: Workplace) -> list[tuple[str, str]]:
    """Every filed administrator by DM, and the admin channel when there is one."""
    found = [("user", admin) for admin in workplace.admins]
    if workplace.admin_channel:
        found.append(("channel", workplace.admin_channel))
    return found


# -- what is due ---------------------------------------------------------------------------


def due_reminders(
    session: Session, workplace: Workplace, calendar: WorkingCalendar, now: datetime
) -> list[DueReminder]:
    """Every reminder due at ``now`` and not yet sent: the day's reminders from the policy's
    send time on, those that fell due while no tick ran (``late``), missed-deadline alerts
    and the stale-request digest. Handled occurrences, snoozed ones (until their day) and
    reminders already claimed are left out. Reads only; sends nothing."""
    today = workplace.today(now)
    since = _since(session, today, now, start=False)
    policy = workplace.policy
    # Last year's periods for their late and missed reminders; next year's only in December,
    # when its January deadlines may warn (and its holidays may not be known yet).
    years = range(today.year - 1, today.year + (2 if today.month == 12 else 1))
    deadlines = [d for year in years for d in deadlines_for_year(policy, calendar, year)]
    window_ends = {d.period: d.due for d in deadlines if d.kind is Kind.BASE_DECLARATION_CLOSE}
    # No reminder comes earlier than this before its deadline (the certificate exam's is the
    # first working day of the month before; warnings are working days): plan only those near.
    horizon = today + timedelta(days=75 + 2 * policy.warn_working_days)
    # The registry's certificates and materials bring their own dates.
    deadlines += [
        document_deadline(doc.id, doc.due_on, policy, calendar)
        for doc in documents_due(session, horizon)
        if doc.due_on is not None
    ]
    near = [d for d in deadlines if d.due <= horizon and _matters_until(d, window_ends) >= since]
    plans = {d.key: plan(d, workplace, calendar) for d in near}
    active = [d for d in near if plans[d.key][0][0] <= today]
    states = _occurrences(session, [d.key for d in active])
    found: list[DueReminder] = []
    for deadline in active:
        occurrence = states.get(deadline.key)
        if occurrence is not None and occurrence.handled_at is not None:
            continue
        picked = _pick(deadline, plans[deadline.key], occurrence, since, today, now, workplace, window_ends)
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
                late=now - _moment(workplace, day) > LATE_GRACE,
                calendar_covered=deadline.calendar_covered and calendar.covered(day.year),
                deadline=deadline,
            )
        )
    digest = _digest_due(session, workplace, calendar, today, since, now)
    if digest is not None:
        found.append(digest)
    sent = set(session.scalars(select(ReminderSend.key).where(ReminderSend.key.in_([r.key for r in found]))))
    return sorted(
        (r for r in found if r.key not in sent),
        key=lambda r: (r.due, r.occurrence, r.scheduled_on),
    )


def plan(deadline: Deadline, workplace: Workplace, calendar: WorkingCalendar) -> list[tuple[date, Stage]]:
    """Every reminder day of one occurrence if nobody presses Done or Snooze: the domain's
    schedule, plus a repeat each working day between the last advance warning and the due
    day (for the certificate exam: through its month)."""
    schedule = reminder_schedule(deadline, workplace.policy, calendar)
    warnings = [day for day, stage in schedule if stage is Stage.WARNING]
    if not deadline.can_be_missed or not warnings:
        return schedule
    due_day = next(day for day, stage in schedule if stage is Stage.DUE_DAY)
    repeats = []
    day = calendar.add_working_days(max(warnings), 1)
    while day < due_day:
        repeats.append((day, Stage.WARNING))
        day = calendar.add_working_days(day, 1)
    return sorted(schedule + repeats, key=lambda entry: entry[0])


def _pick(
    deadline: Deadline,
    days: list[tuple[date, Stage]],
    occurrence: ReminderOccurrence | None,
    since: date,
    today: date,
    now: datetime,
    workplace: Workplace,
    window_ends: dict[str, date],
) -> tuple[date, Stage] | None:
    """The one reminder of an occurrence to send now, if any: the latest that has come."""
    snoozed = occurrence.snoozed_until if occurrence is not None else None
    schedule = dict(days)
    if snoozed is not None and snoozed not in schedule:
        schedule[snoozed] = _stage_on(snoozed, deadline, days)
    come = [
        (day, stage)
        for day, stage in schedule.items()
        if since <= day <= today and _moment(workplace, day) <= now and (snoozed is None or day >= snoozed)
    ]
    if deadline.can_be_missed:
        if today > deadline.due:
            # After the deadline only the missed alert matters, and only for a deadline
            # that passed while reminders were running.
            come = [(d, s) for d, s in come if s is Stage.MISSED and deadline.due >= since]
        else:
            come = [(d, s) for d, s in come if s is not Stage.MISSED]
    elif today > _matters_until(deadline, window_ends):
        return None
    return max(come, key=lambda entry: entry[0]) if come else None


def _stage_on(day: date, deadline: Deadline, days: list[tuple[date, Stage]]) -> Stage:
    due_day = next(d for d, stage in days if stage is Stage.DUE_DAY)
    if deadline.can_be_missed and day > deadline.due:
        return Stage.MISSED
    return Stage.DUE_DAY if day >= due_day else Stage.WARNING


def _matters_until(deadline: Deadline, window_ends: dict[str, date]) -> date:
    """The last day a reminder of ``deadline`` is worth sending late (missed alerts aside)."""
    if deadline.kind is Kind.BASE_DECLARATION_OPEN:
        return window_ends.get(deadline.period, deadline.due)
    return deadline.due


def _moment(workplace: Workplace, day: date) -> datetime:
    """When ``day``'s reminders go out: the policy's send time, in SI_TIMEZONE."""
    hour, minute = (int(part) for part in workplace.policy.reminder_send_at.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=workplace.tz)


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
    session: Session,
    workplace: Workplace,
    calendar: WorkingCalendar,
    today: date,
    since: date,
    now: datetime,
) -> DueReminder | None:
    if not calendar.is_working_day(today) or today < since or now < _moment(workplace, today):
        return None
    key = f"{DIGEST}:{today.isoformat()}"
    occurrence = _occurrences(session, [key]).get(key)
    if occurrence is not None and occurrence.handled_at is not None:
        return None
    if not stale_requests(session, workplace, calendar, today):
        return None
    return DueReminder(
        key=key,
        occurrence=key,
        kind=DIGEST,
        period=today.isoformat(),
        stage=DIGEST_STAGE,
        scheduled_on=today,
        due=today,
        late=now - _moment(workplace, today) > LATE_GRACE,
        calendar_covered=calendar.covered(today.year),
    )


# -- sending -------------------------------------------------------------------------------


def send_due(
    session: Session, workplace: Workplace, calendar: WorkingCalendar, now: datetime
) -> list[DueReminder]:
    """Claim every reminder due at ``now`` and record its messages in the outbox (one DM
    per filed administrator, one for the admin channel), in this session's transaction:
    the caller commits, then delivers. Returns what this call claimed. A reminder another
    process (or an earlier run) claimed is skipped, so each goes out once however many
    processes tick. Records the first tick's day (nothing before it is sent late). Claims
    nothing when there is nobody to send to (no SI_ADMINS, no SI_ADMIN_CHANNEL)."""
    _since(session, workplace.today(now), now, start=True)
    due = due_reminders(session, workplace, calendar, now)
    audience = targets(workplace)
    if due and not audience:
        log.warning("%d reminder(s) due but SI_ADMINS and SI_ADMIN_CHANNEL are empty: nothing sent", len(due))
        return []
    claimed: list[DueReminder] = []
    for reminder in due:
        try:
            with session.begin_nested():
                _claim(session, workplace, calendar, reminder, audience, now)
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
                calendar.label,
            )
    return claimed


def _claim(
    session: Session,
    workplace: Workplace,
    calendar: WorkingCalendar,
    reminder: DueReminder,
    audience: list[tuple[str, str]],
    now: datetime,
) -> None:
    occurrence = _occurrence(session, reminder, now)
    params = reminder_params(session, workplace, calendar, reminder, now)
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
    for target_kind, target in audience:
        shown = params if target_kind == "user" else _for_channel(params)
        if shown is None:
            continue
        enqueue(
            session,
            key=f"reminder:{reminder.key}:{target}",
            notice=notice_for(reminder.kind),
            target_kind=target_kind,
            target=target,
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


def _for_channel(params: dict[str, Any]) -> dict[str, Any] | None:
    """The channel's copy: complaints are confidential, so the digest leaves them out
    (and is not posted when nothing else is waiting)."""
    if params["kind"] != DIGEST:
        return params
    rows = [row for row in params["rows"] if row["kind"] != RequestKind.COMPLAINT.value]
    if not rows:
        return None
    return {**params, "rows": rows[:MAX_IDS], "total": len(rows)}


# -- what a reminder says --------------------------------------------------------------------


def reminder_params(
    session: Session,
    workplace: Workplace,
    calendar: WorkingCalendar,
    reminder: DueReminder,
    now: datetime,
) -> dict[str, Any]:
    """The plain, JSON-safe values a reminder's template shows: dates, counts, request ids
    and policy figures. Never a name, an ID number or a wage."""
    today = workplace.today(now)
    policy = workplace.policy
    years = {reminder.scheduled_on.year, reminder.due.year}  # the dates this reminder shows
    if reminder.deadline is not None:
        years.add(reminder.deadline.nominal.year)
    params: dict[str, Any] = {
        "occurrence": reminder.occurrence,
        "kind": reminder.kind,
        "period": reminder.period,
        "stage": reminder.stage,
        "scheduled_on": reminder.scheduled_on.isoformat(),
        "today": today.isoformat(),
        "due": reminder.due.isoformat(),
        "late": reminder.late,
        "send_at": policy.reminder_send_at,
        "uncovered_years": sorted(y for y in years if not calendar.covered(y)),
        "holidays_file": calendar.label,
    }
    if reminder.kind == DIGEST:
        rows = stale_requests(session, workplace, calendar, today)
        params.update(rows=rows[:MAX_IDS], total=len(rows), stale_after=policy.stale_after_working_days)
        return params
    deadline = reminder.deadline
    assert deadline is not None
    params.update(
        nominal=deadline.nominal.isoformat(),
        due_weekday=deadline.due.weekday(),
        nominal_weekday=deadline.nominal.weekday(),
        moved=deadline.moved,
        working_days_left=max(0, calendar.working_days_between(today, deadline.due)),
    )
    if deadline.kind is Kind.CHANGE_CUTOFF:
        approved, waiting = cutoff_changes(session, deadline.period)
        params.update(
            approved=len(approved),
            waiting=len(waiting),
            waiting_ids=waiting[:MAX_IDS],
            next_month=str(YearMonth.parse(deadline.period).plus(1)),
        )
    elif deadline.kind is Kind.PAYMENT:
        percent = policy.late_fee_daily_percent
        params.update(
            late_fee_percent=str(percent),
            late_fee_per_10000=str((Decimal(10000) * percent / 100).quantize(Decimal("0.01"))),
            late_fee_source=policy.late_fee_source,
            # The day after the deadline as moved off a holiday: never a day still on time.
            late_from=late_fee_from(YearMonth.parse(deadline.period), policy, calendar).isoformat(),
        )
    elif deadline.kind in (Kind.BASE_DECLARATION_OPEN, Kind.BASE_DECLARATION_CLOSE):
        window = {d.kind: d.due for d in deadlines_for_year(policy, calendar, int(deadline.period))}
        params.update(
            window_start=window[Kind.BASE_DECLARATION_OPEN].isoformat(),
            window_end=window[Kind.BASE_DECLARATION_CLOSE].isoformat(),
        )
    elif deadline.kind is Kind.CERTIFICATE_EXAM:
        params.update(exam_month=str(YearMonth(int(deadline.period), policy.certificate_exam_month)))
    elif deadline.kind is Kind.DOCUMENT:
        document = session.get(UnitDocument, document_id(deadline))
        if document is not None:
            params.update(
                name=document.name,
                location=document.location,
                holder=document.holder_id,
                due_kind=document.due_kind or "exam",
            )
    return params


def cutoff_changes(session: Session, period: str) -> tuple[list[str], list[str]]:
    """Open insured changes for the change form of ``period`` (effective that month or
    earlier): the ids of those approved and waiting for the form, and of those still
    awaiting review."""
    month = YearMonth.parse(period)
    approved: list[str] = []
    waiting: list[str] = []
    rows = session.execute(
        select(Request.public_id, Request.state, Request.payload)
        .where(Request.kind == RequestKind.CHANGE.value, Request.state.in_(_OPEN_STATES))
        .order_by(Request.id)
    )
    for public_id, state, payload in rows:
        effective = (payload or {}).get("effective_month")
        if not effective or YearMonth.parse(effective) > month:
            continue
        (approved if state == State.APPROVED.value else waiting).append(public_id)
    return approved, waiting


def cutoff_requests(session: Session, workplace: Workplace, *, viewer: str, period: str) -> list[Request]:
    """The open changes a cut-off reminder counts (administrators only), oldest first."""
    if not workplace.is_admin(viewer):
        raise Refused("admins_only")
    try:
        approved, waiting = cutoff_changes(session, period)
    except ValueError as exc:
        raise Refused("reminder_not_found", key=period) from exc
    ids = approved + waiting
    if not ids:
        return []
    return list(session.scalars(select(Request).where(Request.public_id.in_(ids)).order_by(Request.id)))


def stale_requests(
    session: Session, workplace: Workplace, calendar: WorkingCalendar, today: date
) -> list[dict[str, Any]]:
    """Open requests nobody has acted on for the policy's ``stale_after_working_days``
    working days, longest waiting first: id, kind, state, since when, working days."""
    last_event = (
        select(RequestEvent.request_id, func.max(RequestEvent.at).label("at"))
        .group_by(RequestEvent.request_id)
        .subquery()
    )
    rows = session.execute(
        select(Request.public_id, Request.kind, Request.state, last_event.c.at)
        .join(last_event, last_event.c.request_id == Request.id)
        .where(Request.state.in_(_OPEN_STATES))
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


def mark_done(
    session: Session, workplace: Workplace, *, key: str, actor: str, now: datetime
) -> ReminderOccurrence:
    """Mark an occurrence handled (administrators only): no more reminders or missed alert
    for it, and every recent copy is redrawn to say who handled it. Refused when the actor
    is not an administrator, when there is no such occurrence, and when it was already
    marked done (so two presses at once make one change)."""
    occurrence = _find(session, workplace, key, actor)
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


def snooze(
    session: Session, workplace: Workplace, calendar: WorkingCalendar, *, key: str, actor: str, now: datetime
) -> Snoozed:
    """Snooze an occurrence until the next working day (administrators only): nothing more
    of it today, and one reminder that day. Refused when the actor is not an administrator,
    when there is no such occurrence and when it is already marked done. Pressing it again
    the same day changes nothing."""
    occurrence = _find(session, workplace, key, actor)
    if occurrence.handled_at is not None:
        raise Refused("reminder_already_done", by=occurrence.handled_by)
    until = calendar.add_working_days(workplace.today(now), 1)
    if occurrence.snoozed_until != until:
        occurrence.snoozed_until = until
        occurrence.snoozed_by = actor
        session.flush()
        _redraw(session, occurrence, f"reminder:{occurrence.key}:snooze:{until.isoformat()}", now)
    return Snoozed(occurrence, until)


def _find(session: Session, workplace: Workplace, key: str, actor: str) -> ReminderOccurrence:
    if not workplace.is_admin(actor):
        raise Refused("admins_only")
    occurrence = _occurrences(session, [key]).get(key)
    if occurrence is None:
        raise Refused("reminder_not_found", key=key)
    return occurrence


def _redraw(session: Session, occurrence: ReminderOccurrence, key: str, now: datetime) -> None:
    enqueue(
        session,
        key=key,
        notice=notice_for(occurrence.kind),
        target_kind="reminder_copies",
        target=occurrence.key,
        now=now,
    )


def record_copy(session: Session, reminder: str, channel: str, ts: str) -> None:
    """Remember where a reminder's message landed, so Done and Snooze can redraw it."""
    send_id = session.scalar(select(ReminderSend.id).where(ReminderSend.key == reminder))
    if send_id is not None:
        session.add(ReminderMessage(send_id=send_id, channel=channel, ts=ts))


def live_params(session: Session, workplace: Workplace, params: dict[str, Any]) -> dict[str, Any]:
    """A reminder's values with its occurrence's state now (handled, snoozed)."""
    occurrence = _occurrences(session, [params["occurrence"]]).get(params["occurrence"])
    if occurrence is None:
        return params
    handled_at = occurrence.handled_at.astimezone(workplace.tz) if occurrence.handled_at else None
    return {
        **params,
        "handled_by": occurrence.handled_by,
        "handled_at": handled_at.strftime("%Y-%m-%d %H:%M") if handled_at else None,
        "snoozed_until": occurrence.snoozed_until.isoformat() if occurrence.snoozed_until else None,
        "snoozed_by": occurrence.snoozed_by,
    }


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
        params = live_params(session, workplace, send.params)
        for message in session.scalars(select(ReminderMessage).where(ReminderMessage.send_id == send.id)):
            shown = params if message.channel.startswith("D") else _for_channel(params)
            if shown is not None:
                found.append((message.channel, message.ts, {**shown, "reminder": send.key}))
    return found
