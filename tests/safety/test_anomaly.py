"""The post-approval anomaly model on a small lake with known injected fraud."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cardwise.lake.store import connect
from cardwise.safety.anomaly import (
    CHANNELS,
    FEATURES,
    AnomalyDetector,
    Frame,
    Split,
    card_precision_at_k,
    card_velocity,
    evaluate,
)

SPLIT = Split(date(2022, 10, 1), date(2023, 4, 1), date(2023, 11, 1))


@pytest.fixture(scope="module")
def report(small_lake: Path) -> dict[str, object]:
    con = connect(small_lake)
    try:
        return evaluate(con, SPLIT, seed=3)
    finally:
        con.close()


def test_model_ranks_fraud_above_normal_and_beats_baselines(report: dict[str, dict[str, float]]) -> None:
    model = report["gmm_profile_distance"]
    assert model["roc_auc"] > 0.85
    fraud_rate = float(report["fraud_rate"])  # type: ignore[arg-type]
    assert model["average_precision"] > 10 * fraud_rate  # far beyond chance
    for baseline in ("baseline_amount_zscore", "baseline_isolation_forest"):
        assert model["average_precision"] > report[baseline]["average_precision"]
    assert 0.001 < model["alert_rate"] < 0.03


def test_evaluation_is_deterministic(small_lake: Path, report: dict[str, object]) -> None:
    con = connect(small_lake)
    try:
        assert evaluate(con, SPLIT, seed=3) == report
    finally:
        con.close()


def test_malformed_rows_get_a_clear_error() -> None:
    with pytest.raises(ValueError, match=f"{len(FEATURES)} features"):
        AnomalyDetector().fit(np.zeros((10, 3)))
    bad = np.zeros((10, len(FEATURES)))
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        AnomalyDetector().fit(bad)


def _frame(cards: list[int], seconds: list[int]) -> Frame:
    n = len(cards)
    zeros = np.zeros(n, dtype=np.int64)
    return Frame(
        customer=zeros,
        category=zeros,
        hour=zeros,
        region=zeros,
        channel=zeros,
        log_amount=np.zeros(n),
        day=zeros,
        second=np.array(seconds),
        card=np.array(cards),
        is_fraud=np.zeros(n, dtype=bool),
    )


def test_card_velocity_counts_the_past_hour_per_card() -> None:
    f = _frame([1, 1, 2, 1, 1], [0, 600, 700, 1200, 5000])
    assert card_velocity(f).tolist() == [0.0, 1.0, 0.0, 2.0, 0.0]
    assert CHANNELS == ("offline", "online", "overseas")


def test_card_precision_at_k() -> None:
    days = np.array([0, 0, 0, 1, 1])
    cards = np.array([1, 2, 3, 1, 2])
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.7])
    fraud = np.array([True, False, False, False, False])
    # Day 0: top-2 cards are 1 (fraud) and 2 → 0.5; day 1: top-2 are 2 and 1, no fraud → 0.
    assert card_precision_at_k(days, cards, scores, fraud, k=2) == pytest.approx(0.25)


def test_trained_model_round_trips_with_its_metadata(small_lake: Path, tmp_path: Path) -> None:
    from cardwise.safety.anomaly import load_frame, load_latest, save, train

    con = connect(small_lake)
    try:
        model = train(con, start=date(2022, 10, 1), end=date(2023, 4, 1), seed=1)
        sample = load_frame(con, date(2023, 4, 1), date(2023, 5, 1), model.codes)
    finally:
        con.close()
    dest = save(model, tmp_path)
    meta = (dest / "meta.json").read_text()
    assert '"card_velocity"' in meta and model.data_hash in meta
    loaded = load_latest(tmp_path)
    x, _ = model.profiles.features(sample)
    assert np.array_equal(loaded.detector.score_samples(x), model.detector.score_samples(x))
    # The artifact holds distributions and mixture parameters, not transaction rows.
    assert not any(isinstance(v, Frame) for v in vars(loaded).values())
    with pytest.raises(FileNotFoundError, match="cardwise safety train"):
        load_latest(tmp_path / "empty")


def test_a_customer_without_history_is_judged_against_everyone() -> None:
    from cardwise.safety.anomaly import CustomerProfiles

    def frame(customers: list[int], categories: list[int]) -> Frame:
        n = len(customers)
        zeros = np.zeros(n, dtype=np.int64)
        return Frame(
            customer=np.array(customers),
            category=np.array(categories),
            hour=zeros + 12,
            region=zeros,
            channel=zeros,
            log_amount=np.full(n, 9.0),
            day=zeros,
            second=np.arange(n) * 10_000,
            card=np.array(customers),
            is_fraud=np.zeros(n, dtype=bool),
        )

    # Customer 1 only buys category 0, customer 2 only category 1.
    profiles = CustomerProfiles().fit(frame([1] * 50 + [2] * 50, [0] * 50 + [1] * 50), 2, 1)
    x, known = profiles.features(frame([1, 2, 3], [1, 1, 1]))
    surprise = x[:, FEATURES.index("category_surprise")]
    assert known.tolist() == [True, True, False]
    assert surprise[0] > surprise[2] > surprise[1]  # the newcomer sits between the two habits
