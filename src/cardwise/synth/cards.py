"""Cards: how many each customer holds, which products, and their tokens.

A card number exists only inside this module, long enough to derive its token and last four
digits; it is never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from cardwise.privacy.pan import luhn_check_digit, tokenize_pan
from cardwise.synth.outcomes import Outcomes
from cardwise.synth.population import Population
from cardwise.synth.world import World

BRANDS = ("LOCAL", "VISA", "MASTERCARD", "AMEX", "JCB", "UNIONPAY")
_BRAND_P = np.array([0.38, 0.30, 0.24, 0.03, 0.03, 0.02])
_BRAND_BIN = ("9440", "4571", "5365", "3762", "3569", "6250")


@dataclass
class Cards:
    card_id: npt.NDArray[np.int64]
    customer: npt.NDArray[np.int64]  # 0-based customer index
    product: npt.NDArray[np.int64]  # index into the product catalog
    is_credit: npt.NDArray[np.bool_]
    token: list[str]
    last4: list[str]
    brand: npt.NDArray[np.int64]
    issued_on: npt.NDArray[np.datetime64]
    expires_on: npt.NDArray[np.datetime64]
    closed_on: npt.NDArray[np.datetime64]
    is_primary: npt.NDArray[np.bool_]
    contactless_enabled: npt.NDArray[np.bool_]
    overseas_enabled: npt.NDArray[np.bool_]
    weight: npt.NDArray[np.float64]  # how much of the holder's spending goes to this card
    primary_of_customer: npt.NDArray[np.int64]  # per customer: index of the primary card

    @property
    def n(self) -> int:
        return len(self.card_id)


def card_counts(rng: np.random.Generator, n: int, per_customer: float) -> npt.NDArray[np.int64]:
    """How many cards each customer holds: at least one, ~``per_customer`` on average, at most 8."""
    return np.clip(1 + rng.poisson(max(per_customer - 1.0, 0.0), n), 1, 8).astype(np.int64)


def _affinity(world: World, pref: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """How much of each customer's spending falls in each product's benefit categories (N x P)."""
    mask = np.zeros((world.n_categories, len(world.products.products)))
    for j, prod in enumerate(world.products.products):
        for b in prod.benefits:
            for code in b.categories:
                mask[world.cat(code), j] = 1.0
    return pref @ mask


def generate_cards(
    rng: np.random.Generator,
    pop: Population,
    world: World,
    pref: npt.NDArray[np.float64],
    outcomes: Outcomes,
    *,
    count: npt.NDArray[np.int64],
    start: date,
    end: date,
    pan_key: str,
) -> Cards:
    n = pop.n
    customer = np.repeat(np.arange(n, dtype=np.int64), count)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    m = len(customer)
    is_primary = np.zeros(m, dtype=bool)
    is_primary[first] = True

    products = world.products.products
    launch = np.array([np.datetime64(p.launched_on, "D") for p in products])
    stop = np.array([np.datetime64(p.discontinued_on or date(2100, 1, 1), "D") for p in products])
    end64 = np.datetime64(end, "D")
    joined = pop.joined_on[customer]
    # A churner's cards were all issued before the churn.
    churn_date = outcomes.churned_on[customer]
    last_issue = np.where(np.isnat(churn_date), end64 - 30, churn_date - 1)
    span = np.maximum((last_issue - joined).astype(int), 1)
    issued = joined + (rng.random(m) * span).astype("timedelta64[D]")
    issued = np.where(is_primary, joined, issued)
    issued = np.maximum(issued, launch.min())

    # Product choice: popularity x fit of the benefits to the holder's spending x who it is made for.
    aff = _affinity(world, pref)[customer]
    weight = np.array([p.popularity for p in products])[None, :] * (0.25 + 4.0 * aff)
    age = pop.age[customer]
    tags = [set(p.target) for p in products]
    for j, t in enumerate(tags):
        if "young" in t:
            weight[:, j] *= np.where(age < 32, 2.5, 0.4)
        if "senior" in t:
            weight[:, j] *= np.where(age >= 60, 3.0, 0.25)
        if "sole_proprietor" in t:
            weight[:, j] *= np.where(pop.occupation[customer] == 3, 5.0, 0.15)
        if "premium" in t:
            weight[:, j] *= np.where(
                pop.income_band[customer] >= 5, 2.5, np.where(pop.income_band[customer] <= 2, 0.1, 0.6)
            )
        if "family" in t:
            weight[:, j] *= np.where(pop.young_children[customer], 2.5, 0.7)
        if "traveller" in t:
            weight[:, j] *= np.where(pop.traveller[customer], 3.0, 0.5)
        if "driver" in t:
            weight[:, j] *= np.where(pop.has_car[customer], 2.0, 0.3)
    p_check = np.where((age < 30) | (pop.income_band[customer] == 1), 0.6, 0.3)
    is_credit_product = np.array([p.card_type == "credit" for p in products])
    weight *= np.where(is_credit_product[None, :], 1 - p_check[:, None], p_check[:, None])
    active = (launch[None, :] <= issued[:, None]) & (issued[:, None] < stop[None, :])
    weight = np.where(active, weight, 0.0)
    fallback = weight.sum(axis=1) <= 0  # nothing on sale yet: the oldest product
    weight[fallback, int(np.argmin(launch))] = 1.0
    gumbel = -np.log(-np.log(rng.random(weight.shape)))
    product = np.argmax(np.log(weight + 1e-300) + gumbel, axis=1).astype(np.int64)
    is_credit = is_credit_product[product]

    # Cards renew every five years under the same number.
    expires = issued + np.timedelta64(5 * 365, "D")
    while np.any(expires <= end64):
        expires = np.where(expires <= end64, expires + np.timedelta64(5 * 365, "D"), expires)

    closed = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
    closed = np.where(~np.isnat(churn_date), churn_date, closed)
    start64 = np.datetime64(start, "D")
    random_close = (~is_primary) & np.isnat(closed) & (rng.random(m) < 0.04)
    close_day = start64 + rng.integers(0, int((end64 - start64).astype(int)), m).astype("timedelta64[D]")
    closed = np.where(random_close & (close_day > issued), close_day, closed)

    brand = rng.choice(len(BRANDS), size=m, p=_BRAND_P)
    brand = np.where(is_credit, brand, np.where(rng.random(m) < 0.7, 0, brand))
    body = rng.integers(0, 10, size=(m, 11))
    tokens: list[str] = []
    last4: list[str] = []
    for i in range(m):
        partial = _BRAND_BIN[brand[i]] + "".join(map(str, body[i]))
        pan = partial + str(luhn_check_digit(partial))
        tokens.append(tokenize_pan(pan, pan_key))
        last4.append(pan[-4:])
    usage = np.where(is_primary, 1.0, rng.lognormal(-1.0, 0.8, m))
    return Cards(
        card_id=np.arange(1, m + 1, dtype=np.int64),
        customer=customer,
        product=product,
        is_credit=is_credit,
        token=tokens,
        last4=last4,
        brand=brand.astype(np.int64),
        issued_on=issued.astype("datetime64[D]"),
        expires_on=expires.astype("datetime64[D]"),
        closed_on=closed,
        is_primary=is_primary,
        contactless_enabled=rng.random(m) < 0.85,
        overseas_enabled=rng.random(m) < np.where(pop.traveller[customer], 0.95, 0.6),
        weight=usage,
        primary_of_customer=first.astype(np.int64),
    )
