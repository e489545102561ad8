"""Learning curve of the anomaly model: how much does held-out average precision gain per 100,000 more
training rows? The answer sets the default retrain threshold (docs/model-lifecycle.md).

    .venv/bin/python bench/learning_curve.py [--seeds 3]

Trains on random subsets (5%..100%) of six months of seed002 transactions (2023-04..09, 2.3M rows),
scores the same held-out month (2023-10) every time, fits AP(n) = a - b * n^-c, and reports the rows
a challenger needs over a champion trained on N rows for the curve to promise the promotion margin,
next to the noise of the comparison (paired bootstrap of AP on the held-out month). Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import fields
from datetime import date

import numpy as np
from scipy.optimize import curve_fit
from sklearn.metrics import average_precision_score

from cardwise.config import Settings
from cardwise.lake.store import connect
from cardwise.safety.anomaly import Codes, Frame, _fit, _month_before, load_frame

FRACTIONS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)
START, END, TEST_END = date(2023, 4, 1), date(2023, 10, 1), date(2023, 11, 1)


def subset(f: Frame, keep: np.ndarray) -> Frame:
    return Frame(**{k.name: getattr(f, k.name)[keep] for k in fields(Frame)})


def curve(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a - b * np.power(n, -c)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--margin", type=float, default=Settings().promote_margin)
    args = parser.parse_args()
    con = connect(Settings().lake_dir)
    codes = Codes.of(con)
    calib_start = _month_before(END)
    early, calib = load_frame(con, START, calib_start, codes), load_frame(con, calib_start, END, codes)
    test = load_frame(con, END, TEST_END, codes)
    total = len(early) + len(calib)
    print(f"  training rows {total:,}, held-out rows {len(test):,} ({int(test.is_fraud.sum()):,} fraud)", flush=True)

    rows, scores = [], []
    started = time.perf_counter()
    for frac in FRACTIONS:
        for seed in range(args.seeds if frac < 1.0 else 1):
            rng = np.random.default_rng(seed)
            e = subset(early, rng.random(len(early)) < frac)
            c = subset(calib, rng.random(len(calib)) < frac)
            detector, profiles, _ = _fit(e, c, codes, np.random.default_rng(seed), sample=300_000, seed=seed)
            x, _ = profiles.features(test)
            ap = float(average_precision_score(test.is_fraud, detector.score_samples(x)))
            rows.append(len(e) + len(c))
            scores.append(ap)
            print(f"  {frac:>5.0%} seed {seed}: {len(e) + len(c):>9,} rows  AP {ap:.4f}", flush=True)
            if frac == 1.0:
                full_scores = detector.score_samples(x)
    n = np.array(rows, dtype=np.float64)
    y = np.array(scores)
    (a, b, c), _ = curve_fit(curve, n, y, p0=(y.max(), 1.0, 0.5), maxfev=20_000)

    def gain(base: float, extra: float) -> float:
        return float(curve(np.array([base + extra]), a, b, c)[0] - curve(np.array([base]), a, b, c)[0])

    # Noise of a champion/challenger comparison on one held-out month: paired bootstrap of AP.
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(200):
        idx = rng.integers(0, len(test), len(test))
        boot.append(average_precision_score(test.is_fraud[idx], full_scores[idx]))
    ap_se = float(np.std(boot))
    gains = {f"gain_per_100k_at_{int(base / 1e6 * 10) / 10}M": gain(base, 100_000) for base in (1e6, total, 5.3e6)}
    needed = {}
    for base in (total, 5.3e6):
        extra = 10_000.0
        while gain(base, extra) < args.margin and extra < 1e9:
            extra *= 1.25
        needed[f"rows_for_margin_at_{base / 1e6:.1f}M"] = int(extra)
    figures = {
        "fit": {"a": round(a, 4), "b": round(b, 4), "c": round(c, 4)},
        "points": [[int(r), round(s, 4)] for r, s in zip(rows, scores, strict=True)],
        **{k: round(v, 5) for k, v in gains.items()},
        **needed,
        "held_out_ap_bootstrap_se": round(ap_se, 4),
        "margin": args.margin,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
