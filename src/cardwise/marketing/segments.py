"""Lifestyle segments and grades (M1), as one engine-neutral SQL transform.

For each target group (credit, check, simple pay = credit + check, sole proprietor), segment and
customer: the average monthly spend on the segment over the window, measured on the cards that
define the target group (a credit target counts credit-card spending, a check target check-card
spending, the others all cards); whether that makes the customer a member of the segment; and the
grade: members 1-5 (20% each, highest usage first), the others 6-7 (50% each). Ties are broken by
customer id, so a rerun on the same data gives the same grades and the group sizes never differ by
more than one customer.

Reads ``segment_rules`` and ``grade_scores`` (from the catalogue) besides the marts.
"""

from __future__ import annotations

from cardwise.lake.sql import Transform

SEGMENT_GRADES = Transform(
    name="segment_grades",
    description="Per target group, segment and customer: average monthly usage, membership, grade 1-7, score.",
    inputs=("customers", "cm_holdings", "cm_spend", "segment_rules", "grade_scores"),
    params=("month_start", "window_start"),
    sql="""
WITH holders AS (
    SELECT customer_id, credit_cards > 0 AS has_credit, check_cards > 0 AS has_check
    FROM cm_holdings
    WHERE month = {month_start}
),
members AS (
    SELECT customer_id, 'credit' AS target_group FROM holders WHERE has_credit
    UNION ALL
    SELECT customer_id, 'check' AS target_group FROM holders WHERE has_check
    UNION ALL
    SELECT customer_id, 'simple_pay' AS target_group FROM holders WHERE has_credit AND has_check
    UNION ALL
    SELECT h.customer_id, 'sole_proprietor' AS target_group
    FROM holders AS h
    JOIN customers AS c ON c.customer_id = h.customer_id
    WHERE c.is_sole_proprietor
),
rules AS (
    SELECT DISTINCT segment_code, min_monthly_krw, min_active_months FROM segment_rules
),
matched AS (
    -- each spend row a segment measures, once per segment even when a category and a channel both match
    SELECT DISTINCT r.segment_code, s.customer_id, s.month, s.card_type, s.category_code, s.channel, s.spend_krw
    FROM cm_spend AS s
    JOIN segment_rules AS r ON r.category_code = s.category_code OR r.channel = s.channel
    WHERE s.month >= {window_start} AND s.month <= {month_start}
),
usage AS (
    SELECT m.target_group, x.segment_code, m.customer_id,
           SUM(x.spend_krw) AS spend_krw,
           COUNT(DISTINCT x.month) AS active_months
    FROM members AS m
    JOIN matched AS x
      ON x.customer_id = m.customer_id
     AND (m.target_group IN ('simple_pay', 'sole_proprietor') OR x.card_type = m.target_group)
    GROUP BY m.target_group, x.segment_code, m.customer_id
),
scored AS (
    SELECT m.target_group, r.segment_code, m.customer_id,
           CAST(COALESCE(u.spend_krw, 0) AS DOUBLE)
               / (date_diff('month', {window_start}, {month_start}) + 1) AS avg_usage_krw,
           COALESCE(u.active_months, 0) AS active_months,
           r.min_monthly_krw, r.min_active_months
    FROM members AS m
    CROSS JOIN rules AS r
    LEFT JOIN usage AS u
      ON u.target_group = m.target_group AND u.segment_code = r.segment_code AND u.customer_id = m.customer_id
),
flagged AS (
    SELECT target_group, segment_code, customer_id, avg_usage_krw, active_months,
           avg_usage_krw >= min_monthly_krw AND active_months >= min_active_months AS in_segment
    FROM scored
),
ranked AS (
    SELECT *,
           ROW_NUMBER() OVER (
               PARTITION BY target_group, segment_code, in_segment ORDER BY avg_usage_krw DESC, customer_id
           ) AS rn,
           COUNT(*) OVER (PARTITION BY target_group, segment_code, in_segment) AS n
    FROM flagged
),
graded AS (
    SELECT target_group, segment_code, customer_id, avg_usage_krw, active_months, in_segment,
           CASE WHEN in_segment THEN 1 + CAST(FLOOR((rn - 1) * 5.0 / n) AS INTEGER)
                ELSE 6 + CAST(FLOOR((rn - 1) * 2.0 / n) AS INTEGER) END AS grade
    FROM ranked
)
SELECT g.target_group, g.segment_code, g.customer_id, {month_start} AS month,
       g.grade, s.score, CAST(ROUND(g.avg_usage_krw) AS BIGINT) AS avg_usage_krw, g.active_months, g.in_segment
FROM graded AS g
JOIN grade_scores AS s ON s.grade = g.grade
""",
)
