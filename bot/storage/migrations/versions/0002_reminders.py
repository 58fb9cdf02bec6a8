"""reminders: occurrences, claimed sends, posted copies, start day

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_engine",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reminder_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(length=32), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("snoozed_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("reminder_occurrences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_occurrences_kind"), ["kind"], unique=False)

    op.create_table(
        "reminder_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["occurrence_id"], ["reminder_occurrences.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("reminder_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_sends_occurrence_id"), ["occurrence_id"], unique=False)

    op.create_table(
        "reminder_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("send_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["send_id"], ["reminder_sends.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "ts"),
    )
    with op.batch_alter_table("reminder_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_messages_send_id"), ["send_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminder_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_messages_send_id"))
    op.drop_table("reminder_messages")
    with op.batch_alter_table("reminder_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_sends_occurrence_id"))
    op.drop_table("reminder_sends")
    with op.batch_alter_table("reminder_occurrences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_occurrences_kind"))
    op.drop_table("reminder_occurrences")
    op.drop_table("reminder_engine")
