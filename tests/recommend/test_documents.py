"""The stored documents: every one matches its API schema, and what it says agrees with the data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cardwise.recommend.batch import RunResult
from cardwise.recommend.documents import cold_start_document, with_and
from cardwise.recommend.schemas import MerchantTargets, Recommendations, Report, SimilarProducts
from tests.recommend.conftest import Lake


def test_every_document_matches_its_schema(run: RunResult) -> None:
    assert len(run.recommendations) == len(run.reports) == 400
    for rec in run.recommendations:
        Recommendations.model_validate(rec)
    for report in run.reports:
        Report.model_validate(report)
    assert len(run.merchants) > 3000
    for doc in run.merchants:
        MerchantTargets.model_validate(doc)
    assert len(run.products) == 27
    for doc in run.products:
        SimilarProducts.model_validate(doc)


def test_preferred_merchants_were_bought_from_and_new_ones_were_not(lake: Lake, run: RunResult) -> None:
    h, ref = lake.history, lake.ref
    t = h.month_index(date(2023, 9, 1))
    v = h.visits[(h.visits["t"] >= t - 5) & (h.visits["t"] <= t)]
    bought = set(zip(ref.customer_ids[v["c"]].tolist(), ref.merchant_ids[v["m"]].tolist(), strict=True))
    checked = 0
    for rec in run.recommendations:
        preferred, new = rec["merchants"]["preferred"], rec["merchants"]["new"]
        assert all((rec["customer_id"], m["merchant_id"]) in bought for m in preferred)
        assert not any((rec["customer_id"], m["merchant_id"]) in bought for m in new)
        for lst in (preferred, new):
            probs = [m["visit_probability"] for m in lst]
            assert probs == sorted(probs, reverse=True) and len(lst) <= 10
        checked += bool(preferred) and bool(new)
    assert checked > 300


def test_merchant_audiences_are_new_customers_and_future_regulars(lake: Lake, run: RunResult) -> None:
    h, ref = lake.history, lake.ref
    t = h.month_index(date(2023, 9, 1))
    v = h.visits[(h.visits["t"] >= t - 5) & (h.visits["t"] <= t)]
    ids = ref.customer_ids
    months = v.groupby(["c", "m"])["t"].nunique()
    bought = {(int(ids[c]), int(ref.merchant_ids[m])) for c, m in months.index}
    regular = {(int(ids[c]), int(ref.merchant_ids[m])) for (c, m), n in months.items() if n >= 3}
    with_audience = 0
    for doc in run.merchants:
        mid = doc["merchant_id"]
        assert not any((x["customer_id"], mid) in bought for x in doc["likely_visitors"])
        assert not any((x["customer_id"], mid) in regular for x in doc["likely_regulars"])
        assert doc["regulars"] == sum(1 for pair in regular if pair[1] == mid)
        assert len(doc["stage_evidence"]["monthly_purchases"]) == 6
        scores = [x["score"] for x in doc["likely_visitors"]]
        assert scores == sorted(scores, reverse=True)
        with_audience += bool(doc["likely_visitors"]) and doc["stage"] not in ("closed", "inactive")
    assert with_audience > 500
    stages = {doc["stage"] for doc in run.merchants}
    assert {"mature", "new", "closed"} <= stages


def test_reports_add_up_and_name_the_best_card(run: RunResult) -> None:
    for report, rec in zip(run.reports, run.recommendations, strict=True):
        if report["cold_start"]:
            continue
        assert report["period"] == {"from": "2023-07", "to": "2023-09", "months": 3}
        monthly = sum(m["spend_krw"] for m in report["monthly"])
        assert abs(monthly - report["total_spend_krw"]) <= 300  # each figure rounded to ₩100
        assert sum(c["share"] for c in report["top_categories"]) <= 1.001
        for change in report["changes"]:
            if change["direction"] == "up":
                assert change["current_krw"] > change["previous_krw"]
            if change["direction"] == "new":
                assert change["previous_krw"] == 0 and change["change_pct"] is None
        assert report["best_card"] == (rec["best_cards"][0] if rec["best_cards"] else None)
        if report["best_card"]:
            assert report["best_card"]["name_ko"] in report["summary_ko"]


def test_lifestyle_group_sizes_and_new_category_reasons(run: RunResult) -> None:
    sizes = [r["similar_members"]["size"] for r in run.recommendations if not r["cold_start"]]
    assert min(sizes) > 0 and sum(set(sizes)) <= 400
    texts = [r["similar_members"]["text_ko"] for r in run.recommendations if r["similar_members"]["size"]]
    assert all(f"{s:,}명" in t for s, t in zip(sizes, texts, strict=True))
    reasons = [c["reason_ko"] for r in run.recommendations for c in r["categories"]["new"]]
    # Customers who newly took up a category are told what goes with it (the trend-following part).
    assert any(x.startswith("최근 새로 이용하신") for x in reasons)
    bills = {"TELECOM", "INSURANCE", "UTILITIES", "DIGITAL_CONTENT"}
    for r in run.recommendations:
        listed = r["categories"]["preferred"] + r["categories"]["new"]
        assert not bills & {c["category_code"] for c in listed}


def test_cold_start_answers_follow_age_gender_and_home(run: RunResult) -> None:
    cold = run.cold_start
    doc = cold_start_document(cold, 999_999, 1995, "F", "11680")
    Recommendations.model_validate(doc)
    assert doc["cold_start"] and doc["best_cards"] == [] and doc["month"] == "2023-09"
    assert doc["popular_cards"] == cold["peers"]["20:F"]["cards"]
    places = {m["place_ko"] for m in doc["merchants"]["new"]}
    assert places <= {"강남구", "온라인"}
    assert cold_start_document(cold, 1, 1950, "M", "XX")["categories"]["new"] == cold["peers"]["70:M"]["categories"]


@pytest.mark.parametrize(("word", "expected"), [("가전", "가전과"), ("주유소", "주유소와"), ("BAR", "BAR와(과)")])
def test_korean_particles_fit_the_word(word: str, expected: str) -> None:
    assert with_and(word) == expected


def test_probabilities_and_amounts_are_plain_json_numbers(run: RunResult) -> None:
    rec = next(r for r in run.recommendations if r["best_cards"])
    for value in (rec["best_cards"][0]["net_annual_benefit_krw"], rec["categories"]["preferred"][0]["probability"]):
        assert type(value) in (int, float) and not isinstance(value, np.generic)
