"""Benchmark: the monthly recommendation run on the seed002 lake, the recommendation API, and the
held-out evaluation.

    .venv/bin/python bench/recommend.py [--month 2023-09] [--requests 3000] [--no-evaluate]

1. Computes the run for every customer from scratch: the monthly marts it reads (13 months, in a fresh
   directory), the benefit simulation of all 27 products, similar members, the category, merchant and
   card-adoption models, merchant life cycles and every document (target: ≤ 120 s).
2. Stores the run into a fresh SQLite database (migrated and loaded from the lake).
3. Serves the app with uvicorn (one worker) and reads random customers' recommendations over HTTP,
   one request at a time (target: p99 ≤ 20 ms), then reports and merchant targets.
4. Unless --no-evaluate: the temporal hold-out (test month = the lake's last) with every model next
   to its popularity baseline.

Uses the lake under $CARDWISE_DATA_DIR/lake (generated with the seed002 preset when absent). CPU time
is printed next to wall time: on a machine shared with other jobs the wall time says little alone.
The last line is one JSON object.
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
from sqlalchemy import text

from cardwise.config import Settings
from cardwise.db.engine import make_engine
from cardwise.db.load import load_lake
from cardwise.db.migrate import upgrade
from cardwise.lake.build import build_lake
from cardwise.lake.marts import Marts
from cardwise.lake.store import MANIFEST, connect
from cardwise.marketing.batch import parse_month
from cardwise.recommend import service
from cardwise.recommend.batch import compute_run
from cardwise.recommend.evaluation import beats_baseline, evaluate, table
from cardwise.synth.presets import get_preset


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 10 else max(values)


async def _load(url: str, paths: list[str], headers: dict[str, str]) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as client:
        for path in paths:
            t = time.perf_counter()
            r = await client.get(path)
            latencies.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default="2023-09")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--no-evaluate", action="store_true")
    parser.add_argument(
        "--postgres", metavar="URL", help="store into and serve from this PostgreSQL server (a schema of its own)"
    )
    args = parser.parse_args()
    month = parse_month(args.month)

    base = Settings()
    lake = base.lake_dir
    if not (lake / MANIFEST).exists():
        print(f"  generating the seed002 lake into {lake} …", flush=True)
        build_lake(get_preset("seed002"), seed=42, out=lake, overwrite=True, pan_key=base.pan_hmac_key)

    work = Path(tempfile.mkdtemp(prefix="cw-bench-rec-"))
    figures: dict[str, object] = {}
    schema: str | None = None
    try:
        marts = Marts(work / "marts", lake)
        con = connect(lake)
        wall, cpu = time.perf_counter(), time.process_time()
        started = time.perf_counter()
        result = compute_run(
            con, marts, month, step=lambda s: print(f"    {time.perf_counter() - started:6.1f} s  {s}", flush=True)
        )
        t_run, c_run = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"  run for {args.month} from scratch: {t_run:.1f} s wall, {c_run:.1f} s CPU {result.timings}", flush=True
        )
        print(f"  {result.counts()}", flush=True)

        schema = None
        if args.postgres:
            schema = f"cw_bench_{random.randint(0, 16**8):08x}"
            with make_engine(args.postgres).begin() as admin:
                admin.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{sep}options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{work / 'cardwise.db'}"
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            load_lake(conn, lake)
        from sqlalchemy.orm import Session

        t2 = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            run_id = service.start_run(session, month)
            service.store_run(session, run_id, result, t_run)
        t_store = time.perf_counter() - t2
        engine.dispose()
        backend = "PostgreSQL" if schema else "SQLite"
        db_mib = 0.0 if schema else (work / "cardwise.db").stat().st_size / 2**20
        print(f"  stored in {backend}: {t_store:.1f} s ({db_mib:.0f} MiB database)", flush=True)

        with api_server(url, base.data_dir) as base_url:
            ids = [int(r["customer_id"]) for r in result.recommendations]
            merchants = [int(m["merchant_id"]) for m in result.merchants]
            rng = random.Random(0)
            agent = bench_headers(url, base_url, "agent")  # reads any customer's documents and merchant targets
            asyncio.run(
                _load(base_url, [f"/v1/customers/{rng.choice(ids)}/recommendations" for _ in range(200)], agent)
            )
            recs = asyncio.run(
                _load(
                    base_url, [f"/v1/customers/{rng.choice(ids)}/recommendations" for _ in range(args.requests)], agent
                )
            )
            reports = asyncio.run(
                _load(base_url, [f"/v1/customers/{rng.choice(ids)}/report" for _ in range(args.requests // 3)], agent)
            )
            targets = asyncio.run(
                _load(
                    base_url,
                    [f"/v1/merchants/{rng.choice(merchants)}/targets" for _ in range(args.requests // 3)],
                    agent,
                )
            )
        print(
            f"  recommendations over HTTP: p50 {statistics.median(recs):.2f} ms, p99 {pct(recs, 0.99):.2f} ms"
            f" (report p99 {pct(reports, 0.99):.2f} ms, merchant targets p99 {pct(targets, 0.99):.2f} ms)",
            flush=True,
        )
        figures.update(
            {
                "month": args.month,
                "customers": len(result.recommendations),
                "merchants": len(result.merchants),
                "run_from_scratch_s": round(t_run, 1),
                "run_cpu_s": round(c_run, 1),
                "run_target_s": 120,
                "timings_s": result.timings,
                "database": backend,
                "store_s": round(t_store, 1),
                "sqlite_mib": round(db_mib),
                "recommendations_p50_ms": round(statistics.median(recs), 2),
                "recommendations_p99_ms": round(pct(recs, 0.99), 2),
                "recommendations_target_p99_ms": 20,
                "report_p99_ms": round(pct(reports, 0.99), 2),
                "merchant_targets_p99_ms": round(pct(targets, 0.99), 2),
            }
        )
        if not args.no_evaluate:
            wall = time.perf_counter()
            held = evaluate(con, marts)
            t_eval = time.perf_counter() - wall
            print(f"  held out {held['test_month']} (trained through {held['trained_through']}), {t_eval:.0f} s:")
            for task, ranker, users, hit, ndcg in table(held):
                print(f"    {task:24s} {ranker:22s} {users:6,d}  hit@10 {hit:.3f}  NDCG@10 {ndcg:.3f}")
            figures["evaluation"] = {
                f"{task} / {ranker}": {"hit_at_10": hit, "ndcg_at_10": ndcg}
                for task, ranker, _, hit, ndcg in table(held)
            }
            figures["beats_popularity"] = beats_baseline(held)
        con.close()
        figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(figures, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.postgres and schema:
            with make_engine(args.postgres).begin() as admin:
                admin.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
