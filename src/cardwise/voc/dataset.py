"""Monthly snapshots: one row per customer and month with every feature and next month's outcomes.

A snapshot at month m sees everything up to the end of m and asks what happens in m+1. Customers who
churned before the end of m are no longer customers and are left out; for each outcome, customers who
already had it (a complaint filed, a card loan taken) are not at risk of it and get no label.

Campaign results flow back here: a campaign member whose outcome was recorded as the event counts as
a positive for that month even when the lake has not seen it yet, and ``campaign_contacts_3m`` tells
the model who was contacted recently, so a successful intervention is not mistaken for low risk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from cardwise.lake.marts import Marts
from cardwise.lake.sql import BatchEngine, Transform, other_engine, query_frame
from cardwise.marketing.batch import customer_features_for, register_on_engine
from cardwise.marketing.marts import add_months, ensure_monthly_marts, lake_months, register_marts
from cardwise.voc.features import NO_CALL_DAYS, TARGETS, VOC_CONTEXT, VOC_LABELS, VOC_TEXT, WITH_TEXT
from cardwise.voc.signals import CALLS, MEMOS, TextSignals

HISTORY_MONTHS = 6  # the marketing window features read six months; text windows read up to six
FEEDBACK_COLUMNS = ("customer_id", "month", "target", "arm", "outcome")


class DatasetError(Exception):
    """The lake cannot give what was asked (too few months, no labels)."""


def prepare(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    signals: TextSignals,
    months: list[date],
    *,
    extra_calls: pd.DataFrame | None = None,
    step: Callable[[str], None] = lambda _: None,
    engine: BatchEngine | None = None,
) -> None:
    """Compute what is missing (marketing marts, text signals) for ``months`` and register the views.

    With another engine (Spark) the marts' scans of the raw transactions run there, and the marts and
    signal files are registered there too, so :func:`snapshot` can aggregate them on it. The text
    analysis itself stays in Python (kiwipiepy), one file per month."""
    ensure_monthly_marts(con, marts, months, step=step, engine=engine)
    register_marts(con, marts, months)
    signals.ensure(con, months, step=step)
    signals.register(con, months, extra_calls)
    elsewhere = other_engine(engine)
    if elsewhere is not None:
        register_on_engine(elsewhere, marts, months, VOC_CONTEXT.inputs)
        for table in (CALLS, MEMOS):
            elsewhere.register_files(table, [signals.path(table, m) for m in months])  # type: ignore[attr-defined]


def history_for(con: duckdb.DuckDBPyConnection, months: list[date]) -> list[date]:
    """The lake months a set of snapshot months reads (each with its six months before)."""
    covered = lake_months(con)
    if not covered:
        raise DatasetError("the lake has no transactions")
    wanted = {add_months(m, -k) for m in months for k in range(HISTORY_MONTHS)}
    outside = [m for m in months if m not in covered]
    if outside:
        raise DatasetError(f"the lake covers {covered[0]:%Y-%m}..{covered[-1]:%Y-%m}; {outside[0]:%Y-%m} is outside it")
    return [m for m in covered if m in wanted]


def labelled_months(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Snapshot months whose next month lies inside the period the labels were observed in."""
    covered = lake_months(con)
    rows = con.execute(
        "SELECT min(least(churned_on, complained_on, delinquent_on, card_loan_on)) FROM labels"
    ).fetchall()
    first = rows[0][0] if rows else None
    if first is None or not covered:
        return []
    first_month = date(first.year, first.month, 1)
    return [m for m in covered if first_month <= add_months(m, 1) <= covered[-1] and m >= covered[2]]


def snapshot(
    con: duckdb.DuckDBPyConnection,
    month: date,
    *,
    feedback: pd.DataFrame | None = None,
    engine: BatchEngine | None = None,
) -> pd.DataFrame:
    """Features and labels of every customer at ``month`` (the views of ``prepare`` must cover it).
    ``engine``: where the context, text and label aggregates run (DuckDB on ``con`` by default)."""
    # Parallel aggregation adds floats in a different order on every run; boosting bins its inputs, so a
    # last-digit difference can move a split. One thread makes the same lake give the same features.
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    con.execute("SET threads = 1")
    try:
        return _snapshot(con, month, feedback, engine)
    finally:
        con.execute(f"SET threads = {threads}")


def _snapshot(
    con: duckdb.DuckDBPyConnection, month: date, feedback: pd.DataFrame | None, engine: BatchEngine | None
) -> pd.DataFrame:
    def query(t: Transform) -> pd.DataFrame:
        return query_frame(con, t, engine)

    end = add_months(month, 1)
    base = customer_features_for(con, month, engine)
    context = query(VOC_CONTEXT.bind(month_start=month, window3_start=add_months(month, -2)))
    text = query(
        VOC_TEXT.bind(
            month_start=month, month_end=end, window3_start=add_months(month, -2), window6_start=add_months(month, -5)
        )
    )
    labels = query(VOC_LABELS.bind(month_end=end, next_end=add_months(month, 2)))
    profile = con.sql("SELECT customer_id, income_band, is_sole_proprietor, marital_status, gender FROM customers").df()
    profile = pd.DataFrame(
        {
            "customer_id": profile["customer_id"],
            "income_band": profile["income_band"].astype(np.float64),
            "self_employed": profile["is_sole_proprietor"].astype(np.float64),
            "married": (profile["marital_status"] == "married").astype(np.float64),
            "female": (profile["gender"] == "F").astype(np.float64),
        }
    )
    frame = (
        base.merge(profile, on="customer_id", how="left")
        .merge(context, on="customer_id", how="left")
        .merge(text, on="customer_id", how="left")
        .merge(labels, on="customer_id", how="left")
    )
    frame["month"] = pd.Timestamp(month)
    for column in WITH_TEXT:
        if column not in frame:
            frame[column] = np.nan
    counts = [c for c in WITH_TEXT if c.endswith(("_3m", "_1m", "_6m")) and not c.startswith("sentiment_")]
    frame[counts] = frame[counts].fillna(0.0)
    frame[["sentiment_mean_3m", "sentiment_min_3m"]] = frame[["sentiment_mean_3m", "sentiment_min_3m"]].fillna(0.0)
    days = [c for c in WITH_TEXT if c.startswith("days_since_")]
    frame[days] = frame[days].fillna(NO_CALL_DAYS).clip(upper=NO_CALL_DAYS)
    before = frame["churn_before"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    frame = frame[~before].reset_index(drop=True)
    for target in TARGETS:
        already = frame[f"{target}_before"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        label = frame[target].astype("boolean").fillna(False).to_numpy(dtype=np.float64)
        frame[target] = np.where(already, np.nan, label)
    frame = frame.drop(columns=[f"{t}_before" for t in TARGETS])
    if feedback is not None and len(feedback):
        frame = apply_feedback(frame, month, feedback)
    frame[list(WITH_TEXT)] = frame[list(WITH_TEXT)].astype(np.float64)
    # SQL results come back in no particular order; the folds of the calibration depend on row order,
    # so a seed only fixes the model when the rows are in a fixed order.
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def apply_feedback(frame: pd.DataFrame, month: date, feedback: pd.DataFrame) -> pd.DataFrame:
    """Campaign memberships and outcomes (``FEEDBACK_COLUMNS``) applied to one month's snapshot."""
    fb = feedback.assign(month=pd.to_datetime(feedback["month"]))
    now = pd.Timestamp(month)
    recent = fb[
        (fb["arm"] == "treatment") & (fb["month"] <= now) & (fb["month"] >= pd.Timestamp(add_months(month, -2)))
    ]
    contacts = recent.groupby("customer_id").size()
    out = frame.copy()
    out["campaign_contacts_3m"] = (
        out["customer_id"].map(contacts).fillna(0.0).to_numpy(dtype=np.float64) + out["campaign_contacts_3m"]
    )
    events = fb[(fb["month"] == now) & fb["outcome"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    for target, rows in events.groupby("target"):
        if target not in TARGETS:
            continue
        hit = out["customer_id"].isin(rows["customer_id"]).to_numpy() & out[str(target)].notna().to_numpy()
        out.loc[hit, str(target)] = 1.0
    return out
