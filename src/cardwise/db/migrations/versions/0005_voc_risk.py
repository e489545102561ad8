"""VOC risk scores and campaigns (issue 7)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:15:00

Placeholder created first so that work in parallel can chain its revisions; the owning issue fills it in.
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
