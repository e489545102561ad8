"""Ranking metrics for held-out evaluation: hit rate@k and NDCG@k with binary relevance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def hit_at_k(ranked: Sequence[int], relevant: set[int], k: int = 10) -> float:
    """1.0 when any of the first ``k`` recommendations is relevant."""
    return 1.0 if any(item in relevant for item in ranked[:k]) else 0.0


def ndcg_at_k(ranked: Sequence[int], relevant: set[int], k: int = 10) -> float:
    """Discounted cumulative gain of the first ``k`` items over the best possible (binary relevance)."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / np.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(len(relevant), k)))
    return float(dcg / ideal)


@dataclass(frozen=True)
class RankingScore:
    users: int
    hit_rate: float
    ndcg: float

    def as_dict(self) -> dict[str, float | int]:
        return {"users": self.users, "hit_rate_at_10": round(self.hit_rate, 4), "ndcg_at_10": round(self.ndcg, 4)}


def score_rankings(pairs: Iterable[tuple[Sequence[int], set[int]]], k: int = 10) -> RankingScore:
    """Mean hit rate@k and NDCG@k over users with at least one relevant item."""
    hits: list[float] = []
    gains: list[float] = []
    for ranked, relevant in pairs:
        if not relevant:
            continue
        hits.append(hit_at_k(ranked, relevant, k))
        gains.append(ndcg_at_k(ranked, relevant, k))
    if not hits:
        return RankingScore(users=0, hit_rate=0.0, ndcg=0.0)
    return RankingScore(users=len(hits), hit_rate=float(np.mean(hits)), ndcg=float(np.mean(gains)))
