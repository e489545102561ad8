"""Read-only SQL on the lake for the analyst portal (D4).

Every query gets a fresh in-memory DuckDB connection that holds only the tables the analyst's role may
read, as views over their Parquet files, and is then locked down before the analyst's SQL touches it:

- file access is switched off except for the allowed tables' own directories (no ``read_csv('/etc/…')``,
  no ``COPY … TO``, no ``ATTACH``, no ``INSTALL``/``LOAD``), and the configuration is locked (no ``SET``);
- exactly one ``SELECT`` statement is accepted (no ``PRAGMA``, ``CREATE``, ``INSERT`` …);
- a lake table the role may not read is refused by name before anything runs (it is not in the
  connection either); restricted identity data is never attached at all;
- the result is cut at a row limit (the query is wrapped in ``LIMIT n + 1`` so DuckDB stops early) and
  a timer interrupts the query at its time limit;
- cells that look like a card or resident registration number are masked on the way out (pages, CSV).
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from cardwise.lake.schema import TABLES, TABLES_BY_NAME, Table
from cardwise.lake.store import parquet_glob, read_manifest, table_dir
from cardwise.privacy.masking import mask_pii

DEFAULT_ROW_LIMIT = 1_000
MAX_ROW_LIMIT = 10_000
CSV_ROW_LIMIT = 100_000
DEFAULT_TIMEOUT_S = 10.0
MAX_SQL_CHARS = 20_000
_MANY_DIGITS = re.compile(r"\d[\d\s-]{10,}\d")  # a cell worth handing to the PII masker (12+ digits, spaced)


class QueryRefused(ValueError):
    """The query is not allowed (a forbidden table, a write, file access); the message says why."""


class QueryFailed(ValueError):
    """The query is allowed but DuckDB could not run it (syntax, unknown column …); DuckDB's first line."""


class QueryTimeout(QueryFailed):
    """The query ran past its time limit and was interrupted."""


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    description: str
    nullable: bool


@dataclass(frozen=True)
class TableInfo:
    name: str
    description: str
    rows: int
    partitioned_by_month: str | None
    columns: tuple[ColumnInfo, ...]


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows exist than the limit
    row_limit: int
    elapsed_ms: float


def browsable(allowed: Iterable[str]) -> list[Table]:
    """The lake tables an analyst with these table permissions sees, in schema order; never restricted ones."""
    names = set(allowed)
    return [t for t in TABLES if t.name in names and not t.restricted]


def table_infos(lake: Path, allowed: Iterable[str]) -> list[TableInfo]:
    """The visible tables with their columns and row counts from the manifest (no Parquet is opened)."""
    try:
        counts = read_manifest(lake).get("tables", {})
    except Exception:
        counts = {}
    assert isinstance(counts, dict)
    out = []
    for t in browsable(allowed):
        columns = [ColumnInfo(c.name, str(c.type), c.description, c.nullable) for c in t.columns]
        if t.partitioned_by_month:
            columns.append(ColumnInfo("month", "string", f"Partition: the month of {t.partitioned_by_month}.", False))
        out.append(TableInfo(t.name, t.description, int(counts.get(t.name, 0)), t.partitioned_by_month, tuple(columns)))
    return out


def _referenced_tables(sql: str) -> set[str]:
    """Plain table names the statement reads, CTE names excluded (a best effort; DuckDB is the backstop)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return set()  # DuckDB reports the syntax error itself
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes}


def check_statement(sql: str, allowed: frozenset[str]) -> str:
    """The one SELECT statement in ``sql`` (trailing semicolons removed), or :class:`QueryRefused`."""
    text = sql.strip()
    if not text:
        raise QueryRefused("쿼리를 입력하세요. (Enter a query.)")
    if len(text) > MAX_SQL_CHARS:
        raise QueryRefused(f"쿼리가 너무 깁니다 (최대 {MAX_SQL_CHARS:,}자). (The query is too long.)")
    try:
        statements = duckdb.connect().extract_statements(text)
    except duckdb.Error as exc:
        raise QueryFailed(_first_line(exc)) from None
    if len(statements) != 1:
        raise QueryRefused("한 번에 하나의 SELECT 문만 실행할 수 있습니다. (One SELECT statement at a time.)")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        kind = str(statement.type).rsplit(".", 1)[-1]
        raise QueryRefused(f"읽기 전용입니다: {kind} 문은 실행할 수 없습니다. (Read-only: {kind} is not allowed.)")
    forbidden = sorted(
        name for name in _referenced_tables(statement.query) if name in TABLES_BY_NAME and name not in allowed
    )
    if forbidden:
        names = ", ".join(forbidden)
        raise QueryRefused(f"테이블 조회 권한이 없습니다: {names}. (Your role may not query: {names}.)")
    return statement.query.strip().rstrip(";").strip()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:500] if str(exc).strip() else type(exc).__name__


def _quote(path: str) -> str:
    return path.replace("'", "''")


def locked_connection(lake: Path, allowed: Iterable[str], *, threads: int = 1, memory_limit: str = "1GB") -> Any:
    """An in-memory DuckDB connection with views for the allowed tables only; file access limited to those
    tables' directories, extensions off, configuration locked."""
    lake = lake.resolve()
    read_manifest(lake)
    con = duckdb.connect(":memory:")
    dirs: list[str] = []
    for t in browsable(allowed):
        base = table_dir(lake, t)
        if not any(base.glob("**/*.parquet")):
            con.register(f"_empty_{t.name}", t.arrow_schema.empty_table())
            con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM _empty_{t.name}")
            continue
        hive = ", hive_partitioning = true" if t.partitioned_by_month else ""
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM read_parquet('{_quote(parquet_glob(lake, t))}'{hive})")
        dirs.append(f"'{_quote(str(base))}/'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET allowed_directories = [{', '.join(dirs)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")
    return con


def mask_cell(value: Any) -> Any:
    """A cell as shown or exported: strings that could hold a card or resident number pass the masker."""
    if isinstance(value, str) and _MANY_DIGITS.search(value):
        return mask_pii(value)
    return value


def _fetch(con: Any, sql: str, limit: int, timeout_s: float) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    fired = False
    try:
        cur = con.execute(f"SELECT * FROM ({sql}) AS q LIMIT {int(limit) + 1}")
        columns = tuple(d[0] for d in cur.description or ())
        rows = cur.fetchmany(limit + 1)
    except duckdb.InterruptException:
        fired = True
        raise QueryTimeout(
            f"시간 제한({timeout_s:g}초)을 넘어 중단했습니다. (Stopped after {timeout_s:g} s.)"
        ) from None
    except duckdb.PermissionException:
        raise QueryRefused("파일·설정 접근은 허용되지 않습니다. (File and settings access is not allowed.)") from None
    except duckdb.CatalogException as exc:
        raise QueryFailed(_first_line(exc)) from None
    except duckdb.Error as exc:
        raise QueryFailed(_first_line(exc)) from None
    finally:
        timer.cancel()
        if not fired:
            timer.join()
    return columns, rows


def run_query(
    lake: Path,
    sql: str,
    *,
    allowed: frozenset[str],
    row_limit: int = DEFAULT_ROW_LIMIT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> QueryResult:
    """Run one read-only SELECT over the allowed tables; at most ``row_limit`` rows, at most ``timeout_s``."""
    if not 1 <= row_limit <= CSV_ROW_LIMIT:
        raise QueryRefused(f"행 제한은 1~{CSV_ROW_LIMIT:,} 사이여야 합니다. (Row limit out of range.)")
    statement = check_statement(sql, allowed)
    started = time.perf_counter()
    con = locked_connection(lake, allowed)
    try:
        columns, rows = _fetch(con, statement, row_limit, timeout_s)
    finally:
        con.close()
    truncated = len(rows) > row_limit
    masked = [tuple(mask_cell(v) for v in row) for row in rows[:row_limit]]
    return QueryResult(columns, masked, truncated, row_limit, round((time.perf_counter() - started) * 1000, 1))


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document (UTF-8 with a BOM so spreadsheet programs read Korean), cells masked."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(mask_cell(v)) for v in row])
    return buf.getvalue()
