"""The benefit simulator: worked examples from the product shapes, properties (Hypothesis), and the
vectorized batch version against the one-purchase-at-a-time specification."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardwise.recommend.benefits import (
    MonthBenefit,
    Purchase,
    SpendRows,
    capped_running,
    simulate_card,
    simulate_products,
)
from cardwise.reference.products import CardProduct, load_products

CATS = ("KOREAN", "CAFE", "CONVENIENCE", "ONLINE_MALL", "UTILITIES", "CINEMA", "GOLF")


def _product(**overrides: Any) -> CardProduct:
    data: dict[str, Any] = {
        "product_id": "CR99",
        "name_ko": "시험 카드",
        "name_en": "Test card",
        "card_type": "credit",
        "annual_fee_krw": 10_000,
        "launched_on": "2020-01-01",
        "target": ["general"],
        "popularity": 1.0,
        "base_rate": 0.0,
        "base_kind": "points",
        "prev_month_tiers_krw": [300_000],
        "prev_month_excluded": ["UTILITIES"],
        "benefits": [],
    }
    data.update(overrides)
    return CardProduct.model_validate(data)


def _line(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name_ko": "혜택", "name_en": "benefit", "categories": ["CAFE"], "kind": "discount"}
    data.update(overrides)
    return data


def _run(product: CardProduct, months: list[list[Purchase]], prior: int = 1_000_000) -> list[MonthBenefit]:
    return simulate_card(product, months, prior_eligible_krw=prior)


# --- worked examples -------------------------------------------------------------------------------


def test_points_card_counts_ten_thousand_per_purchase_and_caps_the_day_and_the_month() -> None:
    cr01 = load_products().by_id["CR01"]  # 5% points, ₩10k counted, 1,000 a day, 5k/10k/20k a month
    day1 = [Purchase(1, "CAFE", "offline", 50_000), Purchase(1, "KOREAN", "offline", 8_000)]
    # 50,000 counts as 10,000 -> 500; 8,000 -> 400 (900 that day); a third purchase hits the daily cap.
    (month,) = _run(cr01, [[*day1, Purchase(1, "CAFE", "offline", 6_000)]], prior=400_000)
    assert month.tier == 0
    assert month.by_line_units == (1_000,)  # 500 + 400 + 100 of the 300 the third would earn
    many = [Purchase(d, "KOREAN", "offline", 20_000) for d in range(1, 31)]  # 500 a day for 30 days
    (capped,) = _run(cr01, [many], prior=400_000)
    assert capped.by_line_units == (5_000,)  # the tier-0 monthly cap
    (higher,) = _run(cr01, [many], prior=1_000_000)
    assert higher.tier == 2 and higher.by_line_units == (15_000,)  # under the 20k cap of tier 2


def test_below_the_lowest_tier_only_the_base_rate_is_earned() -> None:
    cr02 = load_products().by_id["CR02"]  # 0.3% everywhere; 10% lines need 300k
    months = [[Purchase(1, "TELECOM", "online", 70_000), Purchase(2, "KOREAN", "offline", 10_000)]]
    (below,) = _run(cr02, months, prior=299_999)
    assert below.tier is None and below.by_line_units == (0, 0, 0)
    assert below.benefit_krw == below.base_krw == 210 + 30
    (at,) = _run(cr02, months, prior=300_000)
    assert at.by_line_units == (0, 5_000, 0)  # 7,000 capped at 5,000
    # The base is earned on the amount after the discount: 0.3% of 65,000 + 0.3% of 10,000.
    assert at.base_krw == 195 + 30 and at.benefit_krw == 5_000 + 225


def test_fixed_amount_once_a_month_and_only_from_the_minimum_ticket() -> None:
    cr02 = load_products().by_id["CR02"]  # ₩5,000 off a cinema ticket of ₩10,000+, once a month
    films = [Purchase(1, "CINEMA", "offline", 9_000), Purchase(2, "CINEMA", "offline", 12_000)]
    films.append(Purchase(3, "CINEMA", "offline", 15_000))
    (month,) = _run(cr02, [films])
    assert month.by_line_units == (0, 0, 5_000)


def test_tiers_come_from_the_previous_month_without_excluded_or_discounted_purchases() -> None:
    family = _product(
        prev_month_tiers_krw=[100_000],
        prev_month_excluded=["UTILITIES"],
        discounted_excluded=True,
        benefits=[_line(categories=["CAFE"], rate=0.1, monthly_cap_by_tier_krw=[50_000])],
    )
    first = [
        Purchase(1, "UTILITIES", "online", 80_000),  # excluded from 전월실적
        Purchase(2, "CAFE", "offline", 50_000),  # discounted: does not count either
        Purchase(3, "KOREAN", "offline", 60_000),
    ]
    second = [Purchase(1, "CAFE", "offline", 10_000)]
    m1, m2 = _run(family, [first, second], prior=100_000)
    assert m1.tier == 0 and m1.by_line_units == (5_000,)
    assert m1.eligible_krw == 60_000
    assert m2.tier is None and m2.benefit_krw == 0
    not_excluding = family.model_copy(update={"discounted_excluded": False})
    _, m2b = _run(not_excluding, [first, second], prior=100_000)
    assert m2b.tier == 0 and m2b.by_line_units == (1_000,)


def test_mileage_is_valued_in_won_and_overseas_lines_need_an_overseas_purchase() -> None:
    cr08 = load_products().by_id["CR08"]  # 1 mile/₩1,000 + 1 at airlines + 2 abroad, ₩15 a mile
    flight = Purchase(1, "AIRLINE", "overseas", 400_000)
    (month,) = _run(cr08, [[flight, Purchase(2, "AIRLINE", "online", 100_000)]], prior=0)
    assert month.by_line_units == (500, 800)  # airline line on both, overseas line on the first only
    assert month.base_krw == 500 * 15
    assert month.benefit_krw == (500 + 800 + 500) * 15


def test_count_caps_limit_how_many_purchases_earn() -> None:
    ck01 = load_products().by_id["CK01"]  # ₩300 per transit trip, 10/20/30 trips by tier
    trips = [Purchase(d, "TRANSIT", "offline", 1_500) for d in range(1, 26)]
    (low,) = _run(ck01, [trips], prior=200_000)
    (high,) = _run(ck01, [trips], prior=1_000_000)
    assert low.by_line_units[0] == 10 * 300
    assert high.by_line_units[0] == 25 * 300


def test_capped_running_keeps_what_fits_per_group() -> None:
    values = np.array([400, 400, 400, 100, 700, 700])
    key = np.array([1, 1, 1, 1, 2, 2])
    cap = np.array([1_000, 1_000, 1_000, 1_000, 1_000, 1_000])
    assert capped_running(values, key, cap).tolist() == [400, 400, 200, 0, 700, 300]


# --- properties -------------------------------------------------------------------------------------


@st.composite
def benefits(draw: st.DrawFn, tiers: int) -> dict[str, Any]:
    n_caps = max(tiers, 1)
    fixed = draw(st.booleans())
    caps = sorted(draw(st.lists(st.integers(100, 20_000), min_size=n_caps, max_size=n_caps)))
    counts = sorted(draw(st.lists(st.integers(1, 6), min_size=n_caps, max_size=n_caps)))
    line: dict[str, Any] = {
        "name_ko": "혜택",
        "name_en": "benefit",
        "categories": draw(st.lists(st.sampled_from(CATS), min_size=1, max_size=3, unique=True)),
        "kind": draw(st.sampled_from(["discount", "points", "cashback"])),
        "min_txn_krw": draw(st.sampled_from([0, 0, 3_000, 10_000])),
        "daily_cap_krw": draw(st.one_of(st.none(), st.integers(100, 5_000))),
        "monthly_cap_by_tier_krw": draw(st.one_of(st.none(), st.just(caps))),
        "monthly_count_cap_by_tier": draw(st.one_of(st.none(), st.just(counts))),
        "channel": draw(st.sampled_from(["any", "any", "online", "offline"])),
    }
    if fixed:
        line["fixed_krw"] = draw(st.integers(100, 5_000))
    else:
        line["rate"] = draw(st.sampled_from([0.01, 0.03, 0.05, 0.1, 0.29, 0.5]))
        line["max_counted_per_txn_krw"] = draw(st.one_of(st.none(), st.integers(1_000, 50_000)))
    return line


@st.composite
def products(draw: st.DrawFn) -> CardProduct:
    tiers = sorted(draw(st.sets(st.integers(1, 40).map(lambda x: x * 10_000), max_size=3)))
    lines = draw(st.lists(benefits(len(tiers)), min_size=0, max_size=3))
    return _product(
        prev_month_tiers_krw=tiers,
        prev_month_excluded=draw(st.lists(st.sampled_from(CATS), max_size=2, unique=True)),
        discounted_excluded=draw(st.booleans()),
        base_rate=draw(st.sampled_from([0.0, 0.0, 0.002, 0.007])),
        benefits=lines,
    )


purchase = st.builds(
    Purchase,
    day=st.integers(1, 4),
    category=st.sampled_from(CATS),
    channel=st.sampled_from(["offline", "online", "overseas"]),
    amount_krw=st.integers(100, 300_000),
)


def _month(purchases: list[Purchase]) -> list[Purchase]:
    return sorted(purchases, key=lambda p: p.day)  # a month's purchases come in time order


months_of_purchases = st.lists(st.lists(purchase, max_size=12).map(_month), min_size=1, max_size=3)
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(product=products(), months=months_of_purchases, prior=st.integers(0, 500_000))
def test_a_line_never_pays_more_than_its_monthly_cap_at_the_tier(
    product: CardProduct, months: list[list[Purchase]], prior: int
) -> None:
    for result in _run(product, months, prior):
        for line, units in zip(product.benefits, result.by_line_units, strict=True):
            if result.tier is None:
                assert units == 0
                continue
            cap = line.monthly_cap_krw(result.tier)
            assert cap is None or units <= cap


@PROPS
@given(product=products(), months=months_of_purchases, prior=st.integers(0, 500_000))
def test_below_the_tier_and_outside_the_lines_only_the_base_rate_is_earned(
    product: CardProduct, months: list[list[Purchase]], prior: int
) -> None:
    covered = product.categories
    for purchases, result in zip(months, _run(product, months, prior), strict=True):
        base_ceiling = {c: sum(product.base_rate * p.amount_krw for p in purchases if p.category == c) for c in CATS}
        if result.tier is None:
            assert result.benefit_krw == pytest.approx(result.base_krw)
        for category, krw in result.by_category_krw.items():
            if category not in covered or result.tier is None:
                assert krw <= base_ceiling[category] + 1e-6


@PROPS
@given(product=products(), purchases=st.lists(purchase, max_size=12).map(_month), prior=st.integers(0, 500_000))
def test_more_previous_month_spending_never_pays_less(
    product: CardProduct, purchases: list[Purchase], prior: int
) -> None:
    (lower,) = _run(product, [purchases], prior)
    (higher,) = _run(product, [purchases], prior + 150_000)
    assert higher.benefit_krw >= lower.benefit_krw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    product=products(),
    customers=st.lists(months_of_purchases, min_size=1, max_size=4),
    priors=st.lists(st.integers(0, 500_000), min_size=4, max_size=4),
)
def test_the_batch_simulator_matches_the_specification(
    product: CardProduct, customers: list[list[list[Purchase]]], priors: list[int]
) -> None:
    other = load_products().by_id["CR04"]  # a second product in the same batch must not interfere
    n_months = max(len(c) for c in customers)
    padded = [c + [[] for _ in range(n_months - len(c))] for c in customers]
    # The previous month's spending sits on a code no product excludes from 전월실적.
    rows = SpendRows.from_purchases(padded, ("PRIOR_MONTH", *CATS), priors[: len(padded)])
    sim = simulate_products(rows, [product, other])
    for i, months in enumerate(padded):
        for j, p in enumerate((product, other)):
            expected = simulate_card(p, months, prior_eligible_krw=priors[i])
            assert sim.benefit_krw[i, j].tolist() == pytest.approx([m.benefit_krw for m in expected])
            assert sim.tier[i, j].tolist() == [-1 if m.tier is None else m.tier for m in expected]
        spec_by_cat = {c: 0.0 for c in CATS}
        for m in simulate_card(product, months, prior_eligible_krw=priors[i]):
            for c, v in m.by_category_krw.items():
                spec_by_cat[c] += v
        assert sim.by_category_krw[0, i, 1:].tolist() == pytest.approx([spec_by_cat[c] for c in CATS], abs=1e-2)


def test_rows_must_be_sorted_by_month_then_customer() -> None:
    with pytest.raises(ValueError, match="sorted"):
        SpendRows(
            customer=np.array([1, 0]),
            month=np.array([0, 0]),
            day=np.array([1, 1]),
            category=np.array([0, 0]),
            channel=np.array([0, 0]),
            amount=np.array([100, 100]),
            n_customers=2,
            n_months=1,
            categories=CATS,
            prior_spend=np.zeros((2, len(CATS))),
        )
