"""Benchmark: VOC risk models on the seed002 lake, from scratch.

    .venv/bin/python bench/voc.py [--evaluate]

1. text: every call transcript and transfer memo of the lake masked, analyzed with kiwipiepy and turned
   into signals (a fresh analyzer, so its line cache starts empty): transcripts per second; and the
   analyzer's rate on lines it has never seen, for text that does not repeat the way call scripts do;
2. training time: ``train_voc`` with nothing cached (monthly marts and text signals computed first), then
   again with them cached (what the monthly retraining costs); target ≤ 120 s from scratch;
3. scoring one month with explanations; with ``--evaluate`` also the held-out evaluation.

Uses the lake under $CARDWISE_DATA_DIR/lake (generated with the seed002 preset when absent) and a
temporary directory for marts and signals. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from cardwise.config import Settings
from cardwise.lake.build import build_lake
from cardwise.lake.marts import Marts
from cardwise.lake.store import MANIFEST, connect
from cardwise.marketing.marts import lake_months
from cardwise.synth.presets import get_preset
from cardwise.voc.signals import TextSignals
from cardwise.voc.text import TextAnalyzer, memos_frame, normalize, split_speakers, transcripts_frame
from cardwise.voc.training import evaluate_voc, score_month, train_voc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--evaluate", action="store_true", help="also run the held-out evaluation")
    args = parser.parse_args()
    settings = Settings()
    if not (settings.lake_dir / MANIFEST).exists():
        print(f"  generating the seed002 lake into {settings.lake_dir} …", flush=True)
        build_lake(get_preset("seed002"), seed=42, out=settings.lake_dir, overwrite=True, pan_key=settings.pan_hmac_key)
    con = connect(settings.lake_dir)
    months = lake_months(con)
    transcripts = int(con.execute("SELECT count(*) FROM call_transcripts").fetchall()[0][0])
    memos = int(con.execute("SELECT count(*) FROM transfer_memos").fetchall()[0][0])

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # 1. text, alone, with a fresh analyzer (its line cache empty)
        t0 = time.perf_counter()
        analyzer = TextAnalyzer()
        analyzer.lines(["카드 해지하려고요"])
        load_s = time.perf_counter() - t0
        calls = con.sql("SELECT transcript_id, customer_id, started_at, duration_s, text FROM call_transcripts").df()
        t0 = time.perf_counter()
        transcripts_frame(analyzer, calls)
        calls_s = time.perf_counter() - t0
        frame = con.sql("SELECT memo_id, customer_id, ts, direction, amount_krw, memo FROM transfer_memos").df()
        t0 = time.perf_counter()
        memos_frame(analyzer, frame)
        memos_s = time.perf_counter() - t0
        per_s = transcripts / calls_s
        print(
            f"  text: {transcripts:,} transcripts masked and analyzed in {calls_s:.1f} s ({per_s:,.0f}/s,"
            f" {analyzer.analyzed_lines:,} distinct lines); {memos:,} memos in {memos_s:.1f} s;"
            f" analyzer load {load_s:.1f} s",
            flush=True,
        )
        sample = [u for (t,) in con.execute("SELECT text FROM call_transcripts USING SAMPLE 400").fetchall()
                  for _, u in split_speakers(t)]  # fmt: skip
        fresh = TextAnalyzer()
        fresh.lines(["네"])
        unique = sorted({normalize(u) + f" {i}" for i, u in enumerate(sample)})
        t0 = time.perf_counter()
        fresh.lines(unique)
        lines_per_s = len(unique) / (time.perf_counter() - t0)
        lines_per_call = len(sample) / 400
        print(
            f"  never-seen lines: {lines_per_s:,.0f} lines/s = {lines_per_s / lines_per_call:,.0f} transcripts/s "
            f"({lines_per_call:.1f} lines each)",
            flush=True,
        )

        # 2. training from scratch (marts and signals computed), then with them cached
        marts, signals = Marts(root / "marts", settings.lake_dir), TextSignals(root / "marts", settings.lake_dir)
        t0 = time.perf_counter()
        trained, metrics = train_voc(con, marts, signals, seed=0)
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        trained, metrics = train_voc(con, marts, signals, seed=0)
        warm_s = time.perf_counter() - t0
        print(
            f"  training on {metrics['rows']:,} customer-months: {cold_s:.1f} s from scratch, {warm_s:.1f} s with marts"
            f" and signals cached (fit {metrics['seconds']['fit']:.1f} s)",
            flush=True,
        )

        # 3. scoring the newest month with explanations
        t0 = time.perf_counter()
        scores = score_month(con, marts, signals, trained, months[-1])
        score_s = time.perf_counter() - t0
        print(f"  scoring {len(scores):,} customers at {months[-1]:%Y-%m} with drivers: {score_s:.1f} s", flush=True)
        report = None
        if args.evaluate:
            t0 = time.perf_counter()
            report = evaluate_voc(con, marts, signals, test_months=(date(2023, 8, 1), date(2023, 9, 1)))
            print(f"  held-out evaluation: {time.perf_counter() - t0:.1f} s", flush=True)
            for name, r in report["targets"].items():
                b, n, w = r["baseline_rfm_logistic"], r["boosting_without_text"], r["boosting_with_text"]
                print(
                    f"    {name:12s} RFM {b['roc_auc']:.3f}/{b['average_precision']:.3f}  no text "
                    f"{n['roc_auc']:.3f}/{n['average_precision']:.3f}  with text {w['roc_auc']:.3f}/"
                    f"{w['average_precision']:.3f}",
                    flush=True,
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "transcripts": transcripts,
        "transcripts_per_s": round(per_s),
        "never_seen_transcripts_per_s": round(lines_per_s / lines_per_call),
        "memos": memos,
        "memos_per_s": round(memos / memos_s),
        "analyzer_load_s": round(load_s, 1),
        "train_rows": metrics["rows"],
        "train_s_from_scratch": round(cold_s, 1),
        "train_s_cached": round(warm_s, 1),
        "fit_s": metrics["seconds"]["fit"],
        "score_month_s": round(score_s, 1),
        "peak_rss_mib": round(peak),
        "target_train_s": 120,
    }
    if report is not None:
        out["evaluation"] = {
            t: {
                m: [r[m]["roc_auc"], r[m]["average_precision"]]
                for m in ("baseline_rfm_logistic", "boosting_without_text", "boosting_with_text")
            }
            for t, r in report["targets"].items()
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
