"""Properties of the vectorised samplers every generator relies on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cardwise.synth.sampling import hash_uniform, row_cdf, sample_in_groups, sample_rows

weights = arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(1, 8)),
    elements=st.floats(0, 100, allow_nan=False, allow_infinity=False),
)


@given(weights, st.integers(0, 2**32 - 1))
@settings(max_examples=80, deadline=None)
def test_sample_rows_never_picks_a_zero_weight(w: np.ndarray, seed: int) -> None:
    w = w.copy()
    w[:, 0] += 1.0  # every row needs some weight
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, w.shape[0], 500)
    picks = sample_rows(row_cdf(w), rows, rng.random(500))
    assert picks.min() >= 0 and picks.max() < w.shape[1]
    assert np.all(w[rows, picks] > 0)


def test_sample_rows_matches_the_distribution() -> None:
    rng = np.random.default_rng(0)
    w = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 0.0], [2.0, 2.0, 4.0]])
    rows = rng.integers(0, 3, 300_000)
    picks = sample_rows(row_cdf(w), rows, rng.random(300_000))
    for r in range(3):
        freq = np.bincount(picks[rows == r], minlength=3) / (rows == r).sum()
        assert np.allclose(freq, w[r] / w[r].sum(), atol=0.01)


@given(st.lists(st.integers(0, 4), min_size=1, max_size=40), st.integers(0, 2**32 - 1))
@settings(max_examples=80, deadline=None)
def test_sample_in_groups_stays_in_the_group(groups: list[int], seed: int) -> None:
    group_of_item = np.array(groups)
    rng = np.random.default_rng(seed)
    item_weight = rng.random(len(groups)) + 0.01
    wanted = rng.choice(np.unique(group_of_item), 200)
    items = sample_in_groups(group_of_item, item_weight, wanted, rng.random(200))
    assert np.all(group_of_item[items] == wanted)


def test_empty_rows_and_groups_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="positive total"):
        row_cdf([[0.0, 0.0]])
    with pytest.raises(ValueError, match="empty group"):
        sample_in_groups(np.array([0, 2]), np.array([1.0, 1.0]), np.array([1]), np.array([0.5]))


def test_hash_uniform_is_deterministic_and_uniform() -> None:
    a = hash_uniform(np.arange(100_000), 7)
    assert np.array_equal(a, hash_uniform(np.arange(100_000), 7))
    assert not np.array_equal(a, hash_uniform(np.arange(100_000), 8))
    assert a.min() >= 0 and a.max() < 1
    assert np.allclose(np.histogram(a, bins=10, range=(0, 1))[0] / 1e5, 0.1, atol=0.01)
