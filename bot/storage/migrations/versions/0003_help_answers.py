"""help channel: answers and their Helpful / Not helpful feedback

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 17:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "help_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("asker_id", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=4), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_help_answers_topic", "help_answers", ["topic"])
    op.create_table(
        "help_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["help_answers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "user_id"),
    )
    op.create_index("ix_help_feedback_answer_id", "help_feedback", ["answer_id"])


def downgrade() -> None:
    op.drop_index("ix_help_feedback_answer_id", table_name="help_feedback")
    op.drop_table("help_feedback")
    op.drop_index("ix_help_answers_topic", table_name="help_answers")
    op.drop_table("help_answers")
