"""audiences: who reads each outbox message, posted card and reminder copy, stored once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:00:00

Until now whether a message could show personal data whole was guessed from its channel id
("D…" for a DM). The audience is now decided when the message is recorded and stored.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COPIES = ("request_messages", "reminder_messages")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("audience", sa.String(16), nullable=False, server_default="private"))
    op.execute("UPDATE outbox SET audience = 'shared' WHERE target_kind = 'channel'")
    for table in _COPIES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("audience", sa.String(16), nullable=False, server_default="shared"))
        op.execute(f"UPDATE {table} SET audience = 'private' WHERE channel LIKE 'D%'")


def downgrade() -> None:
    for table in ("outbox", *_COPIES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("audience")
