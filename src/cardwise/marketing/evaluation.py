"""Held-out evaluation of the marketing models against the lake's ground truth.

- Next-month usage drop: trained on months whose outcome is known before the test months, tested
  on the test months, printed next to the naive baseline.
- Life-event triggers: for every generated life event, was a trigger of its kind raised in the
  month it happened or the month after (recall), and how many triggers match an event (precision).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from cardwise.lake.marts import Marts
from cardwise.marketing import state_model
from cardwise.marketing.batch import LIFE_KINDS, customer_features_for, month_data
from cardwise.marketing.changes import ChangeConfig, detect
from cardwise.marketing.marts import add_months, ensure_monthly_marts, lake_months, register_marts

EVENT_KIND = {
    "marriage": "LIFE_MARRIAGE",
    "car_purchase": "LIFE_CAR_PURCHASE",
    "childbirth": "LIFE_CHILDBIRTH",
    "moving": "LIFE_MOVING",
}


def evaluate_drop_model(
    con: duckdb.DuckDBPyConnection, marts: Marts, test_months: list[date], step: Callable[[str], None] = lambda _: None
) -> state_model.Evaluation:
    covered = lake_months(con)
    ensure_monthly_marts(con, marts, covered, step=step)
    register_marts(con, marts, covered)
    first_test = min(test_months)
    usable = [m for m in covered[2:] if add_months(m, 1) in covered]
    frames = {
        m: customer_features_for(con, m)
        for m in usable + [add_months(m, 1) for m in usable if add_months(m, 1) not in usable]
    }
    train_months = [m for m in usable if add_months(m, 1) < first_test]
    test = [m for m in test_months if m in usable]
    if not train_months or not test:
        raise ValueError(f"not enough months: train {train_months}, test {test}")
    train = pd.concat(
        [state_model.labelled(frames[m], frames[add_months(m, 1)]) for m in train_months], ignore_index=True
    )
    held_out = pd.concat([state_model.labelled(frames[m], frames[add_months(m, 1)]) for m in test], ignore_index=True)
    return state_model.evaluate(train, held_out)


def evaluate_life_events(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    cfg: ChangeConfig = ChangeConfig(),
    step: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, Any]]:
    covered = lake_months(con)
    ensure_monthly_marts(con, marts, covered, step=step)
    register_marts(con, marts, covered)
    people = con.sql("SELECT * FROM customers").df()
    people["joined_on"] = pd.to_datetime(people["joined_on"])
    found = []
    for month in covered[2:]:
        step(f"triggers {month:%Y-%m}")
        history = [m for m in covered if add_months(month, -7) <= m <= month]
        t = detect(month_data(con, people, month, history), cfg)
        life = t[t["kind"].isin(LIFE_KINDS)].copy()
        life["month"] = pd.Series(pd.Period(month, "M"), index=life.index)
        found.append(life)
    triggers = pd.concat(found, ignore_index=True)
    events = con.sql("SELECT customer_id, event_type, event_date FROM life_events").df()
    events["month"] = pd.to_datetime(events["event_date"]).dt.to_period("M")
    out: dict[str, dict[str, Any]] = {}
    for event_type, kind in EVENT_KIND.items():
        ev = events[events["event_type"] == event_type]
        tr = triggers[triggers["kind"] == kind]
        pairs = ev.merge(tr, on="customer_id", suffixes=("_event", "_trigger"))
        timely = pairs[
            (pairs["month_trigger"] >= pairs["month_event"]) & (pairs["month_trigger"] <= pairs["month_event"] + 1)
        ]
        out[event_type] = {
            "events": len(ev),
            "triggers": len(tr),
            "recall": round(timely["customer_id"].nunique() / len(ev), 3) if len(ev) else None,
            "precision": round(len(timely.drop_duplicates(["customer_id", "month_trigger"])) / len(tr), 3)
            if len(tr)
            else None,
        }
    return out
