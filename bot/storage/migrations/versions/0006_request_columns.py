"""request columns: a change's effective month as a column, and the indexes lists need

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:00:00

The month's changes were found by reading every change and its JSON payload; the
effective month is now a column (filled here for the existing rows), and the lists sort
and count on indexed columns.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_requests_kind_state_month": ["kind", "state", "effective_month"],
    "ix_requests_state_created": ["state", "created_at", "id"],
    "ix_requests_requester_created": ["requester_id", "created_at", "id"],
    "ix_requests_created": ["created_at", "id"],
    "ix_requests_subject_id": ["subject_id"],
}


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("effective_month", sa.String(7), nullable=True))
    requests = sa.table(
        "requests",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("effective_month", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(requests.c.id, requests.c.payload).where(requests.c.kind == "change"))
    for request_id, payload in rows.all():
        month = (payload or {}).get("effective_month")
        if month:
            conn.execute(sa.update(requests).where(requests.c.id == request_id).values(effective_month=month))
    for name, columns in _INDEXES.items():
        op.create_index(name, "requests", columns)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, "requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("effective_month")
