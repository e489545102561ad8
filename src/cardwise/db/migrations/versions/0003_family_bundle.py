"""family bundle: groups, memberships, invitations, proofs, events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardwise.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "family_groups",
        sa.Column("group_id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("representative_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("forming_deadline", UTCDateTime(), nullable=False),
        sa.Column("qualified_at", UTCDateTime(), nullable=True),
        sa.Column("grace_started_at", UTCDateTime(), nullable=True),
        sa.Column("grace_deadline", UTCDateTime(), nullable=True),
        sa.Column("dissolved_at", UTCDateTime(), nullable=True),
        sa.Column("dissolved_reason", sa.String(length=32), nullable=True),
        sa.Column("benefit_signature", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["representative_id"], ["customers.customer_id"], name=op.f("fk_family_groups_representative_id_customers")
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_family_groups")),
    )
    with op.batch_alter_table("family_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_groups_representative_id"), ["representative_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_groups_status"), ["status"], unique=False)

    op.create_table(
        "family_events",
        sa.Column("event_id", _ID, autoincrement=True, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_family_events_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["family_groups.group_id"], name=op.f("fk_family_events_group_id_family_groups")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_family_events")),
    )
    with op.batch_alter_table("family_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_events_group_id"), ["group_id"], unique=False)

    op.create_table(
        "family_invitations",
        sa.Column("invitation_id", _ID, autoincrement=True, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("invited_by", sa.BigInteger(), nullable=False),
        sa.Column("invitee_customer_id", sa.BigInteger(), nullable=True),
        sa.Column("invitee_key", sa.String(length=64), nullable=False),
        sa.Column("invitee_display", sa.String(length=32), nullable=False),
        sa.Column("via", sa.String(length=12), nullable=False),
        sa.Column("relation", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["family_groups.group_id"], name=op.f("fk_family_invitations_group_id_family_groups")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["customers.customer_id"], name=op.f("fk_family_invitations_invited_by_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invitee_customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_family_invitations_invitee_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("invitation_id", name=op.f("pk_family_invitations")),
    )
    with op.batch_alter_table("family_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_invitations_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_family_invitations_invitee_customer_id"), ["invitee_customer_id"], unique=False
        )
        batch_op.create_index(
            "ux_family_invitations_pending",
            ["group_id", "invitee_key"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "family_memberships",
        sa.Column("membership_id", _ID, autoincrement=True, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("relation", sa.String(length=24), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("left_at", UTCDateTime(), nullable=True),
        sa.Column("leave_reason", sa.String(length=24), nullable=True),
        sa.Column("proof_status", sa.String(length=12), nullable=False),
        sa.Column("proof_verified_at", UTCDateTime(), nullable=True),
        sa.Column("invitation_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_family_memberships_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["family_groups.group_id"], name=op.f("fk_family_memberships_group_id_family_groups")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["family_invitations.invitation_id"],
            name=op.f("fk_family_memberships_invitation_id_family_invitations"),
        ),
        sa.PrimaryKeyConstraint("membership_id", name=op.f("pk_family_memberships")),
    )
    with op.batch_alter_table("family_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_memberships_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_memberships_customer_id"), ["customer_id"], unique=False)
        # One group at a time, enforced by the database: one membership without left_at per customer.
        batch_op.create_index(
            "ux_family_memberships_current_customer",
            ["customer_id"],
            unique=True,
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        )

    op.create_table(
        "family_documents",
        sa.Column("document_id", _ID, autoincrement=True, nullable=False),
        sa.Column("membership_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("same_address", sa.Boolean(), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("submitted_by", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["family_memberships.membership_id"],
            name=op.f("fk_family_documents_membership_id_family_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["customers.customer_id"], name=op.f("fk_family_documents_submitted_by_customers")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_family_documents")),
    )
    with op.batch_alter_table("family_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_documents_membership_id"), ["membership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_documents_status"), ["status"], unique=False)
        batch_op.create_index(
            "ux_family_documents_one_pending",
            ["membership_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    # Invitations by phone look the number up; the family module declares this index on customer_contacts.
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_customer_contacts_phone", ["phone"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_contacts_phone")

    with op.batch_alter_table("family_documents", schema=None) as batch_op:
        batch_op.drop_index("ux_family_documents_one_pending")
        batch_op.drop_index(batch_op.f("ix_family_documents_status"))
        batch_op.drop_index(batch_op.f("ix_family_documents_membership_id"))
    op.drop_table("family_documents")

    with op.batch_alter_table("family_memberships", schema=None) as batch_op:
        batch_op.drop_index("ux_family_memberships_current_customer")
        batch_op.drop_index(batch_op.f("ix_family_memberships_customer_id"))
        batch_op.drop_index(batch_op.f("ix_family_memberships_group_id"))
    op.drop_table("family_memberships")

    with op.batch_alter_table("family_invitations", schema=None) as batch_op:
        batch_op.drop_index("ux_family_invitations_pending")
        batch_op.drop_index(batch_op.f("ix_family_invitations_invitee_customer_id"))
        batch_op.drop_index(batch_op.f("ix_family_invitations_group_id"))
    op.drop_table("family_invitations")

    with op.batch_alter_table("family_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_events_group_id"))
    op.drop_table("family_events")

    with op.batch_alter_table("family_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_groups_status"))
        batch_op.drop_index(batch_op.f("ix_family_groups_representative_id"))
    op.drop_table("family_groups")
