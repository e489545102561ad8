"""Next month's state (M6): will the customer's usage drop next month?

Label for month m: spend in m+1 below half of the average of m-2..m, among customers spending at
least 50,000 KRW a month on average (a drop needs something to drop from). A gradient-boosted
model reads the month's features (levels, 3- and 6-month slopes, recency, holdings, calls, app use,
age, tenure); the naive baseline says "what fell this month keeps falling" (score = how far this
month is below the 3-month average). Both are judged on held-out later months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score

MIN_AVG_SPEND_KRW = 50_000
DROP_RATIO = 0.5

FEATURES = (
    "spend_krw",
    "txn_count",
    "credit_spend_krw",
    "check_spend_krw",
    "merchants",
    "categories",
    "active_days",
    "online_share",
    "overseas_share",
    "weekend_share",
    "night_share",
    "installment_share",
    "spend_3m_avg_krw",
    "count_3m_avg",
    "spend_6m_avg_krw",
    "count_6m_avg",
    "active_months_6m",
    "spend_slope_3m",
    "spend_slope_6m",
    "count_slope_3m",
    "count_slope_6m",
    "recency_days",
    "credit_cards",
    "check_cards",
    "products",
    "calls",
    "calls_complaint",
    "calls_cancellation_intent",
    "calls_card_loan_inquiry",
    "calls_payment_inquiry",
    "app_logins",
    "app_active_days",
    "app_loan_views",
    "app_cancel_views",
    "age",
    "tenure_months",
    "ratio_to_3m",
)


def with_derived(features: pd.DataFrame) -> pd.DataFrame:
    """Add the columns the model and the baseline share (ratio of this month to the 3-month average)."""
    out = features.copy()
    avg = out["spend_3m_avg_krw"].astype(np.float64)
    out["ratio_to_3m"] = np.where(avg > 0, out["spend_krw"] / avg.where(avg > 0, 1.0), 0.0)
    return out


def labelled(features: pd.DataFrame, next_month: pd.DataFrame) -> pd.DataFrame:
    """Rows of one month that can be labelled, with ``drop`` from the next month's spend."""
    rows = features[features["spend_3m_avg_krw"] >= MIN_AVG_SPEND_KRW]
    nxt = next_month.set_index("customer_id")["spend_krw"]
    spend_next = rows["customer_id"].map(nxt).fillna(0).to_numpy(dtype=np.float64)
    return rows.assign(drop=spend_next < DROP_RATIO * rows["spend_3m_avg_krw"].to_numpy(dtype=np.float64))


def baseline_score(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    return -frame["ratio_to_3m"].to_numpy(dtype=np.float64)


@dataclass
class DropModel:
    model: HistGradientBoostingClassifier
    trained_rows: int
    base_rate: float

    def predict(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        proba: npt.NDArray[np.float64] = self.model.predict_proba(frame[list(FEATURES)].astype(np.float64))[:, 1]
        return proba


def fit(train: pd.DataFrame, seed: int = 0) -> DropModel:
    y = train["drop"].to_numpy()
    if y.all() or not y.any():
        raise ValueError("training data has a single class; more months are needed")
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=31, random_state=seed)
    model.fit(train[list(FEATURES)].astype(np.float64), y)
    return DropModel(model=model, trained_rows=len(train), base_rate=float(y.mean()))


@dataclass(frozen=True)
class Evaluation:
    train_rows: int
    test_rows: int
    test_positive_rate: float
    model_auc: float
    model_ap: float
    baseline_auc: float
    baseline_ap: float

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def evaluate(train: pd.DataFrame, test: pd.DataFrame, seed: int = 0) -> Evaluation:
    model = fit(train, seed)
    y = test["drop"].to_numpy()
    scores = model.predict(test)
    base = baseline_score(test)
    return Evaluation(
        train_rows=len(train),
        test_rows=len(test),
        test_positive_rate=float(y.mean()),
        model_auc=float(roc_auc_score(y, scores)),
        model_ap=float(average_precision_score(y, scores)),
        baseline_auc=float(roc_auc_score(y, base)),
        baseline_ap=float(average_precision_score(y, base)),
    )
