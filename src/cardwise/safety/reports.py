"""Back-office reports that are computed once and read many times (S6, S8, S10): the anomaly score
distribution over a held-out month, and the saved cluster runs (safety/clusters.py writes them).

Both live as JSON under ``<data_dir>/reports``; the pages only read files, so they stay fast whatever
the size of the lake. The anomaly distribution is refreshed by ``cardwise safety distribution`` (or the
back office's button); cluster runs by ``cardwise safety clusters`` and the quarterly job.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from cardwise.config import Settings
from cardwise.safety.anomaly import TrainedAnomalyModel, load_frame
from cardwise.safety.clusters import ClusterProfile, ClusterRun

DISTRIBUTION_FILE = "anomaly/distribution.json"
BINS = 60


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
    os.replace(tmp, path)


def _month_after(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def anomaly_distribution(
    con: duckdb.DuckDBPyConnection, model: TrainedAnomalyModel, *, month: date, bins: int = BINS
) -> dict[str, Any]:
    """Scores of every transaction of ``month`` (held out: after the model's training window), as a
    histogram for ordinary and fraudulent transactions apart, with the model's alert threshold."""
    start = date(month.year, month.month, 1)
    end = _month_after(start)
    frame = load_frame(con, start, end, model.codes)
    if len(frame) == 0:
        raise ValueError(f"no transactions in {start:%Y-%m}")
    x, _ = model.profiles.features(frame)
    scores = model.detector.score_samples(x)
    threshold = float(model.detector.threshold_)
    # Clip the long right tail into the last bin so the body of the distribution stays readable.
    hi = float(max(np.quantile(scores, 0.999), threshold * 1.2))
    lo = float(np.min(scores))
    edges = np.linspace(lo, hi, bins + 1)
    clipped = np.clip(scores, lo, hi)
    normal, _ = np.histogram(clipped[~frame.is_fraud], bins=edges)
    fraud, _ = np.histogram(clipped[frame.is_fraud], bins=edges)
    above = scores > threshold
    return {
        "month": f"{start:%Y-%m}",
        "model_version": model.version,
        "trained_on": list(model.trained_on),
        "threshold": round(threshold, 4),
        "edges": [round(float(e), 4) for e in edges],
        "normal": normal.astype(int).tolist(),
        "fraud": fraud.astype(int).tolist(),
        "transactions": len(frame),
        "fraud_count": int(frame.is_fraud.sum()),
        "alerts": int(above.sum()),
        "alerts_fraud": int((above & frame.is_fraud).sum()),
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def refresh_distribution(con: duckdb.DuckDBPyConnection, model: TrainedAnomalyModel, reports_dir: Path) -> Path:
    """Compute the distribution for the lake's newest month and keep it for the back office."""
    # fetchall: an unfinished single-row result would block the next query on this connection
    newest = con.execute("SELECT max(ts)::DATE FROM transactions").fetchall()[0][0]
    if newest is None:
        raise ValueError("the lake has no transactions")
    data = anomaly_distribution(con, model, month=newest)
    target = reports_dir / DISTRIBUTION_FILE
    _write_json(target, data)
    return target


def read_distribution(reports_dir: Path) -> dict[str, Any] | None:
    path = reports_dir / DISTRIBUTION_FILE
    if not path.exists():
        return None
    return _cached_json(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _cached_json(path: str, mtime_ns: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


# --- cluster runs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    window: tuple[str, str]
    customers: int
    k: int
    n_components: int


def cluster_runs(reports_dir: Path) -> list[RunInfo]:
    """Saved cluster runs, newest first."""
    out = []
    for path in sorted((reports_dir / "clusters").glob("*.json"), reverse=True):
        try:
            d = _cached_json(str(path), path.stat().st_mtime_ns)
            window = (str(d["window"][0]), str(d["window"][1]))
            out.append(RunInfo(str(d["run_id"]), window, int(d["customers"]), int(d["k"]), int(d["n_components"])))
        except (OSError, ValueError, KeyError):
            continue  # a file being written or a stray one; never break the page
    return out


def load_run(reports_dir: Path, run_id: str) -> ClusterRun:
    """A saved run as the object the e-mail step takes; ValueError for an unknown or damaged id."""
    if not run_id.replace("T", "").replace("Z", "").isdigit():
        raise ValueError(f"unknown cluster run {run_id!r}")
    path = reports_dir / "clusters" / f"{run_id}.json"
    if not path.exists():
        raise ValueError(f"unknown cluster run {run_id!r}")
    d = _cached_json(str(path), path.stat().st_mtime_ns)
    return ClusterRun(
        window=(d["window"][0], d["window"][1]),
        customers=int(d["customers"]),
        n_components=int(d["n_components"]),
        explained_variance=[float(v) for v in d["explained_variance"]],
        k=int(d["k"]),
        silhouette_by_k={int(k): float(v) for k, v in d["silhouette_by_k"].items()},
        inertia_by_k={int(k): float(v) for k, v in d["inertia_by_k"].items()},
        profiles=[
            ClusterProfile(
                cluster=int(p["cluster"]),
                size=int(p["size"]),
                age_bands={str(b): float(v) for b, v in p["age_bands"].items()},
                female_share=float(p["female_share"]),
                top_categories=[(str(c), float(s)) for c, s in p["top_categories"]],
                recommended_blocks=[str(c) for c in p["recommended_blocks"]],
            )
            for p in d["profiles"]
        ],
        members={int(c): int(k) for c, k in d.get("members", {}).items()},
    )


def serving_model(settings: Settings) -> TrainedAnomalyModel:
    """The model that scores authorizations: the registry's champion, else the newest trained file."""
    from cardwise.mlops.lifecycle import load_champion
    from cardwise.safety.anomaly import load_latest

    try:
        champion = load_champion(settings, "anomaly")
    except Exception:  # no or broken registry: the file model, as the server does
        champion = None
    if champion is not None:
        return champion[1]
    return load_latest(settings.models_dir)


def refresh_from_settings(settings: Settings) -> Path:
    """The distribution for the lake's newest month with the serving model (CLI and back-office button)."""
    from cardwise.lake.store import connect

    model = serving_model(settings)
    con = connect(settings.lake_dir)
    try:
        return refresh_distribution(con, model, settings.data_dir / "reports")
    finally:
        con.close()
