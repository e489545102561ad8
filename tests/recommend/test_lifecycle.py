"""Merchant life-cycle stages from monthly purchases: the trend fit and the stage rules."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cardwise.recommend.merchants import lifecycle_stages, log_linear_trend


def test_the_trend_fit_recovers_an_exact_monthly_growth_rate() -> None:
    months = np.arange(6)
    counts = np.vstack([200 * np.exp(0.1 * months), 200 * np.exp(-0.2 * months), np.full(6, 50.0)])
    slope, p = log_linear_trend(counts)
    assert np.allclose(slope, [0.1, -0.2, 0.0], atol=1e-6)
    assert p[0] < 0.001 and p[1] < 0.001 and p[2] > 0.5


def test_stages_follow_the_rules_in_order() -> None:
    rows = np.array(
        [
            [100, 110, 125, 140, 160, 180],  # growing ~ +12 % a month
            [180, 160, 140, 125, 110, 100],  # declining
            [100, 104, 97, 101, 99, 102],  # mature: flat
            [0, 0, 0, 0, 0, 0],  # inactive: nobody bought
            [3, 2, 4, 2, 5, 3],  # mature: too few purchases to call a trend
            [100, 110, 125, 140, 160, 180],  # opened three months ago: new, whatever the trend
            [180, 160, 140, 125, 110, 100],  # closed
        ],
        dtype=float,
    )
    opened = np.array([40, 40, 40, 40, 40, 3, 40])
    closed = np.array([False, False, False, False, False, False, True])
    stage, slope, _ = lifecycle_stages(rows, opened, closed)
    assert stage == ["growing", "declining", "mature", "inactive", "mature", "new", "closed"]
    assert slope[0] > 0.05 and slope[1] < -0.05


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(st.integers(0, 400), min_size=6, max_size=6),
    scale=st.integers(2, 5),
)
def test_reversing_a_series_flips_growing_and_declining_and_scaling_keeps_the_direction(
    base: list[int], scale: int
) -> None:
    counts = np.array([base, base[::-1], [b * scale for b in base]], dtype=float)
    stage, slope, _ = lifecycle_stages(counts, np.full(3, 60), np.zeros(3, dtype=bool))
    flip = {"growing": "declining", "declining": "growing", "mature": "mature", "inactive": "inactive"}
    assert stage[1] == flip[stage[0]]
    assert np.sign(np.round(slope[2], 6)) == np.sign(np.round(slope[0], 6))
    if stage[0] in ("growing", "declining"):  # more of the same evidence never weakens a trend
        assert stage[2] == stage[0]
