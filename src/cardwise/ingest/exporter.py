"""The micro-batch exporter: what the platform stores reaches the lake within a minute (D3).

Per source (authorizations, posted events, posted transcripts) the exporter reads rows above its
high-water mark, oldest id first, and only rows older than a short lag (a row whose id was taken by
a transaction that has not committed yet is not skipped over). A batch is written as one Parquet
file per month partition named after the batch's first id, each written to a temporary name and
renamed; only then does the high-water mark move (an atomic rewrite of `_ingest/state.json`).

Exactly once: a crash before the mark moves leaves files that the next run writes again under the
same names (same first id, the same rows or a superset of them), so they are replaced, never added.
Late rows (a payment presented days ago) land in the partition of their own month.
Approved authorizations also become `transactions` rows (ids above every generated id), so the
lake's readers (anomaly profiles, marketing features, reports) see them without a rebuild.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cardwise.db.models import Card, Merchant
from cardwise.db.types import utcnow
from cardwise.ingest.models import EventInbox, TranscriptInbox
from cardwise.lake.schema import INGESTED_TRANSACTION_ID_BASE, TABLES_BY_NAME
from cardwise.lake.store import table_dir
from cardwise.logging import get_logger
from cardwise.notify.models import OutboxMessage
from cardwise.safety.models import Authorization
from cardwise.safety.rules import SEOUL

log = get_logger(__name__)
STATE = Path("_ingest") / "state.json"


def local(ts: datetime) -> datetime:
    """Asia/Seoul wall-clock time without a zone, as the lake records time."""
    return ts.astimezone(SEOUL).replace(tzinfo=None)


@dataclass(frozen=True)
class Source:
    name: str
    id_column: Any
    created_column: Any
    query: Callable[[], Any]  # a select of the rows, joined as needed
    to_lake: Callable[[Sequence[Any]], dict[str, pa.Table]]


def _table(name: str, columns: dict[str, list[Any]]) -> pa.Table:
    return pa.table(columns, schema=TABLES_BY_NAME[name].arrow_schema)


def _authorizations_to_lake(rows: Sequence[Any]) -> dict[str, pa.Table]:
    log_cols: dict[str, list[Any]] = {c.name: [] for c in TABLES_BY_NAME["authorization_log"].columns}
    tx_cols: dict[str, list[Any]] = {c.name: [] for c in TABLES_BY_NAME["transactions"].columns}
    for a, customer_id, category, region in rows:
        log_cols["authorization_id"].append(a.authorization_id)
        log_cols["requested_at"].append(local(a.requested_at))
        log_cols["card_id"].append(a.card_id)
        log_cols["customer_id"].append(customer_id)
        log_cols["merchant_id"].append(a.merchant_id)
        log_cols["amount_krw"].append(a.amount_krw)
        log_cols["channel"].append(a.channel)
        log_cols["contactless"].append(a.contactless)
        log_cols["approved"].append(a.approved)
        log_cols["reason_codes"].append(",".join(r.get("code", "") for r in a.reasons or []) or None)
        log_cols["recorded_at"].append(local(a.created_at))
        if a.approved:
            tx_cols["transaction_id"].append(INGESTED_TRANSACTION_ID_BASE + a.authorization_id)
            tx_cols["ts"].append(local(a.requested_at))
            tx_cols["card_id"].append(a.card_id)
            tx_cols["customer_id"].append(customer_id)
            tx_cols["merchant_id"].append(a.merchant_id)
            tx_cols["category_code"].append(category)
            tx_cols["region_code"].append(region)
            tx_cols["amount_krw"].append(a.amount_krw)
            tx_cols["channel"].append(a.channel)
            tx_cols["card_present"].append(a.channel == "offline")
            tx_cols["contactless"].append(a.contactless)
            tx_cols["installment_months"].append(0)
            tx_cols["is_fraud"].append(False)  # not known at approval; labels arrive with chargebacks
            tx_cols["fraud_scenario"].append(None)
    return {"authorization_log": _table("authorization_log", log_cols), "transactions": _table("transactions", tx_cols)}


def _notifications_to_lake(rows: Sequence[Any]) -> dict[str, pa.Table]:
    cols: dict[str, list[Any]] = {c.name: [] for c in TABLES_BY_NAME["notification_log"].columns}
    for (m,) in rows:
        cols["message_id"].append(m.message_id)
        cols["customer_id"].append(m.customer_id)
        cols["kind"].append(m.kind)
        cols["channel"].append(m.channel)
        cols["created_at"].append(local(m.created_at))
    return {"notification_log": _table("notification_log", cols)}


def _events_to_lake(rows: Sequence[Any]) -> dict[str, pa.Table]:
    cols: dict[str, list[Any]] = {c.name: [] for c in TABLES_BY_NAME["event_log"].columns}
    for (e,) in rows:
        cols["event_id"].append(e.event_id)
        cols["customer_id"].append(e.customer_id)
        cols["client_ts"].append(local(e.client_ts))
        cols["received_at"].append(local(e.received_at))
        for k in ("event_type", "page", "session_id", "cookie_id", "device", "ip"):
            cols[k].append(getattr(e, k))
    return {"event_log": _table("event_log", cols)}


def _transcripts_to_lake(rows: Sequence[Any]) -> dict[str, pa.Table]:
    cols: dict[str, list[Any]] = {c.name: [] for c in TABLES_BY_NAME["transcript_log"].columns}
    for (t,) in rows:
        cols["transcript_id"].append(t.transcript_id)
        cols["customer_id"].append(t.customer_id)
        cols["started_at"].append(local(t.started_at))
        cols["channel"].append(t.channel)
        cols["text"].append(t.text)
        cols["received_at"].append(local(t.received_at))
    return {"transcript_log": _table("transcript_log", cols)}


SOURCES: tuple[Source, ...] = (
    Source(
        "authorizations",
        Authorization.authorization_id,
        Authorization.created_at,
        lambda: (
            select(Authorization, Card.customer_id, Merchant.category_code, Merchant.region_code)
            .join(Card, Card.card_id == Authorization.card_id)
            .join(Merchant, Merchant.merchant_id == Authorization.merchant_id)
        ),
        _authorizations_to_lake,
    ),
    Source(
        "notifications",
        OutboxMessage.message_id,
        OutboxMessage.created_at,
        lambda: select(OutboxMessage),
        _notifications_to_lake,
    ),
    Source("events", EventInbox.event_id, EventInbox.received_at, lambda: select(EventInbox), _events_to_lake),
    Source(
        "transcripts",
        TranscriptInbox.transcript_id,
        TranscriptInbox.received_at,
        lambda: select(TranscriptInbox),
        _transcripts_to_lake,
    ),
)


def read_state(lake: Path) -> dict[str, int]:
    path = lake / STATE
    if not path.exists():
        return {}
    data: dict[str, int] = json.loads(path.read_text())
    return data


def _write_state(lake: Path, state: dict[str, int]) -> None:
    path = lake / STATE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".state.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, sort_keys=True))
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _atomic_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # not *.parquet: readers never see it
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def _partition_of(lake: Path, table_name: str, month: str | None) -> Path:
    base = table_dir(lake, TABLES_BY_NAME[table_name])
    return base / f"month={month}" if month else base


def write_batch(lake: Path, source: str, first_id: int, tables: dict[str, pa.Table]) -> int:
    """One file per lake table and month, named after the batch's first id; returns rows written."""
    written = 0
    for name, tbl in tables.items():
        if tbl.num_rows == 0:
            continue
        t = TABLES_BY_NAME[name]
        if t.partitioned_by_month:
            months = tbl[t.partitioned_by_month].to_numpy().astype("datetime64[M]").astype(str)
            for month in sorted(set(months)):
                part = tbl.filter(pa.array(months == month))
                _atomic_parquet(part, _partition_of(lake, name, month) / f"ingest-{source}-{first_id:015d}.parquet")
                written += part.num_rows
        else:
            _atomic_parquet(tbl, _partition_of(lake, name, None) / f"ingest-{source}-{first_id:015d}.parquet")
            written += tbl.num_rows
    return written


@dataclass
class ExportResult:
    batches: int = 0
    rows: int = 0
    lake_rows: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def export_once(
    engine: Engine, lake: Path, *, batch_size: int = 5_000, lag: timedelta = timedelta(seconds=2)
) -> ExportResult:
    """Export everything older than ``lag`` that is above each source's high-water mark."""
    result = ExportResult()
    state = read_state(lake)
    cutoff = utcnow() - lag
    with Session(engine) as conn:  # ORM rows: the mappers below read entities
        for source in SOURCES:
            while True:
                after = state.get(source.name, 0)
                rows = conn.execute(
                    source.query()
                    .where(source.id_column > after, source.created_column <= cutoff)
                    .order_by(source.id_column)
                    .limit(batch_size)
                ).all()
                if not rows:
                    break
                first = _row_id(rows[0], source)
                last = _row_id(rows[-1], source)
                result.lake_rows += write_batch(lake, source.name, first, source.to_lake(rows))
                state[source.name] = last
                _write_state(lake, state)  # the mark moves only after the files are in place
                result.batches += 1
                result.rows += len(rows)
                if len(rows) < batch_size:
                    break
            conn.rollback()
    if result.rows:
        log.info("exported to the lake", extra={"ingest.rows": result.rows, "ingest.batches": result.batches})
    return result


def _row_id(row: Any, source: Source) -> int:
    return int(getattr(row[0], source.id_column.key))


# --- compaction -------------------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE); False when unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(rc == 0)


def compact(lake: Path, *, min_files: int = 8) -> int:
    """Merge the committed small files of each partition into one; returns partitions compacted.

    Only files of batches below the high-water mark are merged (a batch above it may still be
    rewritten by a retry). The partition is rebuilt beside the old one (hard links for the files
    that stay) and the two directories are swapped atomically, so a reader sees the old files or
    the new ones, never both and never neither.
    """
    state = read_state(lake)
    compacted = 0
    for name in {"authorization_log", "notification_log", "event_log", "transcript_log", "transactions"}:
        base = table_dir(lake, TABLES_BY_NAME[name])
        if not base.exists():
            continue
        for part in sorted(p for p in base.iterdir() if p.is_dir() and p.name.startswith("month=")):
            files = sorted(part.glob("ingest-*.parquet")) + sorted(part.glob("compact-*.parquet"))
            committed = [f for f in files if _committed(f, state)]
            if len(committed) < min_files:
                continue
            merged = pa.concat_tables([pq.read_table(f) for f in committed], promote_options="default")
            keep = [f for f in part.iterdir() if f.suffix == ".parquet" and f not in committed]
            staging = part.with_name(f".{part.name}.compact.{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            for f in keep:
                os.link(f, staging / f.name)
            ids = sorted(_first_id(f) for f in committed)
            pq.write_table(merged, staging / f"compact-{ids[0]:015d}-{ids[-1]:015d}.parquet", compression="zstd")
            if _exchange(part, staging):
                shutil.rmtree(staging)
            else:  # no atomic exchange here: two renames, the partition is absent for an instant
                old = part.with_name(f".{part.name}.old.{os.getpid()}")
                part.rename(old)
                staging.rename(part)
                shutil.rmtree(old)
            compacted += 1
    return compacted


def _first_id(path: Path) -> int:
    stem = path.stem  # ingest-<source>-<id> or compact-<first>-<last>
    parts = stem.split("-")
    return int(parts[1]) if parts[0] == "compact" else int(parts[-1])


def _committed(path: Path, state: dict[str, int]) -> bool:
    if path.name.startswith("compact-"):
        return True
    source = path.stem.split("-")[1]
    return _first_id(path) <= state.get(source, 0)
