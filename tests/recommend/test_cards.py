"""Cards: the best card replays the customer's own purchases, similar products follow the rules of the
discontinued ones, adoption events and rankings."""

from __future__ import annotations

import json
from datetime import date

import numpy as np

from cardwise.lake.store import connect
from cardwise.recommend.batch import RunResult
from cardwise.recommend.benefits import Purchase, simulate_card
from cardwise.recommend.cards import adoption_events, rank_products, rule_vectors
from cardwise.recommend.documents import median_tickets
from cardwise.reference.products import load_products
from tests.recommend.conftest import Lake


def test_rank_products_keeps_only_allowed_products_and_pads() -> None:
    score = np.array([[3.0, 9.0, 1.0, 5.0]])
    allowed = np.array([[True, False, True, True]])
    assert rank_products(score, allowed, 3).tolist() == [[3, 0, 2]]
    assert rank_products(score, np.array([[False, False, True, False]]), 2).tolist() == [[2, -1]]


def test_mileage_and_money_are_kept_apart_in_the_rules() -> None:
    catalog = load_products()
    products = catalog.products
    cats = ("AIRLINE", "CAFE")
    vec = rule_vectors(products, cats, np.array([450_000.0, 5_000.0]))
    cr08, cr04 = catalog.by_id["CR08"], catalog.by_id["CR04"]
    j8, j4 = products.index(cr08), products.index(cr04)
    width = len(cats) + 1
    assert vec[j8, :width].sum() == 0  # CR08 pays only miles
    assert vec[j8, width] == (0.001 + 0.001) * 15  # base mile + airline mile, at ₩15 a mile
    assert vec[j4, width:].sum() == 0 and vec[j4, 1] == 0.007 + 0.005  # 0.7 % base + 0.5 % on cafés


def test_the_discontinued_products_point_to_their_successors(run: RunResult) -> None:
    similar = {doc["product_id"]: doc for doc in run.products}
    assert similar["CR17"]["on_sale"] is False
    assert similar["CR17"]["similar"][0]["product_id"] == "CR08"
    assert similar["CR16"]["similar"][0]["product_id"] == "CR01"
    assert similar["CK10"]["similar"][0]["product_id"] in {"CK01", "CK02"}
    for doc in run.products:
        kinds = {s["card_type"] for s in doc["similar"]}
        assert kinds <= {doc["card_type"]}
        assert all(s["product_id"] != doc["product_id"] for s in doc["similar"])
        sims = [s["similarity"] for s in doc["similar"]]
        assert sims == sorted(sims, reverse=True)


def test_the_best_card_is_what_the_rules_pay_for_the_customers_own_purchases(lake: Lake, run: RunResult) -> None:
    catalog = load_products()
    rec = next(r for r in run.recommendations if not r["cold_start"] and r["best_cards"])
    best = rec["best_cards"][0]
    product = catalog.by_id[best["product_id"]]
    con = connect(lake.path)
    try:
        rows = con.sql(
            f"""SELECT CAST(ts AS DATE) AS d, category_code, channel, amount_krw, date_trunc('month', ts) AS m
                FROM transactions WHERE customer_id = {rec["customer_id"]} AND NOT is_fraud
                  AND ts >= DATE '2023-05-01' AND ts < DATE '2023-10-01' ORDER BY ts, transaction_id"""
        ).fetchall()
    finally:
        con.close()
    months: dict[str, list[Purchase]] = {}
    prior = 0
    for d, cat, channel, amount, m in rows:
        if m.month == 5:
            prior += 0 if cat in product.prev_month_excluded else amount
            continue
        months.setdefault(f"{m:%Y-%m}", []).append(Purchase(d.toordinal(), cat, channel, int(amount)))
    spec = simulate_card(
        product, [months.get(k, []) for k in ("2023-06", "2023-07", "2023-08", "2023-09")], prior_eligible_krw=prior
    )
    monthly = sum(m.benefit_krw for m in spec[1:]) / 3
    assert abs(best["monthly_benefit_krw"] - monthly) <= 100
    assert abs(best["net_annual_benefit_krw"] - (monthly * 12 - product.annual_fee_krw)) <= 100
    # It beats every other product on sale, and the reason names where it is earned.
    assert all(best["net_annual_benefit_krw"] >= c["net_annual_benefit_krw"] for c in rec["best_cards"])
    assert all(e["name_ko"] in best["reason_ko"] for e in best["earned_in"])


def test_adoption_events_leave_out_products_already_held(lake: Lake) -> None:
    ref = lake.ref
    month = date(2023, 9, 1)
    events = adoption_events(ref, month)
    held = ref.holdings(month)
    assert len(events) > 0
    assert not held[events["c"], events["p"]].any()
    issued = ref.cards[(ref.cards["issued_on"] >= month) & (ref.cards["issued_on"] < date(2023, 10, 1))]
    assert len(events) <= len(issued)


def test_median_tickets_come_from_the_category_catalog(lake: Lake) -> None:
    med = median_tickets(lake.ref)
    assert med[lake.ref.categories.index("CAFE")] == 5_000
    assert json.dumps(float(med.min())) and med.min() > 0
