"""The analyst portal's read-only SQL (D4): only permitted tables, no writes, no file access, limits hold."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cardwise.lake.query import (
    QueryFailed,
    QueryRefused,
    QueryTimeout,
    browsable,
    mask_cell,
    run_query,
    table_infos,
    to_csv,
)
from cardwise.security.permissions import load_permissions

ANALYST = load_permissions().lake_tables(frozenset({"analyst"}))
ADMIN = load_permissions().lake_tables(frozenset({"admin"}))


def test_analyst_sees_only_the_tables_of_the_role_and_never_identity(small_lake: Path) -> None:
    names = [t.name for t in table_infos(small_lake, ANALYST)]
    assert "transactions" in names and "customers" in names
    assert "call_transcripts" not in names  # texts are not for analysts
    assert "customer_identity" not in names
    assert "customer_identity" not in [t.name for t in browsable(ADMIN | {"customer_identity"})]
    tx = next(t for t in table_infos(small_lake, ANALYST) if t.name == "transactions")
    assert tx.rows > 1000
    assert [c.name for c in tx.columns][:3] == ["transaction_id", "ts", "card_id"]
    assert tx.columns[-1].name == "month"  # the partition column is queryable too


def test_a_query_returns_rows_and_columns(small_lake: Path) -> None:
    r = run_query(
        small_lake,
        "SELECT category_code, count(*) AS n FROM transactions GROUP BY 1 ORDER BY n DESC, 1;",
        allowed=ANALYST,
    )
    assert r.columns == ("category_code", "n")
    assert len(r.rows) > 10 and not r.truncated
    assert r.rows[0][1] >= r.rows[-1][1]


def test_cte_names_are_not_mistaken_for_tables(small_lake: Path) -> None:
    sql = "WITH customer_identity AS (SELECT 1 AS x) SELECT x FROM customer_identity"
    # A CTE may shadow a table name; it reads nothing from the lake.
    assert run_query(small_lake, sql, allowed=ANALYST).rows == [(1,)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM call_transcripts",
        "SELECT c.* FROM customers c JOIN transfer_memos m USING (customer_id)",
        "SELECT * FROM customer_identity",
    ],
)
def test_a_forbidden_table_is_refused_by_name(small_lake: Path, sql: str) -> None:
    with pytest.raises(QueryRefused, match="권한이 없습니다"):
        run_query(small_lake, sql, allowed=ANALYST)


def test_the_same_table_is_open_to_a_role_that_has_it(small_lake: Path) -> None:
    assert run_query(small_lake, "SELECT count(*) FROM call_transcripts", allowed=ADMIN).rows[0][0] > 0
    with pytest.raises(QueryRefused):  # identity is restricted even for admin
        run_query(small_lake, "SELECT * FROM customer_identity", allowed=ADMIN)


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t AS SELECT 1",
        "INSERT INTO categories SELECT * FROM categories",
        "DELETE FROM customers",
        "DROP VIEW transactions",
        "PRAGMA version",
        "SET threads = 8",
        "ATTACH '/tmp/x.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "COPY (SELECT 1) TO '/tmp/cardwise-leak.csv'",
        "SELECT 1; SELECT 2",
        "",
    ],
)
def test_writes_and_other_statements_are_refused(small_lake: Path, sql: str) -> None:
    with pytest.raises(QueryRefused):
        run_query(small_lake, sql, allowed=ANALYST)
    assert not Path("/tmp/cardwise-leak.csv").exists()


@pytest.mark.parametrize(
    "source",
    [
        "read_csv('/etc/passwd')",
        "read_text('/etc/hostname')",
        "glob('/etc/*')",
        "read_parquet('{lake}/_restricted/customer_identity/*.parquet')",
        "read_parquet('{lake}/call_transcripts/*.parquet')",  # a table the analyst may not read, by path
        "read_parquet('{lake}/transactions/../_restricted/customer_identity/*.parquet')",
    ],
)
def test_file_access_is_refused(small_lake: Path, source: str) -> None:
    sql = f"SELECT * FROM {source.format(lake=small_lake.resolve())}"
    with pytest.raises(QueryRefused, match="파일"):
        run_query(small_lake, sql, allowed=ANALYST)


def test_the_row_limit_holds_and_says_so(small_lake: Path) -> None:
    r = run_query(small_lake, "SELECT transaction_id FROM transactions ORDER BY 1", allowed=ANALYST, row_limit=25)
    assert len(r.rows) == 25 and r.truncated
    assert [x[0] for x in r.rows] == sorted(x[0] for x in r.rows)
    exact = run_query(small_lake, "SELECT * FROM regions LIMIT 7", allowed=ANALYST, row_limit=7)
    assert len(exact.rows) == 7 and not exact.truncated


def test_the_timeout_interrupts_a_long_query(small_lake: Path) -> None:
    slow = (
        "SELECT count(*) FROM transactions a, transactions b, transactions c "
        "WHERE a.amount_krw + b.amount_krw = c.amount_krw"
    )
    with pytest.raises(QueryTimeout):
        run_query(small_lake, slow, allowed=ANALYST, timeout_s=0.3)
    # the next query on a fresh connection is unaffected
    assert run_query(small_lake, "SELECT 42", allowed=ANALYST).rows == [(42,)]


def test_a_bad_query_gives_duckdbs_reason(small_lake: Path) -> None:
    with pytest.raises(QueryFailed, match="no_such_column"):
        run_query(small_lake, "SELECT no_such_column FROM categories", allowed=ANALYST)
    with pytest.raises(QueryFailed):
        run_query(small_lake, "SELEC 1", allowed=ANALYST)


def test_csv_export_is_correct_and_masked() -> None:
    rows = [
        (1, "커피전문점", None, True),
        (2, "카드 4111 1111 1111 1111 분실", 3.5, False),
        (3, "주민번호 900101-1234567", 0, False),
    ]
    text = to_csv(("id", "memo", "x", "flag"), rows)
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0] == ["id", "memo", "x", "flag"]
    assert parsed[1] == ["1", "커피전문점", "", "true"]
    assert "4111 1111 1111 1111" not in text and "1111" in parsed[2][1]
    assert "1234567" not in text
    assert len(parsed) == 4
    assert mask_cell(123456789012345) == 123456789012345  # numbers are ids and amounts, left alone


def test_query_results_are_masked_too(small_lake: Path) -> None:
    r = run_query(small_lake, "SELECT '4111-1111-1111-1111' AS pan, 'ok' AS note", allowed=ANALYST)
    assert "4111-1111-1111-1111" not in str(r.rows) and r.rows[0][1] == "ok"
