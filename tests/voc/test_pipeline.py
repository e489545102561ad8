"""The VOC pipeline on the small lake: labels, text signals against the ground truth, training that is
deterministic for a seed, scoring (also of a transcript with no usable text), evaluation, feedback."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from cardwise.marketing.marts import add_months
from cardwise.voc import signals as signals_module
from cardwise.voc.dataset import DatasetError, apply_feedback, history_for, labelled_months, prepare, snapshot
from cardwise.voc.features import TARGETS, WITH_TEXT
from cardwise.voc.signals import TextSignals
from cardwise.voc.training import TrainedVocModel, evaluate_voc, score_month, text_quality, train_voc, training_frame
from tests.voc.conftest import Sources

LABELLED = [date(2023, m, 1) for m in range(4, 10)]


def _prepared(con: duckdb.DuckDBPyConnection, sources: Sources, months: list[date]) -> None:
    prepare(con, sources.marts, sources.signals, history_for(con, months))


def test_labelled_months_are_those_whose_next_month_has_outcomes(con: duckdb.DuckDBPyConnection) -> None:
    assert labelled_months(con) == LABELLED


def test_snapshot_labels_are_next_months_outcomes(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    month = date(2023, 8, 1)
    _prepared(con, sources, [month])
    frame = snapshot(con, month)
    labels = con.sql("SELECT * FROM labels").df().set_index("customer_id")
    end, nxt = pd.Timestamp("2023-09-01"), pd.Timestamp("2023-10-01")
    churned_before = set(labels.index[labels["churned"] & (pd.to_datetime(labels["churned_on"]) < end)])
    assert churned_before and not churned_before & set(frame["customer_id"])
    for target, (flag, when) in {
        "churn": ("churned", "churned_on"),
        "complaint": ("complained", "complained_on"),
        "card_loan": ("card_loan", "card_loan_on"),
    }.items():
        on = pd.to_datetime(labels[when])
        expected = set(labels.index[labels[flag] & (on >= end) & (on < nxt)])
        assert set(frame.loc[frame[target] == 1, "customer_id"]) == expected, target
        before = set(labels.index[labels[flag] & (on < end)]) - churned_before
        assert frame.loc[frame["customer_id"].isin(before), target].isna().all(), target
    assert frame[list(WITH_TEXT)].dtypes.eq(np.float64).all()


def test_text_signals_agree_with_the_lakes_ground_truth(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    _prepared(con, sources, LABELLED)
    quality = text_quality(con, LABELLED)
    assert quality["calls"] > 200 and quality["memos"] > 1000
    assert quality["topic_accuracy"] >= 0.95 and quality["memo_kind_accuracy"] >= 0.95


def test_text_signals_are_reused_until_the_analyzer_changes(
    con: duckdb.DuckDBPyConnection, sources: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    months = [date(2023, 9, 1)]
    assert sources.signals.ensure(con, months) == 0 or sources.signals.ensure(con, months) == 0
    assert sources.signals.ensure(con, months) == 0
    monkeypatch.setattr(signals_module, "analyzer_version", lambda: "another-dictionary")
    edited = TextSignals(sources.signals.root, sources.marts.lake, sources.signals.analyzer)
    assert not edited.is_current(signals_module.CALLS, months[0])


def test_training_is_deterministic_for_a_seed(
    con: duckdb.DuckDBPyConnection, sources: Sources, trained: TrainedVocModel
) -> None:
    again, metrics = train_voc(con, sources.marts, sources.signals, seed=0)
    month = date(2023, 10, 1)
    _prepared(con, sources, [month])
    frame = snapshot(con, month)
    pd.testing.assert_frame_equal(trained.model.predict_proba(frame), again.model.predict_proba(frame))
    assert again.data_hash == trained.data_hash and again.version.split("-")[1] == trained.version.split("-")[1]
    assert metrics["months"] == [f"{m:%Y-%m}" for m in LABELLED]
    assert all(metrics["positives"][t] >= 2 for t in TARGETS)


def test_a_transcript_with_no_usable_text_still_scores(
    con: duckdb.DuckDBPyConnection, sources: Sources, trained: TrainedVocModel
) -> None:
    month = date(2023, 10, 1)
    customers = con.sql("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 3").df()["customer_id"]
    calls = pd.DataFrame(
        {
            "transcript_id": [-1, -2, -3],
            "customer_id": customers.to_numpy(),
            "started_at": [datetime(2023, 10, 5, 10), datetime(2023, 10, 6, 11), datetime(2023, 10, 7, 12)],
            "duration_s": [40, 0, 5],
            "text": ["", "상담사: [인식 불가]\n고객: ...", None],
        }
    )
    scores = score_month(con, sources.marts, sources.signals, trained, month, extra_calls=calls)
    mine = scores.set_index("customer_id").loc[customers.to_numpy()]
    for target in TARGETS:
        assert np.isfinite(mine[target]).all() and ((mine[target] > 0) & (mine[target] < 1)).all()
    frame = snapshot(con, month)
    assert (frame.set_index("customer_id").loc[customers.to_numpy(), "unusable_calls_3m"] >= 1).all()
    prepare(con, sources.marts, sources.signals, history_for(con, [month]))  # drop the extra calls again


def test_scores_deciles_drivers_and_keywords(
    con: duckdb.DuckDBPyConnection, sources: Sources, trained: TrainedVocModel
) -> None:
    month = date(2023, 9, 1)
    scores = score_month(con, sources.marts, sources.signals, trained, month)
    assert scores["customer_id"].is_unique and len(scores) > 350
    for target in TARGETS:
        counts = scores[f"{target}_decile"].value_counts()
        assert set(counts.index) == set(range(1, 11)) and counts.max() - counts.min() <= 1
        top = scores[scores[f"{target}_decile"] == 1][target].min()
        assert top >= scores[scores[f"{target}_decile"] > 1][target].max()
    drivers = scores["drivers"].iloc[0]
    assert set(drivers) == set(TARGETS)
    riskiest = scores.sort_values("complaint").iloc[-1]
    assert riskiest["drivers"]["complaint"] and riskiest["drivers"]["complaint"][0]["impact"] > 0
    assert any(scores["keywords"].map(len) > 0)
    assert all(isinstance(k, str) and not any(c.isdigit() for c in k) for ks in scores["keywords"] for k in ks)


def test_evaluation_report(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    report = evaluate_voc(con, sources.marts, sources.signals)
    assert report["train_months"] == ["2023-04", "2023-05", "2023-06", "2023-07"]
    assert report["test_months"] == ["2023-08", "2023-09"]
    for target in TARGETS:
        r = report["targets"][target]
        for model in ("baseline_rfm_logistic", "boosting_without_text", "boosting_with_text"):
            assert 0 <= r[model]["roc_auc"] <= 1 and 0 <= r[model]["average_precision"] <= 1
        lo, hi = r["text_lift"]["ci95"]["average_precision"]
        assert lo <= hi
    # 400 customers give a handful of test positives; the text lift is measured on seed002 (README). Here:
    # what the customers said helps on average for the outcomes the text speaks about.
    lift = [report["targets"][t]["text_lift"]["average_precision"] for t in ("complaint", "delinquency", "card_loan")]
    assert sum(lift) > 0


def test_campaign_feedback_becomes_labels(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    month = date(2023, 6, 1)
    frame = training_frame(con, sources.marts, sources.signals, [month])
    quiet = frame[(frame["complaint"] == 0)]["customer_id"].head(3).tolist()
    feedback = pd.DataFrame(
        {
            "customer_id": [*quiet, quiet[0]],
            "month": [month, month, month, add_months(month, -1)],
            "target": ["complaint", "complaint", "complaint", "churn"],
            "arm": ["treatment", "treatment", "control", "treatment"],
            "outcome": [True, False, True, None],
        }
    )
    after = apply_feedback(frame, month, feedback).set_index("customer_id")
    assert after.loc[quiet[0], "complaint"] == 1 and after.loc[quiet[2], "complaint"] == 1
    assert after.loc[quiet[1], "complaint"] == 0
    assert after.loc[quiet[0], "campaign_contacts_3m"] == 2 and after.loc[quiet[2], "campaign_contacts_3m"] == 0
    assert (after["complaint"] == 1).sum() == (frame["complaint"] == 1).sum() + 2


def test_months_outside_the_lake_are_refused(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    with pytest.raises(DatasetError, match="outside it"):
        history_for(con, [date(2031, 1, 1)])
    with pytest.raises(DatasetError, match="no labelled test month"):
        evaluate_voc(con, sources.marts, sources.signals, test_months=(date(2023, 10, 1),))
