"""recommendations (issue 6): runs and precomputed documents per customer, merchant and product

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 23:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardwise.db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_recommendations",
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("cold_start", sa.Boolean(), nullable=False),
        sa.Column("recommendations", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "month", name=op.f("pk_customer_recommendations")),
    )
    with op.batch_alter_table("customer_recommendations", schema=None) as batch_op:
        batch_op.create_index("ix_customer_recommendations_month", ["month"], unique=False)

    op.create_table(
        "merchant_targets",
        sa.Column("merchant_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", "month", name=op.f("pk_merchant_targets")),
    )
    with op.batch_alter_table("merchant_targets", schema=None) as batch_op:
        batch_op.create_index("ix_merchant_targets_stage", ["month", "stage"], unique=False)

    op.create_table(
        "product_similarities",
        sa.Column("product_id", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "month", name=op.f("pk_product_similarities")),
    )
    op.create_table(
        "recommend_runs",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("cold_start", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_recommend_runs")),
    )
    with op.batch_alter_table("recommend_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommend_runs_month"), ["month"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recommend_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommend_runs_month"))
    op.drop_table("recommend_runs")
    op.drop_table("product_similarities")
    with op.batch_alter_table("merchant_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_merchant_targets_stage")
    op.drop_table("merchant_targets")
    with op.batch_alter_table("customer_recommendations", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_recommendations_month")
    op.drop_table("customer_recommendations")
