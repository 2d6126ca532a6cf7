"""reader-bound tokens, the person an audit entry acted for, an audit that refuses TRUNCATE,
patients grouped by a keyed hash

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A token may be bound to one radiologist (role `radiologist`): it acts only as them. Every
audit entry names, beside the token, the person it acted for (`on_behalf_of`). On PostgreSQL
the append-only audit also refuses TRUNCATE (UPDATE and DELETE were refused already). The
practice gets a random key, and every stored `patient_ref` becomes its keyed hash
(`nighthawk.service.patients`): the reference a sender gave is no longer kept.
"""

import hashlib
import hmac
import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _hash_patient_refs() -> None:
    # nighthawk.service.patients.pseudonym, spelled out: a migration must not change when the
    # application's code does.
    key = secrets.token_hex(32)
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE practice_state SET patient_key = :key"), {"key": key})
    rows = bind.execute(
        sa.text("SELECT id, patient_ref FROM study WHERE patient_ref IS NOT NULL")
    ).all()
    for study_id, reference in rows:
        digest = hmac.new(bytes.fromhex(key), reference.encode(), hashlib.sha256).digest()
        bind.execute(
            sa.text("UPDATE study SET patient_ref = :ref WHERE id = :id"),
            {"ref": "ph_" + digest[:16].hex(), "id": study_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("practice_state") as batch:
        batch.add_column(
            sa.Column("patient_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
    _hash_patient_refs()
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("radiologist", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
    # The audit refuses UPDATE, so it gains a column without rewriting a row: an ALTER.
    op.add_column(
        "audit",
        sa.Column("on_behalf_of", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_no_truncate ON audit")
    op.drop_column("audit", "on_behalf_of")
    with op.batch_alter_table("practice_state") as batch:
        batch.drop_column("patient_key")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("radiologist")
