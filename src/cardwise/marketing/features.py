"""Customer features for marketing, written once as engine-neutral SQL (ADR 1).

Monthly marts (one partition per month, computed once and reused, see ``lake/marts.py``):

- ``cm_activity``  spend, count, channel/time-of-day habits, amount statistics per customer-month;
- ``cm_spend``     spend per customer, month, card type, category and channel (segments, changes);
- ``cm_region``    offline transactions per customer, month and region (moving detection);
- ``cm_contacts``  call-centre calls per topic and app use per customer-month;
- ``cm_holdings``  cards held at the end of the month.

Window features (``customer_features``) are derived for one month from the last six monthly marts:
averages, recency/frequency/monetary, and 3- and 6-month slopes of amount and frequency.

Week days are computed as days since a known Sunday rather than with EXTRACT(DOW): DuckDB counts
Sunday as 0 and Spark as 1, and sqlglot does not translate between them.
"""

from __future__ import annotations

from cardwise.lake.sql import Transform

MONTH_PARAMS = ("month_start", "month_end")

CM_ACTIVITY = Transform(
    name="cm_activity",
    description="Per customer and month: spend, count, habits (channel, weekday, hour), log-amount statistics.",
    inputs=("transactions", "cards"),
    params=MONTH_PARAMS,
    sql="""
WITH t AS (
    SELECT tx.customer_id, tx.ts, tx.amount_krw, tx.channel, tx.merchant_id, tx.category_code,
           tx.installment_months, c.card_type,
           EXTRACT(HOUR FROM tx.ts) AS hour,
           date_diff('day', DATE '1900-01-07', CAST(tx.ts AS DATE)) % 7 AS weekday
    FROM transactions AS tx
    JOIN cards AS c ON c.card_id = tx.card_id
    WHERE tx.ts >= {month_start} AND tx.ts < {month_end} AND NOT tx.is_fraud
)
SELECT customer_id,
       {month_start} AS month,
       SUM(amount_krw) AS spend_krw,
       COUNT(*) AS txn_count,
       SUM(CASE WHEN card_type = 'credit' THEN amount_krw ELSE 0 END) AS credit_spend_krw,
       SUM(CASE WHEN card_type = 'check' THEN amount_krw ELSE 0 END) AS check_spend_krw,
       COUNT(DISTINCT merchant_id) AS merchants,
       COUNT(DISTINCT category_code) AS categories,
       COUNT(DISTINCT CAST(ts AS DATE)) AS active_days,
       AVG(CASE WHEN channel = 'online' THEN 1 ELSE 0 END) AS online_share,
       AVG(CASE WHEN channel = 'overseas' THEN 1 ELSE 0 END) AS overseas_share,
       AVG(CASE WHEN weekday IN (0, 6) THEN 1 ELSE 0 END) AS weekend_share,
       AVG(CASE WHEN hour >= 6 AND hour < 11 THEN 1 ELSE 0 END) AS morning_share,
       AVG(CASE WHEN hour >= 11 AND hour < 17 THEN 1 ELSE 0 END) AS daytime_share,
       AVG(CASE WHEN hour >= 17 AND hour < 22 THEN 1 ELSE 0 END) AS evening_share,
       AVG(CASE WHEN hour >= 22 OR hour < 6 THEN 1 ELSE 0 END) AS night_share,
       AVG(CASE WHEN installment_months > 0 THEN 1 ELSE 0 END) AS installment_share,
       SUM(ln(amount_krw)) AS log_amount_sum,
       SUM(ln(amount_krw) * ln(amount_krw)) AS log_amount_sumsq,
       MAX(ts) AS last_ts
FROM t
GROUP BY customer_id
""",
)

CM_SPEND = Transform(
    name="cm_spend",
    description="Spend and count per customer, month, card type, category and channel.",
    inputs=("transactions", "cards"),
    params=MONTH_PARAMS,
    sql="""
SELECT tx.customer_id,
       {month_start} AS month,
       c.card_type,
       tx.category_code,
       tx.channel,
       SUM(tx.amount_krw) AS spend_krw,
       COUNT(*) AS txn_count,
       MAX(tx.amount_krw) AS max_amount_krw
FROM transactions AS tx
JOIN cards AS c ON c.card_id = tx.card_id
WHERE tx.ts >= {month_start} AND tx.ts < {month_end} AND NOT tx.is_fraud
GROUP BY tx.customer_id, c.card_type, tx.category_code, tx.channel
""",
)

CM_REGION = Transform(
    name="cm_region",
    description="Offline (card-present, domestic) transactions per customer, month and region.",
    inputs=("transactions",),
    params=MONTH_PARAMS,
    sql="""
SELECT customer_id,
       {month_start} AS month,
       region_code,
       COUNT(*) AS txn_count
FROM transactions
WHERE ts >= {month_start} AND ts < {month_end} AND NOT is_fraud AND channel = 'offline'
GROUP BY customer_id, region_code
""",
)

CALL_TOPICS = (
    "complaint",
    "cancellation_intent",
    "card_loan_inquiry",
    "lost_card",
    "benefit_question",
    "payment_inquiry",
    "limit_increase",
    "address_change",
)

CM_CONTACTS = Transform(
    name="cm_contacts",
    description="Per customer and month: call-centre calls per topic and app/web use.",
    inputs=("call_transcripts", "app_events"),
    params=MONTH_PARAMS,
    sql="""
WITH calls AS (
    SELECT customer_id,
           COUNT(*) AS calls,
"""
    + ",\n".join(
        f"           SUM(CASE WHEN topic = '{topic}' THEN 1 ELSE 0 END) AS calls_{topic}" for topic in CALL_TOPICS
    )
    + """
    FROM call_transcripts
    WHERE started_at >= {month_start} AND started_at < {month_end}
    GROUP BY customer_id
),
app AS (
    SELECT customer_id,
           SUM(CASE WHEN event_type = 'login' THEN 1 ELSE 0 END) AS app_logins,
           SUM(CASE WHEN event_type = 'failed_login' THEN 1 ELSE 0 END) AS app_failed_logins,
           SUM(CASE WHEN event_type = 'page_view' THEN 1 ELSE 0 END) AS app_page_views,
           COUNT(DISTINCT CAST(ts AS DATE)) AS app_active_days,
           COUNT(DISTINCT device) AS app_devices,
           SUM(CASE WHEN page LIKE '/loan%' THEN 1 ELSE 0 END) AS app_loan_views,
           SUM(CASE WHEN page = '/cards/cancel' THEN 1 ELSE 0 END) AS app_cancel_views,
           SUM(CASE WHEN page = '/family' THEN 1 ELSE 0 END) AS app_family_views
    FROM app_events
    WHERE ts >= {month_start} AND ts < {month_end}
    GROUP BY customer_id
)
SELECT COALESCE(calls.customer_id, app.customer_id) AS customer_id,
       {month_start} AS month,
       COALESCE(calls.calls, 0) AS calls,
"""
    + ",\n".join(f"       COALESCE(calls.calls_{topic}, 0) AS calls_{topic}" for topic in CALL_TOPICS)
    + """,
       COALESCE(app.app_logins, 0) AS app_logins,
       COALESCE(app.app_failed_logins, 0) AS app_failed_logins,
       COALESCE(app.app_page_views, 0) AS app_page_views,
       COALESCE(app.app_active_days, 0) AS app_active_days,
       COALESCE(app.app_devices, 0) AS app_devices,
       COALESCE(app.app_loan_views, 0) AS app_loan_views,
       COALESCE(app.app_cancel_views, 0) AS app_cancel_views,
       COALESCE(app.app_family_views, 0) AS app_family_views
FROM calls
FULL OUTER JOIN app ON app.customer_id = calls.customer_id
""",
)

CM_HOLDINGS = Transform(
    name="cm_holdings",
    description="Cards held at the end of the month (open, issued, not expired) per customer.",
    inputs=("cards",),
    params=MONTH_PARAMS,
    sql="""
SELECT customer_id,
       {month_start} AS month,
       SUM(CASE WHEN card_type = 'credit' THEN 1 ELSE 0 END) AS credit_cards,
       SUM(CASE WHEN card_type = 'check' THEN 1 ELSE 0 END) AS check_cards,
       COUNT(DISTINCT product_id) AS products,
       MAX(issued_on) AS newest_card_issued_on
FROM cards
WHERE issued_on < {month_end}
  AND (closed_on IS NULL OR closed_on >= {month_end})
  AND expires_on >= {month_end}
GROUP BY customer_id
""",
)

MONTHLY_MARTS: tuple[Transform, ...] = (CM_ACTIVITY, CM_SPEND, CM_REGION, CM_CONTACTS, CM_HOLDINGS)

# Derived for one month from the marts of that month and the five before it (registered as views).
CUSTOMER_FEATURES = Transform(
    name="customer_features",
    description="Per customer for one month: RFM, 3/6-month averages and slopes, habits, holdings, contacts.",
    inputs=("customers", "cm_activity", "cm_contacts", "cm_holdings"),
    params=("month_start", "month_end", "window6_start", "window3_start"),
    sql="""
WITH months AS (
    SELECT DISTINCT month FROM cm_holdings WHERE month >= {window6_start} AND month <= {month_start}
),
grid AS (
    SELECT cu.customer_id, m.month,
           date_diff('month', {window6_start}, m.month) AS month_index
    FROM customers AS cu
    CROSS JOIN months AS m
    WHERE cu.joined_on < {month_end}
),
series AS (
    SELECT g.customer_id, g.month, g.month_index,
           COALESCE(a.spend_krw, 0) AS spend_krw,
           COALESCE(a.txn_count, 0) AS txn_count,
           a.last_ts
    FROM grid AS g
    LEFT JOIN cm_activity AS a ON a.customer_id = g.customer_id AND a.month = g.month
),
window_stats AS (
    SELECT customer_id,
           AVG(CASE WHEN month >= {window3_start} THEN spend_krw END) AS spend_3m_avg_krw,
           AVG(CASE WHEN month >= {window3_start} THEN txn_count END) AS count_3m_avg,
           AVG(spend_krw) AS spend_6m_avg_krw,
           AVG(txn_count) AS count_6m_avg,
           SUM(CASE WHEN txn_count > 0 THEN 1 ELSE 0 END) AS active_months_6m,
           COUNT(*) AS months_observed,
           regr_slope(CASE WHEN month >= {window3_start} THEN spend_krw END,
                      CASE WHEN month >= {window3_start} THEN month_index END) AS spend_slope_3m,
           regr_slope(spend_krw, month_index) AS spend_slope_6m,
           regr_slope(CASE WHEN month >= {window3_start} THEN txn_count END,
                      CASE WHEN month >= {window3_start} THEN month_index END) AS count_slope_3m,
           regr_slope(txn_count, month_index) AS count_slope_6m,
           MAX(last_ts) AS last_ts
    FROM series
    GROUP BY customer_id
)
SELECT w.customer_id,
       {month_start} AS month,
       COALESCE(a.spend_krw, 0) AS spend_krw,
       COALESCE(a.txn_count, 0) AS txn_count,
       COALESCE(a.credit_spend_krw, 0) AS credit_spend_krw,
       COALESCE(a.check_spend_krw, 0) AS check_spend_krw,
       COALESCE(a.merchants, 0) AS merchants,
       COALESCE(a.categories, 0) AS categories,
       COALESCE(a.active_days, 0) AS active_days,
       a.online_share, a.overseas_share, a.weekend_share, a.morning_share, a.daytime_share,
       a.evening_share, a.night_share, a.installment_share,
       w.spend_3m_avg_krw, w.count_3m_avg, w.spend_6m_avg_krw, w.count_6m_avg,
       w.active_months_6m, w.months_observed,
       w.spend_slope_3m, w.spend_slope_6m, w.count_slope_3m, w.count_slope_6m,
       date_diff('day', CAST(w.last_ts AS DATE), {month_end}) AS recency_days,
       COALESCE(h.credit_cards, 0) AS credit_cards,
       COALESCE(h.check_cards, 0) AS check_cards,
       COALESCE(h.products, 0) AS products,
       COALESCE(k.calls, 0) AS calls,
       COALESCE(k.calls_complaint, 0) AS calls_complaint,
       COALESCE(k.calls_cancellation_intent, 0) AS calls_cancellation_intent,
       COALESCE(k.calls_card_loan_inquiry, 0) AS calls_card_loan_inquiry,
       COALESCE(k.calls_payment_inquiry, 0) AS calls_payment_inquiry,
       COALESCE(k.app_logins, 0) AS app_logins,
       COALESCE(k.app_active_days, 0) AS app_active_days,
       COALESCE(k.app_loan_views, 0) AS app_loan_views,
       COALESCE(k.app_cancel_views, 0) AS app_cancel_views
FROM window_stats AS w
LEFT JOIN cm_activity AS a ON a.customer_id = w.customer_id AND a.month = {month_start}
LEFT JOIN cm_holdings AS h ON h.customer_id = w.customer_id AND h.month = {month_start}
LEFT JOIN cm_contacts AS k ON k.customer_id = w.customer_id AND k.month = {month_start}
""",
)
