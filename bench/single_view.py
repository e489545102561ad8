"""Benchmark: the monthly marketing batch on the seed002 lake, and the single-view API.

    .venv/bin/python bench/single_view.py [--month 2023-09] [--requests 3000]

1. Computes every monthly mart of the lake from scratch (features for all 13 months), then the
   month's window features, segments and grades, triggers, life stage, drop model and single views
   (target: ≤ 60 s for features, segments and grades).
2. Stores the month into a fresh SQLite database (migrated and loaded from the lake).
3. Serves the app with uvicorn and reads single views of random customers over HTTP, one client
   at a time (latency) and 8 at a time (throughput).

Uses the lake under $CARDWISE_DATA_DIR/lake (generated with the seed002 preset when absent). The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from bench_auth import bench_headers  # bench/ is the script's directory
from bench_server import api_server

from cardwise.config import Settings
from cardwise.db.engine import make_engine
from cardwise.db.load import load_lake
from cardwise.db.migrate import upgrade
from cardwise.lake.build import build_lake
from cardwise.lake.marts import Marts
from cardwise.lake.store import MANIFEST, connect
from cardwise.marketing import service
from cardwise.marketing.batch import compute_month, parse_month
from cardwise.marketing.marts import ensure_monthly_marts, lake_months
from cardwise.synth.presets import get_preset


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 10 else max(values)


async def _load(url: str, ids: list[int], concurrency: int, headers: dict[str, str]) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = list(ids)
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as client:

        async def worker() -> None:
            while queue:
                cid = queue.pop()
                t = time.perf_counter()
                r = await client.get(f"/v1/customers/{cid}/single-view")
                latencies.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"{r.status_code} {r.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default="2023-09")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    month = parse_month(args.month)

    base = Settings()
    lake = base.lake_dir
    if not (lake / MANIFEST).exists():
        print(f"  generating the seed002 lake into {lake} …", flush=True)
        build_lake(get_preset("seed002"), seed=42, out=lake, overwrite=True, pan_key=base.pan_hmac_key)

    work = Path(tempfile.mkdtemp(prefix="cw-bench-sv-"))
    try:
        marts = Marts(work / "marts", lake)
        con = connect(lake)
        t0 = time.perf_counter()
        months = lake_months(con)
        ensure_monthly_marts(con, marts, months)
        t_marts = time.perf_counter() - t0
        print(f"  monthly marts for {len(months)} months: {t_marts:.1f} s", flush=True)
        t1 = time.perf_counter()
        result = compute_month(con, marts, month)
        t_month = time.perf_counter() - t1
        features_segments = t_marts + result.timings["features"] + result.timings["segments"]
        print(f"  month {args.month}: {t_month:.1f} s {result.timings}", flush=True)
        print(f"  features + segments + grades from scratch: {features_segments:.1f} s (target ≤ 60 s)", flush=True)

        url = f"sqlite:///{work / 'cardwise.db'}"
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            load_lake(conn, lake)
        from sqlalchemy.orm import Session

        t2 = time.perf_counter()
        with Session(engine) as session:
            run_id = service.start_run(session, month)
            service.store_month(session, run_id, result, t_month)
        t_store = time.perf_counter() - t2
        engine.dispose()
        print(f"  stored in SQLite: {t_store:.1f} s", flush=True)

        with api_server(url, base.data_dir) as base_url:
            ids = [int(v["customer_id"]) for v in result.views]
            agent = bench_headers(url, base_url, "agent")  # an agent reads any customer's single view
            rng = random.Random(0)
            warm = [rng.choice(ids) for _ in range(200)]
            asyncio.run(_load(base_url, warm, 1, agent))
            one, _ = asyncio.run(_load(base_url, [rng.choice(ids) for _ in range(args.requests)], 1, agent))
            many, wall = asyncio.run(_load(base_url, [rng.choice(ids) for _ in range(args.requests)], 8, agent))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures = {
            "customers": len(result.views),
            "marts_s": round(t_marts, 2),
            "month_s": round(t_month, 2),
            "features_segments_grades_s": round(features_segments, 2),
            "store_sqlite_s": round(t_store, 2),
            "single_view_p50_ms": round(statistics.median(one), 2),
            "single_view_p99_ms": round(pct(one, 0.99), 2),
            "single_view_c8_per_s": round(len(many) / wall),
            "single_view_c8_p99_ms": round(pct(many, 0.99), 2),
            "peak_rss_mib": round(peak),
        }
        print(json.dumps(figures))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
