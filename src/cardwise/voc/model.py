"""The four VOC risk models (M4): churn, complaint, delinquency and card-loan uptake next month.

Each outcome has its own gradient-boosted classifier (scikit-learn's HistGradientBoosting, which takes
missing values as they are) whose scores are calibrated into probabilities by Platt scaling on
out-of-fold predictions (``CalibratedClassifierCV``, ``ensemble=False``: one final model, the calibrator
learned on three folds). Isotonic calibration was not chosen because churn has about a hundred positives
a year on seed002: a step function fitted on so few would be noisier than a sigmoid.

Explanations are occlusion of feature groups: a customer's probability, minus the probability with one
group of features (e.g. everything said about complaints) set to the population's typical values. The
groups with the largest increases are that customer's top drivers. It is model-agnostic, costs one
prediction per group, and speaks in the groups an agent understands rather than in single columns.

Boosting runs on one OpenMP thread by default (``n_threads``; None lets OpenMP decide): on cores shared
with other work (the monthly batch next to the API server) OpenMP's busy-waiting made multi-threaded
training five times slower, not faster.

The estimators follow scikit-learn's contract (parameters in ``__init__``, learned attributes ending in
``_``, ``random_state`` for determinism) and keep no training rows: only trees, calibrators and
per-feature medians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from cardwise.voc.features import RFM_FEATURES, TARGETS, WITH_TEXT, feature_label, format_value, groups_for

TOP_DRIVERS = 3
MIN_IMPACT = 1e-4  # an increase below 0.01 percentage points is not a driver
EVIDENCE_FEATURES = 2  # the features of a group shown with a driver: those furthest from typical


class RiskClassifier(ClassifierMixin, BaseEstimator):
    """Gradient boosting with Platt-calibrated probabilities, for one binary outcome."""

    def __init__(
        self,
        *,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        cv: int = 3,
        n_threads: int | None = 1,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.cv = cv
        self.n_threads = n_threads
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> RiskClassifier:
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) != 2:
            raise ValueError("a risk model needs both outcomes in its training data")
        folds = int(min(self.cv, counts.min()))
        if folds < 2:
            raise ValueError("a risk model needs at least two examples of each outcome")
        booster = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min(self.min_samples_leaf, max(1, len(y) // 20)),
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )
        with threadpool_limits(self.n_threads, user_api="openmp"):
            self.calibrated_ = CalibratedClassifierCV(
                booster,
                method="sigmoid",
                cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state),
                ensemble=False,
            ).fit(X, y)
        self.classes_ = self.calibrated_.classes_
        self.base_rate_ = float(np.mean(y == classes[1]))
        return self

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]:
        check_is_fitted(self, "calibrated_")
        X = validate_data(self, X, ensure_all_finite="allow-nan", dtype=np.float64, reset=False)
        with threadpool_limits(self.n_threads, user_api="openmp"):
            proba: npt.NDArray[np.float64] = self.calibrated_.predict_proba(X)
        return proba

    def predict(self, X: Any) -> npt.NDArray[Any]:
        proba = self.predict_proba(X)
        out: npt.NDArray[Any] = self.classes_[(proba[:, 1] >= 0.5).astype(int)]
        return out


@dataclass(frozen=True)
class Driver:
    """One reason behind a customer's risk, with how much it adds and what the customer's data says."""

    code: str
    ko: str
    en: str
    impact: float  # probability points added by this group compared with typical values
    evidence_ko: str | None
    evidence_en: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "ko": self.ko,
            "en": self.en,
            "impact": round(self.impact, 5),
            "evidence_ko": self.evidence_ko,
            "evidence_en": self.evidence_en,
        }


def _evidence(features: list[str], values: list[float]) -> tuple[str | None, str | None]:
    ko, en = [], []
    for feature, value in zip(features, values, strict=True):
        if math.isnan(value):
            continue
        (label_ko, label_en), (value_ko, value_en) = feature_label(feature), format_value(feature, value)
        ko.append(f"{label_ko} {value_ko}")
        en.append(f"{label_en}: {value_en}")
    return (" · ".join(ko), "; ".join(en)) if ko else (None, None)


class VocRiskModel(BaseEstimator):
    """Four calibrated risk classifiers over one feature list, with occlusion explanations."""

    def __init__(
        self,
        *,
        features: tuple[str, ...] = WITH_TEXT,
        targets: tuple[str, ...] = TARGETS,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        n_threads: int | None = 1,
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.targets = targets
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.n_threads = n_threads
        self.random_state = random_state

    def _matrix(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise ValueError(f"missing feature columns: {', '.join(missing[:5])}")
        return frame[list(self.features)].to_numpy(dtype=np.float64)

    def fit(self, frame: pd.DataFrame) -> VocRiskModel:
        """``frame``: the features plus one column per target (1, 0, or NaN when not at risk)."""
        X = self._matrix(frame)
        self.estimators_: dict[str, RiskClassifier] = {}
        self.positives_: dict[str, int] = {}
        self.rows_: dict[str, int] = {}
        for target in self.targets:
            y = frame[target].to_numpy(dtype=np.float64)
            at_risk = ~np.isnan(y)
            self.estimators_[target] = RiskClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                n_threads=self.n_threads,
                random_state=self.random_state,
            ).fit(X[at_risk], y[at_risk].astype(int))
            self.positives_[target] = int(y[at_risk].sum())
            self.rows_[target] = int(at_risk.sum())
        with np.errstate(all="ignore"):
            reference = np.nanmedian(X, axis=0)
            scale = np.nanstd(X, axis=0)
        self.reference_ = np.where(np.isnan(reference), 0.0, reference)
        self.scale_ = np.where(np.isnan(scale) | (scale == 0), 1.0, scale)
        self.groups_ = groups_for(self.features)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "estimators_")
        X = self._matrix(frame)
        return pd.DataFrame({t: self.estimators_[t].predict_proba(X)[:, 1] for t in self.targets}, index=frame.index)

    def explain(self, frame: pd.DataFrame, top: int = TOP_DRIVERS) -> dict[str, list[list[Driver]]]:
        """Per target, per row: the feature groups that raise the probability most, largest first."""
        check_is_fitted(self, "estimators_")
        X = self._matrix(frame)
        index = {f: i for i, f in enumerate(self.features)}
        base = {t: self.estimators_[t].predict_proba(X)[:, 1] for t in self.targets}
        impacts = {t: np.zeros((len(X), len(self.groups_))) for t in self.targets}
        for j, group in enumerate(self.groups_):
            cols = [index[f] for f in group.features]
            occluded = X.copy()
            occluded[:, cols] = self.reference_[cols]
            for t in self.targets:
                impacts[t][:, j] = base[t] - self.estimators_[t].predict_proba(occluded)[:, 1]
        # How far each feature is from typical, in standard deviations: the evidence shown for a group.
        distance = np.nan_to_num(np.abs(X - self.reference_) / self.scale_, nan=-1.0)
        out: dict[str, list[list[Driver]]] = {}
        for t in self.targets:
            order = np.argsort(-impacts[t], axis=1, kind="stable")[:, :top]
            rows: list[list[Driver]] = []
            for i in range(len(X)):
                drivers = []
                for j in order[i]:
                    impact = float(impacts[t][i, j])
                    if impact < MIN_IMPACT:
                        break
                    group = self.groups_[j]
                    cols = [index[f] for f in group.features]
                    shown = sorted(range(len(cols)), key=lambda k: -distance[i, cols[k]])[:EVIDENCE_FEATURES]
                    ko, en = _evidence([group.features[k] for k in shown], [float(X[i, cols[k]]) for k in shown])
                    drivers.append(Driver(group.code, group.ko, group.en, impact, ko, en))
                rows.append(drivers)
            out[t] = rows
        return out


# --- the baseline -----------------------------------------------------------------------------------------


def rfm_matrix(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Recency (days, 200 when nothing in six months), log frequency and log monetary value."""
    cols = []
    for name in RFM_FEATURES:
        v = frame[name].to_numpy(dtype=np.float64)
        if name == "recency_days":
            cols.append(np.nan_to_num(v, nan=200.0))
        else:
            cols.append(np.log1p(np.clip(np.nan_to_num(v, nan=0.0), 0, None)))
    return np.column_stack(cols)


class RfmBaseline(BaseEstimator):
    """Logistic regression on recency, frequency and monetary value, one per target."""

    def __init__(self, *, targets: tuple[str, ...] = TARGETS) -> None:
        self.targets = targets

    def fit(self, frame: pd.DataFrame) -> RfmBaseline:
        X = rfm_matrix(frame)
        self.models_: dict[str, Pipeline] = {}
        for target in self.targets:
            y = frame[target].to_numpy(dtype=np.float64)
            keep = ~np.isnan(y)
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
            self.models_[target] = model.fit(X[keep], y[keep].astype(int))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "models_")
        X = rfm_matrix(frame)
        return pd.DataFrame({t: self.models_[t].predict_proba(X)[:, 1] for t in self.targets}, index=frame.index)


def deciles(probability: pd.Series, customer_id: pd.Series) -> npt.NDArray[np.int64]:
    """1 for the riskiest tenth, 10 for the least risky; ties broken by customer id, so reruns agree."""
    n = len(probability)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((customer_id.to_numpy(), -probability.to_numpy(dtype=np.float64)))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return (rank * 10 // n + 1).astype(np.int64)
