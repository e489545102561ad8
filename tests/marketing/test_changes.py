"""State-change tests: the statistics themselves, and triggers on hand-made histories."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cardwise.marketing.changes import MonthData, count_tail, detect, mann_kendall

MONTHS = [date(2023, m, 1) for m in range(3, 10)]  # six baseline months and September
SEPT = MONTHS[-1]


def test_mann_kendall_matches_its_definition() -> None:
    rising = np.array([[1.0, 2, 3, 4, 5, 6]])
    s, p, slope = mann_kendall(rising)
    assert s[0] == 15 and slope[0] == pytest.approx(1.0)
    # Normal approximation with continuity correction: z = (15 - 1) / sqrt(6*5*17/18).
    assert p[0] == pytest.approx(2 * stats.norm.sf(14 / np.sqrt(6 * 5 * 17 / 18)))
    flat = mann_kendall(np.array([[5.0] * 6]))
    assert flat[0][0] == 0 and flat[1][0] == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=6, max_size=6))
def test_mann_kendall_is_antisymmetric(values: list[float]) -> None:
    x = np.array([values])
    s, p, _ = mann_kendall(x)
    s2, p2, _ = mann_kendall(-x)
    assert s[0] == -s2[0] and p[0] == pytest.approx(p2[0])
    assert 0 <= p[0] <= 1


def test_count_tail_is_poisson_without_overdispersion_and_wider_with_it() -> None:
    low, high = count_tail(np.array([2.0]), np.array([20.0]), 1.0)
    assert low[0] == pytest.approx(stats.poisson.cdf(2, 20))
    low_nb, _ = count_tail(np.array([2.0]), np.array([20.0]), 4.0)
    assert low_nb[0] > low[0]  # an over-dispersed count is less surprising
    assert high[0] == pytest.approx(stats.poisson.sf(1, 20))


def history(
    counts: list[int], *, amount: float = 20_000, category_counts: dict[str, list[int]] | None = None, customer: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    act, spend = [], []
    for m, n in zip(MONTHS, counts, strict=True):
        log_a = np.log(amount)
        act.append((customer, m, int(n * amount), n, n * log_a, n * log_a**2 + n * 0.25))
        spend.append((customer, m, "KOREAN", int(n * amount), n, int(amount)))
    for cat, series in (category_counts or {}).items():
        for m, n in zip(MONTHS, series, strict=True):
            if n:
                spend.append((customer, m, cat, int(n * 300_000), n, 300_000))
    return (
        pd.DataFrame(
            act, columns=["customer_id", "month", "spend_krw", "txn_count", "log_amount_sum", "log_amount_sumsq"]
        ),
        pd.DataFrame(
            spend, columns=["customer_id", "month", "category_code", "spend_krw", "txn_count", "max_amount_krw"]
        ),
    )


def month_data(parts: list[tuple[pd.DataFrame, pd.DataFrame]], ages: dict[int, int] | None = None) -> MonthData:
    activity = pd.concat([a for a, _ in parts], ignore_index=True)
    spend = pd.concat([s for _, s in parts], ignore_index=True)
    ids = sorted(activity["customer_id"].unique())
    ages = ages or {}
    return MonthData(
        month=SEPT,
        customers=pd.DataFrame(
            {"customer_id": ids, "age": [ages.get(i, 40) for i in ids], "marital_status": ["single"] * len(ids)}
        ),
        activity=activity,
        spend=spend,
        region=pd.DataFrame(
            [(i, m, "11680", 10) for i in ids for m in MONTHS],
            columns=["customer_id", "month", "region_code", "txn_count"],
        ),
        observed=pd.DataFrame({"customer_id": ids, "baseline_months": 6}),
    )


def kinds(triggers: pd.DataFrame, customer: int) -> set[str]:
    return set(triggers.loc[triggers["customer_id"] == customer, "kind"])


def test_a_steady_customer_raises_nothing() -> None:
    t = detect(month_data([history([30, 30, 30, 30, 30, 30, 30])]))
    assert kinds(t, 1) == set()


def test_a_collapse_in_frequency_is_raised_with_its_evidence() -> None:
    steady = [history([30] * 7, customer=c) for c in range(2, 12)]
    t = detect(month_data([history([30, 31, 29, 30, 32, 30, 6]), *steady]))
    assert "FREQUENCY_DOWN" in kinds(t, 1)
    row = t[(t["customer_id"] == 1) & (t["kind"] == "FREQUENCY_DOWN")].iloc[0]
    assert row["evidence"]["count"] == 6 and row["p_value"] < 0.001
    assert all(kinds(t, c) == set() for c in range(2, 12))


def test_a_steady_rise_is_a_spending_trend() -> None:
    t = detect(month_data([history([10, 10, 14, 18, 22, 26, 30])]))
    assert "SPEND_TREND_UP" in kinds(t, 1)


def test_a_car_purchase_is_a_life_event() -> None:
    cats = {
        "CAR_SALES": [0, 0, 0, 0, 0, 0, 1],
        "CAR_REPAIR": [0, 0, 0, 0, 0, 0, 1],
        "GAS_STATION": [0, 0, 0, 0, 0, 0, 3],
    }
    t = detect(month_data([history([30] * 7, category_counts=cats)]))
    assert "LIFE_CAR_PURCHASE" in kinds(t, 1)


def test_a_marriage_needs_its_signature_and_an_unmarried_customer() -> None:
    cats = {"JEWELRY": [0, 0, 0, 0, 0, 0, 1], "FURNITURE": [0, 0, 0, 0, 0, 0, 2], "APPLIANCE": [0, 0, 0, 0, 0, 0, 2]}
    data = month_data([history([30] * 7, category_counts=cats)])
    assert "LIFE_MARRIAGE" in kinds(detect(data), 1)
    data.customers["marital_status"] = "married"
    assert "LIFE_MARRIAGE" not in kinds(detect(data), 1)


def test_an_event_seen_last_month_is_not_raised_again() -> None:
    cats = {"JEWELRY": [0, 0, 0, 0, 0, 1, 0], "FURNITURE": [0, 0, 0, 0, 0, 2, 0], "APPLIANCE": [0, 0, 0, 0, 0, 2, 0]}
    t = detect(month_data([history([30] * 7, category_counts=cats)]))
    assert "LIFE_MARRIAGE" not in kinds(t, 1)


def test_a_new_customer_without_three_months_of_history_is_not_tested() -> None:
    data = month_data([history([0, 0, 0, 0, 0, 30, 2])])
    data.observed["baseline_months"] = 1
    assert detect(data).empty
