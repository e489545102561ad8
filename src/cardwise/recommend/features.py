"""Monthly marts for recommendations, written once as engine-neutral SQL (ADR 1).

- ``rm_customer_merchant``: per customer, merchant and month, purchases, days with a purchase and spend.
  Preferred merchants, regulars, merchant audiences and merchant life cycles are all read from it.

Category spending comes from the marketing mart ``cm_spend`` (reused, not recomputed). Like every
mart, a month is computed once per lake and transform text and reused by later runs (``lake/marts.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import duckdb

from cardwise.lake.marts import Marts
from cardwise.lake.sql import BatchEngine, Transform
from cardwise.marketing.marts import ensure_monthly_marts, register_marts

RM_CUSTOMER_MERCHANT = Transform(
    name="rm_customer_merchant",
    description="Per customer, merchant and month: purchases, distinct days with a purchase, spend.",
    inputs=("transactions",),
    params=("month_start", "month_end"),
    sql="""
SELECT customer_id,
       merchant_id,
       {month_start} AS month,
       COUNT(*) AS purchases,
       COUNT(DISTINCT CAST(ts AS DATE)) AS visit_days,
       SUM(amount_krw) AS spend_krw
FROM transactions
WHERE ts >= {month_start} AND ts < {month_end} AND NOT is_fraud
GROUP BY customer_id, merchant_id
""",
)

RECOMMEND_MARTS: tuple[Transform, ...] = (RM_CUSTOMER_MERCHANT,)


def ensure_recommend_marts(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    months: Iterable[date],
    *,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
) -> int:
    """Compute the recommendation marts that are missing or stale (the marketing marts' machinery)."""
    return ensure_monthly_marts(con, marts, months, step=step, engine=engine, transforms=RECOMMEND_MARTS)


def register_recommend_marts(con: duckdb.DuckDBPyConnection, marts: Marts, months: list[date]) -> None:
    register_marts(con, marts, months, transforms=RECOMMEND_MARTS)
