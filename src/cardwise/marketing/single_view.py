"""Assembling the customer single view (M7): every block a marketer or an agent reads, in one
document per customer, built by the monthly batch so the API answers with one primary-key read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd

from cardwise.marketing.catalog import Catalog
from cardwise.marketing.changes import KINDS_EN, KINDS_KO

OCCUPATIONS_KO = {
    "office_worker": "직장인",
    "public_servant": "공무원",
    "professional": "전문직",
    "self_employed": "자영업",
    "service_worker": "서비스직",
    "student": "학생",
    "homemaker": "주부",
    "retired": "은퇴",
    "unemployed": "무직",
    "farmer_fisher": "농어업",
}
MARITAL_KO = {"single": "미혼", "married": "기혼", "divorced": "이혼", "widowed": "사별"}
GENDER_KO = {"F": "여성", "M": "남성"}

# Suggested actions: (code, Korean, English). Which apply is decided in ``suggested_actions``.
ACTIONS: dict[str, tuple[str, str]] = {
    "CAR_INSTALLMENT": ("차량 구매 시 카드 할부 정보 제공", "Card instalment information for the car purchase"),
    "TRAVEL_INFO": ("해외 숙박 및 음식점 정보 제공", "Overseas hotel and restaurant information"),
    "WEDDING_OFFER": ("웨딩샵 할인 정보 제공", "Wedding shop discounts"),
    "CHILDCARE_OFFER": ("육아 업종 할인 혜택 안내", "Childcare discounts"),
    "MOVING_OFFER": ("이사·인테리어 할인 및 주소 변경 안내", "Moving and interior offers, address update"),
    "RETENTION_COUPON": ("이탈 방어 쿠폰 발송", "Retention coupon"),
    "LIMIT_REVIEW": ("한도 상향 검토 안내", "Offer a credit limit review"),
    "FAMILY_BUNDLE": ("가족 결합 서비스 및 앱 사용 안내", "Family bundle and app onboarding"),
    "CARD_UPSELL": ("소비 패턴에 맞는 카드 추천", "Recommend a card that fits the spending"),
    "COMPLAINT_CARE": ("민원 예방 선제 상담", "Proactive care call to prevent a complaint"),
    "DELINQUENCY_CARE": ("연체 예방 결제일 안내", "Payment reminder and instalment options"),
    "CARD_LOAN_INFO": ("카드론 금리·한도 안내", "Card loan rate and limit information"),
}


# Until the VOC risk models have scored the month (cardwise voc score), the block says so.
NO_RISK: dict[str, Any] = {
    "available": False,
    "note": "No VOC risk scores for this month yet (cardwise voc score --month YYYY-MM).",
}


def age_band(age: int) -> tuple[str, str]:
    decade = min(max(age // 10 * 10, 20), 70)
    return (f"{decade}대", f"{decade}s") if decade < 70 else ("70대 이상", "70+")


def _num(value: Any) -> float:
    return 0.0 if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


def trend_labels(triggers: list[dict[str, Any]], slope_spend: float, slope_count: float) -> dict[str, Any]:
    kinds = {t["kind"] for t in triggers}
    up = "SPEND_TREND_UP" in kinds or "AMOUNT_UP" in kinds
    down = "SPEND_TREND_DOWN" in kinds or "AMOUNT_DOWN" in kinds
    freq_up, freq_down = "FREQUENCY_UP" in kinds, "FREQUENCY_DOWN" in kinds
    ko, en = [], []
    if up:
        ko.append("소비금액 증가")
        en.append("spending up")
    if down:
        ko.append("소비금액 감소")
        en.append("spending down")
    if freq_up:
        ko.append("소비빈도 증가")
        en.append("more frequent")
    if freq_down:
        ko.append("소비빈도 감소")
        en.append("less frequent")
    if not ko:
        ko, en = ["변화 없음"], ["steady"]
    return {
        "ko": ko,
        "en": en,
        "spend_slope_krw_per_month": round(slope_spend),
        "count_slope_per_month": round(slope_count, 2),
    }


def suggested_actions(
    *,
    age: int,
    stage: str,
    segments: list[dict[str, Any]],
    events: list[dict[str, Any]],
    triggers: list[dict[str, Any]],
    drop_probability: float | None,
    app_logins: int,
    credit_cards: int,
    risk: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    kinds = {t["kind"] for t in triggers} | {e["kind"] for e in events}
    best_grade = {s["segment_code"]: s["grade"] for s in segments}
    chosen: list[tuple[str, str]] = []  # (action, why)
    if "LIFE_CAR_PURCHASE" in kinds:
        chosen.append(("CAR_INSTALLMENT", "LIFE_CAR_PURCHASE"))
    if best_grade.get("OVERSEAS_TRAVEL", 9) <= 2:
        chosen.append(("TRAVEL_INFO", "OVERSEAS_TRAVEL grade ≤ 2"))
    if "LIFE_MARRIAGE" in kinds or stage == "MARRIAGEABLE":
        chosen.append(("WEDDING_OFFER", "LIFE_MARRIAGE" if "LIFE_MARRIAGE" in kinds else "life stage MARRIAGEABLE"))
    if "LIFE_CHILDBIRTH" in kinds or stage == "PARENTING":
        chosen.append(("CHILDCARE_OFFER", "LIFE_CHILDBIRTH" if "LIFE_CHILDBIRTH" in kinds else "life stage PARENTING"))
    if "LIFE_MOVING" in kinds:
        chosen.append(("MOVING_OFFER", "LIFE_MOVING"))
    if (drop_probability is not None and drop_probability >= 0.5) or kinds & {"FREQUENCY_DOWN", "SPEND_TREND_DOWN"}:
        why = f"usage drop probability {drop_probability:.0%}" if drop_probability is not None else "usage falling"
        chosen.append(("RETENTION_COUPON", why))
    if "SPEND_TREND_UP" in kinds and credit_cards > 0:
        chosen.append(("LIMIT_REVIEW", "SPEND_TREND_UP"))
    if age >= 50 and app_logins == 0:
        chosen.append(("FAMILY_BUNDLE", "50+ without app use this month"))
    if "CATEGORY_NEW" in kinds:
        chosen.append(("CARD_UPSELL", "CATEGORY_NEW"))
    chosen.extend(_risk_actions(risk, already={code for code, _ in chosen}))
    return [{"code": code, "ko": ACTIONS[code][0], "en": ACTIONS[code][1], "because": why} for code, why in chosen]


def _risk_actions(risk: Mapping[str, Any] | None, already: set[str]) -> list[tuple[str, str]]:
    """Actions from the VOC risk scores (M8): the riskiest tenth of each outcome; a card-loan offer only
    when delinquency is outside the riskiest three tenths (responsible lending)."""
    if not risk or not risk.get("available"):
        return []
    decile = {t: int(s["decile"]) for t, s in risk.get("scores", {}).items()}
    out = []
    if decile.get("churn") == 1 and "RETENTION_COUPON" not in already:
        out.append(("RETENTION_COUPON", "churn risk in the riskiest 10%"))
    if decile.get("complaint") == 1:
        out.append(("COMPLAINT_CARE", "complaint risk in the riskiest 10%"))
    if decile.get("delinquency") == 1:
        out.append(("DELINQUENCY_CARE", "delinquency risk in the riskiest 10%"))
    if decile.get("card_loan") == 1 and decile.get("delinquency", 1) > 3:
        out.append(("CARD_LOAN_INFO", "card-loan propensity in the top 10%, delinquency risk low"))
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def _records_by_customer(frame: pd.DataFrame) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if len(frame) == 0:
        return out
    for rec in records(frame):
        out.setdefault(int(rec["customer_id"]), []).append(rec)
    return out


def assemble(
    *,
    month: date,
    catalog: Catalog,
    customers: pd.DataFrame,
    features: pd.DataFrame,
    grades: pd.DataFrame,
    stages: pd.DataFrame,
    triggers: pd.DataFrame,
    events: pd.DataFrame,
    top_categories: pd.DataFrame,
    drop_probability: Mapping[int, float],
    category_names: Mapping[str, tuple[str, str]],
    quarter: date,
    risk: Mapping[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One view per customer with features this month (the customers the batch saw)."""
    seg_names = {s.code: (s.name_ko, s.name_en) for s in catalog.segments}
    stage_names = {s.code: (s.name_ko, s.name_en) for s in catalog.life_stage.stages}
    people = customers.set_index("customer_id").to_dict("index")
    in_seg = grades[grades["in_segment"]].sort_values(["customer_id", "grade", "segment_code", "target_group"])
    in_seg = in_seg.drop_duplicates(["customer_id", "segment_code"])
    seg_by_customer = _records_by_customer(in_seg.groupby("customer_id", sort=False).head(6))
    groups_by_customer = grades.groupby("customer_id")["target_group"].unique().to_dict()
    stage_by_customer = stages.set_index("customer_id").to_dict("index")
    trig_by_customer = _records_by_customer(triggers)
    event_by_customer = _records_by_customer(events)
    cats_by_customer = _records_by_customer(top_categories)

    views = []
    for f in records(features):
        cid = int(f["customer_id"])
        person = people[cid]
        age = int(month.year - int(person["birth_year"]))
        band_ko, band_en = age_band(age)
        segs = [
            {
                "segment_code": r["segment_code"],
                "name_ko": seg_names[r["segment_code"]][0],
                "name_en": seg_names[r["segment_code"]][1],
                "target_group": r["target_group"],
                "grade": int(r["grade"]),
                "score": int(r["score"]),
                "avg_usage_krw": int(r["avg_usage_krw"]),
            }
            for r in seg_by_customer.get(cid, [])
        ]
        trig = [
            {
                "kind": r["kind"],
                "ko": KINDS_KO[r["kind"]],
                "en": KINDS_EN[r["kind"]],
                "p_value": float(r["p_value"]),
                "evidence": r["evidence"],
            }
            for r in trig_by_customer.get(cid, [])
        ]
        evs = [
            {
                "kind": r["kind"],
                "ko": KINDS_KO[r["kind"]],
                "en": KINDS_EN[r["kind"]],
                "month": pd.Timestamp(r["month"]).strftime("%Y-%m"),
            }
            for r in event_by_customer.get(cid, [])
        ]
        stage_row = stage_by_customer.get(cid)
        stage_code = str(stage_row["stage"]) if stage_row else "MIDDLE_AGE"
        evidence = stage_row["evidence"] if stage_row else []
        p_drop = drop_probability.get(cid)
        risk_of = (risk or {}).get(cid) or NO_RISK
        spend_avg = _num(f["spend_6m_avg_krw"])
        tenure = (month.year - person["joined_on"].year) * 12 + (month.month - person["joined_on"].month)
        value_12m = 12 * spend_avg * (1 - (p_drop if p_drop is not None else 0.0)) * catalog.revenue_rate
        views.append(
            {
                "customer_id": cid,
                "month": month.strftime("%Y-%m"),
                "status": {
                    "age": age,
                    "age_band_ko": band_ko,
                    "age_band_en": band_en,
                    "gender": person["gender"],
                    "gender_ko": GENDER_KO.get(person["gender"], ""),
                    "marital_status": person["marital_status"],
                    "marital_status_ko": MARITAL_KO.get(person["marital_status"], ""),
                    "occupation": person["occupation"],
                    "occupation_ko": OCCUPATIONS_KO.get(person["occupation"], ""),
                    "sole_proprietor": bool(person["is_sole_proprietor"]),
                    "target_groups": sorted(str(g) for g in groups_by_customer.get(cid, [])),
                },
                "life_stage": {
                    "code": stage_code,
                    "name_ko": stage_names[stage_code][0],
                    "name_en": stage_names[stage_code][1],
                    "quarter": f"{quarter.year}Q{(quarter.month - 1) // 3 + 1}",
                    "evidence": evidence,
                },
                "main_categories": [
                    {
                        "category_code": r["category_code"],
                        "name_ko": category_names[r["category_code"]][0],
                        "name_en": category_names[r["category_code"]][1],
                        "share": round(float(r["share"]), 3),
                    }
                    for r in cats_by_customer.get(cid, [])
                ],
                "segments": segs,
                "value": {
                    "monthly_spend_krw": round(_num(f["spend_3m_avg_krw"])),
                    "spend_this_month_krw": int(f["spend_krw"]),
                    "tenure_months": int(tenure),
                    "estimated_12m_revenue_krw": round(value_12m),
                    "credit_cards": int(f["credit_cards"]),
                    "check_cards": int(f["check_cards"]),
                },
                "events": evs,
                "triggers": trig,
                "trend": {
                    **trend_labels(trig, _num(f["spend_slope_6m"]), _num(f["count_slope_6m"])),
                    "usage_drop_probability": None if p_drop is None else round(p_drop, 3),
                },
                "risk": risk_of,
                "channels": {
                    "preferred": person["preferred_channel"],
                    "marketing_consent": bool(person["marketing_consent"]),
                    "app_logins_this_month": int(f["app_logins"]),
                    "app_active_days_this_month": int(f["app_active_days"]),
                    "calls_this_month": int(f["calls"]),
                },
                "actions": suggested_actions(
                    age=age,
                    stage=stage_code,
                    segments=segs,
                    events=evs,
                    triggers=trig,
                    drop_probability=p_drop,
                    app_logins=int(f["app_logins"]),
                    credit_cards=int(f["credit_cards"]),
                    risk=risk_of,
                ),
            }
        )
    return views
