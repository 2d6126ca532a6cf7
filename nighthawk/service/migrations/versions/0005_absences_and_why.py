"""absences booked ahead, and the explanation a study was placed with

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A reader's time away can be booked ahead (`absence`: a break from 02:00 to 02:30): the planner
cuts their shifts by it. A study keeps the explanation of the decision that last placed it
(`study.why`), so one being read or already reported still says why it went where it did.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "absence",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("radiologist_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("start", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("end", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", models.tables.UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(["radiologist_id"], ["radiologist.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_absence_window", "absence", ["radiologist_id", "end"])
    with op.batch_alter_table("study") as batch:
        batch.add_column(sa.Column("why", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("study") as batch:
        batch.drop_column("why")
    op.drop_index("ix_absence_window", table_name="absence")
    op.drop_table("absence")
