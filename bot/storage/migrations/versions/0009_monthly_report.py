"""monthly report: the claim of each month's scheduled report, and the indexes its figures read

Revision ID: 0009_monthly_report
Revises: 0008_help_teaching
Create Date: 2026-11-30 16:00:00

The report counts one month's rows of each table by when they happened: those columns get
an index, so a month is read without the rest of the history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_monthly_report"
down_revision = "0008_help_teaching"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_request_events_state_at": ("request_events", ["to_state", "at"]),
    "ix_help_answers_created": ("help_answers", ["created_at"]),
    "ix_help_feedback_at": ("help_feedback", ["at"]),
    "ix_reminder_sends_sent_at": ("reminder_sends", ["sent_at"]),
    "ix_reminder_occurrences_handled_at": ("reminder_occurrences", ["handled_at"]),
    "ix_reminder_occurrences_snoozed_until": ("reminder_occurrences", ["snoozed_until"]),
}


def upgrade() -> None:
    op.create_table(
        "monthly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month"),
    )
    for name, (table, columns) in _INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in _INDEXES.items():
        op.drop_index(name, table)
    op.drop_table("monthly_reports")
