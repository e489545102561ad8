"""Similar customers: the spend-pattern embedding, nearest neighbours and lifestyle groups."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from cardwise.recommend.history import History
from cardwise.recommend.similarity import lifestyle_groups, nearest_neighbours, spend_profile


def _history(counts: np.ndarray) -> History:
    cube = np.asarray(counts, dtype=np.float32)
    return History(
        months=tuple(date(2023, m, 1) for m in range(1, cube.shape[1] + 1)),
        count=cube,
        spend=cube * 10_000,
        visits=pd.DataFrame(columns=["c", "m", "t", "purchases", "visit_days", "spend"]),
        channel_spend=np.zeros((cube.shape[0], cube.shape[1], 3), dtype=np.float32),
    )


def test_neighbours_are_the_most_alike_others_and_never_oneself() -> None:
    # Customers 0-2 buy coffee and convenience; 3-5 fuel and repairs; 6 never bought anything.
    mix = np.zeros((7, 2, 4))
    mix[0:3, :, 0:2] = [[10, 8]]
    mix[3:6, :, 2:4] = [[4, 2]]
    mix[1, :, 0] = 12
    profile = spend_profile(_history(mix), as_of=1)
    nb = nearest_neighbours(profile, k=2)
    assert set(nb.index[0].tolist()) == {1, 2}
    assert set(nb.index[4].tolist()) == {3, 5}
    assert all(i not in row for i, row in enumerate(nb.index.tolist()))
    assert nb.index[6].tolist() == [-1, -1] and nb.weight[6].tolist() == [0.0, 0.0]
    assert np.all(nb.weight[:6] > 0.9)
    # The similarity-weighted mean over neighbours: customer 0's neighbours both hold product 1.
    held = np.zeros((7, 2))
    held[[1, 2], 1] = 1
    assert nb.average(held)[0].tolist() == [0.0, 1.0]
    assert nb.average(held)[6].tolist() == [0.0, 0.0]


def test_lifestyle_groups_split_different_habits_and_name_what_each_over_uses() -> None:
    rng = np.random.default_rng(0)
    mix = np.zeros((80, 3, 6))
    mix[:40, :, 0] = rng.poisson(9, (40, 3))  # cafés
    mix[:40, :, 5] = rng.poisson(3, (40, 3))
    mix[40:, :, 3] = rng.poisson(6, (40, 3))  # fuel
    mix[40:, :, 5] = rng.poisson(3, (40, 3))
    groups = lifestyle_groups(spend_profile(_history(mix), as_of=2), n_groups=2)
    assert sorted(groups.sizes.tolist()) == [40, 40]
    assert len(set(groups.label[:40])) == 1 and len(set(groups.label[40:])) == 1
    cafe_group = int(groups.label[0])
    assert groups.top_categories[cafe_group][0] == 0
    assert groups.top_categories[1 - cafe_group][0] == 3
