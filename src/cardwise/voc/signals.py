"""Per-transcript and per-memo text signals, computed once per month and kept next to the marts.

Layout: ``<root>/voc_call_signals/month=YYYY-MM.parquet`` and ``<root>/voc_memo_signals/…``. Like the
marketing marts (``lake/marts.py``) each file records a fingerprint in its Parquet metadata: the lake's
manifest, the analyzer (VOC dictionary, kiwipiepy version, masking code) and the files the ingestion
exporter appended to ``transcript_log`` around that month. A regenerated lake, an edited dictionary or
newly received transcripts make a month stale; an unchanged month is reused, so the monthly run
analyzes only the new texts.

Two sources of calls: the lake's ``call_transcripts`` and ``transcript_log`` (transcripts a
speech-to-text engine posted to ``POST /v1/voc/transcripts``, exported to the lake within seconds, see
``voc/stt.py``); received memos (channel ``memo``) join the transfer memos. Received transcripts carry
no duration or amount: those count as 0.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Final

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cardwise.lake.marts import month_key
from cardwise.lake.store import MANIFEST, read_manifest
from cardwise.marketing.marts import add_months
from cardwise.privacy import masking
from cardwise.voc.lexicon import KEYWORD_GROUPS, LEXICON_VERSION, TOPICS
from cardwise.voc.text import TextAnalyzer, default_analyzer, memos_frame, transcripts_frame

CALLS: Final = "voc_call_signals"
MEMOS: Final = "voc_memo_signals"
_FINGERPRINT_KEY: Final = b"cardwise.fingerprint"

CALL_SCHEMA: Final = pa.schema(
    [
        ("transcript_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("started_at", pa.timestamp("us")),
        ("duration_s", pa.int64()),
        ("topic", pa.string()),
        *((f"score_{t}", pa.float64()) for t in TOPICS),
        *((f"mentions_{g}", pa.int64()) for g in KEYWORD_GROUPS),
        ("negative", pa.int64()),
        ("positive", pa.int64()),
        ("sentiment", pa.float64()),
        ("customer_lemmas", pa.int64()),
        ("usable", pa.bool_()),
        ("keywords", pa.string()),
    ]
)
MEMO_SCHEMA: Final = pa.schema(
    [
        ("memo_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("ts", pa.timestamp("us")),
        ("incoming", pa.bool_()),
        ("amount_krw", pa.int64()),
        ("kind", pa.string()),
    ]
)


def analyzer_version() -> str:
    code = hashlib.sha256(Path(masking.__file__).read_bytes()).hexdigest()[:8]
    return f"{LEXICON_VERSION}:kiwipiepy-{version('kiwipiepy')}:mask-{code}"


def call_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame[CALL_SCHEMA.names], schema=CALL_SCHEMA, preserve_index=False)


def memo_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame[MEMO_SCHEMA.names], schema=MEMO_SCHEMA, preserve_index=False)


class TextSignals:
    def __init__(self, root: Path, lake: Path, analyzer: TextAnalyzer | None = None) -> None:
        read_manifest(lake)
        self.root = root
        self.lake = lake
        self.analyzer = analyzer or default_analyzer()
        lake_hash = hashlib.sha256((lake / MANIFEST).read_bytes()).hexdigest()[:16]
        self.fingerprint = f"{lake_hash}:{analyzer_version()}"

    def path(self, table: str, month: date) -> Path:
        return self.root / table / f"month={month_key(month)}.parquet"

    def month_fingerprint(self, month: date) -> str:
        """The lake and analyzer, plus the received-transcript files of the month and the next (a call
        is received after it started)."""
        files = sorted(
            (f"{m:%Y-%m}/{f.name}", f.stat().st_size)
            for m in (month, add_months(month, 1))
            for f in (self.lake / "transcript_log" / f"month={month_key(m)}").glob("*.parquet")
        )
        return f"{self.fingerprint}:{hashlib.sha256(repr(files).encode()).hexdigest()[:16]}"

    def is_current(self, table: str, month: date) -> bool:
        path = self.path(table, month)
        if not path.exists():
            return False
        meta = pq.read_schema(path).metadata or {}
        return meta.get(_FINGERPRINT_KEY) == self.month_fingerprint(month).encode()

    def _write(self, table: str, month: date, data: pa.Table) -> None:
        path = self.path(table, month)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = data.replace_schema_metadata({_FINGERPRINT_KEY: self.month_fingerprint(month).encode()})
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(data, tmp, compression="zstd")
        os.replace(tmp, path)

    def ensure(
        self,
        con: duckdb.DuckDBPyConnection,
        months: Iterable[date],
        *,
        force: bool = False,
        step: Callable[[str], None] = lambda _: None,
    ) -> int:
        """Analyze the months whose signals are missing or stale; returns how many files were written."""
        written = 0
        for month in months:
            bounds = {"start": month, "end": add_months(month, 1)}
            if force or not self.is_current(CALLS, month):
                step(f"call transcripts {month:%Y-%m}")
                calls = con.sql(
                    """SELECT transcript_id, customer_id, started_at, duration_s, text FROM call_transcripts
                       WHERE started_at >= $start AND started_at < $end
                       UNION ALL
                       SELECT -transcript_id, customer_id, started_at, 0, text FROM transcript_log
                       WHERE started_at >= $start AND started_at < $end AND channel IN ('phone', 'chat')
                       ORDER BY 1""",
                    params=bounds,
                ).df()
                self._write(CALLS, month, call_table(transcripts_frame(self.analyzer, calls)))
                written += 1
            if force or not self.is_current(MEMOS, month):
                step(f"transfer memos {month:%Y-%m}")
                memos = con.sql(
                    """SELECT memo_id, customer_id, ts, direction, amount_krw, memo FROM transfer_memos
                       WHERE ts >= $start AND ts < $end
                       UNION ALL
                       SELECT -transcript_id, customer_id, started_at, 'out', 0, text FROM transcript_log
                       WHERE started_at >= $start AND started_at < $end AND channel = 'memo'
                       ORDER BY 1""",
                    params=bounds,
                ).df()
                self._write(MEMOS, month, memo_table(memos_frame(self.analyzer, memos)))
                written += 1
        return written

    def register(
        self, con: duckdb.DuckDBPyConnection, months: list[date], extra_calls: pd.DataFrame | None = None
    ) -> None:
        """Views ``voc_call_signals`` and ``voc_memo_signals`` over the months. ``extra_calls`` are analyzed
        on the fly and joined (transcripts not in the lake, e.g. a what-if or a test)."""
        for table, schema in ((CALLS, CALL_SCHEMA), (MEMOS, MEMO_SCHEMA)):
            files = [self.path(table, m) for m in months]
            missing = [str(f) for f in files if not f.exists()]
            if missing:
                raise FileNotFoundError(f"text signals not computed: {', '.join(missing)}")
            columns = ", ".join(schema.names)
            listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            sql = f"SELECT {columns} FROM read_parquet([{listing}])"
            if table == CALLS and extra_calls is not None and len(extra_calls):
                con.register(f"{CALLS}_extra", call_table(transcripts_frame(self.analyzer, extra_calls)))
                sql += f" UNION ALL SELECT {columns} FROM {CALLS}_extra"
            con.execute(f"CREATE OR REPLACE VIEW {table} AS {sql}")
