"""The tables. Requests are never deleted: a request's life is its rows in request_events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (
        # The month's changes (bot/services/change_form.py) and the open requests by kind.
        Index("ix_requests_kind_state_month", "kind", "state", "effective_month"),
        Index("ix_requests_state_created", "state", "created_at", "id"),
        Index("ix_requests_requester_created", "requester_id", "created_at", "id"),
        Index("ix_requests_created", "created_at", "id"),
        # /si admin list filtered by kind, or by kind and state, newest first (keyset).
        Index("ix_requests_kind_created", "kind", "created_at", "id"),
        Index("ix_requests_kind_state_created", "kind", "state", "created_at", "id"),
        # The report's "open at the month's end": those changed since (bot/services/report.py).
        Index("ix_requests_updated", "updated_at"),
        # App Home's open requests counted by kind and state: only the open ones are read.
        Index("ix_requests_state_kind", "state", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)  # SI-2026-0042
    kind: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    requester_id: Mapped[str] = mapped_column(String(32), index=True)
    subject_id: Mapped[str] = mapped_column(String(32), index=True)  # the insured person concerned
    payload: Mapped[dict[str, Any]]
    # The form's month, where its kind has one (bot.domain.kinds: KindSpec.month_field).
    effective_month: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Slack's view id of the modal that created it: a resubmission finds this row.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", lazy="selectin"
    )


class RequestEvent(Base):
    """The audit trail: every change of state, who made it, when, and why."""

    __tablename__ = "request_events"
    # The monthly report reads a month's approvals and completions (bot/services/report.py).
    __table_args__ = (Index("ix_request_events_state_at", "to_state", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[Request] = relationship(back_populates="events")


class RequestCounter(Base):
    """The last number handed out per year, for public ids."""

    __tablename__ = "request_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class RequestMessage(Base):
    """A Slack message that shows a request's card, so it can be updated in place."""

    __tablename__ = "request_messages"
    __table_args__ = (UniqueConstraint("channel", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(16))  # private (a DM) | shared (a channel)


class Staff(Base):
    """HR staff: may file insured changes for other people."""

    __tablename__ = "staff"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime]


class AuditEntry(Base):
    """Changes to roles and settings (who may do what), kept for the record."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class ProcessedDelivery(Base):
    """Slack deliveries already acted on (event ids...), so a retry does nothing twice."""

    __tablename__ = "processed_deliveries"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime]


class OutboxMessage(Base):
    """A message to send, recorded in the same transaction as the change it reports.

    ``key`` is unique: the same notice is recorded once however often the change is
    retried. A sender claims a row (``claimed_until``) before sending, so several
    processes never send one row twice.
    """

    __tablename__ = "outbox"
    # The sender's look for what is due: only the unsent rows, in order (bot/delivery.py).
    __table_args__ = (
        Index(
            "ix_outbox_unsent",
            "id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    notice: Mapped[str] = mapped_column(String(40))  # template name
    target_kind: Mapped[str] = mapped_column(String(16))  # bot.services.outbox.TargetKind
    target: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16))  # bot.services.outbox.Audience
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    params: Mapped[dict[str, Any]]
    track: Mapped[bool] = mapped_column(default=False)  # record the posted message as a card
    created_at: Mapped[datetime]
    not_before: Mapped[datetime] = mapped_column(index=True)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # A row is never given up (bot/delivery.py): retried at a capped interval until it is
    # sent or a person drops it (``si-bot outbox drop``), recorded with who and when.
    first_failed_at: Mapped[datetime | None]  # its first refused attempt (cleared when sent)
    alerted_at: Mapped[datetime | None]  # the administrators were told it is undeliverable
    dropped_at: Mapped[datetime | None]
    dropped_by: Mapped[str | None] = mapped_column(String(64))
    # When the current claim was taken; since when a post may have gone without its outcome
    # being recorded (a sender died): Slack's history is searched for the row's key from then.
    claimed_at: Mapped[datetime | None]
    in_doubt_since: Mapped[datetime | None]
    # What Slack answered to the post (kept even when recording the rest of it failed).
    posted_channel: Mapped[str | None] = mapped_column(String(32))
    posted_ts: Mapped[str | None] = mapped_column(String(32))


# --- reminders (bot/services/reminders.py) --------------------------------------------------


class ReminderOccurrence(Base):
    """One occurrence of a dated duty (``payment:2026-02``) or of the daily digest
    (``stale_digest:2026-02-24``): whether it is handled (Done) or snoozed."""

    __tablename__ = "reminder_occurrences"
    __table_args__ = (
        # The monthly report counts the occurrences done and snoozed in a month.
        Index("ix_reminder_occurrences_handled_at", "handled_at"),
        Index("ix_reminder_occurrences_snoozed_until", "snoozed_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date]
    created_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[str | None] = mapped_column(String(32))
    # No reminder of this occurrence before this local date; one on it (Snooze until tomorrow).
    snoozed_until: Mapped[date | None]
    snoozed_by: Mapped[str | None] = mapped_column(String(32))


class ReminderSend(Base):
    """One reminder of an occurrence, claimed once: ``key`` is unique
    (``payment:2026-02:warning:2026-02-24``), inserted in the same transaction as the
    outbox messages that carry it, so two processes never send it twice."""

    __tablename__ = "reminder_sends"
    __table_args__ = (Index("ix_reminder_sends_sent_at", "sent_at"),)  # the monthly report

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("reminder_occurrences.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    scheduled_on: Mapped[date]
    sent_at: Mapped[datetime]  # when it was claimed and recorded
    late: Mapped[bool] = mapped_column(default=False)
    params: Mapped[dict[str, Any]]  # what the message shows, to redraw it in place


class ReminderMessage(Base):
    """A posted copy of a reminder (an administrator's DM, the admin channel), so Done and
    Snooze can update every copy in place."""

    __tablename__ = "reminder_messages"
    __table_args__ = (UniqueConstraint("channel", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("reminder_sends.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(16))  # private (a DM) | shared (a channel)


class ReminderEngine(Base):
    """When reminders started: nothing before this day is sent late or reported missed."""

    __tablename__ = "reminder_engine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_on: Mapped[date]
    started_at: Mapped[datetime]


# --- help channel answers (bot/services/help.py) -----------------------------------------------


class HelpAnswer(Base):
    """A question the bot answered or escalated. ``key`` names the Slack message it answers
    (``msg:<channel>:<ts>``), so a mention that is also a help-channel message, or a retried
    event, gets one answer."""

    __tablename__ = "help_answers"
    __table_args__ = (Index("ix_help_answers_created", "created_at"),)  # the monthly report

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    asker_id: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)  # resident ID numbers masked
    lang: Mapped[str] = mapped_column(String(4))
    topic: Mapped[str | None] = mapped_column(String(40), index=True)
    score: Mapped[float]
    outcome: Mapped[str] = mapped_column(String(16))  # answered | escalated | out_of_scope
    # Asked in a DM to the bot: nobody else can open its thread.
    private: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime]


class HelpFeedback(Base):
    """One person's Helpful / Not helpful on one answer (a second press changes nothing)."""

    __tablename__ = "help_feedback"
    __table_args__ = (UniqueConstraint("answer_id", "user_id"), Index("ix_help_feedback_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("help_answers.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    helpful: Mapped[bool]
    at: Mapped[datetime]


class HelpOffer(Base):
    """A topic offered with an answer ("Or is your question about …?", the close runner-up)
    or with an escalation (the best few): one row a topic, ``rank`` 1 first."""

    __tablename__ = "help_offers"
    __table_args__ = (UniqueConstraint("answer_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("help_answers.id"), index=True)
    rank: Mapped[int]
    topic: Mapped[str] = mapped_column(String(40), index=True)


class HelpChoice(Base):
    """One person's pick among the topics offered with an answer: feedback, like Helpful /
    Not helpful, one a person and answer (a second press changes nothing). A pick says the
    right topic was among those offered."""

    __tablename__ = "help_choices"
    __table_args__ = (UniqueConstraint("answer_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("help_answers.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(40), index=True)
    rank: Mapped[int]  # its place among the offers
    at: Mapped[datetime]


class HelpReply(Base):
    """An administrator's message in the thread of a question handed to them (escalated, or
    found not helpful). ``key`` names the Slack message (``msg:<channel>:<ts>``)."""

    __tablename__ = "help_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("help_answers.id"), index=True)
    admin_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # resident ID numbers masked
    at: Mapped[datetime]


class HelpLesson(Base):
    """What an administrator taught the help channel, from one question (``answer_id``):
    ``kind`` "phrasing" (the question belongs to ``topic``, a shipped or taught topic) or
    "topic" (a new topic ``topic`` with its titles and answer, for a question no topic
    covered). Never deleted: a lesson stops counting when retired. One lesson a question
    counts at a time (a partial unique index): teaching it again retires the earlier one."""

    __tablename__ = "help_lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # phrasing | topic
    topic: Mapped[str] = mapped_column(String(40), index=True)
    question: Mapped[str] = mapped_column(Text)  # as asked, resident ID numbers masked
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    answer_zh: Mapped[str] = mapped_column(Text, default="")
    answer_en: Mapped[str] = mapped_column(Text, default="")
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("help_answers.id"))
    taught_by: Mapped[str] = mapped_column(String(32))
    taught_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(32))


# One lesson a question counts at a time; retired ones stay (partial: SQLite and PostgreSQL).
Index(
    "ux_help_lessons_active_answer",
    HelpLesson.answer_id,
    unique=True,
    sqlite_where=HelpLesson.retired_at.is_(None),
    postgresql_where=HelpLesson.retired_at.is_(None),
)


# --- the administrator's workspace (bot/services/change_form.py, filing.py, documents.py,
# handover.py, home.py) ---------------------------------------------------------------------


class ChangeFormExport(Base):
    """One export of a month's insured change form: the requests on it, so that marking it
    filed completes exactly those (a change approved after the export is not on it)."""

    __tablename__ = "change_form_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))  # a user id, or "cli"
    request_ids: Mapped[list[int]] = mapped_column(JSON)
    filed_at: Mapped[datetime | None]
    filed_by: Mapped[str | None] = mapped_column(String(32))


class Administrator(Base):
    """A filed administrator (seeded from SI_ADMINS, then changed by command or handover).
    One row a person, never deleted: active while ``removed_at`` is empty; every change is
    also in ``audit_log``."""

    __tablename__ = "administrators"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filed_on: Mapped[date | None]  # the day filed with the social security center
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # SI_ADMINS | command | handover
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(32))


class UnitDocument(Base):
    """A certificate, material or account of the unit: what it is, where it is kept, who
    holds it, and its annual examination or expiry date. Never deleted: retired."""

    __tablename__ = "unit_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(16))  # certificate | material | account | manual
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200))
    holder_id: Mapped[str] = mapped_column(String(32), index=True)
    due_on: Mapped[date | None] = mapped_column(index=True)
    due_kind: Mapped[str] = mapped_column(String(16), default="")  # exam | expiry | ""
    notes: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(32))
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    retired_at: Mapped[datetime | None]


class Handover(Base):
    """An administrator handing the role to a successor: the checklist as it was sent, and
    the successor's confirmation of receipt (when the role moves)."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_id: Mapped[str] = mapped_column(String(32), index=True)
    to_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # pending | confirmed | cancelled
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    checklist: Mapped[dict[str, Any]]


class HomeTab(Base):
    """Who has opened si-bot's App Home, so it is redrawn for them after a change."""

    __tablename__ = "home_tabs"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_at: Mapped[datetime]


# --- the insured roster and the wage records (bot/services/roster.py, wages.py) ----------------


class Money(TypeDecorator):
    """Yuan with two decimals, exact on every database: NUMERIC(12, 2) on PostgreSQL, the
    decimal's text on SQLite (whose NUMERIC is a float)."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(16))
        return dialect.type_descriptor(Numeric(12, 2))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal("0.01"))
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value).quantize(Decimal("0.01"))


class Employee(Base):
    """One person on the insured roster. Never deleted: a leaver is ``left``, a retiree
    ``retired``; every change is a row of ``employee_changes``."""

    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(String(18), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), index=True)
    slack_user: Mapped[str | None] = mapped_column(String(32), unique=True)
    hukou: Mapped[str] = mapped_column(String(20))
    enrolled_from: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the first month insured
    leaving_month: Mapped[str | None] = mapped_column(String(7))  # the last month insured
    contribution_base: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10), index=True)  # enrolled | left | retired
    retired_on: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EmployeeChange(Base):
    """The roster's history: who changed a person's record, when, what (``changes``:
    field -> [before, after]) and why (``source``: import | request | correction, with
    ``reference``: the file's name or the request's id, and a person's ``reason``)."""

    __tablename__ = "employee_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # created | updated | enrolled | left | retired
    changes: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class WageRecord(Base):
    """One person's gross wage for one month (the income account), from the import that
    recorded it (who, when, which file). A correction changes ``gross_wage`` and keeps the
    figure it replaced in ``wage_corrections``."""

    __tablename__ = "wage_records"
    __table_args__ = (UniqueConstraint("employee_id", "month"), Index("ix_wage_records_month", "month"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    gross_wage: Mapped[Decimal] = mapped_column(Money)
    import_batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class WageCorrection(Base):
    """A wage figure replaced: the old and the new, who, when and why."""

    __tablename__ = "wage_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    wage_record_id: Mapped[int] = mapped_column(ForeignKey("wage_records.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    old_wage: Mapped[Decimal] = mapped_column(Money)
    new_wage: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(16))  # correction | import
    reference: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class ImportBatch(Base):
    """A roster or wage file that changed something: which file (its SHA-256), who, when,
    and what it did. A file imported again is recognised by its digest."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # roster | wages
    file_name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    rows: Mapped[int]
    added: Mapped[int]
    changed: Mapped[int]
    unchanged: Mapped[int]


# --- the monthly report (bot/services/report.py) -------------------------------------------------


class MonthlyReport(Base):
    """A month's report, claimed once for the scheduled delivery: ``month`` is unique and is
    inserted in the same transaction as the outbox messages that carry the report, so two
    processes never send it twice. ``figures`` is what was sent (bot/services/report.py)."""

    __tablename__ = "monthly_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM, the month reported on
    claimed_at: Mapped[datetime]
    recipients: Mapped[int]
    figures: Mapped[dict[str, Any]]


# --- the monthly ledger, payments, the center's bills, statements (bot/services/ledger.py,
# payments.py, bills.py, statements.py) --------------------------------------------------------


class StoredFile(Base):
    """A file kept as it was received: the center's bill, a payment receipt."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # bill | receipt
    file_name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), index=True)  # SHA-256 of the content
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(32))
    uploaded_at: Mapped[datetime]


class LedgerMonth(Base):
    """A month whose ledger was recorded (closed) when its payment was recorded: the
    figures it was computed with and its totals. Its lines are ``ledger_lines``."""

    __tablename__ = "ledger_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    closed_at: Mapped[datetime]
    closed_by: Mapped[str] = mapped_column(String(32))
    people: Mapped[int]
    employer_total: Mapped[Decimal] = mapped_column(Money)
    employee_total: Mapped[Decimal] = mapped_column(Money)
    # The month's figures as used: period, floor, ceiling, rates, rounding, assumed.
    figures: Mapped[dict[str, Any]]


class LedgerLineRecord(Base):
    """One person's contributions in a closed month, as recorded (``shares``: scheme ->
    [employer, employee], as text)."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        UniqueConstraint("month", "employee_id"),
        Index("ix_ledger_lines_employee_month", "employee_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    full_name: Mapped[str] = mapped_column(String(100))
    resident_id: Mapped[str] = mapped_column(String(18))
    base_on_record: Mapped[Decimal | None] = mapped_column(Money)
    base: Mapped[Decimal] = mapped_column(Money)
    base_source: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(20))
    shares: Mapped[dict[str, Any]]
    employer: Mapped[Decimal] = mapped_column(Money)
    employee: Mapped[Decimal] = mapped_column(Money)


class Payment(Base):
    """A month's contributions declared and paid: the amount, the day, who recorded it,
    the receipt's reference or file, and the ledger's total when it was recorded."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(200), default="")
    receipt_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    ledger_total: Mapped[Decimal] = mapped_column(Money)
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]
    # The modal's view id: a double submission records one payment.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class Bill(Base):
    """The center's bill (对账单) for a month, as imported: the original file is kept."""

    __tablename__ = "bills"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    imported_by: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime]
    rows: Mapped[int]
    people: Mapped[int]
    total: Mapped[Decimal] = mapped_column(Money)


class BillLine(Base):
    """One row of a bill: a person's base and shares for one scheme."""

    __tablename__ = "bill_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    row: Mapped[int]
    resident_id: Mapped[str] = mapped_column(String(18))
    full_name: Mapped[str] = mapped_column(String(100))
    scheme: Mapped[str] = mapped_column(String(20))
    base: Mapped[Decimal | None] = mapped_column(Money)
    employer: Mapped[Decimal] = mapped_column(Money)
    employee: Mapped[Decimal] = mapped_column(Money)


class BillDifference(Base):
    """Where a bill and the ledger differ for one person: the likely reason, the amount
    (the bill's total less the ledger's), each scheme's figures, and what was made of it:
    ``open``, ``explained`` (with a note) or ``request`` (turned into a request)."""

    __tablename__ = "bill_differences"
    __table_args__ = (Index("ix_bill_differences_bill_state", "bill_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"))
    month: Mapped[str] = mapped_column(String(7))
    resident_id: Mapped[str] = mapped_column(String(18))
    full_name: Mapped[str] = mapped_column(String(100))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    reason: Mapped[str] = mapped_column(String(24))
    ledger_total: Mapped[Decimal] = mapped_column(Money)
    bill_total: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    detail: Mapped[dict[str, Any]]  # bases and scheme -> [ledger employer, employee, bill employer, employee]
    state: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    request_public_id: Mapped[str | None] = mapped_column(String(20))
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]


class StatementRun(Base):
    """A year's statements sent to every insured employee with a Slack user."""

    __tablename__ = "statement_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    started_by: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]


class Statement(Base):
    """One person's statement of a run: sent through the outbox (``outbox_key``), then
    ``confirmed`` (Looks right) or ``disputed`` (Something's wrong: a request)."""

    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("run_id", "employee_id"),
        Index("ix_statements_run_state", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("statement_runs.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    slack_user: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(10))  # sent | confirmed | disputed
    outbox_key: Mapped[str] = mapped_column(String(160))
    answered_at: Mapped[datetime | None]
    request_public_id: Mapped[str | None] = mapped_column(String(20))


class SendPace(Base):
    """How fast si-bot may post to Slack, shared by every process (bot/pacing.py): for
    each lane (the workspace, a channel), the theoretical time of the next post."""

    __tablename__ = "send_pace"

    lane: Mapped[str] = mapped_column(String(80), primary_key=True)
    next_at: Mapped[datetime]


# --- the yearly contribution-base declaration (bot/services/bases.py) -------------------------


class BaseDeclaration(Base):
    """The declaration of one base year (the one that starts in ``year``): a ``draft``
    re-computed from the wages as often as needed, then ``locked`` (declared: the bases
    apply, the sheet is made and the publicity goes out)."""

    __tablename__ = "base_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    start: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the base year's first month
    state: Mapped[str] = mapped_column(String(10))  # draft | locked
    computed_at: Mapped[datetime]
    computed_by: Mapped[str] = mapped_column(String(32))
    locked_at: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(32))


class DeclaredBase(Base):
    """One person's base in a declaration: as computed (the rule, the months averaged and
    missing, held to the floor or the ceiling), the base before it, an administrator's
    override (with the reason and who), and the publicity: ``sent`` through the outbox
    (``outbox_key``), then ``confirmed`` or ``disputed`` (a request)."""

    __tablename__ = "declared_bases"
    __table_args__ = (
        UniqueConstraint("declaration_id", "employee_id"),
        Index("ix_declared_bases_declaration_publicity", "declaration_id", "publicity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("base_declarations.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    rule: Mapped[str] = mapped_column(String(20))  # bot.domain.bases.BaseRule
    averaged: Mapped[list[str]] = mapped_column(JSON)  # YYYY-MM
    missing: Mapped[list[str]] = mapped_column(JSON)
    average: Mapped[Decimal | None] = mapped_column(Money)
    computed: Mapped[Decimal | None] = mapped_column(Money)
    held: Mapped[str] = mapped_column(String(8))  # "" | floor | ceiling
    previous: Mapped[Decimal | None] = mapped_column(Money)
    override: Mapped[Decimal | None] = mapped_column(Money)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    override_by: Mapped[str | None] = mapped_column(String(32))
    publicity: Mapped[str | None] = mapped_column(String(10))  # sent | confirmed | disputed
    slack_user: Mapped[str | None] = mapped_column(String(32))
    outbox_key: Mapped[str | None] = mapped_column(String(160))
    answered_at: Mapped[datetime | None]
    request_public_id: Mapped[str | None] = mapped_column(String(20))
    reminded_at: Mapped[datetime | None]

    @property
    def base(self) -> Decimal | None:
        """The base declared: the override when there is one, else the computed base."""
        return self.override if self.override is not None else self.computed


class DeclarationEvent(Base):
    """What happened to a declaration, for the record: computed, overridden (a person's
    base, from what to what, why), locked, disputed, resolved."""

    __tablename__ = "declaration_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("base_declarations.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]]
