"""The monthly marketing batch: features, segments and grades, triggers, life stage, next-month
prediction and single views for one month, computed from the lake (DuckDB over Parquet marts).

The result is a set of frames; ``service.store_month`` writes them in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from cardwise.lake.marts import Marts
from cardwise.lake.sql import BatchEngine, DuckDBEngine, other_engine, query_frame
from cardwise.marketing import lifestage, state_model
from cardwise.marketing.catalog import Catalog, load_catalog
from cardwise.marketing.changes import MonthData, detect
from cardwise.marketing.features import CUSTOMER_FEATURES
from cardwise.marketing.marts import add_months, ensure_monthly_marts, lake_months, month_range, register_marts
from cardwise.marketing.segments import SEGMENT_GRADES
from cardwise.marketing.single_view import assemble

LIFE_KINDS = ("LIFE_MARRIAGE", "LIFE_CAR_PURCHASE", "LIFE_CHILDBIRTH", "LIFE_MOVING")
HISTORY_MONTHS = 7  # six baseline months for the tests plus one for life events straddling a month end


class BatchError(Exception):
    """The batch cannot run as asked (e.g. a month the lake does not cover)."""


def quarter_of(month: date) -> date:
    return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)


@dataclass
class MonthResult:
    month: date
    quarter: date
    grades: pd.DataFrame
    stages: pd.DataFrame
    triggers: pd.DataFrame
    views: list[dict[str, Any]]
    features: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "customers": len(self.features),
            "segment_grades": len(self.grades),
            "in_segment": int(self.grades["in_segment"].sum()) if len(self.grades) else 0,
            "life_stages": len(self.stages),
            "triggers": len(self.triggers),
            "single_views": len(self.views),
        }


def parse_month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise BatchError(f"month must look like 2023-09, got {value!r}") from None


def customer_features_for(
    con: duckdb.DuckDBPyConnection, month: date, engine: BatchEngine | None = None
) -> pd.DataFrame:
    """The window features of every customer at ``month``, from the registered marts; on ``engine`` (Spark)
    when given, which must see the marts of the window (:func:`register_on_engine`)."""
    t = CUSTOMER_FEATURES.bind(
        month_start=month,
        month_end=add_months(month, 1),
        window6_start=add_months(month, -5),
        window3_start=add_months(month, -2),
    )
    frame = query_frame(con, t, engine)
    people = con.sql("SELECT customer_id, birth_year, joined_on FROM customers").df().set_index("customer_id")
    joined = pd.to_datetime(people["joined_on"].reindex(frame["customer_id"]).to_numpy())
    frame["age"] = month.year - people["birth_year"].reindex(frame["customer_id"]).to_numpy()
    frame["tenure_months"] = (month.year - joined.year) * 12 + (month.month - joined.month)
    return state_model.with_derived(frame)


def register_on_engine(engine: BatchEngine, marts: Marts, months: list[date], names: Iterable[str]) -> None:
    """Make the monthly marts ``names`` of ``months`` visible to another engine, which reads the files itself."""
    for name in names:
        engine.register_files(name, [marts.path(name, m) for m in months])  # type: ignore[attr-defined]


def month_data(con: duckdb.DuckDBPyConnection, people: pd.DataFrame, month: date, history: list[date]) -> MonthData:
    """The change tests' input for ``month`` from the marts registered for ``history``."""
    months_sql = ", ".join(f"DATE '{m.isoformat()}'" for m in history)
    baseline = [m for m in history if m < month][-6:]
    joined = people["joined_on"].to_numpy()
    observed = np.zeros(len(people), dtype=np.int64)
    for m in baseline:
        observed += (joined < np.datetime64(add_months(m, 1).isoformat())).astype(np.int64)
    return MonthData(
        month=month,
        customers=people.assign(age=month.year - people["birth_year"])[["customer_id", "age", "marital_status"]],
        activity=con.sql(
            "SELECT customer_id, month, spend_krw, txn_count, log_amount_sum, log_amount_sumsq FROM cm_activity"
            f" WHERE month IN ({months_sql})"
        ).df(),
        spend=con.sql(
            f"""SELECT customer_id, month, category_code, SUM(spend_krw) AS spend_krw, SUM(txn_count) AS txn_count,
                      MAX(max_amount_krw) AS max_amount_krw
               FROM cm_spend WHERE month IN ({months_sql}) GROUP BY customer_id, month, category_code"""
        ).df(),
        region=con.sql(
            f"SELECT customer_id, month, region_code, txn_count FROM cm_region WHERE month IN ({months_sql})"
        ).df(),
        observed=pd.DataFrame({"customer_id": people["customer_id"], "baseline_months": observed}),
    )


def compute_month(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    month: date,
    *,
    prior_events: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
    step: Callable[[str], None] = lambda _: None,
    drop_model: tuple[str, state_model.DropModel] | None = None,
    risk: Mapping[int, dict[str, Any]] | None = None,
    engine: BatchEngine | None = None,
) -> MonthResult:
    """Everything for ``month``. ``prior_events`` are life-event triggers of earlier months
    (customer_id, month, kind) from the store, for the life stage and the single view.
    ``drop_model`` is the registry's champion (version, model); without one the batch fits its own
    on the months before ``month``. ``risk`` are the single views' risk blocks from the VOC scores."""
    catalog = catalog or load_catalog()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    covered = lake_months(con)
    if month not in covered:
        raise BatchError(
            f"the lake covers {covered[0]:%Y-%m}..{covered[-1]:%Y-%m}; {month:%Y-%m} is outside it"
            if covered
            else "the lake has no transactions"
        )
    history = [m for m in month_range(add_months(month, -HISTORY_MONTHS), month) if m in covered]
    step("monthly marts")
    ensure_monthly_marts(con, marts, history, step=step, engine=engine)
    register_marts(con, marts, history)
    lap("marts")

    # Segment tables from the catalogue, visible to the SQL by name.
    con.register("segment_rules", catalog.segment_rules())
    con.register("grade_scores", catalog.grade_score_table())
    elsewhere = other_engine(engine)
    if elsewhere is not None:
        # Features and grades run where the marts were computed: the engine reads the month files itself.
        register_on_engine(elsewhere, marts, history, ("cm_activity", "cm_contacts", "cm_holdings", "cm_spend"))
        elsewhere.register("segment_rules", catalog.segment_rules())
        elsewhere.register("grade_scores", catalog.grade_score_table())

    step("features")
    by_month = {m: customer_features_for(con, m, elsewhere) for m in history if m >= add_months(month, -6)}
    features = by_month[month]
    lap("features")

    step("segments and grades")
    grades_t = SEGMENT_GRADES.bind(month_start=month, window_start=add_months(month, -(catalog.window_months - 1)))
    grades_engine: BatchEngine = elsewhere or DuckDBEngine(con)
    grades = grades_engine.run(grades_t).to_pandas()
    grades_engine.unregister(SEGMENT_GRADES.name)
    lap("segments")

    step("state-change triggers")
    people = con.sql("SELECT * FROM customers").df()
    people["joined_on"] = pd.to_datetime(people["joined_on"])
    data = month_data(con, people, month, history)
    triggers = detect(data)
    lap("triggers")

    step("life stage")
    quarter = quarter_of(month)
    events = triggers[triggers["kind"].isin(LIFE_KINDS)][["customer_id", "kind"]].assign(month=pd.Timestamp(month))
    if prior_events is not None and len(prior_events):
        earlier = prior_events.assign(month=pd.to_datetime(prior_events["month"]))
        earlier = earlier[
            (earlier["month"] >= pd.Timestamp(add_months(month, -11))) & (earlier["month"] < pd.Timestamp(month))
        ]
        events = pd.concat([earlier[["customer_id", "kind", "month"]], events], ignore_index=True)
    quarter_months = [m for m in month_range(quarter, month) if m in covered]
    childcare = catalog.life_stage.childcare_categories
    share = (
        con.sql(
            f"""SELECT customer_id,
                   SUM(CASE WHEN category_code IN ({", ".join(f"'{c}'" for c in childcare)}) THEN spend_krw ELSE 0 END)
                   * 1.0 / NULLIF(SUM(spend_krw), 0) AS childcare_share
            FROM cm_spend WHERE month >= DATE '{quarter_months[0].isoformat()}' AND month <= DATE '{month.isoformat()}'
            GROUP BY customer_id"""
        )
        .df()
        .set_index("customer_id")["childcare_share"]
    )
    last_event = events.sort_values("month").drop_duplicates(["customer_id", "kind"], keep="last")

    def event_dates(kind: str) -> pd.Series:
        e = last_event[last_event["kind"] == kind].set_index("customer_id")["month"]
        return e.dt.date.reindex(people["customer_id"]).astype(object).where(lambda s: s.notna(), None)

    stage_in = pd.DataFrame(
        {
            "customer_id": people["customer_id"],
            "age": month.year - people["birth_year"],
            "marital_status": people["marital_status"],
            "occupation": people["occupation"],
            "childcare_share": share.reindex(people["customer_id"]).fillna(0.0).to_numpy(),
            "marriage_on": event_dates("LIFE_MARRIAGE").to_numpy(),
            "childbirth_on": event_dates("LIFE_CHILDBIRTH").to_numpy(),
        }
    )
    stage_in = stage_in[stage_in["customer_id"].isin(features["customer_id"])]
    stages = lifestage.decide_all(stage_in, catalog.life_stage)
    lap("life_stage")

    step("next-month prediction")
    drop_probability: dict[int, float] = {}
    metrics: dict[str, Any] = {}
    train_months = [m for m in sorted(by_month) if m < month and add_months(m, 1) in by_month]
    train_parts = [state_model.labelled(by_month[m], by_month[add_months(m, 1)]) for m in train_months]
    train = pd.concat(train_parts, ignore_index=True) if train_parts else pd.DataFrame()
    model: state_model.DropModel | None = None
    if drop_model is not None:
        version, model = drop_model
        metrics["drop_model"] = {"source": "registry", "version": version, "train_rows": model.trained_rows}
    elif len(train) and 0 < train["drop"].mean() < 1:
        model = state_model.fit(train)
        metrics["drop_model"] = {
            "source": "fitted in run",
            "train_rows": model.trained_rows,
            "train_drop_rate": round(model.base_rate, 4),
        }
    if model is not None:
        eligible = features[features["spend_3m_avg_krw"] >= state_model.MIN_AVG_SPEND_KRW]
        drop_probability = dict(
            zip(eligible["customer_id"].astype(int), model.predict(eligible).astype(float), strict=True)
        )
    lap("prediction")

    step("single views")
    top_categories = con.sql(
        f"""WITH s AS (
                SELECT customer_id, category_code, SUM(spend_krw) AS spend
                FROM cm_spend WHERE month >= DATE '{add_months(month, -2).isoformat()}'
                  AND month <= DATE '{month.isoformat()}'
                GROUP BY customer_id, category_code)
            SELECT customer_id, category_code, spend / SUM(spend) OVER (PARTITION BY customer_id) AS share
            FROM s QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY spend DESC, category_code) <= 3"""
    ).df()
    names = {
        r[0]: (r[1], r[2]) for r in con.execute("SELECT category_code, name_ko, name_en FROM categories").fetchall()
    }
    views = assemble(
        month=month,
        catalog=catalog,
        customers=people,
        features=features,
        grades=grades,
        stages=stages,
        triggers=triggers,
        events=events,
        top_categories=top_categories,
        drop_probability=drop_probability,
        category_names=names,
        quarter=quarter,
        risk=risk,
    )
    lap("single_views")
    return MonthResult(
        month=month,
        quarter=quarter,
        grades=grades,
        stages=stages,
        triggers=triggers,
        views=views,
        features=features,
        timings=timings,
        metrics=metrics,
    )
