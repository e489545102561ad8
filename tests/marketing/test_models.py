"""The marketing models on held-out data of the small lake, against the ground truth and baselines."""

from __future__ import annotations

from datetime import date

import duckdb
import sqlglot

from cardwise.lake.marts import Marts
from cardwise.marketing.evaluation import evaluate_drop_model, evaluate_life_events
from cardwise.marketing.features import CUSTOMER_FEATURES, MONTHLY_MARTS
from cardwise.marketing.segments import SEGMENT_GRADES


def test_generated_life_events_are_raised_within_the_month_after(con: duckdb.DuckDBPyConnection, marts: Marts) -> None:
    result = evaluate_life_events(con, marts)
    events = sum(r["events"] for r in result.values())
    found = sum(round(r["recall"] * r["events"]) for r in result.values() if r["events"])
    triggers = sum(r["triggers"] for r in result.values())
    right = sum(round(r["precision"] * r["triggers"]) for r in result.values() if r["triggers"])
    assert events >= 20
    assert found / events >= 0.75, result
    assert right / triggers >= 0.6, result


def test_next_month_drop_model_beats_the_naive_baseline(con: duckdb.DuckDBPyConnection, marts: Marts) -> None:
    ev = evaluate_drop_model(con, marts, [date(2023, 8, 1), date(2023, 9, 1)])
    assert ev.test_rows > 300 and 0 < ev.test_positive_rate < 0.5
    assert ev.model_auc > ev.baseline_auc + 0.05, ev
    assert ev.model_ap > ev.baseline_ap, ev


def test_marketing_transforms_transpile_to_spark() -> None:
    for t in (*MONTHLY_MARTS, CUSTOMER_FEATURES, SEGMENT_GRADES):
        bound = t.bind(**{p: date(2023, 9, 1) for p in t.params})
        spark = bound.sql_for("spark")
        parsed = sqlglot.parse_one(spark, read="spark")
        assert parsed.named_selects == sqlglot.parse_one(bound.sql, read="duckdb").named_selects
