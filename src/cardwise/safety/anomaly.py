"""After approval: is this transaction unlike the customer's usual pattern? (S4, S5)

Two parts, kept apart as the seed does: customer profiles built from months of history (how often
each category, hour, region and channel, and the usual amount per category), and a Gaussian
mixture over how far a new transaction sits from its customer's profile. The mixture learns what
ordinary distances look like across all customers; a transaction in a sparse corner of that space
is an anomaly. Rows are never kept on the estimator: only distributions and mixture parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sklearn.base import BaseEstimator
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

FEATURES = (
    "category_surprise",
    "hour_surprise",
    "region_surprise",
    "channel_surprise",
    "amount_z",
    "log_amount",
    "card_velocity",
)
CHANNELS = ("offline", "online", "overseas")


@dataclass
class Frame:
    """Transactions as integer-coded arrays (the lake's strings mapped once)."""

    customer: npt.NDArray[np.int64]
    category: npt.NDArray[np.int64]
    hour: npt.NDArray[np.int64]
    region: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int64]
    log_amount: npt.NDArray[np.float64]
    day: npt.NDArray[np.int64]  # days since 1970-01-01
    second: npt.NDArray[np.int64]  # seconds since 1970-01-01, local time
    card: npt.NDArray[np.int64]
    is_fraud: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.customer)


def load_frame(con: duckdb.DuckDBPyConnection, start: date, end: date, codes: Codes) -> Frame:
    """Transactions in [start, end) from the lake views."""
    tbl = con.sql(
        """SELECT customer_id, category_code, hour(ts) AS hour, region_code, channel, amount_krw,
                  date_diff('day', DATE '1970-01-01', ts::DATE) AS day, epoch(ts)::BIGINT AS second,
                  card_id, is_fraud
           FROM transactions WHERE ts >= $start AND ts < $end""",
        params={"start": start, "end": end},
    ).to_arrow_table()

    def coded(name: str, values: tuple[str, ...]) -> npt.NDArray[np.int64]:
        col = tbl[name].to_numpy(zero_copy_only=False).astype(str)
        lookup = {v: i for i, v in enumerate(values)}
        uniq, inv = np.unique(col, return_inverse=True)
        mapped = np.array([lookup.get(u, -1) for u in uniq], dtype=np.int64)
        return mapped[inv]

    return Frame(
        customer=tbl["customer_id"].to_numpy().astype(np.int64),
        category=coded("category_code", codes.categories),
        hour=tbl["hour"].to_numpy().astype(np.int64),
        region=coded("region_code", codes.regions),
        channel=coded("channel", CHANNELS),
        log_amount=np.log(tbl["amount_krw"].to_numpy().astype(np.float64)),
        day=tbl["day"].to_numpy().astype(np.int64),
        second=tbl["second"].to_numpy().astype(np.int64),
        card=tbl["card_id"].to_numpy().astype(np.int64),
        is_fraud=tbl["is_fraud"].to_numpy(zero_copy_only=False).astype(bool),
    )


@dataclass(frozen=True)
class Codes:
    categories: tuple[str, ...]
    regions: tuple[str, ...]

    @staticmethod
    def of(con: duckdb.DuckDBPyConnection) -> Codes:
        cats = tuple(r[0] for r in con.execute("SELECT category_code FROM categories ORDER BY 1").fetchall())
        regs = tuple(r[0] for r in con.execute("SELECT region_code FROM regions ORDER BY 1").fetchall())
        return Codes(cats, regs)


def card_velocity(f: Frame, window_s: int = 3600) -> npt.NDArray[np.float64]:
    """How many earlier transactions the same card made in the past hour (bursts after a theft)."""
    key = f.card * np.int64(10**10) + f.second
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    earlier = np.arange(len(key)) - np.searchsorted(sorted_key, sorted_key - window_s, side="left")
    out = np.empty(len(key), dtype=np.float64)
    out[order] = earlier
    return out


class CustomerProfiles(BaseEstimator):
    """Smoothed per-customer distributions from a history window (pooled toward the population so
    a customer with little history is judged against everyone's habits)."""

    def __init__(self, *, prior_weight: float = 5.0) -> None:
        self.prior_weight = prior_weight

    def fit(self, f: Frame, n_categories: int, n_regions: int) -> CustomerProfiles:
        ids = np.unique(f.customer)
        self.customer_ids_ = ids
        per_customer = self._arrays(f, np.searchsorted(ids, f.customer), len(ids), n_categories, n_regions)
        # One more row, everyone pooled: the profile of a customer with no history.
        population = self._arrays(f, np.zeros(len(f), dtype=np.int64), 1, n_categories, n_regions)
        (self.category_, self.hour_, self.region_, self.channel_, self.amount_mean_, self.amount_std_) = (
            np.vstack([c, p]) for c, p in zip(per_customer, population, strict=True)
        )
        return self

    def _arrays(
        self, f: Frame, row: npt.NDArray[np.int64], n: int, n_categories: int, n_regions: int
    ) -> tuple[npt.NDArray[np.float32], ...]:
        def dist(values: npt.NDArray[np.int64], k: int) -> npt.NDArray[np.float32]:
            counts = np.zeros((n, k))
            ok = values >= 0
            np.add.at(counts, (row[ok], values[ok]), 1.0)
            pop = counts.sum(axis=0) + 1.0
            pop /= pop.sum()
            smoothed = counts + self.prior_weight * pop[None, :]
            return (smoothed / smoothed.sum(axis=1, keepdims=True)).astype(np.float32)

        # Usual amount per customer and category: mean and spread of log amounts, shrunk toward the
        # customer's overall figures when the category has few purchases.
        key = row * n_categories + np.maximum(f.category, 0)
        cnt = np.bincount(key, minlength=n * n_categories).astype(np.float64)
        s1 = np.bincount(key, weights=f.log_amount, minlength=n * n_categories)
        s2 = np.bincount(key, weights=f.log_amount**2, minlength=n * n_categories)
        c_cnt = np.bincount(row, minlength=n).astype(np.float64)
        c_mean = np.bincount(row, weights=f.log_amount, minlength=n) / np.maximum(c_cnt, 1)
        c_var = np.bincount(row, weights=f.log_amount**2, minlength=n) / np.maximum(c_cnt, 1) - c_mean**2
        w = 3.0
        mean = (s1 + w * np.repeat(c_mean, n_categories)) / (cnt + w)
        var = (s2 + w * np.repeat(c_var + c_mean**2, n_categories)) / (cnt + w) - mean**2
        return (
            dist(f.category, n_categories),
            dist(f.hour, 24),
            dist(f.region, n_regions),
            dist(f.channel, len(CHANNELS)),
            mean.reshape(n, n_categories).astype(np.float32),
            np.sqrt(np.maximum(var, 0.05)).reshape(n, n_categories).astype(np.float32),
        )

    def features(self, f: Frame) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Distances of each transaction from its customer's profile; `known` marks customers with history."""
        idx, known = self.rows_of(f.customer)
        x = self.distances(
            idx,
            np.maximum(f.category, 0),
            f.hour,
            np.maximum(f.region, 0),
            np.maximum(f.channel, 0),
            f.log_amount,
            card_velocity(f),
        )
        return x, known

    def rows_of(self, customers: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Profile rows of customers; those without history get the pooled row (the last one)."""
        check_is_fitted(self, "category_")
        idx = np.clip(np.searchsorted(self.customer_ids_, customers), 0, len(self.customer_ids_) - 1)
        known = self.customer_ids_[idx] == customers
        return np.where(known, idx, len(self.customer_ids_)), known

    def distances(
        self,
        idx: npt.NDArray[np.int64],
        cat: npt.NDArray[np.int64],
        hour: npt.NDArray[np.int64],
        reg: npt.NDArray[np.int64],
        ch: npt.NDArray[np.int64],
        log_amount: npt.NDArray[np.float64],
        velocity: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """The FEATURES, in order: one definition for batch scoring and for a single authorization."""
        return np.column_stack(
            [
                -np.log(self.category_[idx, cat]),
                -np.log(self.hour_[idx, hour]),
                -np.log(self.region_[idx, reg]),
                -np.log(self.channel_[idx, ch]),
                (log_amount - self.amount_mean_[idx, cat]) / self.amount_std_[idx, cat],
                log_amount,
                np.log1p(velocity),
            ]
        ).astype(np.float64)


class AnomalyDetector(BaseEstimator):
    """A Gaussian mixture over profile distances; the score is the negative log-likelihood."""

    def __init__(self, n_components: int = 6, alert_rate: float = 0.005, random_state: int = 0) -> None:
        self.n_components = n_components
        self.alert_rate = alert_rate
        self.random_state = random_state

    def fit(self, x: npt.NDArray[np.float64]) -> AnomalyDetector:
        if x.ndim != 2 or x.shape[1] != len(FEATURES) or not np.isfinite(x).all():
            raise ValueError(f"expected finite rows of {len(FEATURES)} features")
        self.scaler_ = StandardScaler().fit(x)
        self.mixture_ = GaussianMixture(self.n_components, covariance_type="full", random_state=self.random_state)
        self.mixture_.fit(self.scaler_.transform(x))
        scores = self.score_samples(x)
        self.threshold_ = float(np.quantile(scores, 1 - self.alert_rate))
        # Per feature, the level only 1% of ordinary transactions exceed: what a reason points at.
        self.feature_alarm_ = np.quantile(x, 0.99, axis=0)
        return self

    def score_samples(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        check_is_fitted(self, "mixture_")
        return -self.mixture_.score_samples(self.scaler_.transform(x))

    def predict(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        return self.score_samples(x) > self.threshold_

    def score_one(self, x: npt.NDArray[np.float64]) -> float:
        """The same score as `score_samples` for one row, without scikit-learn's per-call checks
        (an authorization is scored inline, so microseconds count)."""
        check_is_fitted(self, "mixture_")
        z = (x - self.scaler_.mean_) / self.scaler_.scale_
        m = self.mixture_
        diff = np.einsum("kd,kde->ke", z[None, :] - m.means_, m.precisions_cholesky_)
        log_det = np.log(np.diagonal(m.precisions_cholesky_, axis1=1, axis2=2)).sum(axis=1)
        log_prob = -0.5 * (len(z) * np.log(2 * np.pi) + (diff**2).sum(axis=1)) + log_det + np.log(m.weights_)
        top = log_prob.max()
        return float(-(top + np.log(np.exp(log_prob - top).sum())))


# --- training and evaluation on held-out months -------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    history_start: date
    history_end: date  # profiles and the mixture learn from [history_start, history_end)
    test_end: date  # evaluation on [history_end, test_end)


def card_precision_at_k(
    days: npt.NDArray[np.int64],
    cards: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    fraud: npt.NDArray[np.bool_],
    k: int = 100,
) -> float:
    """Per day, of the k cards with the highest score, the share that really had fraud; averaged over days."""
    values: list[float] = []
    for day in np.unique(days):
        m = days == day
        c, s, y = cards[m], scores[m], fraud[m]
        order = np.lexsort((c, -s))  # best score per card first
        c_sorted = c[order]
        first = np.unique(c_sorted, return_index=True)[1]
        best = order[first]
        top = best[np.argsort(-s[best], kind="stable")][:k]
        fraud_cards = set(c[y].tolist())
        values.append(float(np.mean([card in fraud_cards for card in c[top].tolist()])) if len(top) else 0.0)
    return float(np.mean(values)) if values else 0.0


def _month_before(d: date) -> date:
    return date(d.year - 1, 12, 1) if d.month == 1 else date(d.year, d.month - 1, 1)


def _concat(a: Frame, b: Frame) -> Frame:
    return Frame(**{k: np.concatenate([getattr(a, k), getattr(b, k)]) for k in Frame.__dataclass_fields__})


def _fit(
    early: Frame,
    calib: Frame,
    codes: Codes,
    rng: np.random.Generator,
    *,
    sample: int,
    seed: int,
    alert_rate: float = 0.005,
) -> tuple[AnomalyDetector, CustomerProfiles, Frame]:
    """The mixture must see distances of transactions its profiles have not seen (as in production),
    so it learns on the last history month against profiles of the months before it; the profiles
    that serve are then built from the whole history."""
    n_cat, n_reg = len(codes.categories), len(codes.regions)
    x_calib, _ = CustomerProfiles().fit(early, n_cat, n_reg).features(calib)
    rows = rng.choice(len(calib), size=min(sample, len(calib)), replace=False)
    rows = rows[~calib.is_fraud[rows]]  # learn what ordinary looks like
    detector = AnomalyDetector(alert_rate=alert_rate, random_state=seed).fit(x_calib[rows])
    hist = _concat(early, calib)
    return detector, CustomerProfiles().fit(hist, n_cat, n_reg), hist


def evaluate(
    con: duckdb.DuckDBPyConnection, split: Split, *, sample: int = 300_000, seed: int = 0
) -> dict[str, object]:
    """Train on the history window, score the held-out months; the model next to two baselines."""
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import average_precision_score, roc_auc_score

    codes = Codes.of(con)
    calib_start = _month_before(split.history_end)
    early = load_frame(con, split.history_start, calib_start, codes)
    calib = load_frame(con, calib_start, split.history_end, codes)
    test = load_frame(con, split.history_end, split.test_end, codes)
    if len(early) == 0 or len(calib) == 0 or len(test) == 0 or not test.is_fraud.any():
        raise ValueError("the split needs two history months, held-out transactions and some fraud among them")
    rng = np.random.default_rng(seed)
    detector, profiles, hist = _fit(early, calib, codes, rng, sample=sample, seed=seed)
    x_test, _ = profiles.features(test)
    y = test.is_fraud
    rows = rng.choice(len(hist), size=min(sample, len(hist)), replace=False)
    rows = rows[~hist.is_fraud[rows]]

    raw_hist = np.column_stack([hist.log_amount, hist.hour, hist.category, hist.region, hist.channel])
    raw_test = np.column_stack([test.log_amount, test.hour, test.category, test.region, test.channel])
    iso = IsolationForest(n_estimators=100, random_state=seed).fit(raw_hist[rows])
    candidates = {
        "gmm_profile_distance": detector.score_samples(x_test),
        "baseline_amount_zscore": np.abs(x_test[:, FEATURES.index("amount_z")]),
        "baseline_isolation_forest": -iso.score_samples(raw_test),
    }
    report: dict[str, object] = {
        "history": [split.history_start.isoformat(), split.history_end.isoformat()],
        "held_out": [split.history_end.isoformat(), split.test_end.isoformat()],
        "transactions": len(test),
        "fraud_rate": float(y.mean()),
    }
    for name, score in candidates.items():
        alerts = score > (detector.threshold_ if name == "gmm_profile_distance" else np.quantile(score, 0.995))
        report[name] = {
            "roc_auc": round(float(roc_auc_score(y, score)), 4),
            "average_precision": round(float(average_precision_score(y, score)), 4),
            "card_precision_at_100_per_day": round(card_precision_at_k(test.day, test.card, score, y), 4),
            "alert_rate": round(float(alerts.mean()), 4),
        }
    return report


# --- one transaction, as the API and the authorization path see it ----------------------------------------

REASONS: dict[str, tuple[str, str]] = {
    "category_surprise": ("평소 이용하지 않던 업종의 결제입니다.", "A merchant category the customer rarely uses."),
    "hour_surprise": ("평소와 다른 시간대의 결제입니다.", "An unusual time of day for this customer."),
    "region_surprise": ("평소와 다른 지역에서의 결제입니다.", "A region the customer rarely pays in."),
    "channel_surprise": ("평소와 다른 방식(온라인·해외)의 결제입니다.", "An unusual channel (online or abroad)."),
    "amount_z": ("평소보다 훨씬 큰 금액입니다.", "A much larger amount than usual."),
    "card_velocity": ("짧은 시간에 결제가 잇따르고 있습니다.", "Many payments on the card within the hour."),
}


@dataclass(frozen=True)
class AnomalyVerdict:
    anomaly: bool
    score: float
    threshold: float
    reasons: tuple[tuple[str, str, str], ...]  # (feature, Korean, English)


def score_transaction(
    model: TrainedAnomalyModel,
    *,
    customer_id: int,
    category_code: str,
    region_code: str,
    channel: str,
    amount_krw: int,
    local_hour: int,
    recent_on_card: int,
) -> AnomalyVerdict:
    """Score one transaction; a customer without history is judged against the pooled profile."""
    codes = model.codes
    if category_code not in codes.categories:
        raise ValueError(f"unknown category code: {category_code}")
    if region_code not in codes.regions:
        raise ValueError(f"unknown region code: {region_code}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel: {channel}")
    if amount_krw <= 0:
        raise ValueError("amount_krw must be positive")
    p = model.profiles
    idx, _ = p.rows_of(np.array([customer_id], dtype=np.int64))
    one = np.ones(1, dtype=np.int64)
    x = p.distances(
        idx,
        one * codes.categories.index(category_code),
        one * local_hour,
        one * codes.regions.index(region_code),
        one * CHANNELS.index(channel),
        np.log(np.array([float(amount_krw)])),
        np.array([float(recent_on_card)]),
    )[0]
    score = model.detector.score_one(x)
    reasons = tuple(
        (name, *REASONS[name])
        for j, name in enumerate(FEATURES)
        if name in REASONS and x[j] > model.detector.feature_alarm_[j]
    )
    return AnomalyVerdict(
        anomaly=score > model.detector.threshold_,
        score=round(score, 3),
        threshold=round(model.detector.threshold_, 3),
        reasons=reasons,
    )


# --- artifacts ----------------------------------------------------------------------------------------------


@dataclass
class TrainedAnomalyModel:
    """What serving needs: the mixture, the profiles it measures distances from, and where they came from."""

    detector: AnomalyDetector
    profiles: CustomerProfiles
    codes: Codes
    version: str
    trained_on: tuple[str, str]
    rows: int
    data_hash: str

    def meta(self) -> dict[str, object]:
        return {
            "version": self.version,
            "features": list(FEATURES),
            "trained_on": list(self.trained_on),
            "rows": self.rows,
            "data_hash": self.data_hash,
            "threshold": self.detector.threshold_,
            "alert_rate": self.detector.alert_rate,
            "n_components": self.detector.n_components,
        }


def _lake_hash(con: duckdb.DuckDBPyConnection, start: date, end: date) -> str:
    import hashlib

    digest = hashlib.sha256()
    for row in con.execute(
        "SELECT count(*), sum(amount_krw), min(transaction_id), max(transaction_id) FROM transactions "
        "WHERE ts >= $1 AND ts < $2",
        [start, end],
    ).fetchall():
        digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


def train(
    con: duckdb.DuckDBPyConnection,
    *,
    start: date,
    end: date,
    sample: int = 300_000,
    seed: int = 0,
    alert_rate: float = 0.005,
) -> TrainedAnomalyModel:
    """Profiles from [start, end); the mixture learns on the last month against the months before it."""
    codes = Codes.of(con)
    calib_start = _month_before(end)
    early = load_frame(con, start, calib_start, codes)
    calib = load_frame(con, calib_start, end, codes)
    if len(early) == 0 or len(calib) == 0:
        raise ValueError("training needs at least two months of transactions")
    detector, profiles, _ = _fit(
        early, calib, codes, np.random.default_rng(seed), sample=sample, seed=seed, alert_rate=alert_rate
    )
    from datetime import UTC, datetime

    return TrainedAnomalyModel(
        detector=detector,
        profiles=profiles,
        codes=codes,
        version=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        trained_on=(start.isoformat(), end.isoformat()),
        rows=len(early) + len(calib),
        data_hash=_lake_hash(con, start, end),
    )


def save(model: TrainedAnomalyModel, models_dir: Path) -> Path:
    import json

    import joblib

    dest = models_dir / "anomaly" / model.version
    dest.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, dest / "model.joblib")
    (dest / "meta.json").write_text(json.dumps(model.meta(), indent=2) + "\n")
    return dest


def load_latest(models_dir: Path) -> TrainedAnomalyModel:
    import joblib

    versions = sorted((models_dir / "anomaly").glob("*/model.joblib"))
    if not versions:
        raise FileNotFoundError(f"no anomaly model under {models_dir}; run `cardwise safety train`")
    model: TrainedAnomalyModel = joblib.load(versions[-1])
    return model


# --- scoring any transaction file ---------------------------------------------------------------------------

REQUIRED_HINT = "a file needs customer_id or card_id, ts (or timestamp), amount_krw and merchant_id"


def score_file(con: duckdb.DuckDBPyConnection, model: TrainedAnomalyModel, path: Path) -> pa.Table:
    """Score a CSV or Parquet file of transactions that the model was not built on.

    Category and region come from the file when present, else from the merchant; the customer
    from the file, else from the card. The result is the file's rows with `score` and `anomaly`.
    """
    if not path.exists():
        raise ValueError(f"no such file: {path}")
    reader = "read_parquet" if path.suffix.lower() in (".parquet", ".pq") else "read_csv_auto"
    src = f"{reader}('{str(path).replace(chr(39), chr(39) * 2)}')"
    try:
        columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    except duckdb.Error as exc:
        raise ValueError(f"cannot read {path.name}: {exc}") from None
    ts_col = "ts" if "ts" in columns else "timestamp" if "timestamp" in columns else None
    missing = [c for c in ("amount_krw", "merchant_id") if c not in columns]
    if ts_col is None or missing or not ({"customer_id", "card_id"} & columns):
        raise ValueError(f"{path.name}: {REQUIRED_HINT} (found: {', '.join(sorted(columns))})")
    customer = "f.customer_id" if "customer_id" in columns else "c.customer_id"
    card = "f.card_id" if "card_id" in columns else "NULL"
    category = "coalesce(f.category_code, m.category_code)" if "category_code" in columns else "m.category_code"
    region = "coalesce(f.region_code, m.region_code)" if "region_code" in columns else "m.region_code"
    channel = "coalesce(f.channel, 'offline')" if "channel" in columns else "'offline'"
    card_join = "LEFT JOIN cards c ON c.card_id = f.card_id" if "card_id" in columns else ""
    try:
        tbl = con.sql(f"""
            SELECT f.*, {customer} AS _customer, {card} AS _card,
                   {category} AS _category, {region} AS _region, {channel} AS _channel,
                   CAST(f.{ts_col} AS TIMESTAMP) AS _ts
            FROM (SELECT row_number() OVER () AS row_number, * FROM {src}) f
            LEFT JOIN merchants m ON m.merchant_id = f.merchant_id {card_join}
            ORDER BY f.row_number""").to_arrow_table()
    except duckdb.Error as exc:
        raise ValueError(f"{path.name}: {str(exc).splitlines()[0]}") from None
    n = tbl.num_rows
    amount = tbl["amount_krw"].to_numpy(zero_copy_only=False).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(amount) | (amount <= 0))
    if len(bad):
        raise ValueError(f"{path.name}: row {int(bad[0]) + 1} has an amount that is not a positive number")
    cust = tbl["_customer"].to_numpy(zero_copy_only=False)
    if any(v is None for v in cust.tolist()) or np.isnan(cust.astype(np.float64)).any():
        first = next(i for i, v in enumerate(cust.tolist()) if v is None or v != v)
        raise ValueError(f"{path.name}: row {first + 1} has no customer (unknown card_id and no customer_id)")
    cat_codes = tbl["_category"].to_pylist()
    if None in cat_codes:
        raise ValueError(f"{path.name}: row {cat_codes.index(None) + 1} has no category (unknown merchant_id)")
    ts = tbl["_ts"].to_numpy(zero_copy_only=False).astype("datetime64[s]")
    cat_index = {c: i for i, c in enumerate(model.codes.categories)}
    reg_index = {r: i for i, r in enumerate(model.codes.regions)}
    chan = tbl["_channel"].to_pylist()
    cards = tbl["_card"].to_numpy(zero_copy_only=False)
    card_ids = np.where(np.isnan(cards.astype(np.float64)), -1 - cust.astype(np.int64), cards.astype(np.float64))
    frame = Frame(
        customer=cust.astype(np.int64),
        category=np.array([cat_index.get(c, -1) for c in cat_codes], dtype=np.int64),
        hour=((ts.astype(np.int64) // 3600) % 24).astype(np.int64),
        region=np.array([reg_index.get(r, -1) for r in tbl["_region"].to_pylist()], dtype=np.int64),
        channel=np.array([CHANNELS.index(c) if c in CHANNELS else 0 for c in chan], dtype=np.int64),
        log_amount=np.log(amount),
        day=(ts.astype(np.int64) // 86_400).astype(np.int64),
        second=ts.astype(np.int64),
        card=card_ids.astype(np.int64),
        is_fraud=np.zeros(n, dtype=bool),
    )
    x, known = model.profiles.features(frame)
    scores = model.detector.score_samples(x)
    keep = [c for c in tbl.column_names if not c.startswith("_")]
    return (
        tbl.select(keep)
        .append_column("score", pa.array(np.round(scores, 4)))
        .append_column("anomaly", pa.array(np.where(scores > model.detector.threshold_, "Y", "N")))
        .append_column("customer_known", pa.array(known))
    )
