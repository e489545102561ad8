"""The card product catalog: typed, validated models over ``data/products.yaml``.

The products are fictional, but their benefit rules follow the shapes real Korean card products use
(see shared/reference/korean-card-facts.md and docs/reference-data.md, "Card products"):

- 전월실적 (previous-month spending) tiers: ``prev_month_tiers_krw`` ascending; every ``*_by_tier``
  list of a benefit is aligned with it. Below the lowest tier a benefit pays nothing.
- Caps (per transaction, per day, per month in won or in counts) apply per benefit entry, summed over
  all the categories of that entry.
- ``base_rate`` is earned on every transaction regardless of 전월실적, with no cap, on top of benefits.
- Points and cashback are worth 1 KRW each; mileage is valued at the product's ``krw_per_unit``.

The data generator uses the catalog to decide which card a customer holds (``popularity``,
``target``, ``active_on``); the benefit simulator uses the rules to compute what a card would pay.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "KNOWN_CATEGORY_CODES",
    "Benefit",
    "BenefitKind",
    "CardProduct",
    "CardType",
    "Channel",
    "ProductCatalog",
    "load_products",
    "parse_products",
    "tier_index",
]

# Merchant category codes a benefit may name. A later step replaces this with the category catalog.
KNOWN_CATEGORY_CODES: tuple[str, ...] = (
    "KOREAN",
    "JAPANESE",
    "WESTERN",
    "CHINESE",
    "BAKERY",
    "CAFE",
    "FASTFOOD",
    "BAR",
    "KARAOKE",
    "DEPT_STORE",
    "HYPERMARKET",
    "SUPERMARKET",
    "CONVENIENCE",
    "HOUSEHOLD",
    "BUTCHER",
    "PRODUCE",
    "CLOTHING",
    "FASHION_ACC",
    "JEWELRY",
    "OPTICIAN",
    "CINEMA",
    "FITNESS",
    "GOLF",
    "BOOKSTORE",
    "HOBBY",
    "SPORTS_GOODS",
    "FLORIST",
    "HOTEL",
    "TRAVEL_AGENCY",
    "AIRLINE",
    "DUTY_FREE",
    "TRANSIT",
    "TAXI",
    "HAIR_SALON",
    "BEAUTY_SERVICE",
    "COSMETICS",
    "LAUNDRY",
    "INTERIOR",
    "TELECOM",
    "INSURANCE",
    "UTILITIES",
    "ACADEMY",
    "LANGUAGE_SCHOOL",
    "KINDERGARTEN",
    "HOSPITAL",
    "CLINIC",
    "DENTAL",
    "PHARMACY",
    "APPLIANCE",
    "FURNITURE",
    "CAR_SALES",
    "CAR_REPAIR",
    "GAS_STATION",
    "ONLINE_MALL",
    "DIGITAL_CONTENT",
    "PET",
    "BABY",
)
_KNOWN_CATEGORIES = frozenset(KNOWN_CATEGORY_CODES)

CardType = Literal["credit", "check"]
BenefitKind = Literal["discount", "points", "cashback", "mileage"]
Channel = Literal["any", "online", "offline", "overseas"]

_ID_PREFIX: dict[str, CardType] = {"CR": "credit", "CK": "check"}


def tier_index(prev_month_spend_krw: int, tiers: Sequence[int]) -> int | None:
    """The 전월실적 tier reached by a previous month's eligible spending.

    ``tiers`` are the ascending thresholds of a product (``prev_month_tiers_krw``). The result is the
    highest ``i`` with ``prev_month_spend_krw >= tiers[i]``, so spending exactly at a threshold reaches
    it. ``None`` means the spending is below the lowest tier (tiered benefits pay nothing). A product
    with no requirement (empty ``tiers``) is always at tier ``0``, whatever the spending.

    >>> tier_index(499_999, [300_000, 500_000, 1_000_000])
    0
    >>> tier_index(500_000, [300_000, 500_000, 1_000_000])
    1
    >>> tier_index(100_000, [300_000]) is None
    True
    >>> tier_index(0, [])
    0
    """
    if any(b <= a for a, b in itertools.pairwise(tiers)):
        raise ValueError(f"tiers must be strictly ascending, got {list(tiers)}")
    if not tiers:
        return 0
    i = bisect.bisect_right(tiers, prev_month_spend_krw) - 1
    return None if i < 0 else i


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _unknown(codes: Sequence[str]) -> list[str]:
    return sorted(set(codes) - _KNOWN_CATEGORIES)


class Benefit(_Frozen):
    """One benefit line of a product: a rate or a fixed amount over some categories, with caps."""

    name_ko: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    categories: tuple[str, ...] = Field(min_length=1)
    kind: BenefitKind
    rate: float | None = None
    """Share of the (counted) amount; for mileage, miles per KRW (1 mile per 1,000 KRW = 0.001)."""
    fixed_krw: int | None = None
    """A fixed amount per qualifying transaction (e.g. 300 KRW per transit trip)."""
    min_txn_krw: int = Field(default=0, ge=0)
    max_counted_per_txn_krw: int | None = Field(default=None, gt=0)
    daily_cap_krw: int | None = Field(default=None, gt=0)
    monthly_count_cap_by_tier: tuple[int, ...] | None = None
    monthly_cap_by_tier_krw: tuple[int, ...] | None = None
    channel: Channel = "any"

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if unknown := _unknown(value):
            raise ValueError(f"unknown category code(s) {unknown}")
        if len(set(value)) != len(value):
            raise ValueError(f"categories listed twice in {list(value)}")
        return value

    @model_validator(mode="after")
    def _check_rule(self) -> Benefit:
        label = f"benefit {self.name_en!r}"
        if (self.rate is None) == (self.fixed_krw is None):
            raise ValueError(f"{label}: set exactly one of rate and fixed_krw")
        if self.rate is not None and not 0 < self.rate <= 1:
            raise ValueError(f"{label}: rate must lie in (0, 1], got {self.rate}")
        if self.fixed_krw is not None:
            if self.fixed_krw <= 0:
                raise ValueError(f"{label}: fixed_krw must be positive, got {self.fixed_krw}")
            if self.max_counted_per_txn_krw is not None:
                raise ValueError(f"{label}: max_counted_per_txn_krw only applies to rate benefits")
        for field in ("monthly_count_cap_by_tier", "monthly_cap_by_tier_krw"):
            caps = getattr(self, field)
            if caps is None:
                continue
            if not caps or any(c <= 0 for c in caps):
                raise ValueError(f"{label}: {field} must hold positive values, got {list(caps)}")
            if any(b < a for a, b in itertools.pairwise(caps)):
                raise ValueError(f"{label}: {field} must not decrease with the tier, got {list(caps)}")
        return self

    def monthly_cap_krw(self, tier: int) -> int | None:
        """Monthly cap (in the benefit's unit) at a tier from `tier_index`; None = uncapped."""
        return None if self.monthly_cap_by_tier_krw is None else self.monthly_cap_by_tier_krw[tier]

    def monthly_count_cap(self, tier: int) -> int | None:
        """How many transactions a month may earn the benefit at a tier; None = unlimited."""
        return None if self.monthly_count_cap_by_tier is None else self.monthly_count_cap_by_tier[tier]


class CardProduct(_Frozen):
    """A card product with its fee, life span, issuing weight, 전월실적 rules and benefits."""

    product_id: str = Field(pattern=r"^(CR|CK)\d{2,}$")
    name_ko: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    card_type: CardType
    annual_fee_krw: int = Field(ge=0)
    launched_on: date
    discontinued_on: date | None = None
    target: tuple[str, ...] = Field(min_length=1)
    popularity: float = Field(gt=0)
    base_rate: float = Field(ge=0, lt=1)
    base_kind: BenefitKind
    krw_per_unit: float | None = Field(default=None, gt=0)
    """KRW value of one mile; required exactly when the product earns mileage."""
    prev_month_tiers_krw: tuple[int, ...] = ()
    prev_month_excluded: tuple[str, ...] = ()
    discounted_excluded: bool = False
    new_card_grace_months: int = Field(default=1, ge=0)
    benefits: tuple[Benefit, ...] = ()

    @model_validator(mode="after")
    def _check_product(self) -> CardProduct:
        pid = self.product_id
        expected = _ID_PREFIX[pid[:2]]
        if self.card_type != expected:
            raise ValueError(f"{pid}: id prefix {pid[:2]} means a {expected} card but card_type is {self.card_type}")
        if self.card_type == "check" and self.annual_fee_krw != 0:
            raise ValueError(f"{pid}: check cards have no annual fee, got {self.annual_fee_krw}")
        if self.discontinued_on is not None and self.discontinued_on <= self.launched_on:
            raise ValueError(
                f"{pid}: discontinued_on {self.discontinued_on} must come after launched_on {self.launched_on}"
            )
        tiers = self.prev_month_tiers_krw
        if any(t <= 0 for t in tiers) or any(b <= a for a, b in itertools.pairwise(tiers)):
            raise ValueError(f"{pid}: prev_month_tiers_krw must be positive and strictly ascending, got {tiers}")
        if unknown := _unknown(self.prev_month_excluded):
            raise ValueError(f"{pid}: unknown category code(s) {unknown} in prev_month_excluded")
        expected_len = len(tiers) or 1
        for benefit in self.benefits:
            for field in ("monthly_count_cap_by_tier", "monthly_cap_by_tier_krw"):
                caps = getattr(benefit, field)
                if caps is not None and len(caps) != expected_len:
                    raise ValueError(
                        f"{pid}: benefit {benefit.name_en!r} has {len(caps)} {field} value(s) "
                        f"but prev_month_tiers_krw has {len(tiers)} tier(s); expected {expected_len}"
                    )
        uses_mileage = self.base_kind == "mileage" or any(b.kind == "mileage" for b in self.benefits)
        if uses_mileage and self.krw_per_unit is None:
            raise ValueError(f"{pid}: a mileage product needs krw_per_unit (KRW value of one mile)")
        if not uses_mileage and self.krw_per_unit is not None:
            raise ValueError(f"{pid}: krw_per_unit is only for mileage products (points are worth 1 KRW)")
        return self

    @property
    def is_credit(self) -> bool:
        return self.card_type == "credit"

    @property
    def categories(self) -> frozenset[str]:
        """Every category that some benefit of the product names."""
        return frozenset(c for b in self.benefits for c in b.categories)

    def is_active_on(self, day: date) -> bool:
        """Issued on that day: launched on or before it and not yet discontinued."""
        return self.launched_on <= day and (self.discontinued_on is None or day < self.discontinued_on)

    def unit_value_krw(self, kind: BenefitKind) -> float:
        """KRW value of one unit of a benefit kind (a mile is worth `krw_per_unit`, the rest 1 KRW)."""
        if kind == "mileage":
            if self.krw_per_unit is None:
                raise ValueError(f"{self.product_id} earns no mileage")
            return self.krw_per_unit
        return 1.0

    def tier_for(self, prev_month_spend_krw: int, months_since_issue: int | None = None) -> int | None:
        """The tier for a month, with the new-card grace rule.

        ``months_since_issue`` is 0 in the month the card is issued, 1 in the next month, and so on.
        While it is at most ``new_card_grace_months``, the card counts as meeting at least the lowest tier.
        """
        tier = tier_index(prev_month_spend_krw, self.prev_month_tiers_krw)
        if months_since_issue is not None and 0 <= months_since_issue <= self.new_card_grace_months:
            return 0 if tier is None else tier
        return tier


class ProductCatalog(_Frozen):
    """All card products, in file order, with lookups by id, by type and by date."""

    products: tuple[CardProduct, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> ProductCatalog:
        seen: set[str] = set()
        for product in self.products:
            if product.product_id in seen:
                raise ValueError(f"duplicate product_id {product.product_id}")
            seen.add(product.product_id)
        return self

    @cached_property
    def by_id(self) -> Mapping[str, CardProduct]:
        return MappingProxyType({p.product_id: p for p in self.products})

    @property
    def credit(self) -> tuple[CardProduct, ...]:
        return tuple(p for p in self.products if p.card_type == "credit")

    @property
    def check(self) -> tuple[CardProduct, ...]:
        return tuple(p for p in self.products if p.card_type == "check")

    @property
    def discontinued(self) -> tuple[CardProduct, ...]:
        return tuple(p for p in self.products if p.discontinued_on is not None)

    def active_on(self, day: date) -> tuple[CardProduct, ...]:
        """Products launched on or before ``day`` and not discontinued by then."""
        return tuple(p for p in self.products if p.is_active_on(day))

    def __len__(self) -> int:
        return len(self.products)


def parse_products(text: str) -> ProductCatalog:
    """Parse and validate the YAML text of a product catalog (a list of products).

    Every error names the offending product (its id, or its position when the id is missing).
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"products YAML does not parse: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise ValueError("products YAML must be a non-empty list of products")
    products: list[CardProduct] = []
    for position, entry in enumerate(raw, start=1):
        label = f"product #{position}"
        if isinstance(entry, Mapping) and entry.get("product_id"):
            label = f"product {entry['product_id']}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{label}: expected a mapping, got {type(entry).__name__}")
        try:
            products.append(CardProduct.model_validate(_without_nulls(entry)))
        except ValidationError as exc:
            raise ValueError(f"{label} is invalid: {exc}") from exc
    return ProductCatalog(products=tuple(products))


def _without_nulls(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Treat an explicit ``null`` on a list field the same as leaving it out."""
    data = dict(entry)
    for key in ("prev_month_tiers_krw", "prev_month_excluded", "benefits"):
        if key in data and data[key] is None:
            data[key] = []
    return data


@functools.cache
def load_products() -> ProductCatalog:
    """The catalog shipped with the package (``cardwise/reference/data/products.yaml``), cached."""
    text = resources.files("cardwise.reference").joinpath("data/products.yaml").read_text(encoding="utf-8")
    return parse_products(text)
