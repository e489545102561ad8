"""back-office indexes: the payment log's keyset pages and the anomaly-alert list (issue 10)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 11:00:00

The payment log pages through authorizations newest first by (requested_at, authorization_id), with
optional filters on the decision and the merchant; the anomaly page lists outbox messages of one kind
newest first. Without these, each page is a sort of the whole table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.create_index("ix_authorizations_requested", ["requested_at", "authorization_id"], unique=False)
        batch_op.create_index(
            "ix_authorizations_declined_requested",
            ["requested_at", "authorization_id"],
            unique=False,
            postgresql_where=sa.text("NOT approved"),
            sqlite_where=sa.text("NOT approved"),
        )
        batch_op.create_index("ix_authorizations_merchant_requested", ["merchant_id", "requested_at"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_kind_created", ["kind", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_kind_created")
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.drop_index("ix_authorizations_merchant_requested")
        batch_op.drop_index("ix_authorizations_declined_requested")
        batch_op.drop_index("ix_authorizations_requested")
