"""Every recommendation model fitted and applied as of one month: the same code serves the monthly
run (as of the run month, predicting the next) and the held-out evaluation (as of the month before
the test month, compared with what the test month brought).

Each model learns from the month before ``as_of`` and what followed it (categories, merchants), or
from the issuances of the months up to ``as_of`` (cards), so nothing it sees lies after ``as_of``.
Fitting is pure: ``fit_*`` functions take frames and return fitted estimators that keep no training
rows, ready to be logged to a model registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cardwise.recommend import cards, categories, merchants
from cardwise.recommend.benefits import Simulation, SpendRows, simulate_products
from cardwise.recommend.history import History, Reference
from cardwise.recommend.similarity import (
    Lifestyles,
    Neighbours,
    lifestyle_groups,
    nearest_neighbours,
    spend_profile,
)

ADOPTION_TRAIN_MONTHS = 8
BENEFIT_REPORT_MONTHS = 3  # the simulated period ("over the last months"); one more month sets the first tier
CATEGORY_TRAIN_SHARE = 0.5  # customers sampled to train the category model (the rows are plentiful)
# Batches run their numerical libraries on one thread: where the cores are shared with other jobs,
# OpenMP threads spin-wait for each other and the same work costs two to three times the CPU.
BATCH_THREADS = 1

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Similar:
    profile: FloatArray
    neighbours: Neighbours
    lifestyles: Lifestyles | None = None


@dataclass
class CategoryScores:
    frame: categories.CategoryFrame
    p: FloatArray
    """frame customers × categories: P(used next month)."""
    model: categories.CategoryModel


@dataclass
class MerchantScores:
    pairs: merchants.PairFrame
    visit_p: FloatArray
    regular_p: FloatArray
    model: merchants.MerchantModel


@dataclass
class CardScores:
    adoption_p: FloatArray
    """customers × products: P(the card a customer takes up next is this product)."""
    neighbour_share: FloatArray
    held: BoolArray
    on_sale: BoolArray
    popularity: FloatArray
    model: cards.AdoptionModel
    simulation: Simulation | None = None
    net_benefit: FloatArray | None = None


@dataclass
class Scores:
    """Everything predicted as of month position ``as_of`` of ``history``."""

    as_of: int
    active: BoolArray
    """Customers with purchases in the six months up to ``as_of`` (the others get a cold-start answer)."""
    similar: Similar
    categories: CategoryScores
    merchants: MerchantScores
    cards: CardScores
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def models(self) -> dict[str, Any]:
        return {"categories": self.categories.model, "merchants": self.merchants.model, "adoption": self.cards.model}

    def metrics(self) -> dict[str, Any]:
        c, m, a = self.categories.model, self.merchants.model, self.cards.model
        return {
            "categories": {"train_rows": c.trained_rows_, "base_rate": round(c.base_rate_, 4)},
            "merchants": {
                "train_rows": m.trained_rows_,
                "visit_rate": round(m.visit_rate_, 4),
                "regular_rate": round(m.regular_rate_, 4),
                "candidate_pairs": len(self.merchants.pairs.pairs),
            },
            "adoption": {"train_rows": a.trained_rows_, "adoptions": a.adoptions_},
        }


class Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def lap(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)


def active_customers(history: History, ref: Reference, as_of: int) -> BoolArray:
    recent = history.count[:, max(0, as_of - 5) : as_of + 1].sum(axis=(1, 2)) > 0
    return np.asarray(recent & categories.joined_by(ref, history, as_of))


def similar_customers(history: History, as_of: int, *, groups: bool = False, random_state: int = 0) -> Similar:
    profile = spend_profile(history, as_of)
    return Similar(
        profile=profile,
        neighbours=nearest_neighbours(profile),
        lifestyles=lifestyle_groups(profile, random_state=random_state) if groups else None,
    )


def score_categories(
    history: History, ref: Reference, as_of: int, now: Similar, before: Similar, random_state: int = 0
) -> CategoryScores:
    """Fit on the month before ``as_of`` (its rows and whether each category was used next) and score."""
    train_customers = np.flatnonzero(active_customers(history, ref, as_of - 1))
    if len(train_customers) > 2000:
        rng = np.random.default_rng(random_state)
        train_customers = train_customers[rng.random(len(train_customers)) < CATEGORY_TRAIN_SHARE]
    train = categories.category_frame(history, ref, as_of - 1, before.neighbours, train_customers)
    model = categories.fit_category_model(
        train, categories.used_next(history, as_of - 1, train_customers), random_state
    )
    frame = categories.category_frame(
        history, ref, as_of, now.neighbours, np.flatnonzero(active_customers(history, ref, as_of))
    )
    return CategoryScores(frame=frame, p=model.predict(frame), model=model)


def score_merchants(history: History, ref: Reference, as_of: int, random_state: int = 0) -> MerchantScores:
    train = merchants.candidate_pairs(history, ref, as_of - 1)
    model = merchants.fit_merchant_model(train, merchants.visit_days_next(history, train, as_of - 1), random_state)
    pairs = merchants.candidate_pairs(history, ref, as_of)
    visit_p, regular_p = model.predict(pairs)
    return MerchantScores(pairs=pairs, visit_p=visit_p, regular_p=regular_p, model=model)


def score_cards(
    history: History,
    ref: Reference,
    as_of: int,
    now: Similar,
    *,
    spend_rows: SpendRows | None = None,
    random_state: int = 0,
) -> CardScores:
    """The adoption model (trained on the issuances up to ``as_of``) and, given the purchases of the
    last months, the simulated benefit of every product."""
    model = fit_adoption(history, ref, as_of, random_state=random_state)
    inputs = cards.adoption_inputs(history, ref, as_of)
    n_c, n_p = len(ref.customers), len(ref.products)
    rows = cards.adoption_frame(ref, inputs, np.repeat(np.arange(n_c), n_p), np.tile(np.arange(n_p), n_c))
    simulation = net = None
    if spend_rows is not None:
        report = tuple(range(spend_rows.n_months - BENEFIT_REPORT_MONTHS, spend_rows.n_months))
        simulation = simulate_products(spend_rows, ref.products.products, report_months=report)
        net = cards.net_annual_benefit(simulation, ref.products.products)
    return CardScores(
        adoption_p=model.predict(rows).reshape(n_c, n_p),
        neighbour_share=cards.neighbour_shares(now.neighbours, inputs.held),
        held=inputs.held,
        on_sale=cards.on_sale(ref, history.months[as_of]),
        popularity=inputs.popularity,
        model=model,
        simulation=simulation,
        net_benefit=net,
    )


def fit_adoption(history: History, ref: Reference, as_of: int, *, random_state: int = 0) -> cards.AdoptionModel:
    """The adoption model from the issuances of the months up to ``as_of``, each described as of the
    month before it."""
    parts: list[pd.DataFrame] = []
    taken: list[BoolArray] = []
    for t in range(max(1, as_of - ADOPTION_TRAIN_MONTHS + 1), as_of + 1):
        events = cards.adoption_events(ref, history.months[t])
        if not len(events):
            continue
        inputs = cards.adoption_inputs(history, ref, t - 1)
        rows, took = cards.adoption_training_rows(ref, events, inputs, cards.on_sale_during(ref, history.months[t]))
        parts.append(rows)
        taken.append(took)
    if not parts:
        raise ValueError("no card was issued in the months before; the adoption model has nothing to learn")
    return cards.fit_adoption_model(pd.concat(parts, ignore_index=True), np.concatenate(taken), random_state)


def score_as_of(
    history: History,
    ref: Reference,
    as_of: int,
    *,
    spend_rows: SpendRows | None = None,
    step: Callable[[str], None] = lambda _: None,
    random_state: int = 0,
) -> Scores:
    """Fit every model on what was known at the end of month position ``as_of`` and score the next month.

    ``spend_rows``: the purchases of the ``BENEFIT_REPORT_MONTHS + 1`` months up to ``as_of`` for the
    benefit simulator (skipped when None).
    """
    if as_of < 1:
        raise ValueError("the models need at least one month before the one they score from")
    clock = Clock()
    step("similar customers")
    with clock.lap("similarity"):
        now = similar_customers(history, as_of, groups=True, random_state=random_state)
        before = similar_customers(history, as_of - 1)
    step("categories")
    with clock.lap("categories"):
        category_scores = score_categories(history, ref, as_of, now, before, random_state)
    step("merchants")
    with clock.lap("merchants"):
        merchant_scores = score_merchants(history, ref, as_of, random_state)
    step("cards")
    with clock.lap("cards"):
        card_scores = score_cards(history, ref, as_of, now, spend_rows=spend_rows, random_state=random_state)
    return Scores(
        as_of=as_of,
        active=active_customers(history, ref, as_of),
        similar=now,
        categories=category_scores,
        merchants=merchant_scores,
        cards=card_scores,
        timings=clock.timings,
    )
