"""Benchmark: the same batch pipeline on DuckDB and on Spark (local mode), across data sizes.

    .venv/bin/python bench/engines.py [--presets small,seed002,seed000] [--master local[2]]

The pipeline: the foundation transforms over all transactions, then every monthly marketing mart for
every month (5 marts x 13 months), results collected as Arrow. Lakes are generated under
$CARDWISE_DATA_DIR/bench-lakes/<preset> when absent (seed002 reuses $CARDWISE_DATA_DIR/lake).
Prints seconds per engine and preset and the growth from one preset to the next against the growth
in transactions read and in result rows written (the marts are per customer and month, so seed000's
893k customers make seven times seed002's result rows from about as many transactions); time growing
no faster than the data is linear or better. Last line: JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from cardwise.config import Settings
from cardwise.lake.build import build_lake
from cardwise.lake.sql import BatchEngine, DuckDBEngine
from cardwise.lake.store import MANIFEST, connect, read_manifest
from cardwise.lake.transforms import FOUNDATION_TRANSFORMS
from cardwise.marketing.features import MONTHLY_MARTS
from cardwise.marketing.marts import add_months, lake_months
from cardwise.synth.presets import get_preset


def lake_for(settings: Settings, preset: str) -> Path:
    path = settings.lake_dir if preset == "seed002" else settings.data_dir / "bench-lakes" / preset
    if not (path / MANIFEST).exists():
        print(f"  generating {preset} into {path} …", flush=True)
        build_lake(get_preset(preset), seed=42, out=path, overwrite=True, pan_key=settings.pan_hmac_key)
    return path


def run(engine: BatchEngine, months: list) -> int:  # type: ignore[type-arg]
    rows = 0
    for t in FOUNDATION_TRANSFORMS:
        rows += engine.run(t).num_rows
    for month in months:
        for t in MONTHLY_MARTS:
            rows += engine.run(t.bind(month_start=month, month_end=add_months(month, 1))).num_rows
            engine.unregister(t.name)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presets", default="small,seed002,seed000")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    settings = Settings()
    from cardwise.lake.spark import SparkEngine, spark_session

    spark = spark_session(args.master, app_name="cardwise-bench", memory="8g")
    figures: dict[str, dict[str, float]] = {}
    try:
        for preset in args.presets.split(","):
            lake = lake_for(settings, preset)
            transactions = int(read_manifest(lake)["tables"]["transactions"])  # type: ignore[index]
            con = connect(lake)
            months = lake_months(con)
            t0 = time.perf_counter()
            duck_rows = run(DuckDBEngine(con), months)
            duck_s = time.perf_counter() - t0
            con.close()
            t0 = time.perf_counter()
            spark_rows = run(SparkEngine(spark, lake), months)
            spark_s = time.perf_counter() - t0
            assert duck_rows == spark_rows, (preset, duck_rows, spark_rows)
            figures[preset] = {
                "transactions": transactions,
                "duckdb_s": round(duck_s, 2),
                "spark_s": round(spark_s, 2),
                "result_rows": duck_rows,
            }
            print(
                f"  {preset}: {transactions:,} transactions, DuckDB {duck_s:.1f} s, Spark {spark_s:.1f} s", flush=True
            )
    finally:
        spark.stop()
    names = list(figures)
    growth = {}
    for a, b in itertools.pairwise(names):
        data = figures[b]["transactions"] / figures[a]["transactions"]
        growth[f"{a}->{b}"] = {
            "data_x": round(data, 2),
            "result_rows_x": round(figures[b]["result_rows"] / figures[a]["result_rows"], 2),
            "duckdb_x": round(figures[b]["duckdb_s"] / figures[a]["duckdb_s"], 2),
            "spark_x": round(figures[b]["spark_s"] / figures[a]["spark_s"], 2),
        }
    print(json.dumps({"presets": figures, "growth": growth}))


if __name__ == "__main__":
    main()
