"""Category recommendations: features as of a month, the lift between categories that follows a change
in spending, and the model fitted on the small lake."""

from __future__ import annotations

from datetime import date

import numpy as np

from cardwise.recommend.categories import category_frame, category_lift, fit_category_model, used_next
from cardwise.recommend.pipeline import active_customers, similar_customers
from tests.recommend.conftest import Lake


def test_lift_says_which_categories_go_together() -> None:
    used = np.array(
        [
            [1, 1, 0],  # car bought, fuel
            [1, 1, 0],
            [0, 1, 1],
            [0, 0, 1],
        ],
        dtype=bool,
    )
    lift = category_lift(used)
    # P(fuel | car) = 1, P(fuel) = 3/4 -> 4/3; P(third | car) = 0.
    assert lift[0, 1] == 4 / 3
    assert lift[0, 2] == 0.0
    assert np.all(np.diag(lift) == 0)


def test_features_follow_the_customer_month_by_month(lake: Lake) -> None:
    h, ref = lake.history, lake.ref
    t = h.month_index(date(2023, 9, 1))
    customers = np.flatnonzero(active_customers(h, ref, t))
    frame = category_frame(h, ref, t, similar_customers(h, t).neighbours, customers)
    n1, n6 = frame.matrix("n_1m"), frame.matrix("n_6m")
    assert np.array_equal(n1, h.count[customers, t])
    assert np.allclose(n6, h.count[customers, t - 5 : t + 1].sum(axis=1))
    since = frame.matrix("months_since")
    assert np.all(since[n1 > 0] == 0)
    assert np.all(since[(n1 == 0) & (h.count[customers, t - 1] > 0)] == 1)
    newly = frame.matrix("newly_taken_up") > 0
    before = h.count[customers, t - 7 : t - 1].sum(axis=1) > 0
    assert not np.any(newly & before)
    assert np.all(frame.matrix("overall_rate")[0] == frame.matrix("overall_rate")[-1])


def test_the_model_ranks_next_month_categories_above_the_rest(lake: Lake) -> None:
    h, ref = lake.history, lake.ref
    t = h.month_index(date(2023, 8, 1))
    before = similar_customers(h, t - 1)
    train_c = np.flatnonzero(active_customers(h, ref, t - 1))
    model = fit_category_model(category_frame(h, ref, t - 1, before.neighbours, train_c), used_next(h, t - 1, train_c))
    test_c = np.flatnonzero(active_customers(h, ref, t))
    frame = category_frame(h, ref, t, similar_customers(h, t).neighbours, test_c)
    p = model.predict(frame)
    used = used_next(h, t, test_c)
    assert p.shape == used.shape
    assert p[used].mean() > 3 * p[~used].mean()
    assert not hasattr(model, "training_rows") and model.trained_rows_ == len(train_c) * len(ref.categories)
