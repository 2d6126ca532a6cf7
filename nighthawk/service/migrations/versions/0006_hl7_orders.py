"""HL7 v2 orders: facility aliases, a study's procedure, procedure codes, messages taken

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Orders arrive over MLLP (nighthawk.service.hl7). A facility may go by other names in what
hospitals send (`facility.aliases`, matched against MSH-4 and PV1-3.4); a study keeps the
procedure it was ordered as (`study.procedure`, OBR-4); a sender's procedure codes map to the
subspecialty their studies need (`procedure_code`); and every message taken is remembered by
(sender, MSH-10) with its ACK code (`hl7_message`), so a resend stores nothing twice.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch (SQLite's batch copies and drops the table, which its
    # foreign keys refuse for facility, referenced by every study). Existing facilities go
    # by their id alone.
    op.add_column(
        "facility",
        sa.Column("aliases", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column(
        "study",
        sa.Column("procedure", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    )
    op.create_table(
        "procedure_code",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subspecialty", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subspecialty_required", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "hl7_message",
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("control_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("ack_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("received_at", models.tables.UtcTimestamp(), nullable=False),
        sa.PrimaryKeyConstraint("sender", "control_id"),
    )


def downgrade() -> None:
    op.drop_table("hl7_message")
    op.drop_table("procedure_code")
    op.drop_column("study", "procedure")  # SQLite 3.35+ drops a column in place
    op.drop_column("facility", "aliases")
