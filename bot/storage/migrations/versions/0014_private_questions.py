"""questions asked in a direct message to the bot: marked, since nobody else can open their
thread (the administrators answer the asker by DM and are asked to teach at once)

Revision ID: 0014_private_questions
Revises: 0013_base_declaration
Create Date: 2026-12-01 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_private_questions"
down_revision = "0013_base_declaration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("help_answers") as batch:
        batch.add_column(sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("help_answers") as batch:
        batch.drop_column("private")
