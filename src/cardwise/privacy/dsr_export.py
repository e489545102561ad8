"""The access export (PIPA art. 35): everything held about one customer, as one JSON document.

Every database table with a ``customer_id`` column (or a foreign key to a customer), the tables reached
through the customer's cards, the lake rows keyed by the customer, and the contacts in clear. Card
numbers appear as token and last four digits only: the full number is never stored anywhere.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Connection, Table, or_, select

from cardwise.db.base import Base
from cardwise.lake.schema import TABLES
from cardwise.lake.store import parquet_glob, read_manifest, table_dir
from cardwise.privacy.crypto import IDENTITY_FIELDS, open_identity_value

# Secrets and internals that are not information about the person.
_NOT_EXPORTED = {"password_hash", "token_hash", "request_hash", "phone_index", "subject_ref", "payload"}
_LAKE_ROW_LIMIT = 100_000  # a customer has a few thousand transactions; a bound keeps one export finite


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return value


def _row(table: Table, row: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row._mapping.items() if k not in _NOT_EXPORTED}


def export_db(conn: Connection, customer_id: int) -> dict[str, list[dict[str, Any]]]:
    from cardwise.db import all_models  # noqa: F401  (every table on the metadata)

    tables = Base.metadata.tables
    out: dict[str, list[dict[str, Any]]] = {}
    cards = tables["cards"]
    card_ids = [r[0] for r in conn.execute(select(cards.c.card_id).where(cards.c.customer_id == customer_id))]
    for name, table in sorted(tables.items()):
        conditions = []
        for col in table.c:
            refs_customer = any(fk.column is tables["customers"].c.customer_id for fk in col.foreign_keys)
            if (name == "customers" and col.name == "customer_id") or col.name == "customer_id" or refs_customer:
                conditions.append(col == customer_id)
            elif card_ids and any(fk.column is cards.c.card_id for fk in col.foreign_keys):
                conditions.append(col.in_(card_ids))
        if not conditions:
            continue
        rows = conn.execute(select(table).where(or_(*conditions))).all()
        if rows:
            out[name] = [_row(table, r) for r in rows]
    return out


def export_lake(lake: Path, customer_id: int) -> dict[str, list[dict[str, Any]]]:
    """The lake rows keyed by the customer, table by table (identity values opened)."""
    read_manifest(lake)
    out: dict[str, list[dict[str, Any]]] = {}
    con = duckdb.connect()
    try:
        for t in TABLES:
            if not any(c.name == "customer_id" for c in t.columns):
                continue
            if not any(table_dir(lake, t).glob("**/*.parquet")):
                continue
            glob = parquet_glob(lake, t).replace("'", "''")
            cur = con.execute(
                f"SELECT * FROM read_parquet('{glob}', union_by_name = true) WHERE customer_id = ? "
                f"LIMIT {_LAKE_ROW_LIMIT}",
                [customer_id],
            )
            names = [d[0] for d in cur.description or []]
            rows = [dict(zip(names, (_plain(v) for v in r), strict=True)) for r in cur.fetchall()]
            if t.name == "customer_identity":
                for r in rows:
                    for f in IDENTITY_FIELDS:
                        r[f] = open_identity_value(r[f], f)
            if rows:
                out[t.name] = rows
    finally:
        con.close()
    return out


def export_customer(conn: Connection, lake: Path | None, customer_id: int, *, now: datetime) -> dict[str, Any]:
    database = export_db(conn, customer_id)
    for card in database.get("cards", []):
        card["card_number"] = f"****-****-****-{card['last4']}"  # what we hold: a token and the last four
    return {
        "customer_id": customer_id,
        "generated_at": now.isoformat(),
        "notice_ko": "카드번호 전체는 저장하지 않습니다(토큰과 끝 4자리만 보관).",
        "notice_en": "Full card numbers are never stored (a token and the last four digits only).",
        "database": database,
        "lake": export_lake(lake, customer_id) if lake is not None and (lake / "_manifest.json").exists() else {},
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, default=str)
