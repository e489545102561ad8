"""Benchmark: from an approved authorization to the row being visible in a DuckDB query over the lake.

    .venv/bin/python bench/ingest.py [--seconds 90] [--rate 40] [--interval 20]

A hard-linked copy of the seed002 lake and a fresh SQLite database; the API (uvicorn, one worker)
takes authorizations at a steady rate while `cardwise ingest run --loop` exports every --interval
seconds (20 s, as the scheduled job). A poller queries the lake every half second and notes when each
authorization first appears. Then event batches are posted as fast as one client can. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from bench_auth import bench_headers  # bench/ is the script's directory
from sqlalchemy import select

from cardwise.config import Settings
from cardwise.db.engine import make_engine
from cardwise.db.load import load_lake
from cardwise.db.migrate import upgrade
from cardwise.db.models import Card, Merchant
from cardwise.lake.store import MANIFEST, connect


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 10 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--rate", type=float, default=40, help="authorizations per second")
    parser.add_argument("--interval", type=float, default=20, help="exporter interval, seconds")
    args = parser.parse_args()
    base = Settings()
    if not (base.lake_dir / MANIFEST).exists():
        sys.exit("generate the seed002 lake first: cardwise generate --preset seed002")
    work = Path(tempfile.mkdtemp(prefix="cw-bench-ingest-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        lake = work / "lake"
        shutil.copytree(base.lake_dir, lake, copy_function=os.link)  # the exporter only adds files
        url = f"sqlite:///{work / 'cardwise.db'}"
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            load_lake(conn, lake)
            cards = conn.execute(select(Card.token).where(Card.closed_on.is_(None)).limit(2000)).scalars().all()
            merchants = (
                conn.execute(select(Merchant.merchant_id).where(Merchant.channel == "offline").limit(2000))
                .scalars()
                .all()
            )
        engine.dispose()
        env = {
            **os.environ,
            "CARDWISE_DATABASE_URL": url,
            "CARDWISE_DATA_DIR": str(work),
            "CARDWISE_SCHEDULER_ENABLED": "false",
            "CARDWISE_LOG_LEVEL": "WARNING",
        }
        port = 8000 + random.randint(700, 900)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "cardwise.api:create_app",
                    "--factory",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=env,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cardwise",
                    "ingest",
                    "run",
                    "--loop",
                    "--interval",
                    str(args.interval),
                    "--lag",
                    "1",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
            )
        )
        api = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{api}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)

        approved_at: dict[int, float] = {}
        seen_at: dict[int, float] = {}
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                con = connect(lake, tables=lambda t: t.name == "authorization_log")
                ids = con.execute("SELECT authorization_id FROM authorization_log").fetchall()
                con.close()
                now = time.monotonic()
                for (i,) in ids:
                    seen_at.setdefault(int(i), now)
                time.sleep(0.5)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        rng = random.Random(0)
        when = datetime(2023, 11, 3, 3, 0, tzinfo=UTC)
        started = time.monotonic()
        sent = 0
        switch = bench_headers(url, api, "switch")  # authorizations come from the payment switch
        collector = bench_headers(url, api, "ingest")  # events from the collector
        with httpx.Client(base_url=api, timeout=10) as client:
            while time.monotonic() - started < args.seconds:
                due = started + sent / args.rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                r = client.post(
                    "/v1/authorizations",
                    headers={"Idempotency-Key": uuid.uuid4().hex, **switch},
                    json={
                        "card_token": rng.choice(cards),
                        "amount_krw": rng.randint(1_000, 200_000),
                        "merchant_id": rng.choice(merchants),
                        "timestamp": (when + timedelta(seconds=sent)).isoformat(),
                        "channel": "offline",
                    },
                )
                sent += 1
                if r.status_code == 200 and r.json()["approved"]:
                    approved_at[int(r.json()["authorization_id"])] = time.monotonic()
            deadline = time.monotonic() + args.interval * 3 + 10
            while time.monotonic() < deadline and not set(approved_at) <= set(seen_at):
                time.sleep(0.5)
            stop.set()
            delays = [seen_at[i] - t for i, t in approved_at.items() if i in seen_at]
            missing = len(set(approved_at) - set(seen_at))

            batch = [
                {
                    "ts": "2023-11-03T12:00:00+09:00",
                    "event_type": "page_view",
                    "page": "/cards",
                    "session_id": f"s{i}",
                    "cookie_id": "c",
                    "device": "web",
                    "ip": "192.0.2.1",
                }
                for i in range(500)
            ]
            events, t0 = 0, time.monotonic()
            while time.monotonic() - t0 < 10:
                events += client.post("/v1/events", json={"events": batch}, headers=collector).json()["accepted"]
            events_per_s = events / (time.monotonic() - t0)
        figures = {
            "authorizations": sent,
            "approved": len(approved_at),
            "not_seen": missing,
            "export_interval_s": args.interval,
            "delay_p50_s": round(statistics.median(delays), 2),
            "delay_p95_s": round(pct(delays, 0.95), 2),
            "delay_max_s": round(max(delays), 2),
            "events_per_s": round(events_per_s),
        }
        print(json.dumps(figures))
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
