"""Monthly marts for marketing: computed once per month and lake, reused by every later run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import duckdb

from cardwise.lake.marts import Marts
from cardwise.lake.sql import BatchEngine, DuckDBEngine, Transform
from cardwise.marketing.features import MONTHLY_MARTS


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    months, m = [], first
    while m <= last:
        months.append(m)
        m = add_months(m, 1)
    return months


def lake_months(con: duckdb.DuckDBPyConnection) -> list[date]:
    """The months the lake's transactions cover."""
    rows = con.execute("SELECT MIN(ts), MAX(ts) FROM transactions").fetchall()
    lo, hi = rows[0] if rows else (None, None)
    if lo is None or hi is None:
        return []
    return month_range(date(lo.year, lo.month, 1), date(hi.year, hi.month, 1))


def ensure_monthly_marts(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    months: Iterable[date],
    *,
    force: bool = False,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
    transforms: tuple[Transform, ...] = MONTHLY_MARTS,
) -> int:
    """Compute the monthly marts that are missing or stale; returns how many partitions were written.
    ``engine`` runs the scans of the raw transactions (DuckDB on ``con`` by default, or Spark);
    ``transforms`` are the marketing marts unless another domain passes its own."""
    engine = engine or DuckDBEngine(con)
    written = 0
    for month in months:
        for transform in transforms:
            if not force and marts.is_current(transform, month):
                continue
            step(f"{transform.name} {month:%Y-%m}")
            table = engine.run(transform.bind(month_start=month, month_end=add_months(month, 1)))
            engine.unregister(transform.name)  # the month's result must not shadow the mart views
            marts.write(transform, month, table)
            written += 1
    return written


def register_marts(
    con: duckdb.DuckDBPyConnection, marts: Marts, months: list[date], transforms: tuple[Transform, ...] = MONTHLY_MARTS
) -> None:
    for transform in transforms:
        marts.register(con, transform.name, months)
