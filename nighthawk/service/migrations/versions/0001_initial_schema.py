"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Also seeds the single practice-state row and makes the audit log append-only with triggers
that refuse UPDATE and DELETE on both SQLite and PostgreSQL.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("facilities", sa.JSON(), nullable=False),
        sa.Column("created_at", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("study_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(op.f("ix_audit_at"), "audit", ["at"], unique=False)
    op.create_index(op.f("ix_audit_study_id"), "audit", ["study_id"], unique=False)
    op.create_table(
        "facility",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sla_stat", sa.Float(), nullable=True),
        sa.Column("sla_urgent", sa.Float(), nullable=True),
        sa.Column("sla_routine", sa.Float(), nullable=True),
        sa.Column("updated_at", models.tables.UtcTimestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "job_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("expires_at", models.tables.UtcTimestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "practice_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "radiologist",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("licenses", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("subspecialties", sa.JSON(), nullable=False),
        sa.Column("modalities", sa.JSON(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column(
            "availability_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
        ),
        sa.Column("updated_at", models.tables.UtcTimestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "shift",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("radiologist_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("start", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("end", models.tables.UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["radiologist_id"],
            ["radiologist.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_shift_radiologist_id"), "shift", ["radiologist_id"], unique=False)
    op.create_index("ix_shift_window", "shift", ["start", "end"], unique=False)
    op.create_table(
        "study",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("facility", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("accession", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("modality", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subspecialty", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("subspecialty_required", sa.Boolean(), nullable=False),
        sa.Column("body_part", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("patient_ref", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("expected_minutes", sa.Float(), nullable=False),
        sa.Column("received_at", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("due_at", models.tables.UtcTimestamp(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("assigned_to", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("queue_rank", sa.Float(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("predicted_start", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("predicted_finish", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("started_at", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("reported_at", models.tables.UtcTimestamp(), nullable=True),
        sa.Column("report", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("uncovered_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility"],
            ["facility.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("facility", "accession", name="uq_study_facility_accession"),
        sa.UniqueConstraint("id"),
    )
    op.create_index(op.f("ix_study_patient_ref"), "study", ["patient_ref"], unique=False)
    op.create_index("ix_study_received", "study", ["received_at"], unique=False)
    op.create_index("ix_study_status_assigned", "study", ["status", "assigned_to"], unique=False)
    op.execute("INSERT INTO practice_state (id, epoch) VALUES (1, 0)")
    _make_audit_append_only()


def _make_audit_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_append_only ON audit")
        op.execute("DROP FUNCTION audit_append_only()")
    else:
        op.execute("DROP TRIGGER audit_no_update")
        op.execute("DROP TRIGGER audit_no_delete")
    op.drop_index("ix_study_status_assigned", table_name="study")
    op.drop_index("ix_study_received", table_name="study")
    op.drop_index(op.f("ix_study_patient_ref"), table_name="study")
    op.drop_table("study")
    op.drop_index("ix_shift_window", table_name="shift")
    op.drop_index(op.f("ix_shift_radiologist_id"), table_name="shift")
    op.drop_table("shift")
    op.drop_table("radiologist")
    op.drop_table("practice_state")
    op.drop_table("job_lease")
    op.drop_table("facility")
    op.drop_index(op.f("ix_audit_study_id"), table_name="audit")
    op.drop_index(op.f("ix_audit_at"), table_name="audit")
    op.drop_table("audit")
    op.drop_table("api_token")
