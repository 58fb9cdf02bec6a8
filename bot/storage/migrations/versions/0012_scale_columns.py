"""Views that cost the same in year five as on day one: the indexes the lists, the report
and the sender need, and the month column filled for every kind that has one

Revision ID: 0012_scale_columns
Revises: 0011_outbox_reliability
Create Date: 2026-11-30 17:00:00

- /si admin list filtered by kind (and state), newest first, pages on (created_at, id):
  an index per filter, so a page reads its rows and no more.
- App Home counts the open requests by state and kind, reading only those.
- The report's "open at the month's end" finds the requests changed since by updated_at.
- The outbox sender looks only at unsent rows: a partial index (SQLite and PostgreSQL
  both have them), which stays small however many rows were sent.
- A request's month (``effective_month``) was filled in 0006 for changes only; a
  correction's month (``month_from``) is filled here for rows stored before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_scale_columns"
down_revision = "0011_outbox_reliability"
branch_labels = None
depends_on = None

_REQUEST_INDEXES = {
    "ix_requests_kind_created": ["kind", "created_at", "id"],
    "ix_requests_kind_state_created": ["kind", "state", "created_at", "id"],
    "ix_requests_updated": ["updated_at"],
    "ix_requests_state_kind": ["state", "kind"],
}
# Kinds whose month is stored as the column, and the payload field it comes from
# (bot.domain.kinds: KindSpec.month_field), as of this revision.
_MONTH_FIELDS = {"change": "effective_month", "correction": "month_from"}


def upgrade() -> None:
    requests = sa.table(
        "requests",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("effective_month", sa.String),
    )
    conn = op.get_bind()
    for kind, name in _MONTH_FIELDS.items():
        rows = conn.execute(
            sa.select(requests.c.id, requests.c.payload).where(
                requests.c.kind == kind, requests.c.effective_month.is_(None)
            )
        )
        for request_id, payload in rows.all():
            month = (payload or {}).get(name)
            if month:
                conn.execute(
                    sa.update(requests).where(requests.c.id == request_id).values(effective_month=month)
                )
    for index, columns in _REQUEST_INDEXES.items():
        op.create_index(index, "requests", columns)
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["id"],
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unsent", "outbox")
    for index in _REQUEST_INDEXES:
        op.drop_index(index, "requests")
