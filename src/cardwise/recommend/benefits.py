"""The benefit simulator (M2): what a card product would really have paid a customer.

Rules as in docs/reference-data.md ("Card products", "Rules"):

- A month's tier comes from the previous month's *eligible* spending (전월실적): categories the
  product excludes do not count, nor, when ``discounted_excluded``, purchases that received a benefit.
  Below the lowest tier the tiered benefit lines pay nothing that month.
- A benefit line qualifies a purchase by category, channel and minimum amount; it earns
  ``rate × min(amount, max_counted_per_txn)`` (floored to whole units, as issuers do per purchase) or a
  fixed amount (a discount never more than the purchase); then the daily cap, the monthly count cap and
  the monthly cap apply in time order. Caps belong to the line and are in its unit (won, or miles).
- ``base_rate`` is earned on every purchase, on the amount after any discount, with no tier or cap.
- Miles are worth the product's ``krw_per_unit``; points, cashback and discounts ₩1 each.

The customer is assumed to have put all their spending on the card and to have held it for the
whole period (no new-card grace month): "if this had been your card".

Two implementations of the same rules: :func:`simulate_card` walks one customer's purchases one by
one and is the readable specification; :func:`simulate_products` computes every customer and product
at once with NumPy for the monthly batch. Tests check they agree on random products and purchases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cardwise.reference.products import Benefit, CardProduct

CHANNELS: tuple[str, ...] = ("offline", "online", "overseas")
_EPS = 1e-9  # 0.29 * 100 is 28.999999999999996 in binary floating point; issuers mean 29


@dataclass(frozen=True)
class Purchase:
    """One purchase as the simulator sees it. ``day`` is any day number (only equality matters)."""

    day: int
    category: str
    channel: str
    amount_krw: int


@dataclass(frozen=True)
class MonthBenefit:
    """What one card paid in one month."""

    tier: int | None
    benefit_krw: float
    """Benefit lines and base rate together, in KRW."""
    base_krw: float
    by_line_units: tuple[int, ...]
    """Per benefit line, in the line's own unit (won, or miles), after every cap."""
    by_category_krw: dict[str, float] = field(default_factory=dict)
    eligible_krw: int = 0
    """What this month counts toward next month's 전월실적."""


def _channel_ok(benefit_channel: str, channel: str) -> bool:
    return benefit_channel == "any" or benefit_channel == channel


def raw_units(benefit: Benefit, amount_krw: int) -> int:
    """What one qualifying purchase earns on a line before any daily or monthly cap."""
    if benefit.fixed_krw is not None:
        return min(benefit.fixed_krw, amount_krw) if benefit.kind == "discount" else benefit.fixed_krw
    assert benefit.rate is not None
    counted = (
        amount_krw if benefit.max_counted_per_txn_krw is None else min(amount_krw, benefit.max_counted_per_txn_krw)
    )
    return math.floor(benefit.rate * counted + _EPS)


def simulate_card(
    product: CardProduct, months: Sequence[Sequence[Purchase]], *, prior_eligible_krw: int
) -> list[MonthBenefit]:
    """Month by month, what ``product`` would have paid for these purchases (each month in time order).

    ``prior_eligible_krw`` is the eligible spending of the month before the first, which sets the
    first month's tier.
    """
    excluded = set(product.prev_month_excluded)
    results: list[MonthBenefit] = []
    prev_eligible = prior_eligible_krw
    for purchases in months:
        tier = product.tier_for(prev_eligible)
        line_total = [0] * len(product.benefits)
        line_count = [0] * len(product.benefits)
        line_daily: list[dict[int, int]] = [{} for _ in product.benefits]
        by_category: dict[str, float] = {}
        base_total = 0.0
        eligible = 0
        for p in purchases:
            discount = 0
            value = 0.0
            got_benefit = False
            if tier is not None:
                for i, b in enumerate(product.benefits):
                    if p.category not in b.categories or not _channel_ok(b.channel, p.channel):
                        continue
                    if p.amount_krw < b.min_txn_krw:
                        continue
                    units = raw_units(b, p.amount_krw)
                    if b.daily_cap_krw is not None:
                        used = line_daily[i].get(p.day, 0)
                        units = max(0, min(units, b.daily_cap_krw - used))
                    count_cap = b.monthly_count_cap(tier)
                    if units > 0 and count_cap is not None and line_count[i] >= count_cap:
                        units = 0
                    cap = b.monthly_cap_krw(tier)
                    if cap is not None:
                        units = max(0, min(units, cap - line_total[i]))
                    if units <= 0:
                        continue
                    if b.daily_cap_krw is not None:
                        line_daily[i][p.day] = line_daily[i].get(p.day, 0) + units
                    line_count[i] += 1
                    line_total[i] += units
                    got_benefit = True
                    value += units * product.unit_value_krw(b.kind)
                    if b.kind == "discount":
                        discount += units
            base_units = math.floor(product.base_rate * (p.amount_krw - min(discount, p.amount_krw)) + _EPS)
            base = base_units * product.unit_value_krw(product.base_kind) if product.base_rate else 0.0
            base_total += base
            if value + base:
                by_category[p.category] = by_category.get(p.category, 0.0) + value + base
            if p.category not in excluded and not (product.discounted_excluded and got_benefit):
                eligible += p.amount_krw
        line_value = sum(u * product.unit_value_krw(b.kind) for u, b in zip(line_total, product.benefits, strict=True))
        results.append(
            MonthBenefit(
                tier=tier,
                benefit_krw=line_value + base_total,
                base_krw=base_total,
                by_line_units=tuple(line_total),
                by_category_krw=by_category,
                eligible_krw=eligible,
            )
        )
        prev_eligible = eligible
    return results


# ---------------------------------------------------------------------------------------------
# Vectorized: every customer and every product of a batch at once.
# ---------------------------------------------------------------------------------------------

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SpendRows:
    """Purchases of many customers over consecutive months, sorted by month, customer, then time.

    ``customer`` is a 0-based index, ``month`` 0..n_months-1, ``category`` an index into
    ``categories``, ``channel`` an index into :data:`CHANNELS`. ``prior_spend`` (customers ×
    categories) is each customer's spending in the month before the first, which sets the first
    month's tier (through each product's exclusions).
    """

    customer: IntArray
    month: IntArray
    day: IntArray
    category: IntArray
    channel: IntArray
    amount: IntArray
    n_customers: int
    n_months: int
    categories: tuple[str, ...]
    prior_spend: FloatArray

    def __post_init__(self) -> None:
        n = len(self.customer)
        if not all(len(a) == n for a in (self.month, self.day, self.category, self.channel, self.amount)):
            raise ValueError("every SpendRows column must have the same length")
        if self.prior_spend.shape != (self.n_customers, len(self.categories)):
            raise ValueError("prior_spend must be customers × categories")
        key = self.month * (self.n_customers + 1) + self.customer
        if n and np.any(np.diff(key) < 0):
            raise ValueError("rows must be sorted by month, then customer, then time")

    @classmethod
    def from_purchases(
        cls, customers: Sequence[Sequence[Sequence[Purchase]]], categories: Sequence[str], prior_eligible: Sequence[int]
    ) -> SpendRows:
        """Build from per-customer, per-month purchase lists (tests and one-off what-ifs).

        ``prior_eligible`` (the month before the first) is put on the first code of ``categories``,
        so make that a code no product excludes from 전월실적.
        """
        cats = tuple(categories)
        index = {c: i for i, c in enumerate(cats)}
        n_months = max((len(m) for m in customers), default=0)
        cols: dict[str, list[int]] = {k: [] for k in ("customer", "month", "day", "category", "channel", "amount")}
        for m in range(n_months):
            for c, months in enumerate(customers):
                for p in months[m] if m < len(months) else ():
                    cols["customer"].append(c)
                    cols["month"].append(m)
                    cols["day"].append(p.day)
                    cols["category"].append(index[p.category])
                    cols["channel"].append(CHANNELS.index(p.channel))
                    cols["amount"].append(p.amount_krw)
        prior = np.zeros((len(customers), len(cats)))
        prior[:, 0] = np.asarray(prior_eligible, dtype=np.float64)
        return cls(
            **{k: np.asarray(v, dtype=np.int64) for k, v in cols.items()},
            n_customers=len(customers),
            n_months=n_months,
            categories=cats,
            prior_spend=prior,
        )


@dataclass(frozen=True)
class Simulation:
    """Benefits of every product for every customer.

    ``benefit_krw[c, p, m]`` KRW paid in month m; ``tier[c, p, m]`` the tier (-1 = below the lowest);
    ``by_category_krw[p]`` customers × categories, summed over ``report_months``.
    """

    product_ids: tuple[str, ...]
    categories: tuple[str, ...]
    benefit_krw: FloatArray
    tier: npt.NDArray[np.int8]
    by_category_krw: npt.NDArray[np.float32]
    report_months: tuple[int, ...]


def _group_starts(key: IntArray) -> IntArray:
    """For rows sorted so that equal keys are contiguous: each row's group's first position."""
    if not len(key):
        return np.zeros(0, dtype=np.int64)
    is_start = np.empty(len(key), dtype=bool)
    is_start[0] = True
    np.not_equal(key[1:], key[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    return starts[np.cumsum(is_start) - 1]


def capped_running(values: IntArray, key: IntArray, cap: IntArray) -> IntArray:
    """In row order, each row keeps what still fits under its group's cap (groups = equal ``key``,
    contiguous): ``min(value, max(0, cap - sum of the group's earlier kept values))``.

    Because the earlier rows kept exactly what fitted, the running total of the *raw* values before a
    row tells whether the cap was reached: once it is, every later row keeps 0.
    """
    if not len(values):
        return values
    cs = np.cumsum(values)
    start = _group_starts(key)
    before = cs - values - (cs[start] - values[start])
    return np.clip(cap - before, 0, values)


def _category_mask(codes: Sequence[str], categories: Sequence[str]) -> npt.NDArray[np.bool_]:
    wanted = set(codes)
    return np.array([c in wanted for c in categories], dtype=bool)


def simulate_products(
    rows: SpendRows, products: Sequence[CardProduct], report_months: Sequence[int] | None = None
) -> Simulation:
    """What every product would have paid every customer, month by month (see :func:`simulate_card`)."""
    n_c, n_m, cats = rows.n_customers, rows.n_months, rows.categories
    n_k = len(cats)
    report = tuple(range(n_m)) if report_months is None else tuple(report_months)
    benefit = np.zeros((n_c, len(products), n_m))
    tiers = np.full((n_c, len(products), n_m), -1, dtype=np.int8)
    by_cat = np.zeros((len(products), n_c, n_k), dtype=np.float32)
    bounds = np.searchsorted(rows.month, np.arange(n_m + 1))
    months = [slice(int(bounds[m]), int(bounds[m + 1])) for m in range(n_m)]
    chan_code = {ch: i for i, ch in enumerate(CHANNELS)}

    for j, product in enumerate(products):
        excluded = _category_mask(product.prev_month_excluded, cats)
        prev_eligible = rows.prior_spend[:, ~excluded].sum(axis=1)
        thresholds = np.asarray(product.prev_month_tiers_krw, dtype=np.float64)
        lines = [
            (
                b,
                _category_mask(b.categories, cats),
                None if b.channel == "any" else chan_code[b.channel],
                product.unit_value_krw(b.kind),
            )
            for b in product.benefits
        ]
        base_value = product.unit_value_krw(product.base_kind) if product.base_rate else 0.0
        for m, sl in enumerate(months):
            tier = (
                np.searchsorted(thresholds, prev_eligible, side="right") - 1
                if len(thresholds)
                else np.zeros(n_c, dtype=np.int64)
            )
            tiers[:, j, m] = tier
            cust, cat, chan = rows.customer[sl], rows.category[sl], rows.channel[sl]
            amount, day = rows.amount[sl], rows.day[sl]
            value = np.zeros(len(cust))
            discount = np.zeros(len(cust), dtype=np.int64)
            benefited = np.zeros(len(cust), dtype=bool)
            row_tier = tier[cust]
            for b, cat_mask, channel, unit_value in lines:
                q = cat_mask[cat] & (amount >= b.min_txn_krw) & (row_tier >= 0)
                if channel is not None:
                    q &= chan == channel
                idx = np.flatnonzero(q)
                if not len(idx):
                    continue
                amt, who, t = amount[idx], cust[idx], row_tier[idx]
                if b.fixed_krw is not None:
                    units = np.minimum(b.fixed_krw, amt) if b.kind == "discount" else np.full(len(idx), b.fixed_krw)
                else:
                    assert b.rate is not None
                    counted = amt if b.max_counted_per_txn_krw is None else np.minimum(amt, b.max_counted_per_txn_krw)
                    units = np.floor(b.rate * counted + _EPS).astype(np.int64)
                if b.daily_cap_krw is not None:
                    units = capped_running(units, who * 1_000_000 + day[idx], np.full(len(idx), b.daily_cap_krw))
                if b.monthly_count_cap_by_tier is not None:
                    count_caps = np.asarray(b.monthly_count_cap_by_tier, dtype=np.int64)[t]
                    allowed = capped_running((units > 0).astype(np.int64), who, count_caps)
                    units = np.where(allowed > 0, units, 0)
                if b.monthly_cap_by_tier_krw is not None:
                    caps = np.asarray(b.monthly_cap_by_tier_krw, dtype=np.int64)[t]
                    units = capped_running(units, who, caps)
                value[idx] += units * unit_value
                benefited[idx] |= units > 0
                if b.kind == "discount":
                    discount[idx] += units
            if base_value:
                after = amount - np.minimum(discount, amount)
                value += np.floor(product.base_rate * after + _EPS) * base_value
            benefit[:, j, m] = np.bincount(cust, weights=value, minlength=n_c)
            if m in report:
                by_cat[j] += np.bincount(cust * n_k + cat, weights=value, minlength=n_c * n_k).reshape(n_c, n_k)
            counts = ~excluded[cat]
            if product.discounted_excluded:
                counts &= ~benefited
            prev_eligible = np.bincount(cust, weights=np.where(counts, amount, 0), minlength=n_c)
    return Simulation(
        product_ids=tuple(p.product_id for p in products),
        categories=cats,
        benefit_krw=benefit,
        tier=tiers,
        by_category_krw=by_cat,
        report_months=report,
    )
