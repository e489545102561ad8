"""What the recommendation models read, loaded once per run from the lake and the monthly marts into
arrays indexed by position (customers, months, categories, merchants).

Everything here is read-only input; the models and rules elsewhere in the package are pure
functions of it, so a test can build a ``History`` by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from cardwise.marketing.marts import add_months
from cardwise.recommend.benefits import CHANNELS, SpendRows
from cardwise.reference.categories import load_categories
from cardwise.reference.products import CardProduct, ProductCatalog

ONLINE = "ONLINE"  # the "region" of online merchants: they compete with each other, not with a street
AGE_BANDS = (20, 30, 40, 50, 60, 70)

FloatCube = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Reference:
    """The slowly changing tables: customers, categories, products, merchants and cards."""

    customers: pd.DataFrame
    """Sorted by customer_id; position = customer index."""
    categories: tuple[str, ...]
    category_names: dict[str, tuple[str, str]]
    category_groups: dict[str, str]
    products: ProductCatalog
    merchants: pd.DataFrame
    """Sorted by merchant_id; position = merchant index; ``group`` = category × region (or online)."""
    cards: pd.DataFrame
    regions: dict[str, tuple[str, str]]
    recurring: frozenset[str] = frozenset()
    """Categories billed monthly (telecom, insurance, utilities, subscriptions): habits of payment, not of
    taste, so they are left out of category and merchant recommendations."""

    @cached_property
    def recurring_mask(self) -> npt.NDArray[np.bool_]:
        return np.array([c in self.recurring for c in self.categories], dtype=bool)

    @cached_property
    def customer_ids(self) -> IntArray:
        return self.customers["customer_id"].to_numpy(dtype=np.int64)

    @cached_property
    def merchant_ids(self) -> IntArray:
        return self.merchants["merchant_id"].to_numpy(dtype=np.int64)

    def customer_index(self, ids: npt.ArrayLike) -> IntArray:
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.customer_ids, ids)
        if len(ids) and (np.any(pos >= len(self.customer_ids)) or np.any(self.customer_ids[pos] != ids)):
            raise ValueError("unknown customer ids")
        return pos.astype(np.int64)

    def merchant_index(self, ids: npt.ArrayLike) -> IntArray:
        ids = np.asarray(ids, dtype=np.int64)
        return np.searchsorted(self.merchant_ids, ids).astype(np.int64)

    def age_band(self, as_of: date) -> IntArray:
        """0 for the 20s … 5 for the 70s and over, at the given month."""
        age = as_of.year - self.customers["birth_year"].to_numpy(dtype=np.int64)
        return np.clip(age // 10 - 2, 0, len(AGE_BANDS) - 1).astype(np.int64)

    def holdings(self, at: date) -> npt.NDArray[np.bool_]:
        """customers × products: holds an open, issued, unexpired card of the product at ``at``."""
        cards = self.cards
        open_ = (cards["issued_on"] < at) & (cards["closed_on"].isna() | (cards["closed_on"] >= at))
        open_ &= cards["expires_on"] >= at
        held = np.zeros((len(self.customers), len(self.products)), dtype=bool)
        sel = cards[open_]
        held[self.customer_index(sel["customer_id"]), sel["product_index"].to_numpy()] = True
        return held

    def active_products(self, day: date) -> npt.NDArray[np.bool_]:
        return np.array([p.is_active_on(day) for p in self.products.products], dtype=bool)


def load_reference(con: duckdb.DuckDBPyConnection) -> Reference:
    customers = con.sql(
        """SELECT customer_id, birth_year, gender, home_region_code, occupation, is_sole_proprietor,
                  marital_status, income_band, joined_on
           FROM customers ORDER BY customer_id"""
    ).df()
    customers["joined_on"] = pd.to_datetime(customers["joined_on"]).dt.date
    cats = con.sql("SELECT category_code, name_ko, name_en, group_code FROM categories").fetchall()
    catalog = load_categories()
    order = {c: i for i, c in enumerate(catalog.codes)}
    cats.sort(key=lambda r: (order.get(r[0], len(order)), r[0]))
    products = ProductCatalog(
        products=tuple(
            CardProduct.model_validate(json.loads(s))
            for (s,) in con.sql("SELECT benefits_json FROM products ORDER BY product_id").fetchall()
        )
    )
    regions = {r[0]: (r[1], r[2]) for r in con.sql("SELECT region_code, name_ko, name_en FROM regions").fetchall()}
    merchants = con.sql(
        """SELECT merchant_id, name, category_code, region_code, channel, opened_on, closed_on
           FROM merchants ORDER BY merchant_id"""
    ).df()
    for col in ("opened_on", "closed_on"):
        merchants[col] = pd.to_datetime(merchants[col]).dt.date
    categories = tuple(c[0] for c in cats)
    cat_index = {c: i for i, c in enumerate(categories)}
    place = np.where(merchants["channel"] == "online", ONLINE, merchants["region_code"])
    places = sorted(set(place))
    place_index = {p: i for i, p in enumerate(places)}
    merchants["category_index"] = merchants["category_code"].map(cat_index).astype(np.int64)
    merchants["place"] = place
    merchants["group"] = merchants["category_index"] * len(places) + pd.Series(place).map(place_index).to_numpy()
    cards = con.sql(
        """SELECT card_id, customer_id, product_id, card_type, issued_on, expires_on, closed_on
           FROM cards ORDER BY card_id"""
    ).df()
    for col in ("issued_on", "expires_on", "closed_on"):
        cards[col] = pd.to_datetime(cards[col]).dt.date
    product_index = {p.product_id: i for i, p in enumerate(products.products)}
    cards["product_index"] = cards["product_id"].map(product_index).astype(np.int64)
    return Reference(
        customers=customers,
        categories=categories,
        category_names={c[0]: (c[1], c[2]) for c in cats},
        category_groups={c[0]: c[3] for c in cats},
        products=products,
        merchants=merchants,
        cards=cards,
        regions=regions,
        recurring=frozenset(c.code for c in catalog.categories if c.recurring),
    )


@dataclass(frozen=True)
class History:
    """Monthly activity of every customer over consecutive ``months``.

    ``count[c, t, k]`` purchases and ``spend[c, t, k]`` KRW of customer c in month t and category k;
    ``visits`` one row per customer, merchant and month with purchases (indices, not ids).
    """

    months: tuple[date, ...]
    count: FloatCube
    spend: FloatCube
    visits: pd.DataFrame
    channel_spend: FloatCube
    """``channel_spend[c, t, i]`` KRW spent in month t through channel ``CHANNELS[i]``."""

    def month_index(self, month: date) -> int:
        try:
            return self.months.index(month)
        except ValueError:
            raise ValueError(f"{month:%Y-%m} is not in the loaded history") from None


def load_history(con: duckdb.DuckDBPyConnection, ref: Reference, months: list[date]) -> History:
    """Category cubes from ``cm_spend`` and merchant visits from ``rm_customer_merchant`` (both registered).

    Rows come in a fixed order (DuckDB's parallel aggregation does not keep one), so that sampling by
    position, and with it every fitted model, is the same on every run."""
    n_c, n_t, n_k = len(ref.customers), len(months), len(ref.categories)
    count = np.zeros((n_c, n_t, n_k), dtype=np.float32)
    spend = np.zeros((n_c, n_t, n_k), dtype=np.float32)
    first = months[0].isoformat()
    last = months[-1].isoformat()
    cat = con.sql(
        f"""SELECT customer_id, month, category_code, SUM(spend_krw) AS spend, SUM(txn_count) AS n
            FROM cm_spend WHERE month >= DATE '{first}' AND month <= DATE '{last}'
            GROUP BY customer_id, month, category_code"""
    ).fetchnumpy()
    c = ref.customer_index(cat["customer_id"])
    t = _month_positions(cat["month"], months)
    k = _category_positions(cat["category_code"], ref.categories)
    count[c, t, k] = np.asarray(cat["n"], dtype=np.float32)
    spend[c, t, k] = np.asarray(cat["spend"], dtype=np.float32)
    chan = con.sql(
        f"""SELECT customer_id, month, channel, SUM(spend_krw) AS spend
            FROM cm_spend WHERE month >= DATE '{first}' AND month <= DATE '{last}'
            GROUP BY customer_id, month, channel"""
    ).fetchnumpy()
    channel_spend = np.zeros((n_c, n_t, len(CHANNELS)), dtype=np.float32)
    channel_codes = pd.Categorical(np.asarray(chan["channel"]), categories=list(CHANNELS)).codes.astype(np.int64)
    ok = channel_codes >= 0
    channel_spend[
        ref.customer_index(chan["customer_id"])[ok], _month_positions(chan["month"], months)[ok], channel_codes[ok]
    ] = np.asarray(chan["spend"], dtype=np.float32)[ok]
    v = con.sql(
        f"""SELECT customer_id, merchant_id, month, purchases, visit_days, spend_krw
            FROM rm_customer_merchant WHERE month >= DATE '{first}' AND month <= DATE '{last}'
            ORDER BY month, customer_id, merchant_id"""
    ).fetchnumpy()
    visits = pd.DataFrame(
        {
            "c": ref.customer_index(v["customer_id"]),
            "m": ref.merchant_index(v["merchant_id"]),
            "t": _month_positions(v["month"], months),
            "purchases": np.asarray(v["purchases"], dtype=np.int64),
            "visit_days": np.asarray(v["visit_days"], dtype=np.int64),
            "spend": np.asarray(v["spend_krw"], dtype=np.float64),
        }
    )
    return History(months=tuple(months), count=count, spend=spend, visits=visits, channel_spend=channel_spend)


def _month_positions(values: npt.ArrayLike, months: list[date]) -> IntArray:
    as_month = np.asarray(values).astype("datetime64[M]")
    first = np.datetime64(months[0], "M")
    return (as_month - first).astype(np.int64)


def _category_positions(values: npt.ArrayLike, categories: tuple[str, ...]) -> IntArray:
    codes = pd.Categorical(np.asarray(values), categories=list(categories)).codes.astype(np.int64)
    if np.any(codes < 0):
        raise ValueError("unknown category codes in the marts")
    return codes


def load_spend_rows(con: duckdb.DuckDBPyConnection, ref: Reference, months: list[date]) -> SpendRows:
    """Every purchase of ``months`` (sorted by month, customer, time) for the benefit simulator, and
    each customer's spending by category in the month before the first (the first tier)."""
    first, end, before = months[0], add_months(months[-1], 1), add_months(months[0], -1)
    codes = ", ".join(f"('{c}', {i})" for i, c in enumerate(ref.categories))
    chans = ", ".join(f"('{c}', {i})" for i, c in enumerate(CHANNELS))
    rows = con.sql(
        f"""WITH k(code, idx) AS (VALUES {codes}), ch(code, idx) AS (VALUES {chans})
            SELECT t.customer_id,
                   date_diff('month', DATE '{first.isoformat()}', CAST(t.ts AS DATE)) AS month,
                   date_diff('day', DATE '2000-01-01', CAST(t.ts AS DATE)) AS day,
                   k.idx AS category, ch.idx AS channel, t.amount_krw
            FROM transactions AS t
            JOIN k ON k.code = t.category_code
            JOIN ch ON ch.code = t.channel
            WHERE t.ts >= DATE '{first.isoformat()}' AND t.ts < DATE '{end.isoformat()}' AND NOT t.is_fraud
            ORDER BY month, t.customer_id, t.ts, t.transaction_id"""
    ).fetchnumpy()
    prior = con.sql(
        f"""WITH k(code, idx) AS (VALUES {codes})
            SELECT t.customer_id, k.idx AS category, SUM(t.amount_krw) AS spend
            FROM transactions AS t JOIN k ON k.code = t.category_code
            WHERE t.ts >= DATE '{before.isoformat()}' AND t.ts < DATE '{first.isoformat()}' AND NOT t.is_fraud
            GROUP BY t.customer_id, k.idx"""
    ).fetchnumpy()
    prior_spend = np.zeros((len(ref.customers), len(ref.categories)))
    prior_spend[ref.customer_index(prior["customer_id"]), np.asarray(prior["category"], dtype=np.int64)] = np.asarray(
        prior["spend"], dtype=np.float64
    )
    return SpendRows(
        customer=ref.customer_index(rows["customer_id"]),
        month=np.asarray(rows["month"], dtype=np.int64),
        day=np.asarray(rows["day"], dtype=np.int64),
        category=np.asarray(rows["category"], dtype=np.int64),
        channel=np.asarray(rows["channel"], dtype=np.int64),
        amount=np.asarray(rows["amount_krw"], dtype=np.int64),
        n_customers=len(ref.customers),
        n_months=len(months),
        categories=ref.categories,
        prior_spend=prior_spend,
    )
