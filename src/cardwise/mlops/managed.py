"""The models the lifecycle manages, each behind one small interface: how many rows it learns from,
how to train it on the current data, and how to score any version of it on the current held-out data.

Held-out data is always the newest month(s) of the lake and is never in a challenger's training
window, so a champion and its challenger are compared on the same rows neither trained on (unless
the champion was trained later than the data it is now tested on, which the lifecycle refuses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import duckdb

from cardwise.config import Settings
from cardwise.marketing.marts import add_months, lake_months


@dataclass
class Trained:
    artifact: Any
    params: dict[str, Any]
    window: tuple[date, date]  # training data [start, end)
    rows: int  # rows the model learned from
    extra_metrics: dict[str, float] = field(default_factory=dict)


class ManagedModel(Protocol):
    name: str
    metric: str  # primary metric, higher is better
    description: str

    def data_rows(self, con: duckdb.DuckDBPyConnection) -> int: ...

    def holdout(self, con: duckdb.DuckDBPyConnection) -> tuple[date, date]: ...

    def train(self, con: duckdb.DuckDBPyConnection, *, seed: int = 0) -> Trained: ...

    def evaluate(self, con: duckdb.DuckDBPyConnection, artifact: Any) -> dict[str, float]: ...


def _transactions(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT count(*) FROM transactions").fetchall()[0][0])


def _last_months(con: duckdb.DuckDBPyConnection, n: int) -> tuple[date, date]:
    months = lake_months(con)
    if len(months) < n + 2:
        raise ValueError(f"the lake covers {len(months)} months; at least {n + 2} are needed")
    return months[-n], add_months(months[-1], 1)


@dataclass
class AnomalyModel:
    """The after-approval anomaly model (issue 4); primary metric: average precision on the held-out month."""

    name: str = "anomaly"
    metric: str = "average_precision"
    description: str = "Gaussian mixture over customer-profile distances (fraud after approval)"
    history_months: int = 6
    holdout_months: int = 1
    sample: int = 300_000

    def data_rows(self, con: duckdb.DuckDBPyConnection) -> int:
        return _transactions(con)

    def holdout(self, con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
        return _last_months(con, self.holdout_months)

    def train(self, con: duckdb.DuckDBPyConnection, *, seed: int = 0) -> Trained:
        from cardwise.safety.anomaly import train

        hold_start, _ = self.holdout(con)
        start = add_months(hold_start, -self.history_months)
        model = train(con, start=start, end=hold_start, sample=self.sample, seed=seed)
        return Trained(
            artifact=model,
            params={"history_months": self.history_months, "sample": self.sample, "seed": seed},
            window=(start, hold_start),
            rows=model.rows,
        )

    def evaluate(self, con: duckdb.DuckDBPyConnection, artifact: Any) -> dict[str, float]:
        from sklearn.metrics import average_precision_score, roc_auc_score

        from cardwise.safety.anomaly import load_frame

        start, end = self.holdout(con)
        frame = load_frame(con, start, end, artifact.codes)
        if len(frame) == 0 or not frame.is_fraud.any():
            raise ValueError("the held-out month has no labelled fraud to evaluate on")
        x, _ = artifact.profiles.features(frame)
        score = artifact.detector.score_samples(x)
        return {
            "average_precision": float(average_precision_score(frame.is_fraud, score)),
            "roc_auc": float(roc_auc_score(frame.is_fraud, score)),
            "holdout_rows": float(len(frame)),
        }


@dataclass
class UsageDropModel:
    """Next month's usage drop (issue 5); primary metric: average precision on the held-out month."""

    settings: Settings
    name: str = "usage_drop"
    metric: str = "average_precision"
    description: str = "Gradient boosting: will next month's spend halve?"

    def data_rows(self, con: duckdb.DuckDBPyConnection) -> int:
        return _transactions(con)

    def _frames(self, con: duckdb.DuckDBPyConnection) -> tuple[list[date], dict[date, Any]]:
        from cardwise.marketing.batch import customer_features_for
        from cardwise.marketing.jobs import marts_for
        from cardwise.marketing.marts import ensure_monthly_marts, register_marts

        months = lake_months(con)
        marts = marts_for(self.settings)
        ensure_monthly_marts(con, marts, months)
        register_marts(con, marts, months)
        return months, {m: customer_features_for(con, m) for m in months[2:]}

    def holdout(self, con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
        months = lake_months(con)
        if len(months) < 6:
            raise ValueError("the usage-drop model needs at least six months")
        # The last month with a known next month is the held-out one.
        return months[-2], months[-1]

    def train(self, con: duckdb.DuckDBPyConnection, *, seed: int = 0) -> Trained:
        import pandas as pd

        from cardwise.marketing import state_model

        hold, _ = self.holdout(con)
        _, frames = self._frames(con)
        train_months = [m for m in frames if add_months(m, 1) < hold and add_months(m, 1) in frames]
        parts = [state_model.labelled(frames[m], frames[add_months(m, 1)]) for m in train_months]
        data = pd.concat(parts, ignore_index=True)
        model = state_model.fit(data, seed=seed)
        return Trained(
            artifact=model,
            params={"train_months": len(train_months), "seed": seed},
            window=(train_months[0], add_months(train_months[-1], 2)),
            rows=len(data),
        )

    def evaluate(self, con: duckdb.DuckDBPyConnection, artifact: Any) -> dict[str, float]:
        from sklearn.metrics import average_precision_score, roc_auc_score

        from cardwise.marketing import state_model

        hold, nxt = self.holdout(con)
        _, frames = self._frames(con)
        test = state_model.labelled(frames[hold], frames[nxt])
        y = test["drop"].to_numpy()
        if y.all() or not y.any():
            raise ValueError("the held-out month has a single class")
        score = artifact.predict(test)
        base = state_model.baseline_score(test)
        return {
            "average_precision": float(average_precision_score(y, score)),
            "roc_auc": float(roc_auc_score(y, score)),
            "baseline_average_precision": float(average_precision_score(y, base)),
            "holdout_rows": float(len(test)),
        }


def managed_models(settings: Settings) -> dict[str, ManagedModel]:
    return {"anomaly": AnomalyModel(), "usage_drop": UsageDropModel(settings)}
