"""Engine-neutral transforms: correct on DuckDB, transpilable to Spark SQL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlglot

from cardwise.lake.sql import DuckDBEngine, Transform, run_pipeline, to_dialect
from cardwise.lake.store import connect
from cardwise.lake.transforms import FOUNDATION_TRANSFORMS


@pytest.fixture(scope="module")
def results(small_lake: Path) -> dict[str, pd.DataFrame]:
    con = connect(small_lake)
    out = {k: v.to_pandas() for k, v in run_pipeline(DuckDBEngine(con), FOUNDATION_TRANSFORMS).items()}
    con.close()
    return out


@pytest.fixture(scope="module")
def tx(small_lake: Path) -> pd.DataFrame:
    df = pq.read_table(small_lake / "transactions").to_pandas()
    df = df[~df["is_fraud"]]
    df["month"] = df["ts"].dt.to_period("M").dt.to_timestamp().dt.date
    return df


def test_customer_month_category_matches_pandas(results: dict[str, pd.DataFrame], tx: pd.DataFrame) -> None:
    expected = tx.groupby(["customer_id", "month", "category_code"], observed=True)["amount_krw"].agg(["sum", "count"])
    got = results["customer_month_category"].set_index(["customer_id", "month", "category_code"]).sort_index()
    assert len(got) == len(expected)
    joined = got.join(expected, how="inner")
    assert (joined["spend_krw"] == joined["sum"]).all() and (joined["txn_count"] == joined["count"]).all()


def test_customer_month_matches_pandas(results: dict[str, pd.DataFrame], tx: pd.DataFrame) -> None:
    g = tx.groupby(["customer_id", "month"])
    expected = pd.DataFrame(
        {
            "spend": g["amount_krw"].sum(),
            "distinct_merchants": g["merchant_id"].nunique(),
            "online": g["channel"].apply(lambda s: (s == "online").mean()),
            "night": g["ts"].apply(lambda s: ((s.dt.hour >= 22) | (s.dt.hour < 6)).mean()),
        }
    )
    got = results["customer_month"].set_index(["customer_id", "month"]).join(expected, how="inner")
    assert len(got) == len(expected)
    assert (got["spend_krw"] == got["spend"]).all()
    assert (got["merchants"] == got["distinct_merchants"]).all()
    assert (got["online_share"] - got["online"]).abs().max() < 1e-9
    assert (got["night_share"] - got["night"]).abs().max() < 1e-9


def test_group_totals_equal_category_totals(results: dict[str, pd.DataFrame]) -> None:
    assert results["category_group_month"]["spend_krw"].sum() == results["customer_month_category"]["spend_krw"].sum()


@pytest.mark.parametrize("transform", FOUNDATION_TRANSFORMS, ids=lambda t: t.name)
def test_transpiles_to_spark(transform: Transform) -> None:
    spark_sql = transform.sql_for("spark")
    parsed = sqlglot.parse_one(spark_sql, read="spark")
    assert parsed.find(sqlglot.exp.Select) is not None
    # Spark's parse of the transpiled text keeps every output column.
    duck = sqlglot.parse_one(transform.sql, read="duckdb")
    assert parsed.named_selects == duck.named_selects


def test_pipeline_order_is_checked() -> None:
    later = FOUNDATION_TRANSFORMS[2]
    with pytest.raises(ValueError, match="needs customer_month_category first"):
        run_pipeline(DuckDBEngine(__import__("duckdb").connect()), (later,))


def test_untranslatable_sql_is_refused() -> None:
    with pytest.raises(ValueError):
        to_dialect("SELECT 1; SELECT 2", "spark")
