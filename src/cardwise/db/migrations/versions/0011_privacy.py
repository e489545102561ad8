"""encrypted contacts, data-subject requests, processing restrictions, retention runs (issue 11)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work on issue 11


def downgrade() -> None:
    pass
