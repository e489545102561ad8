"""The monthly recommendation run: every model fitted as of the run month, then the stored answers
(customer recommendations and reports, merchant targets, similar products, cold-start fallbacks).

``service.store_run`` writes a result in one transaction; ``jobs.run_month`` does both and records the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
from threadpoolctl import threadpool_limits

from cardwise.lake.marts import Marts
from cardwise.lake.sql import BatchEngine
from cardwise.marketing.marts import lake_months
from cardwise.recommend import cards, documents
from cardwise.recommend.evaluation import prepare
from cardwise.recommend.history import load_spend_rows
from cardwise.recommend.pipeline import BATCH_THREADS, BENEFIT_REPORT_MONTHS, Scores, score_as_of


class RecommendError(Exception):
    """The run cannot be done as asked (a month the lake does not cover, too little history)."""


@dataclass
class RunResult:
    month: date
    recommendations: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    merchants: list[dict[str, Any]]
    products: list[dict[str, Any]]
    cold_start: dict[str, Any]
    scores: Scores
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "customers": len(self.recommendations),
            "cold_start_customers": sum(1 for r in self.recommendations if r["cold_start"]),
            "merchants": len(self.merchants),
            "products": len(self.products),
            "candidate_pairs": len(self.scores.merchants.pairs.pairs),
        }


def compute_run(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    month: date,
    *,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
) -> RunResult:
    """Everything the recommendation API serves for ``month`` (data up to its end). ``engine`` computes
    the monthly marts (DuckDB on ``con`` by default, or Spark); the models read the marts in-process."""
    covered = lake_months(con)
    if month not in covered:
        raise RecommendError(
            f"the lake covers {covered[0]:%Y-%m}..{covered[-1]:%Y-%m}; {month:%Y-%m} is outside it"
            if covered
            else "the lake has no transactions"
        )
    if covered.index(month) < BENEFIT_REPORT_MONTHS + 1:
        raise RecommendError(f"{month:%Y-%m} needs {BENEFIT_REPORT_MONTHS + 1} earlier lake months; pick a later month")
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    with threadpool_limits(limits=BATCH_THREADS):
        ref, history = prepare(con, marts, month, step=step, engine=engine)
        as_of = history.month_index(month)
        rows = load_spend_rows(con, ref, list(history.months[as_of - BENEFIT_REPORT_MONTHS : as_of + 1]))
        lap("load")
        scores = score_as_of(history, ref, as_of, spend_rows=rows, step=step)
        timings.update(scores.timings)
        clock = time.perf_counter()
        step("documents")
        assert scores.cards.net_benefit is not None
        lo = as_of - BENEFIT_REPORT_MONTHS + 1
        spend = history.spend[:, lo : as_of + 1].astype(np.float64)
        channels = history.channel_spend[:, lo : as_of + 1].astype(np.float64).sum(axis=(0, 1))
        similarity = cards.product_similarity(
            ref.products.products,
            ref.categories,
            spend.sum(axis=(0, 1)),
            float(channels[2] / max(channels.sum(), 1.0)),
            documents.median_tickets(ref),
            scores.cards.net_benefit,
            spend.sum(axis=(1, 2)) * (12.0 / BENEFIT_REPORT_MONTHS),
            scores.cards.held,
            scores.similar.profile,
        )
        cold = documents.cold_start(ref, history, scores)
        recommendations, reports = documents.customer_documents(ref, history, scores, cold)
        merchant_docs = documents.merchant_documents(ref, history, scores)
        product_docs = documents.product_documents(ref, history, scores, similarity)
        lap("documents")
    return RunResult(
        month=month,
        recommendations=recommendations,
        reports=reports,
        merchants=merchant_docs,
        products=product_docs,
        cold_start=cold,
        scores=scores,
        timings=timings,
        metrics=scores.metrics(),
    )
