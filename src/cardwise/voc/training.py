"""Training, held-out evaluation and monthly scoring of the VOC risk models, from the lake.

``train_voc`` is a pure function of the lake (and of campaign feedback): it returns the fitted model
and its metrics and writes nothing, so the model-lifecycle work can register, compare and promote it.
``save``/``load_latest`` keep versioned artifacts under ``<models_dir>/voc/<version>/`` meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from cardwise.lake.marts import Marts
from cardwise.lake.sql import BatchEngine
from cardwise.marketing.marts import add_months
from cardwise.voc.dataset import DatasetError, history_for, labelled_months, prepare, snapshot
from cardwise.voc.features import TARGETS, WITH_TEXT, WITHOUT_TEXT
from cardwise.voc.model import RfmBaseline, VocRiskModel, deciles
from cardwise.voc.signals import TextSignals, analyzer_version

# Chosen for training time (seed002 in well under two minutes); deeper or longer boosting did not
# change the held-out figures beyond their noise.
MODEL_PARAMS: dict[str, Any] = {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 7, "min_samples_leaf": 40}
DEFAULT_TEST_MONTHS = (date(2023, 8, 1), date(2023, 9, 1))
BOOTSTRAP_ROUNDS = 200


@dataclass
class TrainedVocModel:
    """The fitted models with what they were trained on (no rows)."""

    model: VocRiskModel
    version: str
    trained_months: tuple[str, ...]
    data_hash: str
    analyzer: str
    seed: int
    rows: int
    positives: dict[str, int]
    trained_at: str
    metrics: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "kind": "voc_risk",
            "targets": list(self.model.targets),
            "features": list(self.model.features),
            "params": {k: getattr(self.model, k) for k in MODEL_PARAMS} | {"random_state": self.model.random_state},
            "calibration": "sigmoid (Platt) on 3-fold out-of-fold predictions",
            "trained_months": list(self.trained_months),
            "rows": self.rows,
            "positives": self.positives,
            "data_hash": self.data_hash,
            "analyzer": self.analyzer,
            "seed": self.seed,
            "trained_at": self.trained_at,
            "metrics": self.metrics,
        }


def _data_hash(signals: TextSignals, months: list[date], feedback: pd.DataFrame | None) -> str:
    digest = hashlib.sha256(signals.fingerprint.encode())
    digest.update(",".join(m.isoformat() for m in months).encode())
    if feedback is not None and len(feedback):
        digest.update(pd.util.hash_pandas_object(feedback, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def training_frame(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    signals: TextSignals,
    months: list[date],
    *,
    feedback: pd.DataFrame | None = None,
    extra_calls: pd.DataFrame | None = None,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
) -> pd.DataFrame:
    engine = engine if extra_calls is None else None  # on-the-fly transcripts are joined in DuckDB only
    prepare(con, marts, signals, history_for(con, months), extra_calls=extra_calls, step=step, engine=engine)
    step("snapshots")
    return pd.concat([snapshot(con, m, feedback=feedback, engine=engine) for m in months], ignore_index=True)


def train_voc(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    signals: TextSignals,
    *,
    until: date | None = None,
    seed: int = 0,
    feedback: pd.DataFrame | None = None,
    extra_calls: pd.DataFrame | None = None,
    threads: int = 1,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
) -> tuple[TrainedVocModel, dict[str, Any]]:
    """Fit the four models on every labelled month (whose outcome month is ``until`` or earlier)."""
    started = time.perf_counter()
    months = [m for m in labelled_months(con) if until is None or add_months(m, 1) <= until]
    if not months:
        raise DatasetError("no labelled months to train on: the lake's labels table has no outcomes in range")
    frame = training_frame(
        con, marts, signals, months, feedback=feedback, extra_calls=extra_calls, step=step, engine=engine
    )
    prepared = time.perf_counter()
    step("fitting")
    model = VocRiskModel(random_state=seed, n_threads=threads, **MODEL_PARAMS).fit(frame)
    fitted = time.perf_counter()
    data_hash = _data_hash(signals, months, feedback)
    config = hashlib.sha256(f"{data_hash}:{seed}:{sorted(MODEL_PARAMS.items())}".encode()).hexdigest()[:6]
    now = datetime.now(UTC)
    metrics: dict[str, Any] = {
        "rows": len(frame),
        "customers": int(frame["customer_id"].nunique()),
        "months": [f"{m:%Y-%m}" for m in months],
        "positives": model.positives_,
        "at_risk_rows": model.rows_,
        "seconds": {
            "data": round(prepared - started, 2),
            "fit": round(fitted - prepared, 2),
            "total": round(fitted - started, 2),
        },
    }
    trained = TrainedVocModel(
        model=model,
        version=f"{now:%Y%m%dT%H%M%SZ}-{config}",
        trained_months=tuple(metrics["months"]),
        data_hash=data_hash,
        analyzer=analyzer_version(),
        seed=seed,
        rows=len(frame),
        positives=model.positives_,
        trained_at=now.isoformat(timespec="seconds"),
        metrics=metrics,
    )
    return trained, metrics


# --- evaluation ---------------------------------------------------------------------------------------------


def expected_calibration_error(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64], bins: int = 10) -> float:
    """Mean gap between predicted and observed rates over equal-count bins of the prediction."""
    order = np.argsort(p, kind="stable")
    gaps = [abs(p[idx].mean() - y[idx].mean()) * len(idx) for idx in np.array_split(order, bins) if len(idx)]
    return float(sum(gaps) / len(p))


def top_decile(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> dict[str, float]:
    """Share of all positives found in the riskiest tenth, and how much likelier they are there."""
    k = max(1, len(p) // 10)
    top = np.argsort(-p, kind="stable")[:k]
    captured = y[top].sum() / max(y.sum(), 1)
    return {"capture": round(float(captured), 3), "lift": round(float(y[top].mean() / max(y.mean(), 1e-12)), 2)}


def _scores(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> dict[str, float]:
    return {
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "average_precision": round(float(average_precision_score(y, p)), 4),
    }


def _bootstrap_lift(
    y: npt.NDArray[np.float64], with_text: npt.NDArray[np.float64], without: npt.NDArray[np.float64], seed: int
) -> dict[str, list[float]]:
    """95% intervals of (with text - without text) for AUC and AP, resampling customers-months."""
    rng = np.random.default_rng(seed)
    d_auc, d_ap = [], []
    n = len(y)
    for _ in range(BOOTSTRAP_ROUNDS):
        idx = rng.integers(0, n, n)
        yy = y[idx]
        if yy.min() == yy.max():
            continue
        d_auc.append(roc_auc_score(yy, with_text[idx]) - roc_auc_score(yy, without[idx]))
        d_ap.append(average_precision_score(yy, with_text[idx]) - average_precision_score(yy, without[idx]))
    return {
        "roc_auc": [round(float(np.percentile(d_auc, q)), 4) for q in (2.5, 97.5)],
        "average_precision": [round(float(np.percentile(d_ap, q)), 4) for q in (2.5, 97.5)],
    }


def text_quality(con: duckdb.DuckDBPyConnection, months: list[date]) -> dict[str, Any]:
    """The text analysis against the synthetic lake's ground truth (call topics, memo kinds)."""
    first, last = min(months), add_months(max(months), 1)
    calls = con.execute(
        """SELECT count(*), sum(CASE WHEN s.topic = t.topic THEN 1 ELSE 0 END)
           FROM voc_call_signals s JOIN call_transcripts t USING (transcript_id)
           WHERE s.started_at >= $1 AND s.started_at < $2""",
        [first, last],
    ).fetchall()[0]
    memo_map = {"gift_wedding": "gift", "gift_birth": "gift", "misc": "split_bill"}
    memo_rows = con.execute(
        """SELECT m.memo_kind, s.kind, count(*) FROM voc_memo_signals s JOIN transfer_memos m USING (memo_id)
           WHERE s.ts >= $1 AND s.ts < $2 GROUP BY 1, 2""",
        [first, last],
    ).fetchall()
    memo_total = sum(r[2] for r in memo_rows)
    memo_right = sum(r[2] for r in memo_rows if memo_map.get(r[0], r[0]) == r[1])
    n_calls, right = calls[0] or 0, calls[1] or 0
    return {
        "calls": int(n_calls),
        "topic_accuracy": round(right / n_calls, 4) if n_calls else None,
        "memos": int(memo_total),
        "memo_kind_accuracy": round(memo_right / memo_total, 4) if memo_total else None,
    }


def evaluate_voc(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    signals: TextSignals,
    *,
    test_months: tuple[date, ...] | list[date] = DEFAULT_TEST_MONTHS,
    seed: int = 0,
    threads: int = 1,
    step: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Temporal hold-out: fit on the labelled months before the first test month, score the test months.

    For each outcome: the RFM logistic baseline, boosting without text (transactions, app logs, call and
    transfer metadata) and boosting with text, by ROC AUC and average precision; the text lift with a
    bootstrap interval; calibration (Brier score, expected calibration error) and the top decile.
    """
    started = time.perf_counter()
    labelled = labelled_months(con)
    test = sorted(m for m in test_months if m in labelled)
    if not test:
        raise DatasetError(
            f"no labelled test month among {', '.join(f'{m:%Y-%m}' for m in test_months)}; labelled: "
            + (", ".join(f"{m:%Y-%m}" for m in labelled) or "none")
        )
    train = [m for m in labelled if add_months(m, 1) <= test[0]]
    if not train:
        raise DatasetError(f"no labelled month before {test[0]:%Y-%m} to train on")
    frame = training_frame(con, marts, signals, sorted(set(train) | set(test)), step=step)
    months = frame["month"].dt.date
    fit_rows, test_rows = frame[months.isin(train)], frame[months.isin(test)]
    step("fitting baseline and models")
    with threadpool_limits(threads):
        baseline = RfmBaseline().fit(fit_rows).predict_proba(test_rows)
    without = VocRiskModel(features=WITHOUT_TEXT, random_state=seed, n_threads=threads, **MODEL_PARAMS)
    p_without = without.fit(fit_rows).predict_proba(test_rows)
    with_text = VocRiskModel(features=WITH_TEXT, random_state=seed, n_threads=threads, **MODEL_PARAMS)
    p_with = with_text.fit(fit_rows).predict_proba(test_rows)
    targets: dict[str, Any] = {}
    for target in TARGETS:
        y_all = test_rows[target].to_numpy(dtype=np.float64)
        keep = ~np.isnan(y_all)
        y = y_all[keep]
        pw, po, pb = (p[target].to_numpy()[keep] for p in (p_with, p_without, baseline))
        train_y = fit_rows[target].to_numpy(dtype=np.float64)
        targets[target] = {
            "train_rows": int((~np.isnan(train_y)).sum()),
            "train_positives": int(np.nansum(train_y)),
            "test_rows": int(keep.sum()),
            "test_positives": int(y.sum()),
            "baseline_rfm_logistic": _scores(y, pb),
            "boosting_without_text": _scores(y, po),
            "boosting_with_text": {
                **_scores(y, pw),
                "brier": round(float(brier_score_loss(y, pw)), 5),
                "expected_calibration_error": round(expected_calibration_error(y, pw), 5),
                "mean_predicted": round(float(pw.mean()), 5),
                "observed_rate": round(float(y.mean()), 5),
                "top_decile": top_decile(y, pw),
            },
            "text_lift": {
                "roc_auc": round(float(roc_auc_score(y, pw) - roc_auc_score(y, po)), 4),
                "average_precision": round(float(average_precision_score(y, pw) - average_precision_score(y, po)), 4),
                "ci95": _bootstrap_lift(y, pw, po, seed),
            },
        }
    return {
        "train_months": [f"{m:%Y-%m}" for m in train],
        "test_months": [f"{m:%Y-%m}" for m in test],
        "label": "outcome in the month after the snapshot month",
        "features": {"without_text": len(WITHOUT_TEXT), "with_text": len(WITH_TEXT)},
        "params": MODEL_PARAMS | {"random_state": seed},
        "targets": targets,
        "text_quality": text_quality(con, sorted(set(train) | set(test))),
        "seconds": round(time.perf_counter() - started, 1),
    }


# --- scoring --------------------------------------------------------------------------------------------------


def _keywords(con: duckdb.DuckDBPyConnection, month: date) -> dict[int, list[str]]:
    rows = con.execute(
        "SELECT customer_id, keywords FROM voc_call_signals WHERE started_at >= $1 AND started_at < $2"
        " AND keywords <> '' ORDER BY customer_id, started_at DESC",
        [add_months(month, -2), add_months(month, 1)],
    ).fetchall()
    counts: dict[int, Counter[str]] = {}
    for customer, words in rows:
        counts.setdefault(int(customer), Counter()).update(words.split())
    return {c: [w for w, _ in sorted(k.items(), key=lambda kv: (-kv[1], kv[0]))[:5]] for c, k in counts.items()}


def score_month(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    signals: TextSignals,
    trained: TrainedVocModel,
    month: date,
    *,
    feedback: pd.DataFrame | None = None,
    extra_calls: pd.DataFrame | None = None,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
) -> pd.DataFrame:
    """Every current customer's four probabilities at ``month``, deciles (1 = riskiest tenth), top
    drivers and recent call keywords."""
    engine = engine if extra_calls is None else None
    prepare(con, marts, signals, history_for(con, [month]), extra_calls=extra_calls, step=step, engine=engine)
    step("features")
    frame = snapshot(con, month, feedback=feedback, engine=engine)
    step("scoring")
    proba = trained.model.predict_proba(frame)
    drivers = trained.model.explain(frame)
    keywords = _keywords(con, month)
    out = pd.DataFrame({"customer_id": frame["customer_id"].astype(np.int64), "month": month})
    out["model_version"] = trained.version
    for target in trained.model.targets:
        out[target] = proba[target].to_numpy()
        out[f"{target}_decile"] = deciles(proba[target], out["customer_id"])
    out["drivers"] = pd.Series(
        [{t: [d.as_dict() for d in drivers[t][i]] for t in trained.model.targets} for i in range(len(frame))],
        index=out.index,
        dtype=object,
    )
    out["keywords"] = pd.Series([keywords.get(int(c), []) for c in out["customer_id"]], index=out.index, dtype=object)
    return out


# --- artifacts -------------------------------------------------------------------------------------------------


def save(trained: TrainedVocModel, models_dir: Path) -> Path:
    import joblib

    dest = models_dir / "voc" / trained.version
    dest.mkdir(parents=True, exist_ok=True)
    joblib.dump(trained, dest / "model.joblib")
    (dest / "meta.json").write_text(json.dumps(trained.meta(), indent=2, ensure_ascii=False) + "\n")
    return dest


def load(models_dir: Path, version: str | None = None) -> TrainedVocModel:
    """The given version, or the newest one."""
    import joblib

    root = models_dir / "voc"
    if version is not None:
        path = root / version / "model.joblib"
        if not path.exists():
            raise FileNotFoundError(f"no VOC model {version} under {root}")
    else:
        versions = sorted(root.glob("*/model.joblib"))
        if not versions:
            raise FileNotFoundError(f"no VOC model under {models_dir}; run `cardwise voc train`")
        path = versions[-1]
    trained: TrainedVocModel = joblib.load(path)
    return trained
