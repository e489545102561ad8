"""Quarterly cluster analysis of spending (S6): who spends alike, and which categories each group
would be wise to block because it hardly uses them while fraud often hits them.

Steps as in the seed: three months of spend over the ~50 categories (each customer's share of spend
per category, standardised), principal components chosen at the elbow of the explained variance,
K-means with k chosen by silhouette, the inertia curve kept beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.db.models import Category, Customer
from cardwise.lake.sql import BatchEngine, DuckDBEngine, Transform
from cardwise.notify.service import enqueue


def elbow(values: npt.ArrayLike) -> int:
    """Index of the point farthest from the chord joining the first and last points of a curve."""
    y = np.asarray(values, dtype=np.float64)
    if len(y) < 3:
        return len(y) - 1
    x = np.arange(len(y), dtype=np.float64)
    x1, y1, x2, y2 = x[0], y[0], x[-1], y[-1]
    distance = np.abs((y2 - y1) * x - (x2 - x1) * y + x2 * y1 - y2 * x1) / np.hypot(y2 - y1, x2 - x1)
    return int(np.argmax(distance))


@dataclass
class ClusterProfile:
    cluster: int
    size: int
    age_bands: dict[str, float]
    female_share: float
    top_categories: list[tuple[str, float]]  # (category, share of the cluster's spend)
    recommended_blocks: list[str]


@dataclass
class ClusterRun:
    window: tuple[str, str]
    customers: int
    n_components: int
    explained_variance: list[float]
    k: int
    silhouette_by_k: dict[int, float]
    inertia_by_k: dict[int, float]
    profiles: list[ClusterProfile] = field(default_factory=list)
    members: dict[int, int] = field(default_factory=dict)  # customer_id -> cluster

    def summary(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("members")
        return d


# The clustering input, in the engine-neutral form (runs on DuckDB or Spark, tests/lake/test_engines.py).
CLUSTER_SPEND = Transform(
    name="cluster_spend",
    description="Spend per customer and category over a window (the cluster analysis input).",
    inputs=("transactions",),
    params=("start", "end"),
    sql="""
SELECT customer_id, category_code, SUM(amount_krw) AS spend_krw
FROM transactions
WHERE ts >= {start} AND ts < {end} AND NOT is_fraud
GROUP BY customer_id, category_code
""",
)


def spend_matrix(
    con: duckdb.DuckDBPyConnection, start: date, end: date, engine: BatchEngine | None = None
) -> tuple[npt.NDArray[np.int64], tuple[str, ...], npt.NDArray[np.float64]]:
    """Customers x categories: each customer's share of spend per category in [start, end).
    The scan of the window's transactions runs on ``engine`` (DuckDB on ``con`` by default)."""
    cats = tuple(r[0] for r in con.execute("SELECT category_code FROM categories ORDER BY 1").fetchall())
    result = (engine or DuckDBEngine(con)).run(CLUSTER_SPEND.bind(start=start, end=end))
    rows = list(
        zip(
            result["customer_id"].to_pylist(),
            result["category_code"].to_pylist(),
            result["spend_krw"].to_pylist(),
            strict=True,
        )
    )
    customers = np.array(sorted({r[0] for r in rows}), dtype=np.int64)
    if not rows:
        return customers, cats, np.zeros((0, len(cats)))
    m = np.zeros((len(customers), len(cats)))
    index = {c: i for i, c in enumerate(cats)}
    pos = np.searchsorted(customers, np.array([r[0] for r in rows], dtype=np.int64))
    np.add.at(m, (pos, np.array([index[r[1]] for r in rows])), np.array([float(r[2]) for r in rows]))
    return customers, cats, m / m.sum(axis=1, keepdims=True)


def run_clusters(
    con: duckdb.DuckDBPyConnection,
    *,
    start: date,
    end: date,
    k_range: range = range(2, 11),
    seed: int = 0,
    n_blocks: int = 5,
    engine: BatchEngine | None = None,
) -> ClusterRun:
    customers, cats, shares = spend_matrix(con, start, end, engine)
    if len(customers) < max(k_range) * 2:
        raise ValueError(f"too few customers with spending in {start}..{end} for {max(k_range)} clusters")
    x = StandardScaler().fit_transform(shares)
    pca = PCA(random_state=seed).fit(x)
    ratios = pca.explained_variance_ratio_
    n_components = max(2, elbow(ratios) + 1)
    z = pca.transform(x)[:, :n_components]
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(z), size=min(3000, len(z)), replace=False)  # silhouette is quadratic in rows
    silhouettes: dict[int, float] = {}
    inertias: dict[int, float] = {}
    fits: dict[int, KMeans] = {}
    for k in k_range:
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(z)
        fits[k] = km
        inertias[k] = round(float(km.inertia_), 2)
        silhouettes[k] = round(float(silhouette_score(z[sample], km.labels_[sample])), 4)
    k = max(silhouettes, key=lambda key: (silhouettes[key], -key))
    labels = fits[k].labels_

    people = dict(con.execute("SELECT customer_id, 2023 - birth_year FROM customers").fetchall())
    female = dict(con.execute("SELECT customer_id, gender = 'F' FROM customers").fetchall())
    fraud = dict(
        con.execute(
            "SELECT category_code, count(*) FROM transactions WHERE is_fraud AND ts >= $1 AND ts < $2 GROUP BY 1",
            [start, end],
        ).fetchall()
    )
    fraud_share = np.array([fraud.get(c, 0) for c in cats], dtype=np.float64)
    fraud_share = fraud_share / max(fraud_share.sum(), 1.0)
    population_use = (shares > 0).mean(axis=0)
    profiles = []
    bands = ("20s", "30s", "40s", "50s", "60s", "70s")
    for c in range(k):
        members = customers[labels == c]
        member_shares = shares[labels == c]
        spend = member_shares.mean(axis=0)
        ages = np.array([people.get(int(m), 40) for m in members])
        band = np.clip((ages - 20) // 10, 0, 5)
        top = np.argsort(-spend)[:5]
        # Rarely used by this group yet often hit by fraud: blocking costs the members little.
        use = (member_shares > 0).mean(axis=0)
        rarity = 1.0 - np.minimum(use / np.maximum(population_use, 1e-9), 1.0)
        risk = fraud_share * rarity * (use < 0.2)
        blocks = [cats[i] for i in np.argsort(-risk)[:n_blocks] if risk[i] > 0]
        profiles.append(
            ClusterProfile(
                cluster=c,
                size=len(members),
                age_bands={bands[b]: round(float((band == b).mean()), 3) for b in range(6)},
                female_share=round(float(np.mean([bool(female.get(int(m), False)) for m in members])), 3),
                top_categories=[(cats[i], round(float(spend[i]), 4)) for i in top],
                recommended_blocks=blocks,
            )
        )
    return ClusterRun(
        window=(start.isoformat(), end.isoformat()),
        customers=len(customers),
        n_components=n_components,
        explained_variance=[round(float(r), 4) for r in ratios[:20]],
        k=k,
        silhouette_by_k=silhouettes,
        inertia_by_k=inertias,
        profiles=profiles,
        members={int(cid): int(lab) for cid, lab in zip(customers.tolist(), labels.tolist(), strict=True)},
    )


def recommendation_mails(session: Session, run: ClusterRun, run_id: str) -> int:
    """Queue one e-mail per opted-in member of each cluster with its recommended blocks (outbox).

    The dedupe key carries the run id, so re-sending a run never mails anyone twice."""
    names = dict(session.execute(select(Category.category_code, Category.name_ko)).all())
    consenting = set(
        session.execute(select(Customer.customer_id).where(Customer.marketing_consent.is_(True))).scalars()
    )
    by_cluster = {p.cluster: p for p in run.profiles}
    queued = 0
    for customer_id, cluster in run.members.items():
        profile = by_cluster[cluster]
        if customer_id not in consenting or not profile.recommended_blocks:
            continue
        blocked = ", ".join(names.get(c, c) for c in profile.recommended_blocks)
        enqueue(
            session,
            dedupe_key=f"cluster-mail:{run_id}:{customer_id}",
            customer_id=customer_id,
            kind="cluster_recommendation",
            channel="email",
            subject="[cardwise] 안심서비스 차단 추천 업종 안내",
            body=(
                "안녕하세요, cardwise입니다.\n"
                "고객님과 소비 패턴이 비슷한 분들이 거의 이용하지 않지만 부정사용이 자주 일어나는 업종입니다: "
                f"{blocked}.\n"
                "앱의 안심서비스에서 이 업종들의 결제를 차단해 두시면, 카드를 잃어버려도 피해를 줄일 수 있습니다.\n"
                "(마케팅 수신에 동의하신 고객님께 보내는 안내입니다.)"
            ),
            payload={"run_id": run_id, "cluster": cluster, "categories": profile.recommended_blocks},
        )
        queued += 1
    session.flush()
    return queued


def last_quarter_of(period_end: date) -> tuple[date, date]:
    """The last three whole months up to a period's last day, e.g. 2023-10-31 → 2023-08-01 .. 2023-11-01."""
    end = date(period_end.year + (period_end.month == 12), period_end.month % 12 + 1, 1)
    start_month = (end.month - 4) % 12 + 1
    start = date(end.year - (end.month <= 3), start_month, 1)
    return start, end


def save_run(run: ClusterRun, reports_dir: Path) -> tuple[str, Path]:
    """Keep a run under its id (the back office compares runs)."""
    import json
    from datetime import UTC, datetime

    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = reports_dir / "clusters" / f"{run_id}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"run_id": run_id, **run.summary(), "members": run.members}, ensure_ascii=False, indent=1) + "\n"
    )
    return run_id, target
