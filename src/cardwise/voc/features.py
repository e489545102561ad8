"""Features of the VOC risk models per customer and month, and the groups their explanations use.

Three sources, as seed 003 joins them into one customer-behaviour store:

- **transactions** (the marketing marts: RFM, 3/6-month averages and slopes, habits, holdings) and
  the customer's profile;
- **app logs** and **call and transfer metadata** (how often, how long, how much: no text read);
- **text**: what the customer said in calls (topics, complaint and cancellation mentions, loan and
  payment worries, sentiment-like word counts) and what transfer memos say the money was for.

The engine-neutral SQL below (DuckDB dialect, transpiled to Spark by sqlglot) aggregates monthly marts
and the per-transcript / per-memo signals (``signals.py``) into windows ending at a month.

The lake's ``topic`` column of call_transcripts is ground truth of the synthetic data and is never a
feature (nor are the marketing features ``calls_<topic>`` derived from it): topics come from the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cardwise.lake.sql import Transform
from cardwise.voc.lexicon import KEYWORD_GROUPS, MEMO_KINDS, TOPICS

TARGETS: Final[tuple[str, ...]] = ("churn", "complaint", "delinquency", "card_loan")
KEY_TOPICS: Final[tuple[str, ...]] = ("complaint", "cancellation_intent", "card_loan_inquiry", "payment_inquiry")
NO_CALL_DAYS: Final = 365  # "days since such a call" when there was none in the window

VOC_CONTEXT = Transform(
    name="voc_context",
    description="Per customer at a month: app use, instalments and holdings over three months (no text).",
    inputs=("cm_contacts", "cm_activity", "cm_holdings"),
    params=("month_start", "window3_start"),
    sql="""
WITH app AS (
    SELECT customer_id,
           SUM(app_logins) AS app_logins_3m,
           SUM(app_failed_logins) AS app_failed_logins_3m,
           SUM(app_page_views) AS app_page_views_3m,
           SUM(app_active_days) AS app_active_days_3m,
           SUM(app_loan_views) AS app_loan_views_3m,
           SUM(app_cancel_views) AS app_cancel_views_3m
    FROM cm_contacts
    WHERE month >= {window3_start} AND month <= {month_start}
    GROUP BY customer_id
),
spend AS (
    SELECT customer_id,
           SUM(installment_share * txn_count) / SUM(txn_count) AS installment_share_3m,
           SUM(overseas_share * txn_count) / SUM(txn_count) AS overseas_share_3m
    FROM cm_activity
    WHERE month >= {window3_start} AND month <= {month_start}
    GROUP BY customer_id
),
held AS (
    SELECT customer_id,
           SUM(CASE WHEN month = {window3_start} THEN credit_cards + check_cards ELSE 0 END)
             - SUM(CASE WHEN month = {month_start} THEN credit_cards + check_cards ELSE 0 END) AS cards_dropped_3m
    FROM cm_holdings
    WHERE month = {window3_start} OR month = {month_start}
    GROUP BY customer_id
)
SELECT COALESCE(app.customer_id, spend.customer_id, held.customer_id) AS customer_id,
       COALESCE(app.app_logins_3m, 0) AS app_logins_3m,
       COALESCE(app.app_failed_logins_3m, 0) AS app_failed_logins_3m,
       COALESCE(app.app_page_views_3m, 0) AS app_page_views_3m,
       COALESCE(app.app_active_days_3m, 0) AS app_active_days_3m,
       COALESCE(app.app_loan_views_3m, 0) AS app_loan_views_3m,
       COALESCE(app.app_cancel_views_3m, 0) AS app_cancel_views_3m,
       COALESCE(spend.installment_share_3m, 0) AS installment_share_3m,
       COALESCE(spend.overseas_share_3m, 0) AS overseas_share_3m,
       COALESCE(held.cards_dropped_3m, 0) AS cards_dropped_3m
FROM app
FULL OUTER JOIN spend ON spend.customer_id = app.customer_id
FULL OUTER JOIN held ON held.customer_id = COALESCE(app.customer_id, spend.customer_id)
""",
)


def _topic_sums(window: str, topics: tuple[str, ...], since: str) -> str:
    return ",\n".join(
        f"           SUM(CASE WHEN topic = '{t}' AND started_at >= {since} THEN 1 ELSE 0 END) AS topic_{t}_{window}"
        for t in topics
    )


def _days_since(topic: str, name: str) -> str:
    return (
        f"           date_diff('day', CAST(MAX(CASE WHEN topic = '{topic}' THEN started_at END) AS DATE), "
        f"{{month_end}}) AS days_since_{name}_call"
    )


_CALL_COLUMNS: Final[tuple[str, ...]] = (
    "calls_3m", "calls_6m", "call_minutes_3m",
    *(f"topic_{t}_3m" for t in (*TOPICS, "unknown")),
    *(f"topic_{t}_1m" for t in KEY_TOPICS),
    *(f"topic_{t}_6m" for t in KEY_TOPICS),
    *(f"{g}_mentions_3m" for g in KEYWORD_GROUPS),
    "complaint_mentions_6m", "negative_words_3m", "positive_words_3m", "sentiment_mean_3m", "sentiment_min_3m",
    "unusable_calls_3m", "days_since_complaint_call", "days_since_cancel_call", "days_since_loan_call",
    "days_since_payment_call",
)  # fmt: skip
_MEMO_COLUMNS: Final[tuple[str, ...]] = (
    "memos_3m", "transfers_in_krw_3m", "transfers_out_krw_3m", *(f"memo_{k}_3m" for k in MEMO_KINDS),
    "memo_borrowed_krw_3m", "memo_debt_paid_krw_3m",
)  # fmt: skip
_SELECTED = ",\n".join([f"       calls.{c}" for c in _CALL_COLUMNS] + [f"       memos.{c}" for c in _MEMO_COLUMNS])

VOC_TEXT = Transform(
    name="voc_text",
    description="Per customer at a month: call and memo signals over 1, 3 and 6 months (topics, mentions, "
    "sentiment, memo kinds) and call/transfer metadata.",
    inputs=("voc_call_signals", "voc_memo_signals"),
    params=("month_start", "month_end", "window3_start", "window6_start"),
    sql="""
WITH calls AS (
    SELECT customer_id,
           SUM(CASE WHEN started_at >= {window3_start} THEN 1 ELSE 0 END) AS calls_3m,
           COUNT(*) AS calls_6m,
           SUM(CASE WHEN started_at >= {window3_start} THEN duration_s ELSE 0 END) / 60.0 AS call_minutes_3m,
"""
    + _topic_sums("3m", (*TOPICS, "unknown"), "{window3_start}")
    + ",\n"
    + _topic_sums("1m", KEY_TOPICS, "{month_start}")
    + ",\n"
    + _topic_sums("6m", KEY_TOPICS, "{window6_start}")
    + ",\n"
    + ",\n".join(
        f"           SUM(CASE WHEN started_at >= {{window3_start}} THEN mentions_{g} ELSE 0 END) AS {g}_mentions_3m"
        for g in KEYWORD_GROUPS
    )
    + """,
           SUM(mentions_complaint) AS complaint_mentions_6m,
           SUM(CASE WHEN started_at >= {window3_start} THEN negative ELSE 0 END) AS negative_words_3m,
           SUM(CASE WHEN started_at >= {window3_start} THEN positive ELSE 0 END) AS positive_words_3m,
           AVG(CASE WHEN started_at >= {window3_start} THEN sentiment END) AS sentiment_mean_3m,
           MIN(CASE WHEN started_at >= {window3_start} THEN sentiment END) AS sentiment_min_3m,
           SUM(CASE WHEN started_at >= {window3_start} AND NOT usable THEN 1 ELSE 0 END) AS unusable_calls_3m,
"""
    + ",\n".join(
        _days_since(t, n)
        for t, n in (
            ("complaint", "complaint"),
            ("cancellation_intent", "cancel"),
            ("card_loan_inquiry", "loan"),
            ("payment_inquiry", "payment"),
        )
    )
    + """
    FROM voc_call_signals
    WHERE started_at >= {window6_start} AND started_at < {month_end}
    GROUP BY customer_id
),
memos AS (
    SELECT customer_id,
           COUNT(*) AS memos_3m,
           SUM(CASE WHEN incoming THEN amount_krw ELSE 0 END) AS transfers_in_krw_3m,
           SUM(CASE WHEN incoming THEN 0 ELSE amount_krw END) AS transfers_out_krw_3m,
"""
    + ",\n".join(f"           SUM(CASE WHEN kind = '{k}' THEN 1 ELSE 0 END) AS memo_{k}_3m" for k in MEMO_KINDS)
    + """,
           SUM(CASE WHEN kind = 'urgent_loan' AND incoming THEN amount_krw ELSE 0 END) AS memo_borrowed_krw_3m,
           SUM(CASE WHEN kind IN ('urgent_loan', 'loan_interest') AND NOT incoming THEN amount_krw ELSE 0 END)
             AS memo_debt_paid_krw_3m
    FROM voc_memo_signals
    WHERE ts >= {window3_start} AND ts < {month_end}
    GROUP BY customer_id
)
SELECT COALESCE(calls.customer_id, memos.customer_id) AS customer_id,
{columns}
FROM calls
FULL OUTER JOIN memos ON memos.customer_id = calls.customer_id
""".replace("{columns}", _SELECTED),
)

VOC_LABELS = Transform(
    name="voc_labels",
    description="Per customer at a month: which outcomes happen next month, which happened already.",
    inputs=("labels",),
    params=("month_end", "next_end"),
    sql="""
SELECT customer_id,
       churned AND churned_on >= {month_end} AND churned_on < {next_end} AS churn,
       complained AND complained_on >= {month_end} AND complained_on < {next_end} AS complaint,
       delinquent AND delinquent_on >= {month_end} AND delinquent_on < {next_end} AS delinquency,
       card_loan AND card_loan_on >= {month_end} AND card_loan_on < {next_end} AS card_loan,
       COALESCE(churned AND churned_on < {month_end}, FALSE) AS churn_before,
       COALESCE(complained AND complained_on < {month_end}, FALSE) AS complaint_before,
       COALESCE(delinquent AND delinquent_on < {month_end}, FALSE) AS delinquency_before,
       COALESCE(card_loan AND card_loan_on < {month_end}, FALSE) AS card_loan_before
FROM labels
""",
)

TRANSFORMS: Final[tuple[Transform, ...]] = (VOC_CONTEXT, VOC_TEXT, VOC_LABELS)

# --- feature sets --------------------------------------------------------------------------------------------

TRANSACTION_FEATURES: Final[tuple[str, ...]] = (
    "spend_krw", "txn_count", "credit_spend_krw", "check_spend_krw", "merchants", "categories", "active_days",
    "online_share", "overseas_share", "weekend_share", "morning_share", "daytime_share", "evening_share",
    "night_share", "installment_share", "spend_3m_avg_krw", "count_3m_avg", "spend_6m_avg_krw", "count_6m_avg",
    "active_months_6m", "spend_slope_3m", "spend_slope_6m", "count_slope_3m", "count_slope_6m", "recency_days",
    "ratio_to_3m", "installment_share_3m", "overseas_share_3m", "credit_cards", "check_cards", "products",
    "cards_dropped_3m", "age", "tenure_months", "income_band", "self_employed", "married", "female",
)  # fmt: skip
APP_AND_METADATA_FEATURES: Final[tuple[str, ...]] = (
    "app_logins", "app_active_days", "app_loan_views", "app_cancel_views", "app_logins_3m", "app_failed_logins_3m",
    "app_page_views_3m", "app_active_days_3m", "app_loan_views_3m", "app_cancel_views_3m", "calls_3m", "calls_6m",
    "call_minutes_3m", "memos_3m", "transfers_in_krw_3m", "transfers_out_krw_3m", "campaign_contacts_3m",
)  # fmt: skip
TEXT_FEATURES: Final[tuple[str, ...]] = (
    *(f"topic_{t}_3m" for t in (*TOPICS, "unknown")),
    *(f"topic_{t}_1m" for t in KEY_TOPICS),
    *(f"topic_{t}_6m" for t in KEY_TOPICS),
    *(f"{g}_mentions_3m" for g in KEYWORD_GROUPS),
    "complaint_mentions_6m",
    "negative_words_3m",
    "positive_words_3m",
    "sentiment_mean_3m",
    "sentiment_min_3m",
    "unusable_calls_3m",
    "days_since_complaint_call",
    "days_since_cancel_call",
    "days_since_loan_call",
    "days_since_payment_call",
    *(f"memo_{k}_3m" for k in MEMO_KINDS),
    "memo_borrowed_krw_3m",
    "memo_debt_paid_krw_3m",
)
WITHOUT_TEXT: Final[tuple[str, ...]] = TRANSACTION_FEATURES + APP_AND_METADATA_FEATURES
WITH_TEXT: Final[tuple[str, ...]] = WITHOUT_TEXT + TEXT_FEATURES
# The baseline: recency, frequency and monetary value only.
RFM_FEATURES: Final[tuple[str, ...]] = ("recency_days", "txn_count", "count_3m_avg", "spend_krw", "spend_3m_avg_krw")


@dataclass(frozen=True)
class DriverGroup:
    """Features that together make one explainable reason ("complaints voiced in calls")."""

    code: str
    ko: str
    en: str
    features: tuple[str, ...]


DRIVER_GROUPS: Final[tuple[DriverGroup, ...]] = (
    DriverGroup(
        "SPEND_TREND", "이용 금액·빈도 변화", "Change in spending and frequency",
        ("spend_slope_3m", "spend_slope_6m", "count_slope_3m", "count_slope_6m", "ratio_to_3m"),
    ),
    DriverGroup(
        "SPEND_LEVEL", "이용 규모·최근성", "Spending level and recency",
        ("spend_krw", "txn_count", "credit_spend_krw", "check_spend_krw", "merchants", "categories", "active_days",
         "spend_3m_avg_krw", "count_3m_avg", "spend_6m_avg_krw", "count_6m_avg", "active_months_6m", "recency_days"),
    ),
    DriverGroup(
        "SPEND_HABITS", "이용 습관(온라인·해외·시간대)", "Spending habits (online, overseas, time of day)",
        ("online_share", "overseas_share", "overseas_share_3m", "weekend_share", "morning_share", "daytime_share",
         "evening_share", "night_share"),
    ),
    DriverGroup(
        "INSTALMENTS", "할부 이용", "Instalment purchases", ("installment_share", "installment_share_3m"),
    ),
    DriverGroup(
        "HOLDINGS", "보유 카드", "Cards held", ("credit_cards", "check_cards", "products", "cards_dropped_3m"),
    ),
    DriverGroup(
        "PROFILE", "고객 특성(연령·가입기간·소득)", "Profile (age, tenure, income)",
        ("age", "tenure_months", "income_band", "self_employed", "married", "female"),
    ),
    DriverGroup(
        "APP_CANCEL_PAGE", "앱 해지 메뉴 조회", "Cancellation page views in the app",
        ("app_cancel_views", "app_cancel_views_3m"),
    ),
    DriverGroup(
        "APP_LOAN_PAGE", "앱 대출 메뉴 조회", "Loan page views in the app", ("app_loan_views", "app_loan_views_3m"),
    ),
    DriverGroup(
        "APP_USE", "앱 이용", "App use",
        ("app_logins", "app_active_days", "app_logins_3m", "app_failed_logins_3m", "app_page_views_3m",
         "app_active_days_3m"),
    ),
    DriverGroup(
        "CALL_VOLUME", "상담 횟수·시간", "Calls to the contact centre", ("calls_3m", "calls_6m", "call_minutes_3m"),
    ),
    DriverGroup(
        "TRANSFERS", "이체 규모", "Transfers", ("memos_3m", "transfers_in_krw_3m", "transfers_out_krw_3m"),
    ),
    DriverGroup(
        "CAMPAIGN", "최근 캠페인 접촉", "Recent campaign contact", ("campaign_contacts_3m",),
    ),
    DriverGroup(
        "COMPLAINT_TALK", "상담 중 불만·민원 언급", "Complaints voiced in calls",
        ("topic_complaint_3m", "topic_complaint_1m", "topic_complaint_6m", "complaint_mentions_3m",
         "complaint_mentions_6m", "refund_mentions_3m", "days_since_complaint_call"),
    ),
    DriverGroup(
        "CANCEL_TALK", "상담 중 해지·타사 전환 언급", "Cancellation or switching voiced in calls",
        ("topic_cancellation_intent_3m", "topic_cancellation_intent_1m", "topic_cancellation_intent_6m",
         "churn_intent_mentions_3m", "competitor_mentions_3m", "days_since_cancel_call"),
    ),
    DriverGroup(
        "LOAN_TALK", "상담 중 카드론·대출 문의", "Card loan questions in calls",
        ("topic_card_loan_inquiry_3m", "topic_card_loan_inquiry_1m", "topic_card_loan_inquiry_6m",
         "loan_mentions_3m", "days_since_loan_call"),
    ),
    DriverGroup(
        "PAYMENT_WORRY", "상담 중 결제·연체 걱정", "Payment worries in calls",
        ("topic_payment_inquiry_3m", "topic_payment_inquiry_1m", "topic_payment_inquiry_6m",
         "payment_worry_mentions_3m", "days_since_payment_call"),
    ),
    DriverGroup(
        "NEGATIVE_TONE", "상담 중 부정적 표현", "Negative words in calls",
        ("negative_words_3m", "positive_words_3m", "sentiment_mean_3m", "sentiment_min_3m"),
    ),
    DriverGroup(
        "OTHER_CALLS", "기타 상담(분실·한도·혜택·주소)", "Other calls (lost card, limit, benefits, address)",
        ("topic_lost_card_3m", "topic_benefit_question_3m", "topic_limit_increase_3m", "topic_address_change_3m",
         "topic_unknown_3m", "unusable_calls_3m"),
    ),
    DriverGroup(
        "MEMO_DEBT", "이체 적요의 대출 이자·급전", "Loan interest and borrowing in transfer memos",
        ("memo_loan_interest_3m", "memo_urgent_loan_3m", "memo_borrowed_krw_3m", "memo_debt_paid_krw_3m"),
    ),
    DriverGroup(
        "MEMO_LIFE", "이체 적요의 생활 패턴", "Everyday transfers by memo (rent, salary, gifts …)",
        tuple(f"memo_{k}_3m" for k in MEMO_KINDS if k not in ("loan_interest", "urgent_loan")),
    ),
)  # fmt: skip


def groups_for(features: tuple[str, ...]) -> tuple[DriverGroup, ...]:
    """The driver groups restricted to ``features`` (groups left empty are dropped)."""
    present = set(features)
    kept = ((g, tuple(f for f in g.features if f in present)) for g in DRIVER_GROUPS)
    return tuple(DriverGroup(g.code, g.ko, g.en, fs) for g, fs in kept if fs)


# --- how each feature reads in an explanation -------------------------------------------------------------------

TOPIC_KO: Final[dict[str, str]] = {
    "complaint": "불만·민원", "cancellation_intent": "해지 의사", "card_loan_inquiry": "카드론 문의",
    "lost_card": "분실·도난", "benefit_question": "혜택 문의", "payment_inquiry": "결제·청구 문의",
    "limit_increase": "한도 상향", "address_change": "주소 변경", "unknown": "주제 불명",
}  # fmt: skip
TOPIC_EN: Final[dict[str, str]] = {
    "complaint": "complaint", "cancellation_intent": "cancellation", "card_loan_inquiry": "card loan",
    "lost_card": "lost card", "benefit_question": "benefit", "payment_inquiry": "payment",
    "limit_increase": "limit increase", "address_change": "address change", "unknown": "unclassified",
}  # fmt: skip
GROUP_KO: Final[dict[str, str]] = {
    "complaint": "불만·민원", "churn_intent": "해지", "competitor": "타사", "loan": "대출",
    "payment_worry": "결제 걱정", "refund": "환불",
}  # fmt: skip
MEMO_KO: Final[dict[str, str]] = {
    "urgent_loan": "급전·차용", "loan_interest": "대출 이자", "rent": "월세", "salary": "급여", "allowance": "용돈",
    "utility": "공과금", "gift": "경조사", "dues": "회비", "tuition": "학원비", "split_bill": "더치페이",
}  # fmt: skip
_WINDOW_KO: Final = {"1m": "이번 달", "3m": "최근 3개월", "6m": "최근 6개월"}
_WINDOW_EN: Final = {"1m": "this month", "3m": "3 months", "6m": "6 months"}
_LABELS: Final[dict[str, tuple[str, str]]] = {
    "spend_krw": ("이번 달 이용액", "spend this month"),
    "txn_count": ("이번 달 이용 건수", "purchases this month"),
    "credit_spend_krw": ("신용카드 이용액", "credit card spend"),
    "check_spend_krw": ("체크카드 이용액", "check card spend"),
    "merchants": ("이용 가맹점 수", "merchants used"),
    "categories": ("이용 업종 수", "categories used"),
    "active_days": ("이용 일수", "active days"),
    "online_share": ("온라인 비중", "online share"),
    "overseas_share": ("해외 비중", "overseas share"),
    "overseas_share_3m": ("최근 3개월 해외 비중", "overseas share, 3 months"),
    "weekend_share": ("주말 비중", "weekend share"),
    "morning_share": ("오전 비중", "morning share"),
    "daytime_share": ("낮 시간 비중", "daytime share"),
    "evening_share": ("저녁 비중", "evening share"),
    "night_share": ("심야 비중", "night share"),
    "installment_share": ("할부 비중", "instalment share"),
    "installment_share_3m": ("최근 3개월 할부 비중", "instalment share, 3 months"),
    "spend_3m_avg_krw": ("3개월 평균 이용액", "3-month average spend"),
    "count_3m_avg": ("3개월 평균 건수", "3-month average purchases"),
    "spend_6m_avg_krw": ("6개월 평균 이용액", "6-month average spend"),
    "count_6m_avg": ("6개월 평균 건수", "6-month average purchases"),
    "active_months_6m": ("최근 6개월 이용 개월 수", "active months of 6"),
    "spend_slope_3m": ("3개월 이용액 추세(월)", "3-month spend trend per month"),
    "spend_slope_6m": ("6개월 이용액 추세(월)", "6-month spend trend per month"),
    "count_slope_3m": ("3개월 건수 추세(월)", "3-month purchase trend per month"),
    "count_slope_6m": ("6개월 건수 추세(월)", "6-month purchase trend per month"),
    "recency_days": ("마지막 이용 후 일수", "days since the last purchase"),
    "ratio_to_3m": ("3개월 평균 대비 이번 달", "this month vs 3-month average"),
    "credit_cards": ("신용카드 수", "credit cards"),
    "check_cards": ("체크카드 수", "check cards"),
    "products": ("보유 상품 수", "products held"),
    "cards_dropped_3m": ("최근 3개월 줄어든 카드 수", "cards given up, 3 months"),
    "age": ("연령", "age"),
    "tenure_months": ("가입 개월 수", "months as a customer"),
    "income_band": ("소득 구간", "income band"),
    "self_employed": ("개인사업자", "sole proprietor"),
    "married": ("기혼", "married"),
    "female": ("여성", "female"),
    "app_logins": ("이번 달 앱 로그인", "app logins this month"),
    "app_active_days": ("이번 달 앱 이용 일수", "app days this month"),
    "app_loan_views": ("이번 달 앱 대출 메뉴 조회", "loan page views this month"),
    "app_cancel_views": ("이번 달 앱 해지 메뉴 조회", "cancellation page views this month"),
    "app_logins_3m": ("최근 3개월 앱 로그인", "app logins, 3 months"),
    "app_failed_logins_3m": ("최근 3개월 로그인 실패", "failed logins, 3 months"),
    "app_page_views_3m": ("최근 3개월 앱 화면 조회", "app page views, 3 months"),
    "app_active_days_3m": ("최근 3개월 앱 이용 일수", "app days, 3 months"),
    "app_loan_views_3m": ("최근 3개월 앱 대출 메뉴 조회", "loan page views, 3 months"),
    "app_cancel_views_3m": ("최근 3개월 앱 해지 메뉴 조회", "cancellation page views, 3 months"),
    "calls_3m": ("최근 3개월 상담 건수", "calls, 3 months"),
    "calls_6m": ("최근 6개월 상담 건수", "calls, 6 months"),
    "call_minutes_3m": ("최근 3개월 상담 시간(분)", "call minutes, 3 months"),
    "memos_3m": ("최근 3개월 이체 건수", "transfers, 3 months"),
    "transfers_in_krw_3m": ("최근 3개월 입금액", "money in, 3 months"),
    "transfers_out_krw_3m": ("최근 3개월 출금액", "money out, 3 months"),
    "campaign_contacts_3m": ("최근 3개월 캠페인 접촉", "campaign contacts, 3 months"),
    "complaint_mentions_6m": ("최근 6개월 불만·민원 언급", "complaint mentions, 6 months"),
    "negative_words_3m": ("최근 3개월 부정적 표현", "negative words, 3 months"),
    "positive_words_3m": ("최근 3개월 긍정적 표현", "positive words, 3 months"),
    "sentiment_mean_3m": ("최근 3개월 상담 감정 평균", "mean call sentiment, 3 months"),
    "sentiment_min_3m": ("최근 3개월 가장 부정적인 상담", "most negative call, 3 months"),
    "unusable_calls_3m": ("최근 3개월 인식 불가 상담", "unintelligible calls, 3 months"),
    "days_since_complaint_call": ("불만 상담 후 일수", "days since a complaint call"),
    "days_since_cancel_call": ("해지 상담 후 일수", "days since a cancellation call"),
    "days_since_loan_call": ("카드론 상담 후 일수", "days since a card-loan call"),
    "days_since_payment_call": ("결제 상담 후 일수", "days since a payment call"),
    "memo_borrowed_krw_3m": ("최근 3개월 급전 입금액", "urgent loans received, 3 months"),
    "memo_debt_paid_krw_3m": ("최근 3개월 이자·상환 출금액", "interest and repayments, 3 months"),
}


def feature_label(feature: str) -> tuple[str, str]:
    """Korean and English label of a feature, for explanations."""
    if feature in _LABELS:
        return _LABELS[feature]
    window = feature.rsplit("_", 1)[-1]
    if feature.startswith("topic_"):
        topic = feature[len("topic_") : -len(window) - 1]
        return f"{_WINDOW_KO[window]} {TOPIC_KO[topic]} 상담", f"{TOPIC_EN[topic]} calls, {_WINDOW_EN[window]}"
    if feature.endswith("_mentions_3m"):
        group = feature[: -len("_mentions_3m")]
        return f"최근 3개월 {GROUP_KO[group]} 언급", f"{group.replace('_', ' ')} mentions, 3 months"
    if feature.startswith("memo_"):
        kind = feature[len("memo_") : -len("_3m")]
        return f"최근 3개월 {MEMO_KO[kind]} 이체", f"{kind.replace('_', ' ')} transfers, 3 months"
    return feature, feature


def format_value(feature: str, value: float) -> tuple[str, str]:
    """The value as an agent reads it, in Korean and English."""
    if feature in ("self_employed", "married", "female"):
        return ("예", "yes") if value >= 0.5 else ("아니요", "no")
    if feature.endswith("_share") or feature.endswith("_share_3m") or feature == "ratio_to_3m":
        return f"{value:.0%}", f"{value:.0%}"
    if feature.endswith("_krw") or feature.endswith("_krw_3m") or feature.startswith("spend_slope"):
        return f"{value:,.0f}원", f"KRW {value:,.0f}"
    if feature.startswith("sentiment_"):
        return f"{value:+.2f}", f"{value:+.2f}"
    if feature.startswith("count_slope") or feature.endswith("_avg") or feature == "call_minutes_3m":
        return f"{value:,.1f}", f"{value:,.1f}"
    return f"{value:,.0f}", f"{value:,.0f}"
