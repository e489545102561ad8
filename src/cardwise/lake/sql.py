"""Batch transformations written once, in one SQL dialect, run on DuckDB and on Spark.

Write them so both engines mean the same thing: no decimal literals in arithmetic (Spark types
`1.0` as DECIMAL and keeps its scale through AVG; use integers or CAST(... AS DOUBLE)), no
EXTRACT(DOW) (Sunday is 0 on DuckDB, 1 on Spark). tests/lake/test_engines.py runs them on both.

Why SQL + sqlglot rather than a dataframe API: the queries stay readable to the analysts who use
the portal, DuckDB runs them in-process on Parquet, and sqlglot transpiles the same text to Spark
SQL for the distributed path (docs/decisions.md, ADR 1). Transforms read lake tables (or earlier
transforms) by name and never open connections themselves: the engine is handed to them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot

SOURCE_DIALECT = "duckdb"


@dataclass(frozen=True)
class Transform:
    name: str
    description: str
    sql: str  # DuckDB dialect; table names are lake tables or other transforms
    inputs: tuple[str, ...]
    # Date parameters written `{name}` in the SQL; bound as DATE literals (dates are ours, never user
    # text), which keeps one SQL text for every engine instead of each engine's placeholder style.
    params: tuple[str, ...] = ()

    def bind(self, **values: date) -> Transform:
        if set(values) != set(self.params):
            raise ValueError(f"transform {self.name} takes {sorted(self.params)}, got {sorted(values)}")
        sql = self.sql
        for key, value in values.items():
            if not isinstance(value, date):
                raise TypeError(f"{key} must be a date")
            sql = sql.replace("{" + key + "}", f"DATE '{value.isoformat()}'")
        return replace(self, sql=sql, params=())

    def sql_for(self, dialect: str) -> str:
        if self.params:
            raise ValueError(f"transform {self.name} needs {', '.join(self.params)} bound first")
        return to_dialect(self.sql, dialect)


def to_dialect(sql: str, dialect: str) -> str:
    if dialect == SOURCE_DIALECT:
        return sql
    statements = sqlglot.transpile(
        sql, read=SOURCE_DIALECT, write=dialect, pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE
    )
    if len(statements) != 1:
        raise ValueError("a transform is exactly one SELECT statement")
    return statements[0]


class BatchEngine(Protocol):
    """What a pipeline needs from an engine: run a transform, keep its result under its name."""

    name: str

    def run(self, transform: Transform) -> pa.Table: ...

    def register(self, name: str, table: pa.Table) -> None: ...

    def unregister(self, name: str) -> None: ...


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def run(self, transform: Transform) -> pa.Table:
        result = self.con.sql(transform.sql_for(self.name)).to_arrow_table()
        # Later transforms read this one by name.
        self.con.register(transform.name, result)
        return result

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)


def other_engine(engine: BatchEngine | None) -> BatchEngine | None:
    """``engine`` when it is not DuckDB (Spark), else None: the caller's DuckDB connection does the work."""
    return engine if engine is not None and engine.name != "duckdb" else None


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """An engine's result as a frame with DuckDB's types: Spark answers DECIMAL where DuckDB answers DOUBLE."""
    columns = [c.cast(pa.float64()) if pa.types.is_decimal(c.type) else c for c in table.columns]
    frame: pd.DataFrame = pa.table(columns, names=table.column_names).to_pandas()
    return frame


def query_frame(con: duckdb.DuckDBPyConnection, transform: Transform, engine: BatchEngine | None) -> pd.DataFrame:
    """``transform``'s result as a frame, on ``engine`` when it is another engine than DuckDB, else on ``con``
    (the result is not kept under the transform's name on the other engine)."""
    elsewhere = other_engine(engine)
    if elsewhere is None:
        return con.sql(transform.sql_for("duckdb")).df()
    frame = arrow_frame(elsewhere.run(transform))
    elsewhere.unregister(transform.name)
    return frame


def run_pipeline(
    engine: BatchEngine, transforms: tuple[Transform, ...], available: frozenset[str] = frozenset()
) -> dict[str, pa.Table]:
    """Run transforms in order; each may read lake tables, ``available`` ones (e.g. marts the engine
    already sees) and the transforms before it."""
    done: dict[str, pa.Table] = {}
    for t in transforms:
        missing = [i for i in t.inputs if i not in done and i not in _LAKE_TABLES and i not in available]
        if missing:
            raise ValueError(f"transform {t.name} needs {', '.join(missing)} first")
        done[t.name] = engine.run(t)
    return done


def _lake_table_names() -> frozenset[str]:
    from cardwise.lake.schema import TABLES

    return frozenset(t.name for t in TABLES)


_LAKE_TABLES = _lake_table_names()
