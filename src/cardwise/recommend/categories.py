"""Preferred and new categories per customer, following changes in their spending (M5).

One row per customer and category, as of a month: the customer's own use at several horizons
(last month, three, six and twelve months, months active, months since last use), its trend (last
month against the six-month average), whether the category is newly taken up (used in the last two
months, not in the six before), how strongly it goes with categories the customer newly took up
(lift between categories in the month: a first car payment goes with fuel and repairs), and what
similar customers, customers of the same age band and gender, and everyone use. A gradient-boosted
classifier learns P(used next month) from the previous month's rows and their outcome.

Preferred categories are the most likely among those used in the last six months; recommended new
ones the most likely among the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from cardwise.marketing.marts import add_months
from cardwise.recommend.history import History, Reference
from cardwise.recommend.similarity import Neighbours

FEATURES = (
    "category",
    "n_1m",
    "n_3m",
    "n_6m",
    "n_12m",
    "active_months_6m",
    "months_since",
    "log_spend_3m",
    "share_3m",
    "trend",
    "newly_taken_up",
    "lift_from_new",
    "neighbours_rate",
    "peer_rate",
    "overall_rate",
    "customer_n_3m",
    "age_band",
    "female",
)
NEVER = 13  # "months since last use" for a category not used in the loaded history


@dataclass(frozen=True)
class CategoryFrame:
    """Rows for every (customer, category) as of one month, customers × categories flattened."""

    features: pd.DataFrame
    customers: npt.NDArray[np.int64]
    """The customer positions the rows cover, in row order (each repeated once per category)."""
    n_categories: int

    def matrix(self, column: str) -> npt.NDArray[np.float64]:
        return self.features[column].to_numpy(dtype=np.float64).reshape(len(self.customers), self.n_categories)


def _window(cube: npt.NDArray[np.float32], t: int, months: int) -> npt.NDArray[np.float64]:
    return cube[:, max(0, t - months + 1) : t + 1].sum(axis=1).astype(np.float64)


def category_lift(used: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """categories × categories: P(k used | j used) / P(k used), over customers (0 on the diagonal)."""
    x = used.astype(np.float64)
    n = max(len(x), 1)
    both = x.T @ x
    users = x.sum(axis=0)
    p_k = users / n
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where((users[:, None] > 0) & (p_k[None, :] > 0), both / users[:, None] / p_k[None, :], 0.0)
    np.fill_diagonal(lift, 0.0)
    return lift


def category_frame(
    history: History, ref: Reference, as_of: int, neighbours: Neighbours, customers: npt.NDArray[np.int64]
) -> CategoryFrame:
    """Feature rows as of month position ``as_of`` for the given customer positions."""
    cnt, spend = history.count, history.spend
    n_k = cnt.shape[2]
    n1 = cnt[:, as_of].astype(np.float64)
    n3, n6, n12 = _window(cnt, as_of, 3), _window(cnt, as_of, 6), _window(cnt, as_of, 12)
    active6 = (cnt[:, max(0, as_of - 5) : as_of + 1] > 0).sum(axis=1).astype(np.float64)
    used_by_month = cnt[:, : as_of + 1] > 0
    since_last = np.argmax(used_by_month[:, ::-1], axis=1)  # 0 = used this month
    months_since = np.where(used_by_month.any(axis=1), since_last, NEVER).astype(np.float64)
    log_spend3 = np.log1p(_window(spend, as_of, 3))
    total3 = n3.sum(axis=1, keepdims=True)
    share3 = np.divide(n3, total3, out=np.zeros_like(n3), where=total3 > 0)
    trend = np.log((n1 + 0.5) / (n6 / 6 + 0.5))
    recent = _window(cnt, as_of, 2) > 0
    before = cnt[:, max(0, as_of - 7) : max(0, as_of - 1)].sum(axis=1) > 0
    newly = recent & ~before & (as_of >= 2)
    used_now = cnt[:, as_of] > 0
    lift = category_lift(used_now)
    lift_from_new = np.zeros_like(n1)
    has_new = np.flatnonzero(newly.any(axis=1))
    for c in has_new:  # few customers take up something new in a given month
        lift_from_new[c] = lift[newly[c]].max(axis=0)
    neighbours_rate = neighbours.average(used_now)
    band = ref.age_band(history.months[as_of])
    female = (ref.customers["gender"].to_numpy() == "F").astype(np.int64)
    peer = band * 2 + female
    members = joined_by(ref, history, as_of)
    peer_rate = np.zeros_like(n1)
    for g in np.unique(peer):
        sel = (peer == g) & members
        if sel.any():
            peer_rate[peer == g] = used_now[sel].mean(axis=0)
    overall = used_now[members].mean(axis=0) if members.any() else np.zeros(n_k)
    cust_total3 = np.log1p(n3.sum(axis=1))

    sel = customers
    n = len(sel)

    def flat(a: npt.NDArray[np.float64] | npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        return np.asarray(a[sel], dtype=np.float64).ravel()

    frame = pd.DataFrame(
        {
            "category": np.tile(np.arange(n_k), n),
            "n_1m": flat(n1),
            "n_3m": flat(n3),
            "n_6m": flat(n6),
            "n_12m": flat(n12),
            "active_months_6m": flat(active6),
            "months_since": flat(months_since),
            "log_spend_3m": flat(log_spend3),
            "share_3m": flat(share3),
            "trend": flat(trend),
            "newly_taken_up": flat(newly),
            "lift_from_new": flat(lift_from_new),
            "neighbours_rate": flat(neighbours_rate),
            "peer_rate": flat(peer_rate),
            "overall_rate": np.tile(overall, n),
            "customer_n_3m": np.repeat(cust_total3[sel], n_k),
            "age_band": np.repeat(band[sel], n_k).astype(np.float64),
            "female": np.repeat(female[sel], n_k).astype(np.float64),
        }
    )
    return CategoryFrame(features=frame, customers=sel, n_categories=n_k)


def joined_by(ref: Reference, history: History, as_of: int) -> npt.NDArray[np.bool_]:
    """Customers who had joined by the end of month ``as_of``."""
    end = add_months(history.months[as_of], 1)
    return (ref.customers["joined_on"] < end).to_numpy()


def used_next(history: History, as_of: int, customers: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    return np.asarray(history.count[customers, as_of + 1] > 0)


class CategoryModel:
    """P(a customer uses a category next month) from a :class:`CategoryFrame` (estimator contract:
    ``fit`` sets attributes ending in ``_`` and keeps no training rows)."""

    def __init__(self, *, max_iter: int = 80, learning_rate: float = 0.15, random_state: int = 0) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, frame: CategoryFrame, used: npt.NDArray[np.bool_]) -> CategoryModel:
        y = np.asarray(used, dtype=np.int64).ravel()
        if len(y) != len(frame.features):
            raise ValueError("one outcome per feature row")
        if y.min(initial=0) == y.max(initial=0):
            raise ValueError("the outcomes are all the same; nothing to learn")
        model = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=31,
            categorical_features=[0],
            early_stopping=False,
            random_state=self.random_state,
        )
        model.fit(frame.features[list(FEATURES)].to_numpy(dtype=np.float64), y)
        self.model_ = model
        self.features_ = FEATURES
        self.trained_rows_ = len(y)
        self.base_rate_ = float(y.mean())
        return self

    def predict(self, frame: CategoryFrame) -> npt.NDArray[np.float64]:
        """customers × categories probabilities."""
        if not hasattr(self, "model_"):
            raise RuntimeError("CategoryModel is not fitted")
        p = self.model_.predict_proba(frame.features[list(self.features_)].to_numpy(dtype=np.float64))[:, 1]
        return np.asarray(p, dtype=np.float64).reshape(len(frame.customers), frame.n_categories)


def fit_category_model(frame: CategoryFrame, used: npt.NDArray[np.bool_], random_state: int = 0) -> CategoryModel:
    return CategoryModel(random_state=random_state).fit(frame, used)
