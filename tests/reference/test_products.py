"""Tests for the card product catalog (src/cardwise/reference/data/products.yaml) and its loader."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cardwise.reference.products import (
    KNOWN_CATEGORY_CODES,
    CardProduct,
    ProductCatalog,
    load_products,
    parse_products,
    tier_index,
)

CUTOFF = date(2023, 10, 1)


@pytest.fixture(scope="module")
def catalog() -> ProductCatalog:
    return load_products()


# --- the shipped catalog -----------------------------------------------------------------------


def test_catalog_size_and_mix(catalog: ProductCatalog) -> None:
    assert len(catalog.products) >= 24
    assert len(catalog.check) >= 9
    assert len(catalog.credit) >= 12
    assert len(catalog.credit) + len(catalog.check) == len(catalog)
    assert all(p.card_type == "credit" for p in catalog.credit)
    assert all(p.card_type == "check" for p in catalog.check)


def test_ids_unique_and_prefixed_by_type(catalog: ProductCatalog) -> None:
    ids = [p.product_id for p in catalog.products]
    assert len(ids) == len(set(ids))
    assert set(catalog.by_id) == set(ids)
    for p in catalog.products:
        assert p.product_id[:2] == {"credit": "CR", "check": "CK"}[p.card_type]
        assert catalog.by_id[p.product_id] is p


def test_every_category_is_known(catalog: ProductCatalog) -> None:
    known = set(KNOWN_CATEGORY_CODES)
    assert len(known) == len(KNOWN_CATEGORY_CODES) == 57
    for p in catalog.products:
        assert set(p.prev_month_excluded) <= known, p.product_id
        for b in p.benefits:
            assert b.categories, (p.product_id, b.name_en)
            assert set(b.categories) <= known, (p.product_id, b.name_en)


def test_fees_dates_and_weights(catalog: ProductCatalog) -> None:
    for p in catalog.products:
        if p.card_type == "check":
            assert p.annual_fee_krw == 0, p.product_id
        assert date(2012, 1, 1) <= p.launched_on <= date(2022, 12, 31), p.product_id
        assert p.popularity > 0
        assert p.name_ko and p.name_en and p.target
    assert sum(p.launched_on > date(2022, 1, 1) for p in catalog.products) >= 2
    assert max(p.annual_fee_krw for p in catalog.credit) >= 200_000


def test_discontinued_products(catalog: ProductCatalog) -> None:
    gone = catalog.discontinued
    assert len(gone) >= 3
    for p in gone:
        assert p.discontinued_on is not None
        assert date(2021, 1, 1) <= p.discontinued_on <= date(2023, 12, 31), p.product_id
        assert p.discontinued_on > p.launched_on
    # A "most similar active product" query needs an active product of the same type sharing categories.
    active = catalog.active_on(CUTOFF)
    for p in gone:
        overlaps = [q for q in active if q.card_type == p.card_type and q.categories & p.categories]
        assert overlaps, p.product_id


def test_active_on_excludes_discontinued_and_unlaunched(catalog: ProductCatalog) -> None:
    active = {p.product_id for p in catalog.active_on(CUTOFF)}
    discontinued = {p.product_id for p in catalog.discontinued}
    assert discontinued and not active & discontinued
    expected = {p.product_id for p in catalog.products if p.launched_on <= CUTOFF and p.discontinued_on is None}
    assert active == expected

    # Earlier: products launched later are not there yet, products discontinued later still are.
    early = date(2022, 1, 1)
    early_ids = {p.product_id for p in catalog.active_on(early)}
    launched_later = {p.product_id for p in catalog.products if p.launched_on > early}
    assert launched_later and not early_ids & launched_later
    still_issued = {
        p.product_id for p in catalog.discontinued if p.discontinued_on is not None and p.discontinued_on > early
    }
    assert still_issued <= early_ids


def test_active_on_boundaries() -> None:
    text = yaml.safe_dump(
        [
            _product("CR90", launched_on=date(2015, 1, 1), discontinued_on=date(2022, 6, 30)),
            _product("CR91", launched_on=date(2023, 10, 1)),
            _product("CR92", launched_on=date(2024, 3, 1)),
        ],
        allow_unicode=True,
    )
    cat = parse_products(text)
    assert [p.product_id for p in cat.active_on(CUTOFF)] == ["CR91"]  # launched that very day counts
    assert [p.product_id for p in cat.active_on(date(2022, 6, 29))] == ["CR90"]
    assert cat.active_on(date(2022, 6, 30)) == ()  # discontinued on that day: no longer issued
    assert cat.active_on(date(2014, 12, 31)) == ()


def test_reference_shapes_are_present(catalog: ProductCatalog) -> None:
    """The shapes of shared/reference/korean-card-facts.md appear with their real parameters."""
    products = catalog.products
    dining = [
        b
        for p in products
        if p.prev_month_tiers_krw == (300_000, 500_000, 1_000_000)
        for b in p.benefits
        if b.monthly_cap_by_tier_krw == (5_000, 10_000, 20_000)
        and b.daily_cap_krw == 1_000
        and b.max_counted_per_txn_krw == 10_000
        and {"CAFE", "CONVENIENCE", "ONLINE_MALL"} <= set(b.categories)
    ]
    assert dining

    no_conditions = [
        p
        for p in products
        if p.prev_month_tiers_krw == ()
        and p.base_rate == pytest.approx(0.007)
        and any(len(b.categories) == 6 and b.rate == pytest.approx(0.005) for b in p.benefits)
        and all(b.monthly_cap_by_tier_krw is None for b in p.benefits)
    ]
    assert no_conditions

    family = [
        p
        for p in products
        if p.discounted_excluded and sum(b.monthly_cap_by_tier_krw == (6_000, 10_000) for b in p.benefits) == 5
    ]
    assert family

    streaming = [
        p
        for p in products
        if p.prev_month_tiers_krw == (400_000, 700_000, 1_000_000)
        and any("DIGITAL_CONTENT" in b.categories and b.rate == pytest.approx(0.5) for b in p.benefits)
    ]
    assert streaming

    counted = [
        p
        for p in products
        if p.prev_month_tiers_krw == (200_000, 600_000, 1_000_000)
        and any(b.fixed_krw == 300 and b.monthly_count_cap_by_tier == (10, 20, 30) for b in p.benefits)
        and any(b.min_txn_krw == 3_000 and "CAFE" in b.categories for b in p.benefits)
    ]
    assert counted

    cinema = [
        b
        for p in products
        for b in p.benefits
        if "CINEMA" in b.categories and b.fixed_krw == 5_000 and b.min_txn_krw == 10_000
    ]
    assert cinema and cinema[0].monthly_count_cap(0) == 1


def test_mileage_products_are_valued_in_krw(catalog: ProductCatalog) -> None:
    mileage = [p for p in catalog.products if p.base_kind == "mileage"]
    assert mileage
    for p in mileage:
        assert p.krw_per_unit is not None and p.krw_per_unit > 1
        assert p.unit_value_krw("mileage") == p.krw_per_unit
        assert p.unit_value_krw("points") == 1.0
        assert any(b.channel == "overseas" for q in mileage for b in q.benefits)


def test_caps_align_with_tiers(catalog: ProductCatalog) -> None:
    for p in catalog.products:
        n = len(p.prev_month_tiers_krw) or 1
        for b in p.benefits:
            for caps in (b.monthly_cap_by_tier_krw, b.monthly_count_cap_by_tier):
                assert caps is None or len(caps) == n, (p.product_id, b.name_en)
            assert (b.rate is None) != (b.fixed_krw is None)


def test_load_products_is_cached_and_frozen(catalog: ProductCatalog) -> None:
    assert load_products() is catalog
    product = catalog.products[0]
    with pytest.raises(ValidationError):
        product.annual_fee_krw = 1


def test_benefit_cap_lookup(catalog: ProductCatalog) -> None:
    dining = catalog.by_id["CR01"]
    benefit = dining.benefits[0]
    tier = dining.tier_for(750_000)
    assert tier == 1
    assert benefit.monthly_cap_krw(tier) == 10_000
    assert benefit.monthly_count_cap(tier) is None


# --- tier_index -----------------------------------------------------------------------------------

TIERS = (300_000, 500_000, 1_000_000)


@pytest.mark.parametrize(
    ("spend", "expected"),
    [
        (0, None),
        (299_999, None),
        (300_000, 0),
        (499_999, 0),
        (500_000, 1),
        (999_999, 1),
        (1_000_000, 2),
        (50_000_000, 2),
        (-10_000, None),
    ],
)
def test_tier_index_boundaries(spend: int, expected: int | None) -> None:
    assert tier_index(spend, TIERS) == expected


def test_tier_index_without_requirement() -> None:
    assert tier_index(0, []) == 0
    assert tier_index(10_000_000, ()) == 0
    assert tier_index(-1, []) == 0


def test_tier_index_rejects_unsorted_tiers() -> None:
    with pytest.raises(ValueError, match="ascending"):
        tier_index(100, [500, 300])


_tiers = st.lists(st.integers(min_value=1, max_value=10_000_000), max_size=5, unique=True).map(sorted)
_spend = st.integers(min_value=-1_000_000, max_value=20_000_000)


def _rank(index: int | None) -> int:
    return -1 if index is None else index


@given(tiers=_tiers, a=_spend, b=_spend)
def test_tier_index_is_monotonic(tiers: list[int], a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert _rank(tier_index(high, tiers)) >= _rank(tier_index(low, tiers))


@given(tiers=_tiers, spend=_spend)
def test_tier_index_picks_highest_reached_threshold(tiers: list[int], spend: int) -> None:
    index = tier_index(spend, tiers)
    if not tiers:
        assert index == 0
    elif index is None:
        assert spend < tiers[0]
    else:
        assert tiers[index] <= spend
        assert index == len(tiers) - 1 or spend < tiers[index + 1]


def test_grace_month_counts_as_lowest_tier(catalog: ProductCatalog) -> None:
    product = catalog.by_id["CR01"]
    assert product.new_card_grace_months == 1
    assert product.tier_for(0) is None
    assert product.tier_for(0, months_since_issue=0) == 0
    assert product.tier_for(0, months_since_issue=1) == 0
    assert product.tier_for(0, months_since_issue=2) is None
    assert product.tier_for(1_200_000, months_since_issue=0) == 2  # grace never lowers a tier


# --- validation -----------------------------------------------------------------------------------


def _benefit(**overrides: Any) -> dict[str, Any]:
    benefit: dict[str, Any] = {
        "name_ko": "커피 10% 할인",
        "name_en": "10% off coffee",
        "categories": ["CAFE"],
        "kind": "discount",
        "rate": 0.10,
        "fixed_krw": None,
        "min_txn_krw": 3000,
        "max_counted_per_txn_krw": None,
        "daily_cap_krw": None,
        "monthly_count_cap_by_tier": None,
        "monthly_cap_by_tier_krw": [5000, 10000],
        "channel": "any",
    }
    benefit.update(overrides)
    return benefit


def _product(product_id: str = "CR99", **overrides: Any) -> dict[str, Any]:
    product: dict[str, Any] = {
        "product_id": product_id,
        "name_ko": "테스트 카드",
        "name_en": "Test Card",
        "card_type": "credit" if product_id.startswith("CR") else "check",
        "annual_fee_krw": 10000 if product_id.startswith("CR") else 0,
        "launched_on": date(2019, 4, 1),
        "discontinued_on": None,
        "target": ["general"],
        "popularity": 1.0,
        "base_rate": 0.0,
        "base_kind": "discount",
        "prev_month_tiers_krw": [300000, 500000],
        "prev_month_excluded": ["UTILITIES"],
        "discounted_excluded": False,
        "new_card_grace_months": 1,
        "benefits": [_benefit()],
    }
    product.update(overrides)
    return product


def _yaml(*products: dict[str, Any]) -> str:
    return yaml.safe_dump(list(products), allow_unicode=True, sort_keys=False)


def test_minimal_snippet_is_valid() -> None:
    cat = parse_products(_yaml(_product(), _product("CK99")))
    assert [p.product_id for p in cat.products] == ["CR99", "CK99"]
    assert isinstance(cat.by_id["CR99"], CardProduct)


def test_literal_yaml_snippet_misaligned_caps() -> None:
    text = """
- product_id: CR42
  name_ko: 잘못된 카드
  name_en: Broken Card
  card_type: credit
  annual_fee_krw: 15000
  launched_on: 2019-04-01
  discontinued_on: null
  target: [general]
  popularity: 1.0
  base_rate: 0.0
  base_kind: points
  prev_month_tiers_krw: [300000, 500000, 1000000]
  prev_month_excluded: [UTILITIES]
  discounted_excluded: false
  new_card_grace_months: 1
  benefits:
    - name_ko: 커피 10% 할인
      name_en: 10% off coffee
      categories: [CAFE]
      kind: points
      rate: 0.10
      monthly_cap_by_tier_krw: [5000, 10000]
"""
    with pytest.raises(ValueError, match=r"CR42.*monthly_cap_by_tier_krw"):
        parse_products(text)


def _mutate(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    product = copy.deepcopy(_product())
    target: Any = product
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return product


INVALID = [
    pytest.param(
        _mutate(("benefits", 0, "monthly_cap_by_tier_krw"), [5000]),
        "monthly_cap_by_tier_krw",
        id="misaligned-caps",
    ),
    pytest.param(
        _mutate(("benefits", 0, "monthly_count_cap_by_tier"), [1, 2, 3]),
        "monthly_count_cap_by_tier",
        id="misaligned-counts",
    ),
    pytest.param(_mutate(("card_type",), "check"), "card_type", id="credit-id-check-type"),
    pytest.param(_mutate(("benefits", 0, "fixed_krw"), 300), "exactly one of rate and fixed_krw", id="rate-and-fixed"),
    pytest.param(
        _mutate(("benefits", 0, "rate"), None),
        "exactly one of rate and fixed_krw",
        id="neither-rate-nor-fixed",
    ),
    pytest.param(_mutate(("benefits", 0, "categories"), ["CAFE", "SPACESHIP"]), "SPACESHIP", id="unknown-category"),
    pytest.param(_mutate(("prev_month_excluded",), ["NOT_A_CODE"]), "NOT_A_CODE", id="unknown-excluded-category"),
    pytest.param(_mutate(("benefits", 0, "rate"), 1.5), r"\(0, 1\]", id="rate-above-one"),
    pytest.param(_mutate(("benefits", 0, "rate"), 0.0), r"\(0, 1\]", id="rate-zero"),
    pytest.param(_mutate(("prev_month_tiers_krw",), [500000, 300000]), "ascending", id="tiers-descending"),
    pytest.param(_mutate(("discontinued_on",), date(2018, 1, 1)), "after launched_on", id="discontinued-before-launch"),
    pytest.param(_mutate(("base_kind",), "mileage"), "krw_per_unit", id="mileage-without-value"),
    pytest.param(_mutate(("krw_per_unit",), 15), "only for mileage", id="value-without-mileage"),
    pytest.param(_mutate(("surprise_field",), 1), "surprise_field", id="unknown-field"),
]


@pytest.mark.parametrize(("product", "fragment"), INVALID)
def test_invalid_products_raise_naming_the_product(product: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=r"CR99") as info:
        parse_products(_yaml(_product("CR01"), product))
    assert re.search(fragment, str(info.value)), str(info.value)


def test_check_card_with_fee_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"CK99.*annual fee"):
        parse_products(_yaml(_product("CK99", annual_fee_krw=5000)))


def test_no_tier_caps_must_be_single() -> None:
    ok = _product(prev_month_tiers_krw=[], benefits=[_benefit(monthly_cap_by_tier_krw=[7000])])
    assert parse_products(_yaml(ok)).products[0].benefits[0].monthly_cap_krw(0) == 7000
    bad = _product(prev_month_tiers_krw=[], benefits=[_benefit(monthly_cap_by_tier_krw=[5000, 10000])])
    with pytest.raises(ValueError, match=r"CR99.*expected 1"):
        parse_products(_yaml(bad))


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate product_id CR99"):
        parse_products(_yaml(_product(), _product()))


def test_missing_id_is_named_by_position() -> None:
    product = _product()
    del product["product_id"]
    with pytest.raises(ValueError, match=r"product #2"):
        parse_products(_yaml(_product("CR01"), product))


@pytest.mark.parametrize("text", ["", "products: {}", "- just a string"])
def test_malformed_documents_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_products(text)
