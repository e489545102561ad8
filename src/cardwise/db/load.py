"""`cardwise db load`: reference data, customers, cards and merchants from the lake into the
relational store. Rows already present are kept, so a reload after new data only adds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from cardwise.db import models
from cardwise.lake.schema import table as lake_table
from cardwise.lake.store import read_manifest, table_dir
from cardwise.notify.models import CustomerContact
from cardwise.privacy.crypto import identity_row

Progress = Callable[[str, int], None]

# Order matters: referenced tables first.
LOADS: tuple[tuple[str, type[models.Base]], ...] = (
    ("categories", models.Category),
    ("regions", models.Region),
    ("products", models.Product),
    ("customers", models.Customer),
    ("merchants", models.Merchant),
    ("cards", models.Card),
    ("customer_identity", CustomerContact),
)
BATCH = 5_000


def _read(lake: Path, name: str) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(table_dir(lake, lake_table(name)))


def _rows(name: str, tbl: pa.Table) -> Iterator[list[dict[str, Any]]]:
    for batch in tbl.to_batches(max_chunksize=BATCH):
        rows = batch.to_pylist()
        if name == "products":
            for r in rows:
                r["rules"] = json.loads(r.pop("benefits_json"))
        elif name == "customer_identity":
            rows = [identity_row(r) for r in rows]
        yield rows


def _insert_ignoring_existing(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - other back ends get plain inserts
        stmt = table.insert()
    result = conn.execute(stmt, rows)
    return max(result.rowcount or 0, 0)


def load_lake(conn: Connection, lake: Path, progress: Progress = lambda _n, _k: None) -> dict[str, int]:
    """Load inside the caller's transaction; returns rows present per table afterwards."""
    read_manifest(lake)
    counts: dict[str, int] = {}
    for name, model in LOADS:
        table = model.__table__
        assert isinstance(table, Table)
        tbl = _read(lake, name)
        columns = {c.name for c in table.columns}
        src_cols = [c for c in tbl.column_names if c in columns or (name == "products" and c == "benefits_json")]
        tbl = tbl.select(src_cols)
        for rows in _rows(name, tbl):
            _insert_ignoring_existing(conn, table, rows)
            progress(name, len(rows))
        counts[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        if conn.dialect.name == "postgresql":
            # Fresh statistics, or the planner guesses badly on the hot paths until autovacuum catches up.
            conn.execute(text(f'ANALYZE "{table.name}"'))
    return counts
