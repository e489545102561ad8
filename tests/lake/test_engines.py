"""The same transforms on DuckDB and on Spark (local mode) give the same results: exact counts and
keys, floats within a tolerance. Foundation transforms, every monthly marketing and recommendation
mart, the window features, the segment grades, the cluster input and the VOC features, on the small
preset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cardwise.lake.sql import BatchEngine, DuckDBEngine
from cardwise.lake.store import connect
from cardwise.lake.transforms import FOUNDATION_TRANSFORMS
from cardwise.marketing.catalog import load_catalog
from cardwise.marketing.features import CUSTOMER_FEATURES, MONTHLY_MARTS
from cardwise.marketing.marts import add_months
from cardwise.marketing.segments import SEGMENT_GRADES
from cardwise.recommend.features import RECOMMEND_MARTS

pytestmark = pytest.mark.spark

MONTHS = [date(2023, m, 1) for m in range(6, 10)]  # four months: September's 3-month window and more
MONTH = MONTHS[-1]


def pipeline(engine: BatchEngine) -> dict[str, pa.Table]:
    out: dict[str, pa.Table] = {}
    for t in FOUNDATION_TRANSFORMS:
        out[t.name] = engine.run(t)
    # Monthly marts for six months, unioned under the mart's name as the marts store does.
    for t in (*MONTHLY_MARTS, *RECOMMEND_MARTS):
        parts = [engine.run(t.bind(month_start=m, month_end=add_months(m, 1))) for m in MONTHS]
        engine.unregister(t.name)
        out[t.name] = pa.concat_tables(parts, promote_options="default")
        engine.register(t.name, out[t.name])
    cat = load_catalog()
    engine.register("segment_rules", cat.segment_rules())
    engine.register("grade_scores", cat.grade_score_table())
    out["customer_features"] = engine.run(
        CUSTOMER_FEATURES.bind(
            month_start=MONTH,
            month_end=add_months(MONTH, 1),
            window6_start=add_months(MONTH, -5),
            window3_start=add_months(MONTH, -2),
        )
    )
    out["segment_grades"] = engine.run(SEGMENT_GRADES.bind(month_start=MONTH, window_start=add_months(MONTH, -2)))
    return out


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from cardwise.lake.spark import spark_session

    session = spark_session("local[2]", app_name="cardwise-tests", memory="2g", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def results(small_lake: Path, spark: Any) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    from cardwise.lake.spark import SparkEngine

    con = connect(small_lake)
    duck = pipeline(DuckDBEngine(con))
    con.close()
    return duck, pipeline(SparkEngine(spark, small_lake))


def test_the_monthly_batch_and_the_cluster_input_agree_on_both_engines(
    small_lake: Path, spark: Any, tmp_path: Path
) -> None:
    from cardwise.lake.marts import Marts
    from cardwise.lake.spark import SparkEngine
    from cardwise.marketing.batch import compute_month
    from cardwise.safety.clusters import spend_matrix

    con = connect(small_lake)
    try:
        on_duck = compute_month(con, Marts(tmp_path / "duck", small_lake), MONTH)
        engine = SparkEngine(spark, small_lake)
        on_spark = compute_month(con, Marts(tmp_path / "spark", small_lake), MONTH, engine=engine)
        key = ["target_group", "segment_code", "customer_id"]
        a = on_duck.grades.sort_values(key).reset_index(drop=True)
        b = on_spark.grades.sort_values(key).reset_index(drop=True)
        assert (
            a[["grade", "score", "avg_usage_krw", "in_segment"]]
            .astype("int64")
            .equals(b[["grade", "score", "avg_usage_krw", "in_segment"]].astype("int64"))
        )
        assert on_duck.counts() == on_spark.counts()
        c1, cats1, m1 = spend_matrix(con, MONTHS[0], add_months(MONTH, 1))
        c2, cats2, m2 = spend_matrix(con, MONTHS[0], add_months(MONTH, 1), engine)
        assert (c1 == c2).all() and cats1 == cats2 and np.allclose(m1, m2)
    finally:
        con.close()


def test_the_voc_features_agree_on_both_engines(small_lake: Path, spark: Any, tmp_path: Path) -> None:
    """The VOC snapshot (context, text and label aggregates over marts and text signals) on Spark."""
    from cardwise.lake.marts import Marts
    from cardwise.lake.spark import SparkEngine
    from cardwise.voc.dataset import history_for, prepare, snapshot
    from cardwise.voc.signals import TextSignals

    con = connect(small_lake)
    try:
        marts, signals = Marts(tmp_path, small_lake), TextSignals(tmp_path, small_lake)
        months = history_for(con, [MONTH])
        prepare(con, marts, signals, months)
        on_duck = snapshot(con, MONTH)
        engine = SparkEngine(spark, small_lake)
        prepare(con, marts, signals, months, engine=engine)
        on_spark = snapshot(con, MONTH, engine=engine)
    finally:
        con.close()
    assert list(on_duck.columns) == list(on_spark.columns)
    assert on_duck["customer_id"].tolist() == on_spark["customer_id"].tolist() and len(on_duck) > 100
    numeric = [c for c in on_duck.columns if c not in ("customer_id", "month")]
    assert on_duck[numeric].notna().sum().sum() > 0
    for c in numeric:
        x = on_duck[c].to_numpy(dtype=np.float64)
        y = on_spark[c].to_numpy(dtype=np.float64)
        assert np.allclose(x, y, rtol=1e-9, atol=1e-6, equal_nan=True), c


def _frame(t: pa.Table) -> pd.DataFrame:
    """Engine-neutral types: Spark answers DECIMAL where DuckDB answers DOUBLE, INT where BIGINT."""
    cols = {}
    for f, col in zip(t.schema, t.columns, strict=True):
        if pa.types.is_decimal(f.type) or pa.types.is_floating(f.type):
            col = col.cast(pa.float64())
        elif pa.types.is_date(f.type) or pa.types.is_timestamp(f.type):
            col = col.cast(pa.timestamp("us"))
        elif pa.types.is_integer(f.type):
            col = col.cast(pa.int64())
        cols[f.name] = col
    return pa.table(cols).to_pandas()


@pytest.mark.parametrize(
    "name",
    [t.name for t in (*FOUNDATION_TRANSFORMS, *MONTHLY_MARTS, *RECOMMEND_MARTS)]
    + ["customer_features", "segment_grades"],
)
def test_duckdb_and_spark_agree(results: tuple[dict[str, pa.Table], dict[str, pa.Table]], name: str) -> None:
    duck, spark = (_frame(r[name]) for r in results)
    assert list(duck.columns) == list(spark.columns)
    assert len(duck) == len(spark) > 0
    keys = [c for c in duck.columns if not pd.api.types.is_float_dtype(duck[c])]  # every exact column
    duck = duck.sort_values(keys).reset_index(drop=True)
    spark = spark.sort_values(keys).reset_index(drop=True)
    for c in duck.columns:
        a, b = duck[c], spark[c]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            x, y = a.to_numpy(dtype=np.float64), pd.to_numeric(b).to_numpy(dtype=np.float64)
            assert np.allclose(x, y, rtol=1e-9, atol=1e-6, equal_nan=True), c
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), c
