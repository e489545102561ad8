"""`cardwise lake check`: schema, keys, references and value ranges of a lake, in DuckDB."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from cardwise.lake.schema import INGESTED_TRANSACTION_ID_BASE, TABLES, Table
from cardwise.lake.store import LakeError, connect, read_manifest


@dataclass(frozen=True)
class Problem:
    table: str
    check: str
    detail: str


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def check_files(lake: Path, manifest: dict[str, object]) -> list[Problem]:
    problems = []
    files = manifest.get("files", [])
    assert isinstance(files, list)
    for f in files:
        path = lake / f["path"]
        if not path.exists():
            problems.append(Problem(f["table"], "file", f"missing {f['path']}"))
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != f["sha256"]:
            problems.append(Problem(f["table"], "file", f"{f['path']} does not match its manifest hash"))
            continue
        if pq.ParquetFile(path).metadata.num_rows != f["rows"]:
            problems.append(Problem(f["table"], "file", f"{f['path']} row count differs from the manifest"))
    return problems


def check_schema(con: duckdb.DuckDBPyConnection, t: Table) -> list[Problem]:
    actual = {row[0]: row[1] for row in con.execute(f"DESCRIBE {t.name}").fetchall()}
    actual.pop("month", None)  # hive partition column
    problems = []
    expected = {c.name for c in t.columns}
    for missing in sorted(expected - set(actual)):
        problems.append(Problem(t.name, "schema", f"missing column {missing}"))
    for extra in sorted(set(actual) - expected):
        problems.append(Problem(t.name, "schema", f"unexpected column {extra}"))
    type_map = {
        "int64": "BIGINT",
        "int32": "INTEGER",
        "int16": "SMALLINT",
        "int8": "TINYINT",
        "string": "VARCHAR",
        "bool": "BOOLEAN",
        "double": "DOUBLE",
        "date32[day]": "DATE",
        "timestamp[us]": "TIMESTAMP",
    }
    for c in t.columns:
        want = type_map.get(str(c.type))
        if c.name in actual and want and actual[c.name] != want:
            problems.append(Problem(t.name, "schema", f"{c.name} is {actual[c.name]}, expected {want}"))
    return problems


def check_values(con: duckdb.DuckDBPyConnection, t: Table) -> list[Problem]:
    problems: list[Problem] = []

    def count(sql: str) -> int:
        row = con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    key = ", ".join(_q(k) for k in t.primary_key)
    dup = count(f"SELECT count(*) FROM (SELECT {key} FROM {t.name} GROUP BY {key} HAVING count(*) > 1)")
    if dup:
        problems.append(Problem(t.name, "primary key", f"{dup} duplicated keys ({key})"))
    for c in t.columns:
        col = _q(c.name)
        if not c.nullable and (n := count(f"SELECT count(*) FROM {t.name} WHERE {col} IS NULL")):
            problems.append(Problem(t.name, "not null", f"{n} nulls in {c.name}"))
        if c.allowed and (
            n := count(
                f"SELECT count(*) FROM {t.name} WHERE {col} IS NOT NULL AND {col} NOT IN ({_sql_list(c.allowed)})"
            )
        ):
            problems.append(Problem(t.name, "allowed values", f"{n} rows with an unknown {c.name}"))
        if c.min_value is not None and (n := count(f"SELECT count(*) FROM {t.name} WHERE {col} < {c.min_value}")):
            problems.append(Problem(t.name, "range", f"{n} rows with {c.name} below {c.min_value}"))
        if c.max_value is not None and (n := count(f"SELECT count(*) FROM {t.name} WHERE {col} > {c.max_value}")):
            problems.append(Problem(t.name, "range", f"{n} rows with {c.name} above {c.max_value}"))
        if c.references:
            ref_table, ref_col = c.references.split(".")
            n = count(
                f"SELECT count(*) FROM {t.name} x WHERE x.{col} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {ref_table} r WHERE r.{_q(ref_col)} = x.{col})"
            )
            if n:
                problems.append(Problem(t.name, "reference", f"{n} rows whose {c.name} is not in {c.references}"))
    return problems


# Rules across tables that a correct lake always satisfies.
_CONSISTENCY: tuple[tuple[str, str, str], ...] = (
    (
        "transactions",
        "card holder",
        "SELECT count(*) FROM transactions t JOIN cards c USING (card_id) WHERE c.customer_id <> t.customer_id",
    ),
    (
        "transactions",
        "merchant category",
        "SELECT count(*) FROM transactions t JOIN merchants m USING (merchant_id) "
        "WHERE m.category_code <> t.category_code",
    ),
    (
        "transactions",
        "card validity",
        "SELECT count(*) FROM transactions t JOIN cards c USING (card_id) "
        "WHERE t.ts::DATE < c.issued_on OR t.ts::DATE > c.expires_on",
    ),
    ("transactions", "fraud label", "SELECT count(*) FROM transactions WHERE is_fraud = (fraud_scenario IS NULL)"),
    ("transactions", "partition", "SELECT count(*) FROM transactions WHERE strftime(ts, '%Y-%m') <> month"),
    ("cards", "dates", "SELECT count(*) FROM cards WHERE expires_on <= issued_on OR closed_on < issued_on"),
    (
        "customers",
        "household size",
        "SELECT count(*) FROM households h WHERE size <> "
        "(SELECT count(*) FROM customers c WHERE c.household_id = h.household_id)",
    ),
    (
        "households",
        "one head",
        "SELECT count(*) FROM (SELECT household_id FROM customers WHERE relation_to_head = "
        "'head' GROUP BY household_id HAVING count(*) <> 1)",
    ),
    ("app_events", "partition", "SELECT count(*) FROM app_events WHERE strftime(ts, '%Y-%m') <> month"),
)


def check_lake(lake: Path) -> list[Problem]:
    try:
        manifest = read_manifest(lake)
    except LakeError as exc:
        return [Problem("-", "manifest", str(exc))]
    problems = check_files(lake, manifest)
    if problems:
        return problems
    con = connect(lake, include_restricted=True)
    try:
        for t in TABLES:
            problems += check_schema(con, t)
        if problems:
            return problems
        for t in TABLES:
            problems += check_values(con, t)
        for tname, name, sql in _CONSISTENCY:
            row = con.execute(sql).fetchone()
            if row and row[0]:
                problems.append(Problem(tname, name, f"{row[0]} rows break the rule"))
        start, end = manifest.get("start"), manifest.get("end")
        if start and end:
            row = con.execute(
                "SELECT count(*) FROM transactions WHERE transaction_id < ? AND (ts < ?::DATE OR ts >= ?::DATE + 1)",
                [INGESTED_TRANSACTION_ID_BASE, start, end],
            ).fetchone()
            if row and row[0]:
                problems.append(Problem("transactions", "period", f"{row[0]} rows outside {start}..{end}"))
        row = con.execute("SELECT avg(is_fraud::INT) FROM transactions").fetchone()
        if row and row[0] is not None and not 0 <= row[0] <= 0.05:
            problems.append(Problem("transactions", "fraud rate", f"fraud rate {row[0]:.4f} is implausible"))
    finally:
        con.close()
    return problems
