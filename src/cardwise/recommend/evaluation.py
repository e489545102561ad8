"""Held-out evaluation of the recommendation models (temporal hold-out: fit on what was known at the
end of the month before the test month, compare the recommendations with the test month).

For every task the model's top ten are scored with hit rate@10 and NDCG@10 next to a popularity
baseline (the same top ten for everyone: what most customers used, visited or took up the month
before), and where it helps a second, stronger heuristic:

- **categories**: all categories (relevant: used in the test month) and new ones (not used in the six
  months before; relevant: taken up in the test month); heuristic: the customer's own six-month counts;
- **merchants**: all merchants (relevant: bought from in the test month) and new ones (never bought
  from in the six months before); heuristic: local popularity (the leading merchants of the customer's
  categories and places);
- **card adoption**: customers who took up a product they did not hold in the test month; the model
  ranks the products on sale they did not hold; also shown: the best card by simulated benefit and the
  plain share among similar members.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
from threadpoolctl import threadpool_limits

from cardwise.lake.marts import Marts
from cardwise.lake.sql import BatchEngine
from cardwise.marketing.marts import ensure_monthly_marts, lake_months, register_marts
from cardwise.recommend import cards
from cardwise.recommend.features import ensure_recommend_marts, register_recommend_marts
from cardwise.recommend.history import History, Reference, load_history, load_reference, load_spend_rows
from cardwise.recommend.pipeline import (
    BATCH_THREADS,
    BENEFIT_REPORT_MONTHS,
    CardScores,
    CategoryScores,
    Clock,
    MerchantScores,
    score_cards,
    score_categories,
    score_merchants,
    similar_customers,
)
from cardwise.recommend.ranking import score_rankings

K = 10


def _top(score: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_], k: int = K) -> list[list[int]]:
    """Per row, the ``k`` highest-scoring allowed columns."""
    masked = np.where(allowed, score, -np.inf)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    ok = np.take_along_axis(allowed, order, axis=1)
    return [[int(i) for i, keep in zip(row, oks, strict=True) if keep] for row, oks in zip(order, ok, strict=True)]


def _score(ranked: list[list[int]], relevant: list[set[int]]) -> dict[str, Any]:
    return score_rankings(zip(ranked, relevant, strict=True), k=K).as_dict()


def evaluate_categories(
    history: History, scores: CategoryScores, as_of: int, recurring: npt.NDArray[np.bool_]
) -> dict[str, dict[str, Any]]:
    """Monthly bills (``recurring``) are neither recommended nor counted, as in the stored lists."""
    frame = scores.frame
    test = (history.count[frame.customers, as_of + 1] > 0) & ~recurring[None, :]
    new = (frame.matrix("n_6m") == 0) & ~recurring[None, :]
    popularity = np.broadcast_to(frame.matrix("overall_rate")[:1], test.shape)
    own = frame.matrix("n_6m") + 1e-6 * popularity
    everything = np.broadcast_to(~recurring[None, :], test.shape)
    relevant_all = [set(np.flatnonzero(r).tolist()) for r in test]
    relevant_new = [set(np.flatnonzero(r & n).tolist()) for r, n in zip(test, new, strict=True)]
    return {
        "all": {
            "model": _score(_top(scores.p, everything), relevant_all),
            "popularity": _score(_top(popularity, everything), relevant_all),
            "own_history": _score(_top(own, everything), relevant_all),
        },
        "new": {
            "model": _score(_top(scores.p, new), relevant_new),
            "popularity": _score(_top(popularity, new), relevant_new),
        },
    }


def evaluate_merchants(
    history: History, scores: MerchantScores, as_of: int, bills: npt.NDArray[np.bool_]
) -> dict[str, dict[str, Any]]:
    """``bills``: per merchant, a monthly biller (left out of the candidates, so also of the truth)."""
    v = history.visits
    t = as_of
    v = v[~bills[v["m"].to_numpy()]]
    test = v[v["t"] == t + 1].groupby("c")["m"].apply(set)
    past = v[(v["t"] >= t - 5) & (v["t"] <= t)]
    seen = past.groupby("c")["m"].apply(set)
    popular = v[v["t"] == t].groupby("m").size().sort_values(ascending=False, kind="stable").index.to_numpy()
    pairs = scores.pairs.pairs.assign(p=scores.visit_p)
    pairs["local"] = pairs["m_customers_3m"] * pairs["place_share"] * (pairs["cat_n_6m"] + 0.1)
    customers = np.unique(pairs["c"].to_numpy())
    results: dict[str, dict[str, Any]] = {}
    for kind in ("all", "new"):
        cand = pairs if kind == "all" else pairs[pairs["source"] != "history"]
        model = _ranked(cand, "p")
        local = _ranked(cand, "local")
        ranked_m, ranked_pop, ranked_loc, relevant = [], [], [], []
        for c in customers:
            rel = test.get(c, set())
            mine = seen.get(c, set())
            if kind == "new":
                rel = rel - mine
            ranked_m.append(model.get(c, []))
            ranked_loc.append(local.get(c, []))
            ranked_pop.append(_first(popular, K, skip=mine if kind == "new" else set()))
            relevant.append(rel)
        results[kind] = {
            "model": _score(ranked_m, relevant),
            "popularity": _score(ranked_pop, relevant),
            "local_popularity": _score(ranked_loc, relevant),
        }
    return results


def _ranked(pairs: pd.DataFrame, column: str) -> dict[int, list[int]]:
    top = pairs.sort_values(["c", column, "m"], ascending=[True, False, True], kind="stable").groupby("c").head(K)
    return {int(str(c)): g["m"].astype(int).tolist() for c, g in top.groupby("c", sort=False)}


def _first(items: npt.NDArray[np.int64], k: int, skip: set[int]) -> list[int]:
    out: list[int] = []
    for item in items:
        if int(item) not in skip:
            out.append(int(item))
            if len(out) == k:
                break
    return out


def evaluate_adoption(ref: Reference, history: History, scores: CardScores, test_month: date) -> dict[str, Any]:
    events = cards.adoption_events(ref, test_month)
    if not len(events):
        return {"month": f"{test_month:%Y-%m}", "adoptions": 0}
    customers = np.unique(events["c"].to_numpy())
    allowed = cards.on_sale_during(ref, test_month)[None, :] & ~scores.held[customers]
    relevant = [set(events.loc[events["c"] == c, "p"].tolist()) for c in customers]
    pop = np.broadcast_to(scores.popularity, allowed.shape)
    rows: dict[str, Any] = {
        "month": f"{test_month:%Y-%m}",
        "adoptions": len(events),
        "customers": len(customers),
        "model": _score(_top(scores.adoption_p[customers], allowed), relevant),
        "popularity": _score(_top(pop, allowed), relevant),
        "similar_members_share": _score(_top(scores.neighbour_share[customers] + 1e-9 * pop, allowed), relevant),
    }
    if scores.net_benefit is not None:
        rows["best_card_benefit"] = _score(_top(scores.net_benefit[customers], allowed), relevant)
    return rows


def prepare(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    last: date,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
) -> tuple[Reference, History]:
    """Marts (scanned by ``engine``, DuckDB by default), reference tables and the history of every lake
    month up to ``last``."""
    covered = lake_months(con)
    months = [m for m in covered if m <= last]
    if len(months) < 3:
        raise ValueError(f"the lake covers {len(months)} month(s) up to {last:%Y-%m}; at least 3 are needed")
    step("monthly marts")
    ensure_monthly_marts(con, marts, months, step=step, engine=engine)
    ensure_recommend_marts(con, marts, months, step=step, engine=engine)
    register_marts(con, marts, months)
    register_recommend_marts(con, marts, months)
    ref = load_reference(con)
    return ref, load_history(con, ref, months)


def evaluate(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    test_month: date | None = None,
    *,
    step: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Every held-out figure for ``test_month`` (default: the lake's last month). Card adoption is
    scored on the last month up to it in which cards were issued."""
    covered = lake_months(con)
    if not covered:
        raise ValueError("the lake has no transactions")
    test_month = test_month or covered[-1]
    if test_month not in covered or covered.index(test_month) < 2:
        raise ValueError(
            f"test month {test_month:%Y-%m} must be a lake month from {covered[min(2, len(covered) - 1)]:%Y-%m}"
        )
    with threadpool_limits(limits=BATCH_THREADS):
        return _evaluate(con, marts, test_month, step)


def _evaluate(
    con: duckdb.DuckDBPyConnection, marts: Marts, test_month: date, step: Callable[[str], None]
) -> dict[str, Any]:
    ref, history = prepare(con, marts, test_month, step=step)
    t = history.month_index(test_month)
    clock = Clock()
    with clock.lap("similarity"):
        now = similar_customers(history, t - 1)
        before = similar_customers(history, t - 2)
    step("categories")
    with clock.lap("categories"):
        category_scores = score_categories(history, ref, t - 1, now, before)
    step("merchants")
    with clock.lap("merchants"):
        merchant_scores = score_merchants(history, ref, t - 1)
    result: dict[str, Any] = {
        "test_month": f"{test_month:%Y-%m}",
        "trained_through": f"{history.months[t - 1]:%Y-%m}",
        "categories": evaluate_categories(history, category_scores, t - 1, ref.recurring_mask),
        "merchants": evaluate_merchants(
            history, merchant_scores, t - 1, ref.recurring_mask[ref.merchants["category_index"].to_numpy()]
        ),
    }
    adoption_month = _last_adoption_month(ref, history, t)
    if adoption_month is None:
        result["card_adoption"] = {"adoptions": 0}
    else:
        step("cards")
        a = history.month_index(adoption_month)
        rows = None
        if a - 1 >= BENEFIT_REPORT_MONTHS:
            rows = load_spend_rows(con, ref, list(history.months[a - 1 - BENEFIT_REPORT_MONTHS : a]))
        with clock.lap("cards"):
            similar = now if a == t else similar_customers(history, a - 1)
            card_scores = score_cards(history, ref, a - 1, similar, spend_rows=rows)
        result["card_adoption"] = evaluate_adoption(ref, history, card_scores, adoption_month)
    result["timings_s"] = clock.timings
    return result


def _last_adoption_month(ref: Reference, history: History, t: int) -> date | None:
    for i in range(t, 1, -1):
        if len(cards.adoption_events(ref, history.months[i])):
            return history.months[i]
    return None


def beats_baseline(result: dict[str, Any]) -> dict[str, bool]:
    """Whether each model's NDCG@10 is above its popularity baseline's."""
    out: dict[str, bool] = {}
    for task in ("categories", "merchants"):
        for kind, rows in result[task].items():
            out[f"{task}.{kind}"] = rows["model"]["ndcg_at_10"] > rows["popularity"]["ndcg_at_10"]
    adoption = result.get("card_adoption", {})
    if adoption.get("adoptions"):
        out["card_adoption"] = adoption["model"]["ndcg_at_10"] > adoption["popularity"]["ndcg_at_10"]
    return out


TASK_LABELS = {
    ("categories", "all"): "categories (all)",
    ("categories", "new"): "categories (new)",
    ("merchants", "all"): "merchants (all)",
    ("merchants", "new"): "merchants (new)",
}


def table(result: dict[str, Any]) -> list[tuple[str, str, int, float, float]]:
    """(task, ranker, users, hit rate@10, NDCG@10) rows of an :func:`evaluate` result, for printing."""
    rows: list[tuple[str, str, int, float, float]] = []
    for (task, kind), label in TASK_LABELS.items():
        for ranker, score in result[task][kind].items():
            rows.append((label, ranker, score["users"], score["hit_rate_at_10"], score["ndcg_at_10"]))
    adoption = result.get("card_adoption", {})
    if adoption.get("adoptions"):
        label = f"card adoption ({adoption['month']})"
        for ranker in ("model", "popularity", "similar_members_share", "best_card_benefit"):
            if ranker in adoption:
                s = adoption[ranker]
                rows.append((label, ranker, s["users"], s["hit_rate_at_10"], s["ndcg_at_10"]))
    return rows
