"""The administrators' monthly report: a month's figures, counted in the database, and its
scheduled delivery, claimed once. No Slack and no drawing in here: the charts and the
workbook are :mod:`bot.report`, the words ``messages/<lang>/report.toml``.

A report is a list of sections (``SECTIONS``): each is a function that reads one month of
one table and returns its figures as plain, JSON-ready values, or None when that month has
nothing of it. Counts are GROUP BY queries; the two percentiles are computed from the
month's own rows (the approvals and completions of the months compared), never from the
whole history. Every figure is as of the month's end (or now, for the month in progress),
so a past month's report says the same whenever it is built:

- ``requests``: requests filed in the month, by kind and by the state they were in at its end;
- ``turnaround``: median and 90th-percentile hours from submission to approval and to done,
  of the requests approved (done) in each of ``TREND_MONTHS`` months ending with this one;
- ``waiting``: requests open at the month's end that nobody had acted on for the policy's
  ``stale_after_working_days`` working days, with their ids;
- ``help``: help-channel questions answered, escalated and pointed elsewhere, and Helpful /
  Not helpful presses, by topic, with the topics that escalate most (escalated questions and
  Not helpful presses: both hand the question to an administrator);
- ``reminders``: reminders sent (by stage), duties marked Done, reminders snoozed (each
  occurrence's last Snooze, pressed the working day before the day it was snoozed to) and
  missed-deadline alerts;
- ``ledger``: the people insured in the month, joiners and leavers, the contributions by
  scheme (employer and employee) against the month before, and whether they were paid on time.
  Two of its figures can move after the month's end: a payment made in the month but recorded
  later, and the ledger of a month never paid (worked out from the roster as it is now).

Exactly once: the scheduled report of a month inserts its month into ``monthly_reports``
(unique) in the same transaction as its outbox rows; a second process, or the same one after
a restart, meets the unique month and records nothing.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain import reminders as schedule
from bot.domain.audience import Audience
from bot.domain.deadlines import is_stale, payment_due
from bot.domain.errors import Refused
from bot.domain.kinds import spec_for
from bot.domain.ledger import ZERO, payment_timing
from bot.domain.months import YearMonth
from bot.domain.requests import OPEN_STATES, RequestKind, State
from bot.domain.workplace import Workplace
from bot.services import ledger, roles
from bot.services.help import ANSWERED, ESCALATED, OUT_OF_SCOPE
from bot.services.outbox import Recipient, enqueue
from bot.storage.models import (
    HelpAnswer,
    HelpFeedback,
    MonthlyReport,
    ReminderEngine,
    ReminderOccurrence,
    ReminderSend,
    Request,
    RequestEvent,
)

log = logging.getLogger(__name__)

# The turnaround chart: the month reported on and the five before it.
TREND_MONTHS = 6
# Waiting requests listed by id; the rest are counted.
MAX_IDS = 30
# The topics that escalate most, named in the report.
TOP_TOPICS = 5
# Reminder stages, in the order they come (bot.domain.deadlines.Stage, and the daily digest).
STAGES = ("warning", "due_day", "missed", "digest")
OUTCOMES = (ANSWERED, ESCALATED, OUT_OF_SCOPE)
# A snooze is pressed the working day before the day it snoozes to; Spring Festival keeps
# that day at most this far after the press.
SNOOZE_REACH = timedelta(days=21)

Titles = Mapping[str, Mapping[str, str]]  # topic id -> {"zh": title, "en": title}


@dataclass(frozen=True)
class Window:
    """The stretch of time a report counts: its month, from its first local midnight to the
    next month's (``end``), seen as of ``as_of`` (the end, or now for the month in progress)."""

    month: YearMonth
    start: datetime
    end: datetime
    as_of: datetime

    @property
    def complete(self) -> bool:
        return self.as_of >= self.end

    def last_day(self, workplace: Workplace) -> date:
        """The month's last day counted: its last day, or today for the month in progress."""
        return workplace.today(self.as_of - timedelta(microseconds=1))


def month_start(workplace: Workplace, month: YearMonth) -> datetime:
    return datetime.combine(month.day(1), time(0), tzinfo=workplace.tz)


def window(workplace: Workplace, month: YearMonth, now: datetime) -> Window:
    """``month`` as of ``now``. Refused for a month that has not begun."""
    start = month_start(workplace, month)
    if start > now:
        raise Refused("report_future_month", month=str(month))
    end = month_start(workplace, month.plus(1))
    return Window(month, start, end, min(end, now))


# -- the sections ----------------------------------------------------------------------------


def _state_at(w: Window):
    """The id of each request's last event before ``w.as_of`` (its state then), correlated."""
    return (
        select(func.max(RequestEvent.id))
        .where(RequestEvent.request_id == Request.id, RequestEvent.at < w.as_of)
        .correlate(Request)
        .scalar_subquery()
    )


def requests_received(session: Session, workplace: Workplace, w: Window) -> dict[str, Any] | None:
    """Requests filed in the month, by kind and by their state at the month's end."""
    rows = session.execute(
        select(Request.kind, RequestEvent.to_state, func.count())
        .join(RequestEvent, RequestEvent.id == _state_at(w))
        .where(Request.created_at >= w.start, Request.created_at < w.as_of)
        .group_by(Request.kind, RequestEvent.to_state)
    ).all()
    if not rows:
        return None
    counts = {(kind, state): n for kind, state, n in rows}
    by_kind = []
    for kind in RequestKind:
        states = {state.value: counts.get((kind.value, state.value), 0) for state in State}
        if any(states.values()):
            by_kind.append({"kind": kind.value, "total": sum(states.values()), "states": states})
    states = {state.value: sum(k["states"][state.value] for k in by_kind) for state in State}
    return {"total": sum(states.values()), "states": states, "by_kind": by_kind}


def percentile(ordered: list[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) of sorted values, linear between the nearest ranks (as a
    spreadsheet's PERCENTILE.INC): the median of 1, 2, 3, 4 is 2.5, its 90th percentile 3.7."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _spread(hours: list[float]) -> dict[str, Any]:
    ordered = sorted(hours)
    median, p90 = percentile(ordered, 0.5), percentile(ordered, 0.9)
    return {
        "count": len(ordered),
        "median_hours": None if median is None else round(median, 2),
        "p90_hours": None if p90 is None else round(p90, 2),
    }


def _hours_between(session: Session, earlier: Any, later: Any) -> Any:
    """``later - earlier`` in hours, as SQL (each database has its own date arithmetic)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24
    return func.extract("epoch", later - earlier) / 3600


def turnaround(
    session: Session, workplace: Workplace, w: Window, months: int = TREND_MONTHS
) -> dict[str, Any] | None:
    """How long requests took from submission to approval and to done: of those approved
    (done) in each of ``months`` months ending with ``w``'s, the median and 90th percentile
    in hours. None when nothing was approved or done in ``w``'s month."""
    first = w.month.plus(-(months - 1))
    trend_months = [first.plus(i) for i in range(months)]
    starts = [month_start(workplace, month) for month in trend_months]
    # Counted in the database: which month each event falls in, and its hours since submission.
    whens = [(RequestEvent.at < start, i) for i, start in enumerate(starts[1:])]
    bucket = case(*whens, else_=months - 1) if whens else literal(0)
    rows = session.execute(
        select(bucket, RequestEvent.to_state, _hours_between(session, Request.created_at, RequestEvent.at))
        .join(Request, Request.id == RequestEvent.request_id)
        .where(
            RequestEvent.to_state.in_((State.APPROVED, State.DONE)),
            RequestEvent.at >= starts[0],
            RequestEvent.at < w.as_of,
        )
    )
    hours: dict[tuple[int, str], list[float]] = defaultdict(list)
    for i, state, elapsed in rows:
        hours[(i, state)].append(float(elapsed))
    trend = [
        {
            "month": str(month),
            "approved": _spread(hours[(i, State.APPROVED.value)]),
            "done": _spread(hours[(i, State.DONE.value)]),
        }
        for i, month in enumerate(trend_months)
    ]
    this = trend[-1]
    if not this["approved"]["count"] and not this["done"]["count"]:
        return None
    return {"months": trend, "compared": months - 1}


def waiting_too_long(session: Session, workplace: Workplace, w: Window) -> dict[str, Any] | None:
    """Requests open at the month's end that nobody had acted on for the policy's
    ``stale_after_working_days`` working days by its last day, longest waiting first (the
    first MAX_IDS listed, all counted)."""
    today = w.last_day(workplace)
    open_then = [s.value for s in OPEN_STATES]
    # Open at the month's end: still open, or changed since. Two index lookups (state,
    # updated_at), not a pass over every request ever filed before the month's end.
    candidates = union(
        select(Request.id).where(Request.state.in_(open_then)),
        select(Request.id).where(Request.updated_at >= w.as_of),
    ).subquery()
    rows = session.execute(
        select(Request.public_id, Request.kind, RequestEvent.to_state, RequestEvent.at)
        .join(RequestEvent, RequestEvent.id == _state_at(w))
        .where(
            Request.id.in_(select(candidates.c.id)),
            Request.created_at < w.as_of,
            RequestEvent.to_state.in_(open_then),
        )
    )
    found = []
    for public_id, kind, state, at in rows:
        since = workplace.today(at)
        if is_stale(since, today, workplace.policy, workplace.calendar):
            found.append(
                {
                    "public_id": public_id,
                    "kind": kind,
                    "state": state,
                    "since": since.isoformat(),
                    "waited": workplace.calendar.working_days_between(since, today),
                    "confidential": spec_for(kind).confidential,
                }
            )
    if not found:
        return None
    found.sort(key=lambda row: (-row["waited"], row["public_id"]))
    return {
        "limit": workplace.policy.stale_after_working_days,
        "count": len(found),
        "requests": found[:MAX_IDS],
    }


def help_channel(session: Session, workplace: Workplace, w: Window) -> dict[str, Any] | None:
    """Questions asked in the month by outcome and topic, the month's Helpful / Not helpful
    presses by the topic of the answer, and the topics that escalate most."""
    topics: dict[str | None, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys((*OUTCOMES, "helpful", "not_helpful"), 0)
    )
    for topic, outcome, n in session.execute(
        select(HelpAnswer.topic, HelpAnswer.outcome, func.count())
        .where(HelpAnswer.created_at >= w.start, HelpAnswer.created_at < w.as_of)
        .group_by(HelpAnswer.topic, HelpAnswer.outcome)
    ):
        topics[topic][outcome] += n
    for topic, helpful, n in session.execute(
        select(HelpAnswer.topic, HelpFeedback.helpful, func.count())
        .join(HelpAnswer, HelpAnswer.id == HelpFeedback.answer_id)
        .where(HelpFeedback.at >= w.start, HelpFeedback.at < w.as_of)
        .group_by(HelpAnswer.topic, HelpFeedback.helpful)
    ):
        topics[topic]["helpful" if helpful else "not_helpful"] += n
    if not topics:
        return None
    rows = [
        {
            "topic": topic,
            **counts,
            "questions": sum(counts[o] for o in OUTCOMES),
            "escalations": counts[ESCALATED] + counts["not_helpful"],
        }
        for topic, counts in topics.items()
    ]
    rows.sort(key=lambda r: (-r["questions"], -r["escalations"], r["topic"] is None, r["topic"] or ""))
    totals = {key: sum(r[key] for r in rows) for key in (*OUTCOMES, "helpful", "not_helpful", "questions")}
    escalating = sorted((r for r in rows if r["escalations"]), key=lambda r: -r["escalations"])
    return {
        **totals,
        "topics": rows,
        "escalating": [
            {"topic": r["topic"], "escalations": r["escalations"]} for r in escalating[:TOP_TOPICS]
        ],
    }


def reminders_sent(session: Session, workplace: Workplace, w: Window) -> dict[str, Any] | None:
    """Reminders sent in the month by kind and stage; duties marked Done; reminders snoozed
    (the last Snooze of each occurrence, pressed in the month); missed-deadline alerts."""
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: {"sent": 0, "done": 0, "snoozed": 0, "missed": 0})
    stages = dict.fromkeys(STAGES, 0)
    for kind, stage, n in session.execute(
        select(ReminderOccurrence.kind, ReminderSend.stage, func.count())
        .join(ReminderOccurrence, ReminderOccurrence.id == ReminderSend.occurrence_id)
        .where(ReminderSend.sent_at >= w.start, ReminderSend.sent_at < w.as_of)
        .group_by(ReminderOccurrence.kind, ReminderSend.stage)
    ):
        kinds[kind]["sent"] += n
        stages[stage] = stages.get(stage, 0) + n
        if stage == "missed":
            kinds[kind]["missed"] += n
    for kind, n in session.execute(
        select(ReminderOccurrence.kind, func.count())
        .where(ReminderOccurrence.handled_at >= w.start, ReminderOccurrence.handled_at < w.as_of)
        .group_by(ReminderOccurrence.kind)
    ):
        kinds[kind]["done"] += n
    first, last = w.month.day(1), w.last_day(workplace)
    for kind, until in session.execute(
        select(ReminderOccurrence.kind, ReminderOccurrence.snoozed_until).where(
            ReminderOccurrence.snoozed_until > first, ReminderOccurrence.snoozed_until <= last + SNOOZE_REACH
        )
    ):
        pressed_on = workplace.calendar.add_working_days(until, -1)
        if first <= pressed_on <= last:
            kinds[kind]["snoozed"] += 1
    if not kinds:
        return None
    by_kind = [{"kind": kind, **counts} for kind, counts in sorted(kinds.items())]
    totals = {key: sum(k[key] for k in by_kind) for key in ("sent", "done", "snoozed", "missed")}
    return {**totals, "stages": stages, "by_kind": by_kind}


def _money(value: Decimal) -> str:
    """An amount as JSON-ready text, to the cent as the ledger has it (no float rounding)."""
    return str(value)


def contributions(session: Session, workplace: Workplace, w: Window) -> dict[str, Any] | None:
    """The month's ledger (bot/services/ledger.py): the people insured in it (the month of
    leaving is still the employer's, so everyone on it is insured at its end), who joined and
    who left since the month before, each scheme's employer and employee totals against the
    month before's, and whether it was paid by its effective deadline. The ledger is the one
    recorded when the month was paid, or else worked out from today's roster. A payment
    counts when it was made by the month's last day (its ``paid_on``, whenever recorded).
    None when the roster insures nobody in the month."""
    current = ledger.month_summary(session, workplace, w.month)
    if not current.people:
        return None
    previous = ledger.month_summary(session, workplace, w.month.plus(-1))
    before = {t.scheme: t for t in previous.totals}
    schemes = [*current.schemes, *(s for s in previous.schemes if s not in current.schemes)]
    now_totals = {t.scheme: t for t in current.totals}
    rows = []
    for scheme in schemes:
        this, last = now_totals.get(scheme), before.get(scheme)
        rows.append(
            {
                "scheme": scheme,
                "employer": _money(this.employer if this else ZERO),
                "employee": _money(this.employee if this else ZERO),
                "previous_employer": _money(last.employer if last else ZERO),
                "previous_employee": _money(last.employee if last else ZERO),
            }
        )
    last_day = w.last_day(workplace)
    paid = [p for p in ledger.payments_of(session, w.month) if p.paid_on <= last_day]
    paid_on = max((p.paid_on for p in paid), default=None)
    due = payment_due(w.month, workplace.policy, workplace.calendar)
    engine = session.get(ReminderEngine, 1)  # the day si-bot started keeping track
    timing, days_late = payment_timing(
        paid_on=paid_on, due=due, today=last_day, since=engine.started_on if engine else last_day
    )
    return {
        "headcount": len(current.people),
        "previous_headcount": len(previous.people),
        "joiners": len(current.people - previous.people),
        "leavers": len(previous.people - current.people),
        "recorded": current.closed,
        "assumed": current.assumed,
        "missing_bases": current.missing_bases,
        "previous_month": str(w.month.plus(-1)),
        "schemes": rows,
        "employer": _money(current.employer_total),
        "employee": _money(current.employee_total),
        "total": _money(current.total),
        "previous_employer": _money(previous.employer_total),
        "previous_employee": _money(previous.employee_total),
        "previous_total": _money(previous.total),
        "payment": {
            "timing": timing.value,
            "due": due.isoformat(),
            "paid_on": None if paid_on is None else paid_on.isoformat(),
            "paid": _money(sum((p.amount for p in paid), ZERO)),
            "days_late": days_late,
        },
    }


Section = Callable[[Session, Workplace, Window], dict[str, Any] | None]
# The report's sections, in the order shown. A section that returns None has nothing to say
# this month and is left out; a report with no section says that nothing happened.
SECTIONS: Mapping[str, Section] = {
    "requests": requests_received,
    "turnaround": turnaround,
    "waiting": waiting_too_long,
    "help": help_channel,
    "reminders": reminders_sent,
    "ledger": contributions,
}


def monthly_figures(
    session: Session,
    workplace: Workplace,
    month: YearMonth,
    now: datetime,
    titles: Callable[[], Titles] | None = None,
) -> dict[str, Any]:
    """The report of ``month`` as of ``now`` (its end when it is over), as JSON-ready values:
    ``month``, ``as_of`` (local), ``complete``, ``sections`` (name -> figures, only those with
    something to say: none when nothing happened) and ``titles`` (the help topics named, in
    both languages, from ``titles()``, asked only when some topic is named). Reads only.
    Refused for a month that has not begun."""
    w = window(workplace, month, now)
    sections = {}
    for name, section in SECTIONS.items():
        figures = section(session, workplace, w)
        if figures is not None:
            sections[name] = figures
    named = sorted({row["topic"] for row in sections.get("help", {}).get("topics", []) if row["topic"]})
    known = titles() if named and titles is not None else {}
    as_of = w.as_of.astimezone(workplace.tz)
    return {
        "month": str(month),
        "as_of": w.last_day(workplace).isoformat() if w.complete else as_of.strftime("%Y-%m-%d %H:%M"),
        "complete": w.complete,
        "sections": sections,
        "titles": {topic: dict(known[topic]) for topic in named if topic in known},
    }


def report_for(
    session: Session,
    workplace: Workplace,
    *,
    viewer: str,
    month: YearMonth,
    now: datetime,
    titles: Callable[[], Titles] | None = None,
) -> dict[str, Any]:
    """``/si report``: the figures of ``month`` for an administrator. Refused for anyone
    else, and for a month that has not begun."""
    roles.require_admin(session, viewer)
    return monthly_figures(session, workplace, month, now, titles)


def headline(session: Session, workplace: Workplace, now: datetime) -> dict[str, Any] | None:
    """The current month so far, for App Home: requests received and done, the median hours
    to approval, requests waiting too long now, questions answered and escalated. None when
    nothing has happened this month yet."""
    w = window(workplace, YearMonth.of(workplace.today(now)), now)
    received = requests_received(session, workplace, w) or {"total": 0, "states": {}}
    pace = turnaround(session, workplace, w, months=1)
    waiting = waiting_too_long(session, workplace, w)
    asked = help_channel(session, workplace, w) or {}
    figures = {
        "received": received["total"],
        "done": received["states"].get(State.DONE.value, 0),
        "approval_median_hours": pace["months"][-1]["approved"]["median_hours"] if pace else None,
        "waiting": waiting["count"] if waiting else 0,
        "answered": asked.get(ANSWERED, 0),
        "escalated": asked.get(ESCALATED, 0),
    }
    if not any(figures.values()):
        return None
    return {"month": str(w.month), **figures}


# -- the scheduled report --------------------------------------------------------------------


def report_due(session: Session, workplace: Workplace, now: datetime) -> YearMonth | None:
    """The month whose report is due at ``now`` and not yet claimed: the previous month, from
    the first working day's reminder time (``[reminders] send_at``) to the end of this month.
    None when the policy turns the report off (``[report] monthly = false``), and for a month
    that ended before si-bot first ran (nothing to report on)."""
    if not workplace.policy.monthly_report:
        return None
    today = workplace.today(now)
    first = workplace.calendar.first_working_day(today.year, today.month)
    if today < first or now < schedule.moment(first, workplace.policy, workplace.tz):
        return None
    month = YearMonth.of(today).plus(-1)
    engine = session.get(ReminderEngine, 1)  # the day the first reminder tick ran
    if engine is None or engine.started_on >= today.replace(day=1):
        return None
    if session.scalar(select(MonthlyReport.id).where(MonthlyReport.month == str(month))) is not None:
        return None
    return month


def send_monthly_report(
    session: Session, workplace: Workplace, now: datetime, titles: Callable[[], Titles] = dict
) -> YearMonth | None:
    """Claim the report that is due at ``now`` (:func:`report_due`) and record it in the
    outbox, in this session's transaction (the caller commits, then delivers): to the admin
    channel, or by DM to each administrator when there is none, a message with the figures
    and, unless nothing happened, the charts and the workbook as files. Returns the month
    claimed; None when nothing is due, when another process (or an earlier run) claimed it,
    and when there is nobody to send it to (no SI_ADMINS, no SI_ADMIN_CHANNEL)."""
    month = report_due(session, workplace, now)
    if month is None:
        return None
    recipients = roles.administrators(session, workplace)
    if not recipients:
        log.warning("the report of %s is due but SI_ADMINS and SI_ADMIN_CHANNEL are empty: not sent", month)
        return None
    figures = monthly_figures(session, workplace, month, now, titles)
    try:
        with session.begin_nested():
            session.add(
                MonthlyReport(month=str(month), claimed_at=now, recipients=len(recipients), figures=figures)
            )
            session.flush()  # the claim: IntegrityError here when another process has it
    except IntegrityError:
        log.info("the report of %s was claimed by another process", month)
        return None
    for recipient in recipients:
        shown = for_audience(figures, recipient)
        message = {"report": shown}
        key = f"report:{month}:{recipient.id}"
        enqueue(session, key=key, notice="monthly_report", to=recipient, params=message, now=now)
        if shown["sections"]:
            # The charts and the workbook: uploaded by the outbox after the message (bot.report.slack).
            files = Recipient.files_for(recipient)
            enqueue(session, key=f"{key}:files", notice="monthly_report", to=files, params=message, now=now)
    log.info("the report of %s claimed for %d recipient(s)", month, len(recipients))
    return month


def for_audience(figures: dict[str, Any], recipient: Recipient) -> dict[str, Any]:
    """The report as a recipient may see it: a channel's leaves out the ids of confidential
    requests (complaints) waiting, and counts them instead."""
    waiting = figures["sections"].get("waiting")
    if waiting is None or recipient.audience is Audience.PRIVATE:
        return figures
    shown = [row for row in waiting["requests"] if not row["confidential"]]
    left_out = sum(1 for row in waiting["requests"] if row["confidential"])
    sections = {**figures["sections"], "waiting": {**waiting, "requests": shown, "confidential": left_out}}
    return {**figures, "sections": sections}
