"""the yearly contribution-base declaration: a declaration per base year, a row per person
(computed, overridden, publicised and answered), and its events

Revision ID: 0013_base_declaration
Revises: 0012_scale_columns
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_base_declaration"
down_revision = "0012_scale_columns"
branch_labels = None
depends_on = None

# Exact yuan on both databases (bot.storage.models.Money).
MONEY = sa.Numeric(12, 2).with_variant(sa.String(16), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "base_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("start", sa.String(length=7), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("computed_at", WHEN, nullable=False),
        sa.Column("computed_by", sa.String(length=32), nullable=False),
        sa.Column("locked_at", WHEN, nullable=True),
        sa.Column("locked_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year"),
    )
    op.create_table(
        "declared_bases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("averaged", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("average", MONEY, nullable=True),
        sa.Column("computed", MONEY, nullable=True),
        sa.Column("held", sa.String(length=8), nullable=False),
        sa.Column("previous", MONEY, nullable=True),
        sa.Column("override", MONEY, nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("override_by", sa.String(length=32), nullable=True),
        sa.Column("publicity", sa.String(length=10), nullable=True),
        sa.Column("slack_user", sa.String(length=32), nullable=True),
        sa.Column("outbox_key", sa.String(length=160), nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("request_public_id", sa.String(length=20), nullable=True),
        sa.Column("reminded_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["declaration_id"], ["base_declarations.id"]),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("declaration_id", "employee_id"),
    )
    op.create_index(
        "ix_declared_bases_declaration_publicity", "declared_bases", ["declaration_id", "publicity"]
    )
    op.create_table(
        "declaration_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["declaration_id"], ["base_declarations.id"]),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_declaration_events_declaration_id", "declaration_events", ["declaration_id"])


def downgrade() -> None:
    op.drop_index("ix_declaration_events_declaration_id", table_name="declaration_events")
    op.drop_table("declaration_events")
    op.drop_index("ix_declared_bases_declaration_publicity", table_name="declared_bases")
    op.drop_table("declared_bases")
    op.drop_table("base_declarations")
