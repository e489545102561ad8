"""Benchmark: authorization decisions in-process and over HTTP (uvicorn, 2 workers).

    .venv/bin/python bench/authorize.py [--db sqlite|postgresql] [--requests 20000] [--concurrency 8]

The HTTP load comes from wrk when it is installed (Debian package `wrk`), else from a Python client.

Uses the lake under $CARDWISE_DATA_DIR/lake (generated with the seed002 preset when absent), loads it
into a fresh database (a temporary SQLite file, or a new schema in $CARDWISE_TEST_POSTGRES_URL),
sets card rules on a fifth of the cards, then measures. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bench_auth import bench_headers  # bench/ is the script's directory
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.db.engine import make_engine
from cardwise.db.load import load_lake
from cardwise.db.migrate import upgrade
from cardwise.db.models import Card, Merchant
from cardwise.lake.build import build_lake
from cardwise.lake.store import MANIFEST
from cardwise.safety import service
from cardwise.safety.rules import CardControls, CardState, Purchase, evaluate
from cardwise.synth.presets import get_preset

# Payments are dated just after the generated period, when the cards are valid (their expiry dates follow
# the data, not the wall clock), at Friday noon in Seoul.
PAYMENT_TIME = datetime(2023, 11, 3, 3, 0, tzinfo=UTC)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 10 else max(values)


def prepare(db: str) -> tuple[str, Settings]:
    settings = Settings()
    lake = settings.lake_dir
    if not (lake / MANIFEST).exists():
        print(f"  generating the seed002 lake into {lake} …", flush=True)
        build_lake(get_preset("seed002"), seed=42, out=lake, overwrite=True, pan_key=settings.pan_hmac_key)
    if db == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='cardwise-bench-')}/cardwise.db"
    else:
        base = os.environ.get("CARDWISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        schema = f"cw_bench_{uuid.uuid4().hex[:8]}"
        with make_engine(base).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    print(f"  loading the lake into {db} …", flush=True)
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        load_lake(conn, lake)
    with Session(engine) as s:
        cards = s.execute(select(Card.card_id).where(Card.closed_on.is_(None))).scalars().all()
        rng = random.Random(1)
        for card_id in rng.sample(list(cards), len(cards) // 5):
            service.set_controls(
                s,
                card_id=card_id,
                allowed_regions=None,
                blocked_windows=[{"days": [0, 1, 2, 3, 4, 5, 6], "start": "01:00", "end": "05:00"}],
                blocked_categories=["JEWELRY", "BAR"],
                max_amount_krw=1_000_000,
                block_online=False,
                block_overseas=True,
                block_contactless=False,
            )
        s.commit()
    engine.dispose()
    return url, settings


def workload(url: str, n: int) -> list[dict[str, object]]:
    engine = make_engine(url)
    with Session(engine) as s:
        tokens = s.execute(select(Card.token).where(Card.closed_on.is_(None))).scalars().all()
        merchants = s.execute(select(Merchant.merchant_id)).scalars().all()
    engine.dispose()
    rng = random.Random(7)
    now = PAYMENT_TIME
    return [
        {
            "card_token": rng.choice(tokens),
            "amount_krw": rng.randint(1, 400) * 1000,
            "merchant_id": rng.choice(merchants),
            "timestamp": now.isoformat(),
            "channel": rng.choice(["offline", "offline", "offline", "online"]),
            "idempotency_key": f"bench-{uuid.uuid4().hex}",
        }
        for _ in range(n)
    ]


def bench_rules(n: int) -> dict[str, float]:
    controls = CardControls(blocked_categories=frozenset({"JEWELRY"}), max_amount_krw=1_000_000)
    p = Purchase(
        amount_krw=50_000,
        category_code="CAFE",
        region_code="11680",
        province_code="11",
        channel="offline",
        contactless=False,
        at=datetime.now(UTC),
    )
    started = time.perf_counter()
    for _ in range(n):
        evaluate(p, controls, CardState())
    secs = time.perf_counter() - started
    return {"rules_per_s": round(n / secs)}


def bench_in_process(url: str, reqs: list[dict[str, object]]) -> dict[str, float]:
    engine = make_engine(url)
    lat: list[float] = []
    started = time.perf_counter()
    for r in reqs:
        t0 = time.perf_counter()
        with Session(engine) as s:
            service.authorize(
                s,
                service.AuthorizationRequest(
                    idempotency_key=str(r["idempotency_key"]),
                    card_token=str(r["card_token"]),
                    amount_krw=int(r["amount_krw"]),
                    merchant_id=int(r["merchant_id"]),  # type: ignore[call-overload]
                    at=datetime.fromisoformat(str(r["timestamp"])),
                    channel=str(r["channel"]),
                ),
            )
            s.commit()
        lat.append((time.perf_counter() - t0) * 1000)
    secs = time.perf_counter() - started
    engine.dispose()
    return {
        "in_process_per_s": round(len(reqs) / secs),
        "in_process_p50_ms": round(pct(lat, 0.5), 2),
        "in_process_p99_ms": round(pct(lat, 0.99), 2),
    }


async def _fire(
    base: str, reqs: list[dict[str, object]], concurrency: int, headers: dict[str, str]
) -> tuple[list[float], int, float]:
    lat: list[float] = []
    errors = 0
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for r in reqs:
        queue.put_nowait(r)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30, headers=headers) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                r = queue.get_nowait()
                t0 = time.perf_counter()
                resp = await client.post("/v1/authorizations", json=r)
                lat.append((time.perf_counter() - t0) * 1000)
                if resp.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return lat, errors, time.perf_counter() - started


_WRK_SCRIPT = r"""
counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  math.randomseed(os.time() * 1000 + tid * 7919)
  run = math.random(1, 1000000000)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = auth
end
request = function()
  counter = counter + 1
  local body = string.format('{"card_token":"%s","amount_krw":%d,"merchant_id":%d,"timestamp":"%s",'
    .. '"channel":"offline","idempotency_key":"wrk-%d-%d-%d"}',
    tokens[math.random(#tokens)], math.random(1, 400) * 1000, merchants[math.random(#merchants)], now,
    run, tid, counter)
  return wrk.format(nil, "/v1/authorizations", nil, body)
end
"""


def _wrk(
    base: str, reqs: list[dict[str, object]], concurrency: int, seconds: int, headers: dict[str, str]
) -> dict[str, object]:
    """wrk (C, one thread) drives the load so the client does not eat the server's CPU."""
    tokens = sorted({str(r["card_token"]) for r in reqs})[:5000]
    merchants = sorted({int(r["merchant_id"]) for r in reqs})[:5000]  # type: ignore[call-overload]
    script = Path(tempfile.mkdtemp(prefix="cardwise-wrk-")) / "auth.lua"
    script.write_text(
        "tokens = {"
        + ",".join(f'"{t}"' for t in tokens)
        + "}\n"
        + "merchants = {"
        + ",".join(map(str, merchants))
        + "}\n"
        + f'now = "{PAYMENT_TIME.isoformat()}"\n'
        + f'auth = "{headers["Authorization"]}"\n'
        + _WRK_SCRIPT
    )
    subprocess.run(["wrk", "-t1", "-c4", "-d3s", "-s", str(script), base], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert rps, out
    return {
        "http_per_s": round(float(rps.group(1))),
        "http_p50_ms": round(ms("50%"), 2),
        "http_p99_ms": round(ms("99%"), 2),
        "http_errors": int(non2xx.group(1)) if non2xx else 0,
        "client": "wrk",
    }


def bench_http(
    url: str, reqs: list[dict[str, object]], concurrency: int, workers: int, seconds: int = 15
) -> dict[str, object]:
    port = 8700 + random.randint(0, 200)
    env = {
        **os.environ,
        "CARDWISE_DATABASE_URL": url,
        "CARDWISE_SCHEDULER_ENABLED": "false",
        "CARDWISE_LOG_LEVEL": "WARNING",
    }
    exe = Path(sys.executable).with_name("cardwise")
    server = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        headers = bench_headers(url, base, "switch")  # the payment switch's service user
        if shutil.which("wrk"):
            result: dict[str, object] = dict(_wrk(base, reqs, concurrency, seconds, headers))
        else:  # a Python client shares the two cores with the server: its figures are lower bounds
            warm = min(500, len(reqs) // 10)
            asyncio.run(_fire(base, reqs[:warm], concurrency, headers))
            lat, errors, secs = asyncio.run(_fire(base, reqs[warm:], concurrency, headers))
            result = {
                "http_per_s": round(len(lat) / secs),
                "http_p50_ms": round(pct(lat, 0.5), 2),
                "http_p99_ms": round(pct(lat, 0.99), 2),
                "http_errors": errors,
                "client": "httpx",
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {**result, "http_workers": workers, "concurrency": concurrency}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15, help="length of the HTTP run with wrk")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url, _ = prepare(args.db)
    try:
        result = run(args, url)
    finally:
        cleanup(url)
    print(json.dumps(result))


def cleanup(url: str) -> None:
    """Drop the benchmark's schema (PostgreSQL) or its temporary SQLite file."""
    if url.startswith("sqlite:///"):
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
        return
    schema = url.rsplit("search_path%3D", 1)[-1]
    with make_engine(url.split("?")[0]).begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def run(args: argparse.Namespace, url: str) -> dict[str, object]:
    result: dict[str, object] = {"db": args.db}
    result.update(bench_rules(200_000))
    print(f"  pure rule evaluation: {result['rules_per_s']:,} decisions/s", flush=True)
    result.update(bench_in_process(url, workload(url, min(args.requests, 5_000))))
    print(
        f"  in-process (with the database): {result['in_process_per_s']:,}/s, p99 {result['in_process_p99_ms']} ms",
        flush=True,
    )
    result.update(bench_http(url, workload(url, args.requests), args.concurrency, args.workers, args.seconds))
    print(
        f"  HTTP: {result['http_per_s']:,}/s, p50 {result['http_p50_ms']} ms, p99 {result['http_p99_ms']} ms, "
        f"errors {result['http_errors']}",
        flush=True,
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM outbox GROUP BY kind")).all())
        total = conn.execute(text("SELECT count(*) FROM authorizations")).scalar_one()
    engine.dispose()
    result["authorizations"] = int(total)
    result["decline_messages"] = int(kinds.get("authorization_declined", 0))
    result["anomaly_alerts"] = int(kinds.get("anomaly_alert", 0))
    print(
        f"  {total:,} authorizations: {result['decline_messages']:,} decline messages, "
        f"{result['anomaly_alerts']:,} anomaly alerts (inline scoring runs when a model is trained)",
        flush=True,
    )
    return result


if __name__ == "__main__":
    main()
