"""coverage-planning jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

One row per `POST /v1/plans`: the request, the job's status and, once solved, the roster with
its coverage, gaps and recommendations (JSON), and who published it to the live roster.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("started_at", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("finished_at", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("published_at", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plan_status", "plan", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_plan_status", table_name="plan")
    op.drop_table("plan")
