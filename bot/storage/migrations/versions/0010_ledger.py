"""ledger: closed months and their lines, payments, the center's bills and their
differences, statements, stored files, and the pace of posts to Slack

Revision ID: 0010_ledger
Revises: 0009_monthly_report
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_ledger"
down_revision = "0009_monthly_report"
branch_labels = None
depends_on = None

# Exact yuan on both databases: NUMERIC on PostgreSQL, the decimal's text on SQLite
# (bot.storage.models.Money).
MONEY = sa.Numeric(12, 2).with_variant(sa.String(16), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=32), nullable=False),
        sa.Column("uploaded_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stored_files_digest", "stored_files", ["digest"])
    op.create_table(
        "ledger_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", WHEN, nullable=False),
        sa.Column("closed_by", sa.String(length=32), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("employer_total", MONEY, nullable=False),
        sa.Column("employee_total", MONEY, nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "ledger_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("base_on_record", MONEY, nullable=True),
        sa.Column("base", MONEY, nullable=False),
        sa.Column("base_source", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=20), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("employer", MONEY, nullable=False),
        sa.Column("employee", MONEY, nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "employee_id"),
    )
    op.create_index("ix_ledger_lines_employee_month", "ledger_lines", ["employee_id", "month"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("receipt_file_id", sa.Integer(), nullable=True),
        sa.Column("ledger_total", MONEY, nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["receipt_file_id"], ["stored_files.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    op.create_index("ix_payments_month", "payments", ["month"])
    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=32), nullable=False),
        sa.Column("imported_at", WHEN, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["stored_files.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bills_month", "bills", ["month"])
    op.create_table(
        "bill_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("base", MONEY, nullable=True),
        sa.Column("employer", MONEY, nullable=False),
        sa.Column("employee", MONEY, nullable=False),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bill_lines_bill_id", "bill_lines", ["bill_id"])
    op.create_table(
        "bill_differences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("ledger_total", MONEY, nullable=False),
        sa.Column("bill_total", MONEY, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("request_public_id", sa.String(length=20), nullable=True),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"]),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bill_differences_bill_state", "bill_differences", ["bill_id", "state"])
    op.create_table(
        "statement_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=32), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year"),
    )
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("slack_user", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("outbox_key", sa.String(length=160), nullable=False),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("request_public_id", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["statement_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "employee_id"),
    )
    op.create_index("ix_statements_run_state", "statements", ["run_id", "state"])
    op.create_table(
        "send_pace",
        sa.Column("lane", sa.String(length=80), nullable=False),
        sa.Column("next_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("lane"),
    )


def downgrade() -> None:
    for table in (
        "send_pace",
        "statements",
        "statement_runs",
        "bill_differences",
        "bill_lines",
        "bills",
        "payments",
        "ledger_lines",
        "ledger_months",
        "stored_files",
    ):
        op.drop_table(table)
