"""The Spark engine: the same transforms, transpiled to Spark SQL, on a Spark session (local mode
here, a cluster URL in production via `CARDWISE_SPARK_MASTER`).

Lake tables become temporary views over their Parquet folders (partition folders discovered as Spark
does); a transform's result is a temporary view under its name, so later transforms read it as they
do on DuckDB. Results come back as Arrow tables, so the rest of the platform does not care which
engine ran them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from cardwise.lake.schema import TABLES
from cardwise.lake.sql import Transform
from cardwise.lake.store import read_manifest, table_dir

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def spark_session(
    master: str = "local[2]", *, app_name: str = "cardwise", memory: str = "4g", shuffle_partitions: int = 8
) -> SparkSession:
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")  # the lake's times are wall-clock values without a zone
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.memory", memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


class SparkEngine:
    name = "spark"

    def __init__(self, spark: SparkSession, lake: Path, *, include_restricted: bool = False) -> None:
        read_manifest(lake)
        self.spark = spark
        for t in TABLES:
            if t.restricted and not include_restricted:
                continue
            base = table_dir(lake, t)
            if not any(base.glob("**/*.parquet")):
                self.register(t.name, t.arrow_schema.empty_table())
                continue
            # Partition folders (month=YYYY-MM) are discovered from the table folder, as DuckDB's hive
            # partitioning does; files starting with "." (the exporter's temporary files) are ignored.
            spark.read.parquet(str(base)).createOrReplaceTempView(t.name)

    def register(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)  # Arrow tables directly (Spark 4)

    def register_files(self, name: str, files: list[Path]) -> None:
        """A view over given Parquet files (e.g. monthly marts)."""
        self.spark.read.parquet(*(str(f) for f in files)).createOrReplaceTempView(name)

    def run(self, transform: Transform) -> pa.Table:
        df = self.spark.sql(transform.sql_for(self.name))
        df.createOrReplaceTempView(transform.name)
        result: pa.Table = df.toArrow()
        return result

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
