"""security events and access alarms (issue 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardwise.db.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("event_id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("user_name", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_security_events")),
    )
    op.create_index("ix_security_events_at", "security_events", ["at"], unique=False)
    op.create_index("ix_security_events_kind_at", "security_events", ["kind", "at"], unique=False)
    op.create_index("ix_security_events_user_name", "security_events", ["user_name"], unique=False)
    op.create_table(
        "security_alarms",
        sa.Column("alarm_id", _ID, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("window_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("alarm_id", name=op.f("pk_security_alarms")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_security_alarms_dedupe_key")),
    )
    op.create_index("ix_security_alarms_rule", "security_alarms", ["rule"], unique=False)
    op.create_index("ix_security_alarms_at", "security_alarms", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_security_alarms_at", table_name="security_alarms")
    op.drop_index("ix_security_alarms_rule", table_name="security_alarms")
    op.drop_table("security_alarms")
    op.drop_index("ix_security_events_user_name", table_name="security_events")
    op.drop_index("ix_security_events_kind_at", table_name="security_events")
    op.drop_index("ix_security_events_at", table_name="security_events")
    op.drop_table("security_events")
