"""Hit rate@k and NDCG@k on hand-computed examples."""

from __future__ import annotations

import math

import pytest

from cardwise.recommend.ranking import hit_at_k, ndcg_at_k, score_rankings


def test_hit_rate_counts_any_relevant_item_in_the_first_k() -> None:
    assert hit_at_k([5, 6, 7], {7}, k=3) == 1.0
    assert hit_at_k([5, 6, 7], {7}, k=2) == 0.0
    assert hit_at_k([], {1}) == 0.0


def test_ndcg_discounts_by_position_against_the_ideal_order() -> None:
    assert ndcg_at_k([1, 2, 3], {1}) == 1.0
    assert ndcg_at_k([2, 1, 3], {1}) == pytest.approx(1 / math.log2(3))
    # Two relevant items at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3)).
    assert ndcg_at_k([1, 9, 2], {1, 2}) == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([9, 8], {1}) == 0.0


def test_users_without_relevant_items_are_left_out_of_the_means() -> None:
    score = score_rankings([([1, 2], {1}), ([1, 2], set()), ([3, 4], {9})], k=10)
    assert score.users == 2
    assert score.hit_rate == 0.5
    assert score.ndcg == 0.5
