"""family bundle: groups, memberships, invitations, proofs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00.000000
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tables are added in the following commits of issue 9.
    pass


def downgrade() -> None:
    pass
