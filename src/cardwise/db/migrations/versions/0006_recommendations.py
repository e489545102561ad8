"""recommendations (issue 6)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 23:15:00

Placeholder created first so that work in parallel can chain its revisions; the owning issue fills it in.
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
