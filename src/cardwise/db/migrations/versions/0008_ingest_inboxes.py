"""ingestion inboxes: posted events and transcripts (issue 13)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardwise.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_inbox",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("client_ts", UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("page", sa.String(length=200), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("cookie_id", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=8), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_inbox")),
    )
    op.create_index("ix_event_inbox_received", "event_inbox", ["received_at"], unique=False)
    op.create_table(
        "transcript_inbox",
        sa.Column("transcript_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transcript_id", name=op.f("pk_transcript_inbox")),
    )
    op.create_index("ix_transcript_inbox_received", "transcript_inbox", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_transcript_inbox_received", table_name="transcript_inbox")
    op.drop_table("transcript_inbox")
    op.drop_index("ix_event_inbox_received", table_name="event_inbox")
    op.drop_table("event_inbox")
