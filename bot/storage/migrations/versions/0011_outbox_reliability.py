"""outbox reliability: a row is never given up; what a person decided about it (dropped,
by whom), when it was first refused and when the administrators were told, when its claim
was taken and since when its post is in doubt (a sender died after posting), and what
Slack answered to its post

Revision ID: 0011_outbox_reliability
Revises: 0010_ledger
Create Date: 2026-12-07 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_outbox_reliability"
down_revision = "0010_ledger"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
COLUMNS = (
    ("claimed_at", WHEN),
    ("in_doubt_since", WHEN),
    ("first_failed_at", WHEN),
    ("alerted_at", WHEN),
    ("dropped_at", WHEN),
    ("dropped_by", sa.String(length=64)),
    ("posted_channel", sa.String(length=32)),
    ("posted_ts", sa.String(length=32)),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
