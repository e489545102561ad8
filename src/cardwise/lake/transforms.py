"""Shared batch building blocks over the lake (features for safety, marketing, recommendations).

Every transform here is plain DuckDB SQL that sqlglot can transpile to Spark SQL; tests run each
on DuckDB against an independent computation and transpile each to Spark.
"""

from __future__ import annotations

from cardwise.lake.sql import Transform

CUSTOMER_MONTH_CATEGORY = Transform(
    name="customer_month_category",
    description="Spend and count per customer, month and category (approved, non-fraud transactions).",
    inputs=("transactions",),
    sql="""
SELECT customer_id,
       CAST(date_trunc('month', ts) AS DATE) AS month,
       category_code,
       SUM(amount_krw) AS spend_krw,
       COUNT(*) AS txn_count
FROM transactions
WHERE NOT is_fraud
GROUP BY customer_id, CAST(date_trunc('month', ts) AS DATE), category_code
""",
)

CUSTOMER_MONTH = Transform(
    name="customer_month",
    description="Per customer and month: spend, count, channel shares, night share, distinct merchants.",
    inputs=("transactions",),
    sql="""
SELECT customer_id,
       CAST(date_trunc('month', ts) AS DATE) AS month,
       SUM(amount_krw) AS spend_krw,
       COUNT(*) AS txn_count,
       COUNT(DISTINCT merchant_id) AS merchants,
       COUNT(DISTINCT category_code) AS categories,
       AVG(CASE WHEN channel = 'online' THEN 1 ELSE 0 END) AS online_share,
       AVG(CASE WHEN channel = 'overseas' THEN 1 ELSE 0 END) AS overseas_share,
       AVG(CASE WHEN EXTRACT(HOUR FROM ts) >= 22 OR EXTRACT(HOUR FROM ts) < 6 THEN 1 ELSE 0 END) AS night_share,
       AVG(CASE WHEN installment_months > 0 THEN 1 ELSE 0 END) AS installment_share,
       MAX(ts) AS last_ts
FROM transactions
WHERE NOT is_fraud
GROUP BY customer_id, CAST(date_trunc('month', ts) AS DATE)
""",
)

CATEGORY_GROUP_MONTH = Transform(
    name="category_group_month",
    description="Per customer, month and category group: spend (reads customer_month_category).",
    inputs=("customer_month_category", "categories"),
    sql="""
SELECT c.customer_id, c.month, g.group_code, SUM(c.spend_krw) AS spend_krw, SUM(c.txn_count) AS txn_count
FROM customer_month_category AS c
JOIN categories AS g ON g.category_code = c.category_code
GROUP BY c.customer_id, c.month, g.group_code
""",
)

FOUNDATION_TRANSFORMS: tuple[Transform, ...] = (CUSTOMER_MONTH_CATEGORY, CUSTOMER_MONTH, CATEGORY_GROUP_MONTH)
