"""roster: the insured employees and their history, wage records and their corrections,
import batches

Revision ID: 0007_roster
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_roster"
down_revision = "0006"
branch_labels = None
depends_on = None

# Exact yuan on both databases: NUMERIC on PostgreSQL, the decimal's text on SQLite
# (bot.storage.models.Money).
MONEY = sa.Numeric(12, 2).with_variant(sa.String(16), "sqlite")


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_batches_digest", "import_batches", ["digest"])
    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("slack_user", sa.String(length=32), nullable=True),
        sa.Column("hukou", sa.String(length=20), nullable=False),
        sa.Column("enrolled_from", sa.String(length=7), nullable=False),
        sa.Column("leaving_month", sa.String(length=7), nullable=True),
        sa.Column("contribution_base", MONEY, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resident_id"),
        sa.UniqueConstraint("slack_user"),
    )
    op.create_index("ix_employees_full_name", "employees", ["full_name"])
    op.create_index("ix_employees_status", "employees", ["status"])
    op.create_table(
        "employee_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_employee_changes_employee_id", "employee_changes", ["employee_id"])
    op.create_table(
        "wage_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("gross_wage", MONEY, nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.ForeignKeyConstraint(["import_batch_id"], ["import_batches.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employee_id", "month"),
    )
    op.create_index("ix_wage_records_month", "wage_records", ["month"])
    op.create_table(
        "wage_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wage_record_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("old_wage", MONEY, nullable=False),
        sa.Column("new_wage", MONEY, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["wage_record_id"], ["wage_records.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_wage_corrections_wage_record_id", "wage_corrections", ["wage_record_id"])


def downgrade() -> None:
    op.drop_table("wage_corrections")
    op.drop_table("wage_records")
    op.drop_table("employee_changes")
    op.drop_table("employees")
    op.drop_table("import_batches")
