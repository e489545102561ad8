"""encrypted contacts, data-subject requests, processing restrictions, retention runs (issue 11)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 09:00:00

Existing contacts are encrypted in place, in batches, with the keys of the environment the migration
runs in (CARDWISE_PII_KEYS): set them before `cardwise db upgrade`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BATCH = 2_000
_CONTACTS = sa.table(
    "customer_contacts",
    sa.column("customer_id", sa.BigInteger()),
    sa.column("name", sa.Text()),
    sa.column("phone", sa.Text()),
    sa.column("email", sa.Text()),
    sa.column("phone_index", sa.String(64)),
)


def _convert_contacts(*, seal: bool) -> None:
    """Encrypt (``seal``) or decrypt every contact row, keyset-paginated by customer id."""
    from cardwise.privacy import crypto

    ring = crypto.current()
    conn = op.get_bind()
    after = -1
    while True:
        rows = conn.execute(
            sa.select(_CONTACTS.c.customer_id, _CONTACTS.c.name, _CONTACTS.c.phone, _CONTACTS.c.email)
            .where(_CONTACTS.c.customer_id > after)
            .order_by(_CONTACTS.c.customer_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for customer_id, *values in rows:
            clear = {
                f: crypto.open_stored(v, f"customer_contacts.{f}", ring)
                for f, v in zip(crypto.IDENTITY_FIELDS, values, strict=True)
            }
            new = {f: ring.encrypt(clear[f], context=f"customer_contacts.{f}") for f in clear} if seal else clear
            if seal:
                new["phone_index"] = crypto.phone_index(clear["phone"], ring)
            conn.execute(_CONTACTS.update().where(_CONTACTS.c.customer_id == customer_id).values(**new))
        after = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_contacts_phone")
        batch_op.alter_column("name", existing_type=sa.String(length=64), type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column("phone", existing_type=sa.String(length=32), type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column("email", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False)
        batch_op.add_column(sa.Column("phone_index", sa.String(length=64), nullable=True))
    _convert_contacts(seal=True)
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.alter_column("phone_index", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_customer_contacts_phone_index"), ["phone_index"], unique=False)

    op.create_table(
        "data_subject_requests",
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_data_subject_requests")),
    )
    with op.batch_alter_table("data_subject_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_subject_requests_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_data_subject_requests_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_subject_requests_subject_ref"), ["subject_ref"], unique=False)

    op.create_table(
        "processing_restrictions",
        sa.Column("customer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_processing_restrictions")),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("location", sa.String(length=16), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_destroyed", sa.Integer(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.create_index("ix_retention_runs_ran_at", ["ran_at"], unique=False)


def downgrade() -> None:
    op.drop_table("retention_runs")
    op.drop_table("processing_restrictions")
    op.drop_table("data_subject_requests")
    # Back to clear text: the older code reads contacts unencrypted.
    _convert_contacts(seal=False)
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_contacts_phone_index"))
        batch_op.drop_column("phone_index")
        batch_op.alter_column("email", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False)
        batch_op.alter_column("phone", existing_type=sa.Text(), type_=sa.String(length=32), existing_nullable=False)
        batch_op.alter_column("name", existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=False)
        batch_op.create_index("ix_customer_contacts_phone", ["phone"], unique=False)
