"""Merchant targeting and preferred merchants (M3, M5).

For a month, candidate (customer, merchant) pairs come from three places:

- **history**: every merchant the customer bought from in the last six months;
- **discovery**: for each customer, the merchants that lead (by recent purchases) the category × place
  groups the customer buys in (a place is the region for shops, "online" for online merchants),
  weighted by how much of the customer's purchases go to that category and place — the 40 strongest
  per customer;
- **audience**: for each merchant, the 30 customers who spend most in its category and place and
  have not bought there, so every open merchant gets an audience to score.

Merchants of monthly bills (telecom, insurance, utilities, subscriptions) are left out: a customer pays
them, they do not choose them, and they would crowd every list.

Each pair is described by the customer's history with the merchant (days with a purchase last
month, in three and six months, months active, months since), with its category and place, and by
the merchant's own course (customers last month and on average, growth, share of its group, repeat
rate, age, life-cycle slope). Two gradient-boosted classifiers learn from the previous month's pairs
and what happened next: P(visit) = P(a purchase next month) and P(repeat) = P(purchases on two or
more days next month), the habit a regular (단골) has. A regular is a customer who bought there in at
least three of the last six months; "likely regulars" are the other candidates ranked by P(repeat).

Life-cycle stage of a merchant (M3, "가맹점 Lifecycle"): ``closed`` after its closing date, ``new``
when opened in the last six months, otherwise the trend of its monthly purchases over the last six
months from a quasi-Poisson log-linear fit — ``growing`` (≥ +5 % a month, p < 0.05), ``declining``
(≤ −5 % a month, p < 0.05) or ``mature``; ``inactive`` when no customer bought there in that time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier

from cardwise.marketing.marts import add_months
from cardwise.recommend.history import ONLINE, History, Reference

STAGES = ("new", "growing", "mature", "declining", "closed", "inactive")
TREND_MONTHS = 6
MIN_MONTHLY_TREND = 0.05
TREND_P = 0.05
NEW_MONTHS = 6
REGULAR_MONTHS = 3  # a regular (단골) bought at the merchant in at least 3 of the last 6 months
DISCOVERY_PER_CUSTOMER = 40
DISCOVERY_PER_GROUP = 8
AUDIENCE_PER_MERCHANT = 30
MIN_PLACE_SHARE = 0.1

FEATURES = (
    "days_1m",
    "days_3m",
    "days_6m",
    "active_months_6m",
    "months_since",
    "loyalty",
    "cat_n_1m",
    "cat_n_3m",
    "cat_n_6m",
    "cat_active_6m",
    "place_share",
    "group_share",
    "online",
    "m_customers_1m",
    "m_customers_3m",
    "m_growth",
    "m_group_share",
    "m_repeat_rate",
    "m_age_months",
    "m_slope",
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --- life cycle -------------------------------------------------------------------------------------


def log_linear_trend(counts: FloatArray, iterations: int = 25) -> tuple[FloatArray, FloatArray]:
    """Per row of monthly counts (rows × months): the slope of log(expected count) per month and its
    two-sided p-value, from a Poisson fit with over-dispersion estimated per row (quasi-Poisson).

    Rows with no counts get slope 0 and p = 1.
    """
    y = np.asarray(counts, dtype=np.float64)
    n, w = y.shape
    x = np.arange(w, dtype=np.float64) - (w - 1) / 2
    alpha = np.log(y.mean(axis=1) + 0.5)
    beta = np.zeros(n)
    for _ in range(iterations):  # Newton steps for (alpha, beta), all rows at once
        mu = np.exp(np.clip(alpha[:, None] + beta[:, None] * x[None, :], -30, 30))
        g0 = (y - mu).sum(axis=1)
        g1 = ((y - mu) * x).sum(axis=1)
        h00 = mu.sum(axis=1)
        h01 = (mu * x).sum(axis=1)
        h11 = (mu * x * x).sum(axis=1)
        det = h00 * h11 - h01 * h01
        ok = det > 1e-12
        step0 = np.where(ok, (h11 * g0 - h01 * g1) / np.where(ok, det, 1), 0.0)
        step1 = np.where(ok, (h00 * g1 - h01 * g0) / np.where(ok, det, 1), 0.0)
        alpha = alpha + np.clip(step0, -5, 5)
        beta = np.clip(beta + np.clip(step1, -1, 1), -3, 3)
    mu = np.exp(np.clip(alpha[:, None] + beta[:, None] * x[None, :], -30, 30))
    h00 = mu.sum(axis=1)
    h01 = (mu * x).sum(axis=1)
    h11 = (mu * x * x).sum(axis=1)
    det = h00 * h11 - h01 * h01
    pearson = ((y - mu) ** 2 / np.maximum(mu, 1e-9)).sum(axis=1) / max(w - 2, 1)
    dispersion = np.maximum(pearson, 1.0)
    var_beta = np.where(det > 1e-12, h00 / np.where(det > 1e-12, det, 1), np.inf) * dispersion
    z = np.divide(beta, np.sqrt(var_beta), out=np.zeros(n), where=np.isfinite(var_beta) & (var_beta > 0))
    p = 2 * stats.norm.sf(np.abs(z))
    empty = y.sum(axis=1) == 0
    return np.where(empty, 0.0, beta), np.where(empty, 1.0, p)


def lifecycle_stages(
    counts: FloatArray, opened_months_ago: IntArray, closed: npt.NDArray[np.bool_]
) -> tuple[list[str], FloatArray, FloatArray]:
    """Stage per merchant from its last months of purchases (merchants × months, oldest first)."""
    slope, p = log_linear_trend(counts)
    stage = np.full(len(counts), "mature", dtype=object)
    stage[(slope >= MIN_MONTHLY_TREND) & (p < TREND_P)] = "growing"
    stage[(slope <= -MIN_MONTHLY_TREND) & (p < TREND_P)] = "declining"
    stage[np.asarray(counts).sum(axis=1) == 0] = "inactive"
    stage[np.asarray(opened_months_ago) < NEW_MONTHS] = "new"
    stage[np.asarray(closed)] = "closed"
    return [str(s) for s in stage], slope, p


# --- monthly merchant statistics --------------------------------------------------------------------


@dataclass(frozen=True)
class MerchantState:
    """Per merchant as of a month (arrays in merchant order)."""

    stage: list[str]
    slope: FloatArray
    p_value: FloatArray
    customers_1m: FloatArray
    customers_3m: FloatArray
    purchases_6m: FloatArray
    group_share: FloatArray
    repeat_rate: FloatArray
    age_months: FloatArray
    open_: npt.NDArray[np.bool_]
    regulars: FloatArray
    monthly_purchases: FloatArray
    """merchants × last six months, oldest first."""


def _months_between(earlier: pd.Series, later: pd.Timestamp) -> IntArray:
    e = pd.to_datetime(earlier)
    months = (later.year - e.dt.year) * 12 + (later.month - e.dt.month)
    return np.asarray(months.to_numpy(dtype=np.int64), dtype=np.int64)


def merchant_state(history: History, ref: Reference, as_of: int) -> MerchantState:
    n_m = len(ref.merchants)
    v = history.visits
    lo = max(0, as_of - TREND_MONTHS + 1)
    win = v[(v["t"] >= lo) & (v["t"] <= as_of)]
    w = TREND_MONTHS
    monthly = np.zeros((n_m, w))
    np.add.at(monthly, (win["m"].to_numpy(), win["t"].to_numpy() - (as_of - w + 1)), win["purchases"].to_numpy())
    customers = np.zeros((n_m, w))
    np.add.at(customers, (win["m"].to_numpy(), win["t"].to_numpy() - (as_of - w + 1)), 1.0)
    month_end = pd.Timestamp(add_months(history.months[as_of], 1))
    month_start = pd.Timestamp(history.months[as_of])
    merchants = ref.merchants
    opened_ago = _months_between(merchants["opened_on"], month_start)
    closed = (pd.to_datetime(merchants["closed_on"]) < month_end).fillna(False).to_numpy(dtype=bool)
    # A merchant opened after the month is not part of it yet.
    not_yet = (pd.to_datetime(merchants["opened_on"]) >= month_end).to_numpy(dtype=bool)
    stage, slope, p = lifecycle_stages(monthly, opened_ago, closed)
    stage = ["inactive" if ny else s for s, ny in zip(stage, not_yet, strict=True)]
    group = merchants["group"].to_numpy()
    purchases3 = monthly[:, -3:].sum(axis=1)
    group_total = np.bincount(group, weights=purchases3, minlength=int(group.max()) + 1)
    group_share = np.divide(purchases3, group_total[group], out=np.zeros(n_m), where=group_total[group] > 0)
    last = win[win["t"] == as_of]
    earlier = win[(win["t"] < as_of) & (win["t"] >= as_of - 3)][["c", "m"]].drop_duplicates()
    back = last.merge(earlier, on=["c", "m"], how="inner")
    repeat = np.divide(
        np.bincount(back["m"], minlength=n_m), customers[:, -1], out=np.zeros(n_m), where=customers[:, -1] > 0
    )
    active_months = win.groupby(["c", "m"], sort=False)["t"].nunique()
    regular_pairs = active_months[active_months >= REGULAR_MONTHS].reset_index()
    regulars = np.bincount(regular_pairs["m"], minlength=n_m).astype(np.float64)
    return MerchantState(
        stage=stage,
        slope=slope,
        p_value=p,
        customers_1m=customers[:, -1],
        customers_3m=customers[:, -3:].mean(axis=1),
        purchases_6m=monthly.sum(axis=1),
        group_share=group_share,
        repeat_rate=repeat,
        age_months=np.clip(opened_ago, 0, 120).astype(np.float64),
        open_=~closed & ~not_yet,
        regulars=regulars,
        monthly_purchases=monthly,
    )


# --- candidate pairs and their features -------------------------------------------------------------


@dataclass(frozen=True)
class PairFrame:
    """Candidate (customer, merchant) pairs as of a month with their features."""

    pairs: pd.DataFrame
    """Columns c, m, source ('history', 'discovery', 'audience'), regular (bool) and FEATURES."""
    state: MerchantState


def _pair_history(history: History, as_of: int) -> pd.DataFrame:
    v = history.visits
    win = v[(v["t"] >= as_of - 5) & (v["t"] <= as_of)]
    t = win["t"].to_numpy()
    days = win["visit_days"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "c": win["c"].to_numpy(),
            "m": win["m"].to_numpy(),
            "days_1m": np.where(t == as_of, days, 0.0),
            "days_3m": np.where(t >= as_of - 2, days, 0.0),
            "days_6m": days,
            "active_months_6m": 1.0,
            "last": t,
        }
    )
    agg = frame.groupby(["c", "m"], sort=False).agg(
        days_1m=("days_1m", "sum"),
        days_3m=("days_3m", "sum"),
        days_6m=("days_6m", "sum"),
        active_months_6m=("active_months_6m", "sum"),
        last=("last", "max"),
    )
    agg = agg.reset_index()
    agg["months_since"] = (as_of - agg["last"]).astype(np.float64)
    return agg.drop(columns="last")


def _customer_places(history: History, ref: Reference, as_of: int) -> pd.DataFrame:
    """Per customer and place: share of the customer's purchases of the last six months made there."""
    v = history.visits
    win = v[(v["t"] >= as_of - 5) & (v["t"] <= as_of)]
    place = ref.merchants["place"].to_numpy()[win["m"].to_numpy()]
    frame = pd.DataFrame({"c": win["c"].to_numpy(), "place": place, "n": win["purchases"].to_numpy(dtype=np.float64)})
    agg = frame.groupby(["c", "place"], sort=False)["n"].sum().reset_index()
    agg["place_share"] = agg["n"] / agg.groupby("c")["n"].transform("sum")
    return agg[["c", "place", "place_share"]]


def candidate_pairs(history: History, ref: Reference, as_of: int) -> PairFrame:
    state = merchant_state(history, ref, as_of)
    merchants = ref.merchants
    m_cat = merchants["category_index"].to_numpy()
    m_place = merchants["place"].to_numpy()
    m_group = merchants["group"].to_numpy()
    # Monthly bills (telecom, insurance, utilities, subscriptions) are paid, not chosen: no candidates there.
    eligible = state.open_ & ~ref.recurring_mask[m_cat]
    hist = _pair_history(history, as_of)
    hist = hist[eligible[hist["m"].to_numpy()]]
    hist["source"] = "history"

    # Customer weights per category x place: share of purchases in the category x share in the place.
    cnt6 = history.count[:, max(0, as_of - 5) : as_of + 1].sum(axis=1).astype(np.float64)
    total6 = cnt6.sum(axis=1, keepdims=True)
    cat_share = np.divide(cnt6, total6, out=np.zeros_like(cnt6), where=total6 > 0)
    place_lookup = _customer_places(history, ref, as_of)
    places = place_lookup[(place_lookup["place_share"] >= MIN_PLACE_SHARE) | (place_lookup["place"] == ONLINE)]
    c_idx, k_idx = np.nonzero(cat_share > 0)
    cust_cat = pd.DataFrame({"c": c_idx, "k": k_idx, "cat_share": cat_share[c_idx, k_idx]})
    weights = cust_cat.merge(places, on="c")
    weights["w"] = weights["cat_share"] * weights["place_share"]

    open_merchants = pd.DataFrame(
        {
            "m": np.flatnonzero(eligible),
            "k": m_cat[eligible],
            "place": m_place[eligible],
            "m_share": state.group_share[eligible],
        }
    )
    leaders = (
        open_merchants[open_merchants["m_share"] > 0]
        .sort_values(["k", "place", "m_share", "m"], ascending=[True, True, False, True])
        .groupby(["k", "place"], sort=False)
        .head(DISCOVERY_PER_GROUP)
    )
    disc = weights.merge(leaders, on=["k", "place"])
    disc["prior"] = disc["w"] * (disc["m_share"] + 0.01)
    known = np.sort(hist["c"].to_numpy() * len(merchants) + hist["m"].to_numpy())
    disc = disc[~_member(disc["c"].to_numpy() * len(merchants) + disc["m"].to_numpy(), known)]
    disc = (
        disc.sort_values(["c", "prior"], ascending=[True, False]).groupby("c", sort=False).head(DISCOVERY_PER_CUSTOMER)
    )
    disc = disc[["c", "m"]].assign(source="discovery")

    # Audiences: per category x place, the customers who weigh it most; every open merchant there.
    top_customers = (
        weights.sort_values(["k", "place", "w", "c"], ascending=[True, True, False, True])
        .groupby(["k", "place"], sort=False)
        .head(AUDIENCE_PER_MERCHANT)[["k", "place", "c"]]
    )
    aud = top_customers.merge(open_merchants[["m", "k", "place"]], on=["k", "place"])[["c", "m"]]
    taken = np.sort(np.concatenate([known, disc["c"].to_numpy() * len(merchants) + disc["m"].to_numpy()]))
    aud = aud[~_member(aud["c"].to_numpy() * len(merchants) + aud["m"].to_numpy(), taken)].assign(source="audience")

    # One canonical order: training samples negatives by position.
    pairs = pd.concat([hist, disc, aud], ignore_index=True).sort_values(["c", "m"], kind="stable", ignore_index=True)
    for col in ("days_1m", "days_3m", "days_6m", "active_months_6m"):
        pairs[col] = pairs[col].fillna(0.0)
    pairs["months_since"] = pairs["months_since"].fillna(6.0)
    c = pairs["c"].to_numpy()
    m = pairs["m"].to_numpy()
    k = m_cat[m]
    cnt = history.count
    pairs["cat_n_1m"] = cnt[c, as_of, k].astype(np.float64)
    pairs["cat_n_3m"] = cnt[:, max(0, as_of - 2) : as_of + 1].sum(axis=1)[c, k].astype(np.float64)
    pairs["cat_n_6m"] = cnt6[c, k]
    pairs["cat_active_6m"] = (cnt[:, max(0, as_of - 5) : as_of + 1] > 0).sum(axis=1)[c, k].astype(np.float64)
    pairs["loyalty"] = pairs["days_6m"] / (pairs["cat_n_6m"] + 1.0)
    pairs["place"] = m_place[m]
    pairs = pairs.merge(place_lookup, on=["c", "place"], how="left")
    pairs["place_share"] = pairs["place_share"].fillna(0.0)
    group_days = _customer_group_purchases(history, ref, as_of)
    pairs["group"] = m_group[pairs["m"].to_numpy()]
    pairs = pairs.merge(group_days, on=["c", "group"], how="left")
    pairs["group_share"] = (pairs["group_n"].fillna(0.0) / (pairs["cat_n_6m"] + 1.0)).astype(np.float64)
    m = pairs["m"].to_numpy()
    pairs["online"] = (m_place[m] == ONLINE).astype(np.float64)
    pairs["m_customers_1m"] = state.customers_1m[m]
    pairs["m_customers_3m"] = state.customers_3m[m]
    pairs["m_growth"] = np.log((state.customers_1m[m] + 1) / (state.customers_3m[m] + 1))
    pairs["m_group_share"] = state.group_share[m]
    pairs["m_repeat_rate"] = state.repeat_rate[m]
    pairs["m_age_months"] = state.age_months[m]
    pairs["m_slope"] = state.slope[m]
    pairs["regular"] = pairs["active_months_6m"] >= REGULAR_MONTHS
    pairs = pairs.drop(columns=["place", "group", "group_n"])
    return PairFrame(pairs=pairs, state=state)


def _member(keys: IntArray, sorted_known: IntArray) -> npt.NDArray[np.bool_]:
    """``keys`` found in the sorted array ``sorted_known`` (binary search: far cheaper than hashing both)."""
    if not len(sorted_known):
        return np.zeros(len(keys), dtype=bool)
    pos = np.clip(np.searchsorted(sorted_known, keys), 0, len(sorted_known) - 1)
    return np.asarray(sorted_known[pos] == keys)


def _customer_group_purchases(history: History, ref: Reference, as_of: int) -> pd.DataFrame:
    v = history.visits
    win = v[(v["t"] >= as_of - 5) & (v["t"] <= as_of)]
    group = ref.merchants["group"].to_numpy()[win["m"].to_numpy()]
    frame = pd.DataFrame({"c": win["c"].to_numpy(), "group": group, "group_n": win["purchases"].to_numpy()})
    return frame.groupby(["c", "group"], sort=False)["group_n"].sum().reset_index()


def visit_days_next(history: History, frame: PairFrame, as_of: int) -> IntArray:
    """Days with a purchase in the month after ``as_of`` for each candidate pair (0 if none)."""
    v = history.visits
    nxt = v[v["t"] == as_of + 1][["c", "m", "visit_days"]]
    joined = frame.pairs[["c", "m"]].merge(nxt, on=["c", "m"], how="left")
    return joined["visit_days"].fillna(0).to_numpy(dtype=np.int64)


# --- the model ----------------------------------------------------------------------------------------


class MerchantModel:
    """P(a purchase next month) and P(purchases on two or more days next month) for candidate pairs:
    two gradient-boosted classifiers on the same rows (estimator contract: ``fit`` sets attributes
    ending in ``_`` and keeps no training rows).

    Negatives are subsampled for speed and weighted back, so the probabilities stay calibrated.
    """

    def __init__(
        self,
        *,
        max_iter: int = 40,
        learning_rate: float = 0.25,
        max_leaf_nodes: int = 15,
        max_negatives: int = 150_000,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.max_negatives = max_negatives
        self.random_state = random_state

    def _classifier(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            early_stopping=False,
            random_state=self.random_state,
        )

    def fit(self, frame: PairFrame, days_next: IntArray) -> MerchantModel:
        days = np.asarray(days_next, dtype=np.int64)
        if len(days) != len(frame.pairs):
            raise ValueError("one outcome per candidate pair")
        visit, regular = days > 0, days >= 2
        if visit.all() or not visit.any() or not regular.any():
            raise ValueError("the outcomes leave nothing to learn (no visits, no repeat visits or only visits)")
        rng = np.random.default_rng(self.random_state)
        neg = np.flatnonzero(~visit)
        keep_neg = neg if len(neg) <= self.max_negatives else rng.choice(neg, self.max_negatives, replace=False)
        rows = np.sort(np.concatenate([np.flatnonzero(visit), keep_neg]))
        weight = np.where(visit[rows], 1.0, len(neg) / max(len(keep_neg), 1))
        x = frame.pairs[list(FEATURES)].to_numpy(dtype=np.float32)[rows]
        self.visit_model_ = self._classifier().fit(x, visit[rows], sample_weight=weight)
        self.regular_model_ = self._classifier().fit(x, regular[rows], sample_weight=weight)
        self.features_ = FEATURES
        self.trained_rows_ = len(rows)
        self.visit_rate_ = float(visit.mean())
        self.regular_rate_ = float(regular.mean())
        return self

    def predict(self, frame: PairFrame) -> tuple[FloatArray, FloatArray]:
        """P(visit next month), P(purchases on 2+ days next month) per candidate pair."""
        if not hasattr(self, "visit_model_"):
            raise RuntimeError("MerchantModel is not fitted")
        x = frame.pairs[list(self.features_)].to_numpy(dtype=np.float32)
        visit = self.visit_model_.predict_proba(x)[:, 1]
        regular = self.regular_model_.predict_proba(x)[:, 1]
        return np.asarray(visit, dtype=np.float64), np.minimum(np.asarray(regular, dtype=np.float64), visit)


def fit_merchant_model(frame: PairFrame, days_next: IntArray, random_state: int = 0) -> MerchantModel:
    return MerchantModel(random_state=random_state).fit(frame, days_next)
