"""State-change triggers (M6): tests of a customer's month against the customer's own recent past.

Every trigger comes from a statistical test, never from a fixed ratio alone, and carries its
evidence (the numbers compared, the test and its p-value):

- ``SPEND_TREND_UP/DOWN``  Mann-Kendall trend test on the last six monthly spends, with Sen's slope;
- ``AMOUNT_UP/DOWN``       Welch t-test of this month's log ticket sizes against the baseline months';
- ``FREQUENCY_UP/DOWN``    this month's count against the baseline mean under a negative binomial
                           whose over-dispersion is estimated from all customers' baselines;
- ``CATEGORY_NEW/GONE``    a category never used in the baseline used repeatedly now, or a habit
                           (used nearly every month) absent now (Poisson tail probabilities);
- ``LIFE_*``               life events from their footprints: a surge of the event's signature
                           categories (Poisson), a car dealer payment, a move of where the customer
                           shops in person (binomial test on the share of offline purchases in a new region).

Baselines are the (up to) six months before the month tested; a customer needs three of them.
Pure logic over pandas frames read from the monthly marts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Signature:
    kind: str
    categories: tuple[str, ...]
    required: tuple[str, ...]  # at least one of these must be present in the window
    min_categories: int = 2
    max_age: int = 200
    unmarried_only: bool = False
    min_required_count: int = 1
    alpha: float = 0.001


@dataclass(frozen=True)
class ChangeConfig:
    alpha: float = 0.001  # for the tests run on every customer x category
    trend_alpha: float = 0.05  # Mann-Kendall on 6 points cannot go much lower
    min_baseline_months: int = 3
    min_baseline_count: float = 3.0  # mean monthly transactions below which frequency tests are skipped
    min_amount_txns: int = 5
    new_category_min_krw: int = 30_000
    moving_min_share: float = 0.4
    # Life events: what they leave on a card statement, and who can plausibly have them.
    signatures: tuple[Signature, ...] = field(
        default=(
            Signature(
                "LIFE_MARRIAGE",
                ("JEWELRY", "FURNITURE", "APPLIANCE", "HOTEL"),
                required=("JEWELRY",),
                max_age=59,
                unmarried_only=True,
            ),
            Signature("LIFE_CHILDBIRTH", ("BABY", "HOSPITAL"), required=("BABY",), max_age=49, min_required_count=3),
            # A dealer payment plus fuel or repairs; fuel is common, so the surge test is looser.
            Signature(
                "LIFE_CAR_PURCHASE", ("CAR_SALES", "CAR_REPAIR", "GAS_STATION"), required=("CAR_SALES",), alpha=0.05
            ),
            Signature("LIFE_MOVING", ("INTERIOR", "FURNITURE", "APPLIANCE"), required=("INTERIOR",), alpha=1e-4),
        )
    )


KINDS_KO = {
    "SPEND_TREND_UP": "소비금액 증가 추세",
    "SPEND_TREND_DOWN": "소비금액 감소 추세",
    "AMOUNT_UP": "건당 금액 증가",
    "AMOUNT_DOWN": "건당 금액 감소",
    "FREQUENCY_UP": "소비빈도 증가",
    "FREQUENCY_DOWN": "소비빈도 감소",
    "CATEGORY_NEW": "새 업종 이용",
    "CATEGORY_GONE": "이용 업종 중단",
    "LIFE_MARRIAGE": "결혼",
    "LIFE_CAR_PURCHASE": "차량 구매",
    "LIFE_CHILDBIRTH": "출산",
    "LIFE_MOVING": "이사",
}
KINDS_EN = {
    "SPEND_TREND_UP": "Spending trending up",
    "SPEND_TREND_DOWN": "Spending trending down",
    "AMOUNT_UP": "Larger purchases",
    "AMOUNT_DOWN": "Smaller purchases",
    "FREQUENCY_UP": "More frequent use",
    "FREQUENCY_DOWN": "Less frequent use",
    "CATEGORY_NEW": "New category",
    "CATEGORY_GONE": "Category dropped",
    "LIFE_MARRIAGE": "Marriage",
    "LIFE_CAR_PURCHASE": "Car purchase",
    "LIFE_CHILDBIRTH": "Childbirth",
    "LIFE_MOVING": "Moving home",
}


@dataclass
class MonthData:
    """What the tests read: the month tested and up to seven months before it (six of baseline, one
    more so that a life event straddling two months is tested over both, see ``_life_events``)."""

    month: date
    customers: pd.DataFrame  # customer_id, age, marital_status
    activity: pd.DataFrame  # customer_id, month, spend_krw, txn_count, log_amount_sum, log_amount_sumsq
    spend: pd.DataFrame  # customer_id, month, category_code, spend_krw, txn_count, max_amount_krw
    region: pd.DataFrame  # customer_id, month, region_code, txn_count
    observed: pd.DataFrame  # customer_id, baseline_months (of the six before the month, as a customer)


def _trigger_rows(customer: npt.ArrayLike, kind: str, p: npt.ArrayLike, evidence: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.asarray(customer, dtype=np.int64),
            "kind": kind,
            "p_value": np.asarray(p),
            "evidence": evidence,
        }
    )


def mann_kendall(series: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Row-wise Mann-Kendall test: (S, two-sided p, Sen's slope) for an N x T matrix."""
    n_obs = series.shape[1]
    i, j = np.triu_indices(n_obs, k=1)
    diffs = series[:, j] - series[:, i]
    s = np.sign(diffs).sum(axis=1)
    var = n_obs * (n_obs - 1) * (2 * n_obs + 5) / 18.0
    z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    p = 2 * stats.norm.sf(np.abs(z))
    slope = np.median(diffs / (j - i), axis=1)
    return s, p, slope


def overdispersion(baseline_counts: FloatArray) -> float:
    """Variance-to-mean ratio of monthly counts across customers (median), at least 1."""
    mean = baseline_counts.mean(axis=1)
    var = baseline_counts.var(axis=1, ddof=1)
    ok = mean >= 1
    if not ok.any():
        return 1.0
    return float(np.clip(np.median(var[ok] / mean[ok]), 1.0, 20.0))


def count_tail(k: FloatArray, mean: FloatArray, phi: float) -> tuple[FloatArray, FloatArray]:
    """P(X <= k) and P(X >= k) under a negative binomial with the given mean and variance phi*mean."""
    mean = np.maximum(mean, 1e-9)
    if phi <= 1.01:
        return stats.poisson.cdf(k, mean), stats.poisson.sf(k - 1, mean)
    size = mean / (phi - 1.0)
    prob = 1.0 / phi
    return stats.nbinom.cdf(k, size, prob), stats.nbinom.sf(k - 1, size, prob)


def detect(data: MonthData, cfg: ChangeConfig = ChangeConfig()) -> pd.DataFrame:
    """All triggers of the month: customer_id, kind, p_value, evidence (a dict per row)."""
    month = pd.Timestamp(data.month)
    eligible = data.observed.loc[data.observed["baseline_months"] >= cfg.min_baseline_months, "customer_id"]
    if eligible.empty:
        return _trigger_rows([], "NONE", [], [])
    six = _since(data, month - pd.DateOffset(months=6))
    parts = [
        _spend_trend(six, month, eligible, cfg),
        _amount_and_frequency(six, month, eligible, cfg),
        _categories(six, month, eligible, cfg),
        _life_events(data, month, eligible, cfg),
    ]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    return out.sort_values(["customer_id", "kind"], kind="stable").reset_index(drop=True)


def _since(data: MonthData, first: pd.Timestamp) -> MonthData:
    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[pd.to_datetime(frame["month"]) >= first]

    return MonthData(
        month=data.month,
        customers=data.customers,
        activity=keep(data.activity),
        spend=keep(data.spend),
        region=keep(data.region),
        observed=data.observed,
    )


def _monthly_matrix(data: MonthData, value: str, customers: pd.Series) -> tuple[FloatArray, list[pd.Timestamp]]:
    months = sorted(pd.to_datetime(data.activity["month"]).unique())
    pivot = (
        data.activity.assign(month=pd.to_datetime(data.activity["month"]))
        .pivot_table(index="customer_id", columns="month", values=value, aggfunc="sum", fill_value=0)
        .reindex(index=customers, columns=months, fill_value=0)
    )
    return pivot.to_numpy(dtype=np.float64), list(months)


def _spend_trend(data: MonthData, month: pd.Timestamp, eligible: pd.Series, cfg: ChangeConfig) -> pd.DataFrame:
    full = data.observed.loc[data.observed["baseline_months"] >= 5, "customer_id"]  # six points with this month
    if full.empty:
        return _trigger_rows([], "NONE", [], [])
    matrix, months = _monthly_matrix(data, "spend_krw", full)
    matrix, months = matrix[:, -6:], months[-6:]
    if matrix.shape[1] < 6:
        return _trigger_rows([], "NONE", [], [])
    s, p, slope = mann_kendall(matrix)
    rows = []
    for kind, mask in (
        ("SPEND_TREND_UP", (s > 0) & (p < cfg.trend_alpha)),
        ("SPEND_TREND_DOWN", (s < 0) & (p < cfg.trend_alpha)),
    ):
        idx = np.flatnonzero(mask)
        evidence = [
            {
                "test": "mann_kendall",
                "months": [m.strftime("%Y-%m") for m in months],
                "spend_krw": [int(v) for v in matrix[r]],
                "sen_slope_krw_per_month": round(float(slope[r])),
                "s": int(s[r]),
            }
            for r in idx
        ]
        rows.append(_trigger_rows(full.to_numpy()[idx], kind, p[idx], evidence))
    return pd.concat(rows, ignore_index=True)


def _amount_and_frequency(data: MonthData, month: pd.Timestamp, eligible: pd.Series, cfg: ChangeConfig) -> pd.DataFrame:
    act = data.activity.assign(month=pd.to_datetime(data.activity["month"]))
    act = act[act["customer_id"].isin(eligible)]
    cur = act[act["month"] == month].set_index("customer_id")
    base = act[act["month"] < month]
    obs = data.observed.set_index("customer_id")["baseline_months"].reindex(eligible).to_numpy(dtype=np.float64)
    agg = (
        base.groupby("customer_id")[["txn_count", "log_amount_sum", "log_amount_sumsq"]]
        .sum()
        .reindex(eligible, fill_value=0)
    )
    counts_matrix, months = _monthly_matrix(data, "txn_count", eligible)
    baseline_matrix = counts_matrix[:, [m < month for m in months]]
    k = cur["txn_count"].reindex(eligible, fill_value=0).to_numpy(dtype=np.float64)
    base_mean = agg["txn_count"].to_numpy(dtype=np.float64) / np.maximum(obs, 1)
    phi = overdispersion(baseline_matrix[obs >= baseline_matrix.shape[1]]) if baseline_matrix.shape[1] >= 3 else 1.0
    p_low, p_high = count_tail(k, base_mean, phi)
    testable = base_mean >= cfg.min_baseline_count
    customers = eligible.to_numpy()
    rows = []
    for kind, p, mask in (
        ("FREQUENCY_DOWN", p_low, testable & (k < base_mean) & (p_low < cfg.alpha)),
        ("FREQUENCY_UP", p_high, testable & (k > base_mean) & (p_high < cfg.alpha)),
    ):
        idx = np.flatnonzero(mask)
        evidence = [
            {
                "test": "negative_binomial",
                "count": int(k[r]),
                "baseline_mean": round(float(base_mean[r]), 2),
                "dispersion": round(phi, 2),
            }
            for r in idx
        ]
        rows.append(_trigger_rows(customers[idx], kind, p[idx], evidence))

    # Ticket size: Welch's t-test on log amounts, from the sums kept in the mart.
    n1 = k
    s1 = cur["log_amount_sum"].reindex(eligible, fill_value=0).to_numpy(dtype=np.float64)
    q1 = cur["log_amount_sumsq"].reindex(eligible, fill_value=0).to_numpy(dtype=np.float64)
    n0 = agg["txn_count"].to_numpy(dtype=np.float64)
    s0 = agg["log_amount_sum"].to_numpy(dtype=np.float64)
    q0 = agg["log_amount_sumsq"].to_numpy(dtype=np.float64)
    ok = (n1 >= cfg.min_amount_txns) & (n0 >= cfg.min_amount_txns)
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m0 = s1 / n1, s0 / n0
        v1 = np.maximum((q1 - n1 * m1**2) / (n1 - 1), 1e-9)
        v0 = np.maximum((q0 - n0 * m0**2) / (n0 - 1), 1e-9)
        se2 = v1 / n1 + v0 / n0
        t = (m1 - m0) / np.sqrt(se2)
        df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v0 / n0) ** 2 / (n0 - 1))
    p_t = np.where(ok, 2 * stats.t.sf(np.abs(np.nan_to_num(t)), np.nan_to_num(df, nan=1.0)), 1.0)
    for kind, mask in (
        ("AMOUNT_UP", ok & (t > 0) & (p_t < cfg.alpha)),
        ("AMOUNT_DOWN", ok & (t < 0) & (p_t < cfg.alpha)),
    ):
        idx = np.flatnonzero(mask)
        evidence = [
            {
                "test": "welch_t_log_amount",
                "geo_mean_krw": round(float(np.exp(m1[r]))),
                "baseline_geo_mean_krw": round(float(np.exp(m0[r]))),
                "count": int(n1[r]),
                "baseline_count": int(n0[r]),
            }
            for r in idx
        ]
        rows.append(_trigger_rows(customers[idx], kind, p_t[idx], evidence))
    return pd.concat(rows, ignore_index=True)


def _category_frame(data: MonthData, month: pd.Timestamp, eligible: pd.Series) -> pd.DataFrame:
    sp = data.spend.assign(month=pd.to_datetime(data.spend["month"]))
    sp = sp[sp["customer_id"].isin(eligible)]
    cur = (
        sp[sp["month"] == month]
        .groupby(["customer_id", "category_code"])[["txn_count", "spend_krw", "max_amount_krw"]]
        .agg({"txn_count": "sum", "spend_krw": "sum", "max_amount_krw": "max"})
    )
    base_monthly = sp[sp["month"] < month].groupby(["customer_id", "category_code", "month"])["txn_count"].sum()
    base = base_monthly.groupby(["customer_id", "category_code"]).agg(["sum", "count"])
    base.columns = ["base_count", "base_months_active"]
    frame = cur.join(base, how="outer").fillna(0).reset_index()
    obs = data.observed.set_index("customer_id")["baseline_months"]
    frame["observed"] = frame["customer_id"].map(obs).astype(np.float64)
    return frame


def _categories(data: MonthData, month: pd.Timestamp, eligible: pd.Series, cfg: ChangeConfig) -> pd.DataFrame:
    f = _category_frame(data, month, eligible)
    active_now = data.activity[pd.to_datetime(data.activity["month"]) == month].set_index("customer_id")["txn_count"]
    rows = []
    # New: never in the baseline; Jeffreys-smoothed rate 0.5 / months, Poisson upper tail.
    new = f[(f["base_count"] == 0) & (f["txn_count"] > 0) & (f["spend_krw"] >= cfg.new_category_min_krw)]
    p_new = stats.poisson.sf(new["txn_count"].to_numpy() - 1, 0.5 / new["observed"].to_numpy())
    keep = p_new < cfg.alpha
    new, p_new = new[keep], p_new[keep]
    rows.append(
        _trigger_rows(
            new["customer_id"],
            "CATEGORY_NEW",
            p_new,
            [
                {"test": "poisson", "category": c, "count": int(n), "spend_krw": int(s), "baseline_count": 0}
                for c, n, s in zip(new["category_code"], new["txn_count"], new["spend_krw"], strict=True)
            ],
        )
    )
    # Gone: a habit (active in all but at most one baseline month) with no use now, while the
    # customer still uses the card (a customer who stopped everything is a frequency change).
    habit = f[
        (f["txn_count"] == 0)
        & (f["base_months_active"] >= np.maximum(f["observed"] - 1, cfg.min_baseline_months))
        & (f["customer_id"].map(active_now).fillna(0) > 0)
    ]
    rate = habit["base_count"].to_numpy() / habit["observed"].to_numpy()
    p_gone = np.exp(-rate)
    keep = p_gone < cfg.alpha
    habit, p_gone, rate = habit[keep], p_gone[keep], rate[keep]
    rows.append(
        _trigger_rows(
            habit["customer_id"],
            "CATEGORY_GONE",
            p_gone,
            [
                {"test": "poisson", "category": c, "count": 0, "baseline_mean": round(float(r), 2)}
                for c, r in zip(habit["category_code"], rate, strict=True)
            ],
        )
    )
    return pd.concat(rows, ignore_index=True)


def _signature_hits(
    data: MonthData, last: pd.Timestamp, eligible: pd.Series, cfg: ChangeConfig
) -> list[tuple[Signature, pd.DataFrame]]:
    """Signature surges over the two months ending ``last`` against the months before them."""
    sp = data.spend.assign(month=pd.to_datetime(data.spend["month"]))
    sp = sp[sp["customer_id"].isin(eligible)]
    first = last - pd.DateOffset(months=1)
    people = data.customers.set_index("customer_id")
    out = []
    for sig in cfg.signatures:
        part = sp[sp["category_code"].isin(sig.categories)]
        now = part[(part["month"] >= first) & (part["month"] <= last)]
        before = part[part["month"] < first]
        n_base = int(sum(1 for m in pd.to_datetime(data.activity["month"]).unique() if m < first))
        if now.empty or n_base < cfg.min_baseline_months - 1:
            continue
        g = now.groupby("customer_id").agg(count=("txn_count", "sum"), spend=("spend_krw", "sum"))
        g["distinct"] = now.groupby("customer_id")["category_code"].nunique()
        required = now[now["category_code"].isin(sig.required)].groupby("customer_id")["txn_count"].sum()
        g["has_required"] = required.reindex(g.index, fill_value=0) >= sig.min_required_count
        g["base_count"] = before.groupby("customer_id")["txn_count"].sum().reindex(g.index, fill_value=0)
        age = people["age"].reindex(g.index)
        ok = g["has_required"].fillna(False) & (g["distinct"] >= sig.min_categories) & (age <= sig.max_age)
        if sig.unmarried_only:
            ok &= people["marital_status"].reindex(g.index) != "married"
        g = g[ok.to_numpy()]
        lam = 2 * (g["base_count"].to_numpy() + 0.5) / n_base  # expected count over two months
        p = stats.poisson.sf(g["count"].to_numpy() - 1, lam)
        g = g.assign(p_value=p, expected=lam)
        g = g[g["p_value"] < sig.alpha]
        cats = now[now["customer_id"].isin(g.index)].groupby("customer_id")["category_code"].apply(sorted)
        out.append((sig, g.assign(categories=cats.reindex(g.index))))
    return out


def _life_events(data: MonthData, month: pd.Timestamp, eligible: pd.Series, cfg: ChangeConfig) -> pd.DataFrame:
    """A life event's purchases spread over a few weeks and often straddle a month end, so the
    signature is tested over the last two months; a customer who already showed it a month earlier
    is not raised again."""
    previous = {
        sig.kind: set(hits.index) for sig, hits in _signature_hits(data, month - pd.DateOffset(months=1), eligible, cfg)
    }
    rows = []
    for sig, hits in _signature_hits(data, month, eligible, cfg):
        hits = hits[~hits.index.isin(previous.get(sig.kind, set()))]
        rows.append(
            _trigger_rows(
                hits.index,
                sig.kind,
                hits["p_value"],
                [
                    {
                        "test": "poisson_signature",
                        "categories": list(cats) if isinstance(cats, list) else [],
                        "count": int(n),
                        "spend_krw": int(sp),
                        "expected": round(float(lam), 2),
                    }
                    for cats, n, sp, lam in zip(
                        hits["categories"], hits["count"], hits["spend"], hits["expected"], strict=True
                    )
                ],
            )
        )
    rows.append(_moved(data, month, eligible, cfg))
    return pd.concat(rows, ignore_index=True)


def _moved(data: MonthData, month: pd.Timestamp, eligible: pd.Series, cfg: ChangeConfig) -> pd.DataFrame:
    r = data.region.assign(month=pd.to_datetime(data.region["month"]))
    r = r[r["customer_id"].isin(eligible) & (r["month"] >= month - pd.DateOffset(months=6))]
    cur = r[r["month"] == month]
    if cur.empty:
        return _trigger_rows([], "LIFE_MOVING", [], [])
    base = r[r["month"] < month].groupby(["customer_id", "region_code"])["txn_count"].sum()
    base_total = base.groupby("customer_id").sum()
    base_home = base.groupby("customer_id").idxmax().map(lambda key: key[1])
    total_now = cur.groupby("customer_id")["txn_count"].sum()
    top = cur.sort_values(["customer_id", "txn_count", "region_code"], ascending=[True, False, True]).drop_duplicates(
        "customer_id"
    )
    top = top.set_index("customer_id")
    top = top[top.index.isin(base_total.index)]
    top = top[top["region_code"] != base_home.reindex(top.index)]
    # Raised once: not again when last month already had the new region on top.
    prev = r[r["month"] == month - pd.DateOffset(months=1)]
    prev_top = (
        prev.sort_values(["customer_id", "txn_count", "region_code"], ascending=[True, False, True])
        .drop_duplicates("customer_id")
        .set_index("customer_id")["region_code"]
    )
    top = top[prev_top.reindex(top.index) != top["region_code"]]
    if top.empty:
        return _trigger_rows([], "LIFE_MOVING", [], [])
    k = top["txn_count"].to_numpy()
    n = total_now.reindex(top.index).to_numpy()
    prior = base.reindex(list(zip(top.index, top["region_code"], strict=True)), fill_value=0).to_numpy()
    p0 = (prior + 0.5) / (base_total.reindex(top.index).to_numpy() + 1.0)
    p = stats.binom.sf(k - 1, n, p0)
    keep = (p < cfg.alpha) & (k / n >= cfg.moving_min_share)
    idx = np.flatnonzero(keep)
    return _trigger_rows(
        top.index.to_numpy()[idx],
        "LIFE_MOVING",
        p[idx],
        [
            {
                "test": "binomial_region_share",
                "from_region": str(base_home[c]),
                "to_region": str(reg),
                "share_now": round(float(kk / nn), 2),
                "baseline_share": round(float(pp), 3),
            }
            for c, reg, kk, nn, pp in zip(
                top.index.to_numpy()[idx], top["region_code"].to_numpy()[idx], k[idx], n[idx], p0[idx], strict=True
            )
        ],
    )


def dedupe_life_events(triggers: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and kind, keeping the strongest evidence (smallest p)."""
    if triggers.empty:
        return triggers
    ordered = triggers.sort_values(["customer_id", "kind", "p_value"], kind="stable")
    return ordered.drop_duplicates(["customer_id", "kind"]).reset_index(drop=True)
