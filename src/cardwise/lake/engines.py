"""Choosing the batch engine from the settings (`CARDWISE_ENGINE`)."""

from __future__ import annotations

import duckdb

from cardwise.config import Settings
from cardwise.lake.sql import BatchEngine, DuckDBEngine


def batch_engine(settings: Settings, con: duckdb.DuckDBPyConnection) -> BatchEngine:
    """DuckDB on the given connection, or Spark (`CARDWISE_SPARK_MASTER`) over the same lake."""
    if settings.engine == "spark":
        from cardwise.lake.spark import SparkEngine, spark_session

        return SparkEngine(spark_session(settings.spark_master), settings.lake_dir)
    return DuckDBEngine(con)
