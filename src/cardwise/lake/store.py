"""Writing and opening the lake.

A lake is written into a temporary sibling directory and renamed into place at the end, so an
interrupted run never leaves half a lake where readers look; an existing lake is only replaced
when asked to.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cardwise.lake.schema import TABLES, Table

MANIFEST = "_manifest.json"
RESTRICTED_DIR = "_restricted"
FORMAT_VERSION = 1


class LakeError(Exception):
    """A lake cannot be written or read as asked; the message says why."""


def table_dir(lake: Path, t: Table) -> Path:
    return lake / RESTRICTED_DIR / t.name if t.restricted else lake / t.name


def _write_parquet(tbl: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed writer settings (no statistics of write time, one row-group size) keep the bytes reproducible.
    pq.write_table(tbl, path, compression="zstd", row_group_size=512 * 1024, write_statistics=True, use_dictionary=True)


def _month_slices(tbl: pa.Table, column: str) -> Iterator[tuple[str, pa.Table]]:
    months = tbl[column].to_numpy().astype("datetime64[M]")
    if len(months) and not np.all(months[1:] >= months[:-1]):
        order = np.argsort(months, kind="stable")
        tbl, months = tbl.take(pa.array(order)), months[order]
    boundaries = np.concatenate([[0], np.flatnonzero(months[1:] != months[:-1]) + 1, [len(months)]])
    for lo, hi in itertools.pairwise(boundaries.tolist()):
        if hi > lo:
            yield str(months[lo]), tbl.slice(lo, hi - lo)


def write_tables(tables: dict[str, pa.Table], dest: Path, meta: dict[str, object]) -> dict[str, object]:
    """Write every table under ``dest`` (which must be empty) and a manifest with hashes and counts."""
    jobs: list[tuple[str, pa.Table, Path]] = []
    generated = [t for t in TABLES if t.source != "ingested"]  # ingested tables fill up later
    for t in generated:
        tbl = tables[t.name]
        base = table_dir(dest, t)
        if t.partitioned_by_month:
            jobs += [
                (t.name, part, base / f"month={month}" / "part-0.parquet")
                for month, part in _month_slices(tbl, t.partitioned_by_month)
            ]
        else:
            jobs.append((t.name, tbl, base / "part-0.parquet"))

    def write(job: tuple[str, pa.Table, Path]) -> dict[str, object]:
        name, tbl, path = job
        _write_parquet(tbl, path)
        return {
            "table": name,
            "path": str(path.relative_to(dest)),
            "rows": tbl.num_rows,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }

    # Parquet encoding and hashing release the GIL: two threads use both cores. Output order is fixed.
    with ThreadPoolExecutor(max_workers=2) as pool:
        files = list(pool.map(write, jobs))
    manifest = {
        "format_version": FORMAT_VERSION,
        **meta,
        "tables": {t.name: sum(int(f["rows"]) for f in files if f["table"] == t.name) for t in generated},  # type: ignore[call-overload]
        "files": files,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return manifest


def check_writable(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise LakeError(f"{out} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise LakeError(f"a lake already exists at {out}; pass --overwrite to replace it")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LakeError(f"cannot create {parent}: {exc.strerror}") from None
    try:  # a real probe: permission bits say nothing for root or on read-only file systems
        probe = Path(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent))
        probe.rmdir()
    except OSError as exc:
        raise LakeError(f"cannot write to {parent}: {exc.strerror}") from None


@contextmanager
def atomic_lake(out: Path, *, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``out``, on failure it disappears."""
    check_writable(out, overwrite)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the lake should read like any directory
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(lake: Path) -> dict[str, object]:
    path = lake / MANIFEST
    if not path.exists():
        raise LakeError(f"no lake at {lake} (missing {MANIFEST}); run `cardwise generate` first")
    data: dict[str, object] = json.loads(path.read_text())
    return data


def parquet_glob(lake: Path, t: Table) -> str:
    base = table_dir(lake, t)
    return str(base / "*" / "*.parquet") if t.partitioned_by_month else str(base / "*.parquet")


def connect(
    lake: Path, *, include_restricted: bool = False, tables: Callable[[Table], bool] = lambda _: True
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per lake table (restricted ones only on request)."""
    read_manifest(lake)
    con = duckdb.connect()
    for t in TABLES:
        if (t.restricted and not include_restricted) or not tables(t):
            continue
        if not any(table_dir(lake, t).glob("**/*.parquet")):
            # Nothing written yet (e.g. no ingested rows): an empty table with the declared columns.
            con.register(f"_empty_{t.name}", t.arrow_schema.empty_table())
            con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM _empty_{t.name}")
            continue
        glob = parquet_glob(lake, t).replace("'", "''")
        hive = ", hive_partitioning = true" if t.partitioned_by_month else ""
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM read_parquet('{glob}'{hive})")
    return con


def write_duckdb_catalog(lake: Path, path: Path) -> None:
    """A DuckDB file with the same views, for the DuckDB CLI and notebooks (absolute paths)."""
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        for t in TABLES:
            if t.restricted or t.source == "ingested":  # ingested tables may have no files yet
                continue
            glob = parquet_glob(lake.resolve(), t).replace("'", "''")
            hive = ", hive_partitioning = true" if t.partitioned_by_month else ""
            con.execute(f"CREATE OR REPLACE VIEW {t.name} AS SELECT * FROM read_parquet('{glob}'{hive})")
    finally:
        con.close()
