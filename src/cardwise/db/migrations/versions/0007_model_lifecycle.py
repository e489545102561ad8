"""model lifecycle: registry decisions, job runs, monitoring (issue 8)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 23:15:00

Placeholder created first so that work in parallel can chain its revisions; the owning issue fills it in.
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
