"""Similar customers by spend pattern (M2 "members with a lifestyle like yours").

A customer's spend pattern is the square root of their category shares of purchases over the last
six months (the Hellinger embedding: cosine similarity between two of them is the Bhattacharyya
coefficient of the two category mixes), with their spending level as one more coordinate so that a
₩300k-a-month student and a ₩3M-a-month family that both mostly eat out are not twins.

- Nearest neighbours (cosine, k = 50) give "cards popular among members like you" and the neighbours'
  category habits used by the category model.
- Lifestyle groups are K-means clusters of the same embedding; each is named by the categories it
  over-uses most (e.g. 커피전문점·편의점·교통) and its size is the "members with a lifestyle like yours".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.cluster import KMeans

from cardwise.recommend.history import History

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LEVEL_WEIGHT = 0.35  # how much spending level counts next to the category mix (unit-length vector)


def spend_profile(history: History, as_of: int, window: int = 6) -> FloatArray:
    """customers × (categories + 1); all-zero rows for customers without purchases in the window."""
    lo = max(0, as_of - window + 1)
    counts = history.count[:, lo : as_of + 1].sum(axis=1).astype(np.float64)
    spend = history.spend[:, lo : as_of + 1].sum(axis=1).astype(np.float64)
    total = counts.sum(axis=1, keepdims=True)
    shares = np.sqrt(np.divide(counts, total, out=np.zeros_like(counts), where=total > 0))
    monthly = spend.sum(axis=1) / (as_of + 1 - lo)
    level = np.log1p(monthly)
    active = total[:, 0] > 0
    centre = float(np.median(level[active])) if active.any() else 0.0
    scale = float(level[active].std()) if active.sum() > 1 else 1.0
    level_coord = np.where(active, LEVEL_WEIGHT * (level - centre) / (scale or 1.0), 0.0)
    return np.hstack([shares, level_coord[:, None]])


@dataclass(frozen=True)
class Neighbours:
    index: IntArray
    """customers × k neighbour positions (-1 where a customer has fewer neighbours)."""
    weight: FloatArray
    """customers × k cosine similarities (0 where there is no neighbour)."""

    def matrix(self) -> sparse.csr_matrix:
        """Row-normalised customers × customers weights (rows of customers without neighbours are empty)."""
        n, k = self.index.shape
        ok = self.index >= 0
        rows = np.repeat(np.arange(n), k)[ok.ravel()]
        w = self.weight[ok]
        total = np.bincount(rows, weights=w, minlength=n)
        w = w / np.where(total[rows] > 0, total[rows], 1.0)
        return sparse.csr_matrix((w, (rows, self.index[ok])), shape=(n, n))

    def average(self, values: npt.ArrayLike) -> FloatArray:
        """Similarity-weighted mean of ``values`` (customers × anything) over each customer's neighbours."""
        return np.asarray(self.matrix() @ np.asarray(values, dtype=np.float64))


def nearest_neighbours(profile: FloatArray, k: int = 50, chunk: int = 1024) -> Neighbours:
    """The ``k`` most similar other customers by cosine similarity; customers without purchases get none."""
    n = len(profile)
    norms = np.linalg.norm(profile, axis=1)
    active = norms > 0
    unit = np.divide(profile, norms[:, None], out=np.zeros_like(profile), where=active[:, None]).astype(np.float32)
    index = np.full((n, k), -1, dtype=np.int64)
    weight = np.zeros((n, k))
    pool = np.flatnonzero(active)
    kk = min(k, max(len(pool) - 1, 0))
    if kk == 0:
        return Neighbours(index=index, weight=weight)
    unit_pool = unit[pool]
    for lo in range(0, len(pool), chunk):
        rows = pool[lo : lo + chunk]
        sims = unit[rows] @ unit_pool.T
        sims[np.arange(len(rows)), np.arange(lo, lo + len(rows))] = -np.inf  # never your own neighbour
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        index[rows, :kk] = pool[np.take_along_axis(top, order, axis=1)]
        weight[rows, :kk] = np.clip(np.take_along_axis(top_sims, order, axis=1), 0.0, 1.0)
    return Neighbours(index=index, weight=weight)


@dataclass(frozen=True)
class Lifestyles:
    label: IntArray
    """Per customer: lifestyle group (-1 for customers without purchases)."""
    sizes: IntArray
    top_categories: list[tuple[int, ...]]
    """Per group: the (up to three) categories it over-uses most, by share × lift."""


def lifestyle_groups(profile: FloatArray, n_groups: int = 24, random_state: int = 0) -> Lifestyles:
    active = np.linalg.norm(profile, axis=1) > 0
    n_active = int(active.sum())
    label = np.full(len(profile), -1, dtype=np.int64)
    n_cat = profile.shape[1] - 1
    if n_active == 0:
        return Lifestyles(label=label, sizes=np.zeros(0, dtype=np.int64), top_categories=[])
    k = max(1, min(n_groups, n_active // 20 or 1))
    model = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit(profile[active])
    label[active] = model.labels_
    sizes = np.bincount(model.labels_, minlength=k).astype(np.int64)
    shares = profile[active, :n_cat] ** 2
    overall = shares.mean(axis=0) + 1e-9
    tops: list[tuple[int, ...]] = []
    for g in range(k):
        mean = shares[model.labels_ == g].mean(axis=0) if sizes[g] else np.zeros(n_cat)
        score = mean * np.sqrt(mean / overall)  # common in the group and more common than elsewhere
        tops.append(tuple(int(i) for i in np.argsort(-score, kind="stable")[:3] if mean[i] > 0))
    return Lifestyles(label=label, sizes=sizes, top_categories=tops)
