"""Benchmark: train the anomaly model on the seed002 lake and time single-transaction scoring.

    .venv/bin/python bench/anomaly.py

Uses the lake under $CARDWISE_DATA_DIR/lake (generated with the seed002 preset when absent).
The last line is one JSON object.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from datetime import date

import numpy as np

from cardwise.config import Settings
from cardwise.lake.build import build_lake
from cardwise.lake.store import MANIFEST, connect
from cardwise.safety.anomaly import Frame, load_frame, train
from cardwise.synth.presets import get_preset


def main() -> None:
    settings = Settings()
    if not (settings.lake_dir / MANIFEST).exists():
        print(f"  generating the seed002 lake into {settings.lake_dir} …", flush=True)
        build_lake(get_preset("seed002"), seed=42, out=settings.lake_dir, overwrite=True, pan_key=settings.pan_hmac_key)
    con = connect(settings.lake_dir)
    started = time.perf_counter()
    model = train(con, start=date(2022, 10, 1), end=date(2023, 4, 1))
    train_s = time.perf_counter() - started
    print(f"  trained on {model.rows:,} transactions in {train_s:.1f} s", flush=True)
    sample = load_frame(con, date(2023, 4, 1), date(2023, 4, 8), model.codes)
    rng = np.random.default_rng(0)
    picks = rng.choice(len(sample), size=5_000, replace=False)
    lat = []
    for i in picks:
        one = Frame(**{k: getattr(sample, k)[i : i + 1] for k in Frame.__dataclass_fields__})
        t0 = time.perf_counter()
        x, _ = model.profiles.features(one)
        model.detector.score_samples(x)
        lat.append((time.perf_counter() - t0) * 1000)
    p50 = statistics.median(lat)
    p99 = statistics.quantiles(lat, n=100)[98]
    t0 = time.perf_counter()
    x, _ = model.profiles.features(sample)
    model.detector.score_samples(x)
    batch_per_s = len(sample) / (time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  single-transaction scoring: p50 {p50:.3f} ms, p99 {p99:.3f} ms; batch {batch_per_s:,.0f}/s")
    print(
        json.dumps(
            {
                "train_s": round(train_s, 1),
                "train_rows": model.rows,
                "score_p50_ms": round(p50, 3),
                "score_p99_ms": round(p99, 3),
                "batch_scores_per_s": round(batch_per_s),
                "peak_rss_mib": round(peak),
            }
        )
    )


if __name__ == "__main__":
    main()
