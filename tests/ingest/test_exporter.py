"""The exporter: exactly once across crashes, late rows in their own month, fresh data for readers, compaction."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cardwise.ingest.exporter import compact, export_once, read_state
from cardwise.lake.schema import INGESTED_TRANSACTION_ID_BASE
from cardwise.lake.store import connect
from tests.ingest.conftest import IngestEnv, add_authorizations


def lake_counts(lake: Path) -> tuple[int, int, int, int]:
    con = connect(lake)
    try:
        log_rows, log_ids = con.execute(
            "SELECT count(*), count(DISTINCT authorization_id) FROM authorization_log"
        ).fetchall()[0]
        tx_rows, tx_ids = con.execute(
            "SELECT count(*), count(DISTINCT transaction_id) FROM transactions WHERE transaction_id >= ?",
            [INGESTED_TRANSACTION_ID_BASE],
        ).fetchall()[0]
    finally:
        con.close()
    return int(log_rows), int(log_ids), int(tx_rows), int(tx_ids)


def test_export_makes_decisions_visible_to_lake_readers(env: IngestEnv) -> None:
    total, approved = add_authorizations(env.engine, 1_200)
    assert lake_counts(env.settings.lake_dir) == (0, 0, 0, 0)
    result = export_once(env.engine, env.settings.lake_dir, batch_size=500)
    assert (result.rows, result.batches) == (total, 3)
    assert lake_counts(env.settings.lake_dir) == (total, total, approved, approved)
    assert export_once(env.engine, env.settings.lake_dir).rows == 0  # nothing twice
    con = connect(env.settings.lake_dir)
    declined = con.execute(
        "SELECT count(*) FROM authorization_log WHERE NOT approved AND reason_codes = 'BLOCKED_REGION'"
    ).fetchall()
    con.close()
    assert declined[0][0] == total - approved


def test_late_rows_land_in_their_own_month(env: IngestEnv) -> None:
    add_authorizations(env.engine, 10, at=datetime(2023, 5, 20, 3, 0, tzinfo=UTC))
    export_once(env.engine, env.settings.lake_dir)
    lake = env.settings.lake_dir
    assert list((lake / "authorization_log" / "month=2023-05").glob("ingest-*.parquet"))
    assert list((lake / "transactions" / "month=2023-05").glob("ingest-*.parquet"))


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_killed_exporter_restarts_and_every_authorization_lands_exactly_once(env: IngestEnv) -> None:
    total, approved = add_authorizations(env.engine, 30_000)
    cmd = [sys.executable, "-m", "cardwise", "ingest", "run", "--batch-size", "700", "--lag", "0"]
    child_env = {
        **os.environ,
        "CARDWISE_DATABASE_URL": env.url,
        "CARDWISE_DATA_DIR": str(env.settings.data_dir),
        "CARDWISE_PAN_HMAC_KEY": env.settings.pan_hmac_key,
        "CARDWISE_LOG_LEVEL": "WARNING",
    }
    rng = random.Random(1)
    kills = 0
    for _ in range(4):
        proc = subprocess.Popen(cmd, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 3.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1, "the exporter finished before it could be killed; give it more rows"
    done = subprocess.run(cmd, env=child_env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert lake_counts(env.settings.lake_dir) == (total, total, approved, approved)
    assert read_state(env.settings.lake_dir)["authorizations"] > 0


def test_compaction_keeps_every_row_and_merges_the_files(env: IngestEnv) -> None:
    total, approved = add_authorizations(env.engine, 2_000)
    export_once(env.engine, env.settings.lake_dir, batch_size=100)
    part = env.settings.lake_dir / "authorization_log" / "month=2023-11"
    assert len(list(part.glob("*.parquet"))) == 20
    assert compact(env.settings.lake_dir, min_files=8) >= 2  # authorization_log and transactions
    assert len(list(part.glob("*.parquet"))) == 1
    assert lake_counts(env.settings.lake_dir) == (total, total, approved, approved)
    # Generated files stay where they were, untouched (the manifest's hashes still hold).
    from cardwise.lake.check import check_files
    from cardwise.lake.store import read_manifest

    assert check_files(env.settings.lake_dir, read_manifest(env.settings.lake_dir)) == []
    # New batches after compaction are exported and compacted again.
    add_authorizations(env.engine, 1_000, seed=2)
    export_once(env.engine, env.settings.lake_dir, batch_size=100)
    compact(env.settings.lake_dir, min_files=8)
    assert lake_counts(env.settings.lake_dir)[0] == total + 1_000


def test_alerts_and_notifications_reach_the_lake_once(env: IngestEnv) -> None:
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from cardwise.notify.models import OutboxMessage
    from cardwise.notify.service import enqueue

    with Session(env.engine) as s:
        for i in range(3):
            enqueue(s, dedupe_key=f"alert-{i}", customer_id=None, kind="anomaly_alert", subject="s", body="b")
        s.commit()
        past = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        s.execute(update(OutboxMessage).values(created_at=past))
        s.commit()
    export_once(env.engine, env.settings.lake_dir)
    export_once(env.engine, env.settings.lake_dir)
    con = connect(env.settings.lake_dir)
    rows = con.execute("SELECT kind, count(*) FROM notification_log GROUP BY kind").fetchall()
    con.close()
    assert rows == [("anomaly_alert", 3)]
