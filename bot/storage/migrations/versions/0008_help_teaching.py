"""help channel: topics offered with an answer and the ones picked, administrators' replies
in the thread, and the lessons they teach

Revision ID: 0008_help_teaching
Revises: 0007_roster
Create Date: 2026-12-01 10:00:00

Four new tables; existing answers keep what they have (no topic was offered before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_help_teaching"
down_revision = "0007_roster"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("retired_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "help_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["help_answers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "topic"),
    )
    op.create_index("ix_help_offers_answer_id", "help_offers", ["answer_id"])
    op.create_index("ix_help_offers_topic", "help_offers", ["topic"])
    op.create_table(
        "help_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["help_answers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "user_id"),
    )
    op.create_index("ix_help_choices_answer_id", "help_choices", ["answer_id"])
    op.create_index("ix_help_choices_topic", "help_choices", ["topic"])
    op.create_table(
        "help_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["help_answers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_help_replies_answer_id", "help_replies", ["answer_id"])
    op.create_table(
        "help_lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("answer_zh", sa.Text(), nullable=False),
        sa.Column("answer_en", sa.Text(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("taught_by", sa.String(length=32), nullable=False),
        sa.Column("taught_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["answer_id"], ["help_answers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_help_lessons_topic", "help_lessons", ["topic"])
    # One lesson a question counts at a time; retired ones stay.
    op.create_index(
        "ux_help_lessons_active_answer",
        "help_lessons",
        ["answer_id"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("ux_help_lessons_active_answer", table_name="help_lessons")
    op.drop_index("ix_help_lessons_topic", table_name="help_lessons")
    op.drop_table("help_lessons")
    op.drop_index("ix_help_replies_answer_id", table_name="help_replies")
    op.drop_table("help_replies")
    op.drop_index("ix_help_choices_topic", table_name="help_choices")
    op.drop_index("ix_help_choices_answer_id", table_name="help_choices")
    op.drop_table("help_choices")
    op.drop_index("ix_help_offers_topic", table_name="help_offers")
    op.drop_index("ix_help_offers_answer_id", table_name="help_offers")
    op.drop_table("help_offers")
