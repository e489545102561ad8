"""Derived tables ("marts") computed from the lake one month at a time.

Layout: ``<root>/<table>/month=YYYY-MM.parquet``. Each file carries, in its Parquet metadata, the
fingerprint of what it was computed from (the lake's manifest and the transform's SQL), so a
regenerated lake or a changed transform makes the month stale and it is computed again, while an
unchanged month is reused: monthly batches are incremental. Files are written to a temporary name
and renamed, so a reader never sees half a month.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cardwise.lake.sql import Transform
from cardwise.lake.store import MANIFEST, read_manifest

_FINGERPRINT_KEY = b"cardwise.fingerprint"


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


class Marts:
    def __init__(self, root: Path, lake: Path) -> None:
        read_manifest(lake)  # a clear error when there is no lake
        self.root = root
        self.lake = lake
        self._lake_hash = hashlib.sha256((lake / MANIFEST).read_bytes()).hexdigest()[:16]

    def fingerprint(self, transform: Transform, month: date) -> str:
        """The lake, the SQL, and the month's transaction files: rows the exporter appends to a month
        (near-real-time ingestion) make that month's marts stale, and only that month's."""
        files = sorted(
            (f.name, f.stat().st_size)
            for f in (self.lake / "transactions" / f"month={month_key(month)}").glob("*.parquet")
        )
        month_hash = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
        return f"{self._lake_hash}:{hashlib.sha256(transform.sql.encode()).hexdigest()[:16]}:{month_hash}"

    def path(self, table: str, month: date) -> Path:
        return self.root / table / f"month={month_key(month)}.parquet"

    def is_current(self, transform: Transform, month: date) -> bool:
        path = self.path(transform.name, month)
        if not path.exists():
            return False
        meta = pq.read_schema(path).metadata or {}
        return meta.get(_FINGERPRINT_KEY) == self.fingerprint(transform, month).encode()

    def write(self, transform: Transform, month: date, table: pa.Table) -> Path:
        path = self.path(transform.name, month)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(table.schema.metadata or {})
        meta[_FINGERPRINT_KEY] = self.fingerprint(transform, month).encode()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(table.replace_schema_metadata(meta), tmp, compression="zstd")
        os.replace(tmp, path)
        return path

    def register(self, con: duckdb.DuckDBPyConnection, table: str, months: Iterable[date]) -> None:
        """A view named ``table`` over the given months (each must have been computed)."""
        files = [self.path(table, m) for m in months]
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise FileNotFoundError(f"mart partitions not computed: {', '.join(missing)}")
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet([{listing}])")
