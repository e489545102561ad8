"""The stop of processing (처리정지, PIPA art. 37) as the batches see it: one set of customer ids.

The marketing batch, the recommendation run, the VOC scoring and the VOC campaigns store nothing about a
restricted customer (no segments, grades, triggers, life stage, single view, recommendations, scores,
campaign membership). Restriction is checked when results are stored, so it holds for every engine.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.privacy.models import ProcessingRestriction


def restricted_ids(session: Session) -> set[int]:
    """Customers who asked to stop processing and have not lifted it."""
    return {
        int(c)
        for c in session.execute(
            select(ProcessingRestriction.customer_id).where(ProcessingRestriction.lifted_at.is_(None))
        ).scalars()
    }
