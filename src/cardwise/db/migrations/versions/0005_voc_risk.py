"""VOC risk scores and campaigns (issue 7)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:15:00

Scoring runs, scores per customer and month, campaigns with members and outcomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardwise.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voc_runs",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_voc_runs")),
    )
    with op.batch_alter_table("voc_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voc_runs_month"), ["month"], unique=False)

    op.create_table(
        "voc_scores",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("churn", sa.Float(), nullable=False),
        sa.Column("complaint", sa.Float(), nullable=False),
        sa.Column("delinquency", sa.Float(), nullable=False),
        sa.Column("card_loan", sa.Float(), nullable=False),
        sa.Column("churn_decile", sa.SmallInteger(), nullable=False),
        sa.Column("complaint_decile", sa.SmallInteger(), nullable=False),
        sa.Column("delinquency_decile", sa.SmallInteger(), nullable=False),
        sa.Column("card_loan_decile", sa.SmallInteger(), nullable=False),
        sa.Column("drivers", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", "customer_id", name=op.f("pk_voc_scores")),
    )
    with op.batch_alter_table("voc_scores", schema=None) as batch_op:
        batch_op.create_index("ix_voc_scores_card_loan", ["month", "card_loan_decile"], unique=False)
        batch_op.create_index("ix_voc_scores_churn", ["month", "churn_decile"], unique=False)
        batch_op.create_index("ix_voc_scores_complaint", ["month", "complaint_decile"], unique=False)
        batch_op.create_index("ix_voc_scores_customer", ["customer_id", "month"], unique=False)
        batch_op.create_index("ix_voc_scores_delinquency", ["month", "delinquency_decile"], unique=False)

    op.create_table(
        "voc_campaigns",
        sa.Column("campaign_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("deciles", sa.JSON(), nullable=False),
        sa.Column("control_share", sa.Float(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("treated", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_voc_campaigns")),
        sa.UniqueConstraint("kind", "month", name="uq_voc_campaigns_kind_month"),
    )
    op.create_table(
        "voc_campaign_members",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("arm", sa.String(length=10), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("decile", sa.SmallInteger(), nullable=False),
        sa.Column("message_key", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.Boolean(), nullable=True),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("outcome_source", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["voc_campaigns.campaign_id"],
            name=op.f("fk_voc_campaign_members_campaign_id_voc_campaigns"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_voc_campaign_members")),
    )
    with op.batch_alter_table("voc_campaign_members", schema=None) as batch_op:
        batch_op.create_index("ix_voc_campaign_members_customer", ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("voc_campaign_members", schema=None) as batch_op:
        batch_op.drop_index("ix_voc_campaign_members_customer")
    op.drop_table("voc_campaign_members")
    op.drop_table("voc_campaigns")
    with op.batch_alter_table("voc_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_voc_scores_delinquency")
        batch_op.drop_index("ix_voc_scores_customer")
        batch_op.drop_index("ix_voc_scores_complaint")
        batch_op.drop_index("ix_voc_scores_churn")
        batch_op.drop_index("ix_voc_scores_card_loan")
    op.drop_table("voc_scores")
    with op.batch_alter_table("voc_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voc_runs_month"))
    op.drop_table("voc_runs")
