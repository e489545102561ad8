"""The recommendation models on held-out data of the small lake against popularity baselines, the
merchant candidates and model, and the monthly mart (DuckDB result and Spark transpilation)."""

from __future__ import annotations

import pickle
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlglot

from cardwise.lake.store import connect
from cardwise.recommend.evaluation import beats_baseline, evaluate, table
from cardwise.recommend.features import RECOMMEND_MARTS, RM_CUSTOMER_MERCHANT
from cardwise.recommend.merchants import REGULAR_MONTHS, candidate_pairs, fit_merchant_model, visit_days_next
from tests.recommend.conftest import Lake


@pytest.fixture(scope="module")
def held_out(lake: Lake) -> dict[str, Any]:
    con = connect(lake.path)
    try:
        return evaluate(con, lake.marts, date(2023, 10, 1))
    finally:
        con.close()


def test_models_beat_popularity_on_held_out_october(held_out: dict[str, Any]) -> None:
    assert held_out["test_month"] == "2023-10" and held_out["trained_through"] == "2023-09"
    cats, merch = held_out["categories"], held_out["merchants"]
    assert cats["all"]["model"]["ndcg_at_10"] > cats["all"]["popularity"]["ndcg_at_10"] + 0.05
    assert merch["all"]["model"]["ndcg_at_10"] > merch["all"]["popularity"]["ndcg_at_10"] + 0.2
    assert merch["all"]["model"]["ndcg_at_10"] > merch["all"]["local_popularity"]["ndcg_at_10"]
    # New categories and new merchants are harder; on 400 customers the margin is small but positive.
    assert cats["new"]["model"]["ndcg_at_10"] > cats["new"]["popularity"]["ndcg_at_10"]
    assert merch["new"]["model"]["ndcg_at_10"] > merch["new"]["popularity"]["ndcg_at_10"]
    assert cats["all"]["model"]["users"] > 350


def test_card_adoption_is_scored_on_the_last_month_with_issuances(held_out: dict[str, Any]) -> None:
    adoption = held_out["card_adoption"]
    assert adoption["month"] == "2023-09"  # the generator issues no cards in the lake's last month
    assert adoption["adoptions"] >= adoption["customers"] > 5
    assert {"model", "popularity", "similar_members_share", "best_card_benefit"} <= set(adoption)
    assert adoption["model"]["ndcg_at_10"] >= adoption["popularity"]["ndcg_at_10"]
    rows = table(held_out)
    assert ("card adoption (2023-09)", "popularity") in {(r[0], r[1]) for r in rows}
    assert all(0 <= r[3] <= 1 and 0 <= r[4] <= 1 for r in rows)
    assert set(beats_baseline(held_out)) == {
        "categories.all",
        "categories.new",
        "merchants.all",
        "merchants.new",
        "card_adoption",
    }


def test_candidates_cover_history_and_discovery_and_the_model_separates_visits(lake: Lake) -> None:
    h, ref = lake.history, lake.ref
    t = h.month_index(date(2023, 8, 1))
    train = candidate_pairs(h, ref, t - 1)
    model = fit_merchant_model(train, visit_days_next(h, train, t - 1))
    test = candidate_pairs(h, ref, t)
    pairs = test.pairs
    assert set(pairs["source"]) == {"history", "discovery", "audience"}
    assert not pairs.duplicated(["c", "m"]).any()
    # A fixed order in and out (DuckDB's parallel aggregation keeps none): negatives are sampled by position.
    v = h.visits
    key = (v["t"].to_numpy() * len(ref.customers) + v["c"].to_numpy()) * len(ref.merchants) + v["m"].to_numpy()
    assert np.all(np.diff(key) > 0)
    pair_key = pairs["c"].to_numpy() * len(ref.merchants) + pairs["m"].to_numpy()
    assert np.all(np.diff(pair_key) > 0)
    bills = ref.recurring_mask[ref.merchants["category_index"].to_numpy()]
    assert not bills[pairs["m"].to_numpy()].any()  # monthly bills are paid, not recommended
    history_pairs = pairs[pairs["source"] == "history"]
    assert (history_pairs["days_6m"] > 0).all() and (pairs.loc[pairs["source"] != "history", "days_6m"] == 0).all()
    assert (pairs["regular"] == (pairs["active_months_6m"] >= REGULAR_MONTHS)).all()
    visit, repeat = model.predict(test)
    assert np.all(repeat <= visit + 1e-12)
    days = visit_days_next(h, test, t)
    assert visit[days > 0].mean() > 4 * visit[days == 0].mean()
    assert repeat[days >= 2].mean() > repeat[days == 1].mean()
    # The fitted model keeps no rows of its training data.
    assert len(pickle.dumps(model)) < 2_000_000


def test_the_customer_merchant_mart_counts_purchases_and_days(lake: Lake) -> None:
    con = connect(lake.path)
    try:
        month = date(2023, 9, 1)
        mart = pd.read_parquet(lake.marts.path(RM_CUSTOMER_MERCHANT.name, month))
        raw = con.sql(
            """SELECT customer_id, merchant_id, ts, amount_krw FROM transactions
               WHERE ts >= DATE '2023-09-01' AND ts < DATE '2023-10-01' AND NOT is_fraud"""
        ).df()
    finally:
        con.close()
    raw["day"] = raw["ts"].dt.date
    expected = raw.groupby(["customer_id", "merchant_id"]).agg(
        purchases=("ts", "size"), visit_days=("day", "nunique"), spend_krw=("amount_krw", "sum")
    )
    got = mart.set_index(["customer_id", "merchant_id"])[["purchases", "visit_days", "spend_krw"]]
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index(), check_dtype=False)
    assert (mart["month"] == pd.Timestamp(month).date()).all() or (
        pd.to_datetime(mart["month"]) == pd.Timestamp(month)
    ).all()


def test_recommendation_transforms_transpile_to_spark() -> None:
    for t in RECOMMEND_MARTS:
        bound = t.bind(**{p: date(2023, 9, 1) for p in t.params})
        spark = bound.sql_for("spark")
        parsed = sqlglot.parse_one(spark, read="spark")
        assert parsed.named_selects == sqlglot.parse_one(bound.sql, read="duckdb").named_selects
