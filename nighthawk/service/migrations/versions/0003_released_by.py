"""readers who handed a study back

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

The live dispatcher never offers a study to a reader who handed it back; the list survives a
restart and is shared by every API process.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("study") as batch:
        batch.add_column(sa.Column("released_by", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("study") as batch:
        batch.drop_column("released_by")
