"""Local log queries: DuckDB over the JSON-lines files in ``settings.log_dir``.

The files hold ECS documents of several shapes (nested objects such as ``event.action`` next to the dotted
``log.level``), so instead of letting ``read_json_auto`` guess one schema from a sample, the ``logs`` view
reads each line as JSON and extracts the ECS fields the platform writes into typed columns, keeping the
whole document in ``json``. A half-written last line is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

# column name, JSON path, SQL type
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("ts", '$."@timestamp"', "TIMESTAMP"),  # UTC (the files' "Z" times; naive, so no pytz is needed)
    ("level", '$."log.level"', "VARCHAR"),
    ("logger", "$.log.logger", "VARCHAR"),
    ("message", "$.message", "VARCHAR"),
    ("dataset", "$.event.dataset", "VARCHAR"),
    ("kind", "$.event.kind", "VARCHAR"),
    ("action", "$.event.action", "VARCHAR"),
    ("outcome", "$.event.outcome", "VARCHAR"),
    ("user_id", "$.user.id", "VARCHAR"),
    ("user_name", "$.user.name", "VARCHAR"),
    ("source_ip", "$.source.ip", "VARCHAR"),
    ("method", "$.http.request.method", "VARCHAR"),
    ("path", "$.url.path", "VARCHAR"),
    ("status", "$.http.response.status_code", "INTEGER"),
    ("duration_ns", "$.event.duration", "BIGINT"),
)
MAX_ROWS = 1000


def log_files(log_dir: Path) -> list[Path]:
    return sorted(log_dir.glob("*.jsonl")) if log_dir.is_dir() else []


def connect(log_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a ``logs`` view over every ``*.jsonl`` file in ``log_dir``."""
    con = duckdb.connect(":memory:")
    con.execute("SET threads TO 1")  # small files; leave the cores to the server
    files = [str(p) for p in log_files(log_dir)]
    cols = ", ".join(f"TRY_CAST(json_extract_string(json, '{path}') AS {typ}) AS {name}" for name, path, typ in COLUMNS)
    if files:
        source = f"read_ndjson_objects({files!r}, ignore_errors = true)"
        con.execute(f"CREATE VIEW logs AS SELECT {cols}, json FROM {source} WHERE json IS NOT NULL")
    else:  # an empty view with the same columns, so queries still run
        empty = ", ".join(f"CAST(NULL AS {typ}) AS {name}" for name, _, typ in COLUMNS)
        con.execute(f"CREATE VIEW logs AS SELECT {empty}, CAST(NULL AS JSON) AS json WHERE false")
    return con


def run_sql(log_dir: Path, sql: str, *, max_rows: int = MAX_ROWS) -> tuple[list[str], list[tuple[Any, ...]]]:
    """An operator's SQL over the ``logs`` view (the CLI); at most ``max_rows`` rows."""
    con = connect(log_dir)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description or []]
        return names, cur.fetchmany(max_rows)
    finally:
        con.close()


@dataclass(frozen=True)
class LogFilter:
    action: str | None = None
    dataset: str | None = None
    since: datetime | None = None
    q: str | None = None
    user_id: str | None = None
    limit: int = 100
    offset: int = 0


def search(log_dir: Path, f: LogFilter) -> list[dict[str, Any]]:
    """Newest first, parameterised (no SQL from the caller): the back office's log view."""
    where: list[str] = ["true"]
    params: list[object] = []
    if f.action:
        where.append("action = ?")
        params.append(f.action)
    if f.dataset:
        where.append("dataset = ?")
        params.append(f.dataset)
    if f.since is not None:
        where.append("ts >= ?")
        since = f.since.astimezone(UTC).replace(tzinfo=None) if f.since.tzinfo else f.since
        params.append(since)
    if f.q:
        where.append("message ILIKE ? ESCAPE '\\'")
        params.append("%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if f.user_id:
        where.append("user_id = ?")
        params.append(f.user_id)
    names = [c[0] for c in COLUMNS]
    sql = (
        f"SELECT {', '.join(names)} FROM logs WHERE {' AND '.join(where)} "
        f"ORDER BY ts DESC NULLS LAST LIMIT {int(f.limit)} OFFSET {int(f.offset)}"
    )
    con = connect(log_dir)
    try:
        rows = con.execute(sql, params).fetchall()
    finally:
        con.close()
    return [dict(zip(names, r, strict=True)) for r in rows]
