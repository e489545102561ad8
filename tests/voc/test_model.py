"""The risk models on synthetic frames: calibrated, deterministic for a seed, explanations that name
the group that drives the risk, deciles, no training rows kept."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from cardwise.voc.features import TARGETS, WITH_TEXT, WITHOUT_TEXT
from cardwise.voc.model import RfmBaseline, RiskClassifier, VocRiskModel, deciles

N = 3000


def _frame(seed: int = 0, n: int = N) -> pd.DataFrame:
    """Noise features; complaint follows complaint mentions, churn follows the spending trend."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(WITH_TEXT))), columns=list(WITH_TEXT))
    frame["complaint_mentions_6m"] = rng.poisson(0.3, n).astype(float)
    frame["ratio_to_3m"] = rng.uniform(0, 2, n)
    for col in ("recency_days", "txn_count", "count_3m_avg", "spend_krw", "spend_3m_avg_krw"):
        frame[col] = np.abs(frame[col]) * 10
    logit = {
        "complaint": -4.0 + 1.6 * frame["complaint_mentions_6m"],
        "churn": -2.0 - 3.0 * frame["ratio_to_3m"],
        "delinquency": -3.0 + 0.8 * frame["installment_share"],
        "card_loan": -3.0 + 0.8 * frame["app_loan_views_3m"],
    }
    for target, z in logit.items():
        frame[target] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    frame.loc[frame.index[:50], "card_loan"] = np.nan  # already took a loan: not at risk
    return frame


@pytest.fixture(scope="module")
def fitted() -> VocRiskModel:
    return VocRiskModel(max_iter=60, learning_rate=0.1, max_leaf_nodes=7, random_state=0).fit(_frame(0))


def test_probabilities_are_calibrated_on_new_data(fitted: VocRiskModel) -> None:
    test = _frame(1)
    p = fitted.predict_proba(test)
    assert list(p.columns) == list(TARGETS)
    for target in TARGETS:
        y = test[target].dropna()
        assert abs(p.loc[y.index, target].mean() - y.mean()) < 0.02, target
    high = test["complaint_mentions_6m"] >= 3
    assert p.loc[high, "complaint"].mean() > 5 * p.loc[test["complaint_mentions_6m"] == 0, "complaint"].mean()


def test_rows_not_at_risk_are_left_out_of_training(fitted: VocRiskModel) -> None:
    assert fitted.rows_["card_loan"] == N - 50 and fitted.rows_["churn"] == N


def test_same_seed_same_model() -> None:
    train, test = _frame(0, n=1500), _frame(1, n=500)
    a = VocRiskModel(max_iter=30, random_state=7).fit(train).predict_proba(test)
    b = VocRiskModel(max_iter=30, random_state=7).fit(train).predict_proba(test)
    pd.testing.assert_frame_equal(a, b)


def test_explanations_name_the_group_that_drives_the_risk(fitted: VocRiskModel) -> None:
    test = _frame(2).head(400)
    drivers = fitted.explain(test)
    assert set(drivers) == set(TARGETS) and all(len(rows) == len(test) for rows in drivers.values())
    loud = [i for i in range(len(test)) if test["complaint_mentions_6m"].iloc[i] >= 3]
    assert loud
    for i in loud:
        top = drivers["complaint"][i][0]
        assert top.code == "COMPLAINT_TALK"
        assert top.impact > 0 and "불만·민원 언급" in (top.evidence_ko or "")
    falling = [i for i in range(len(test)) if test["ratio_to_3m"].iloc[i] < 0.1]
    assert all(drivers["churn"][i] and drivers["churn"][i][0].code == "SPEND_TREND" for i in falling)
    for rows in drivers.values():
        for row in rows:
            assert len(row) <= 3 and all(d.impact > 0 for d in row)
            assert [d.impact for d in row] == sorted((d.impact for d in row), reverse=True)


def test_no_training_rows_are_kept(fitted: VocRiskModel) -> None:
    blob = pickle.dumps(fitted)
    train = _frame(0)
    # a model's size does not grow with its training rows, and a row's exact values are not in it
    assert len(blob) < 5_000_000
    assert train["ratio_to_3m"].to_numpy()[:20].tobytes() not in blob
    assert fitted.reference_.shape == (len(WITH_TEXT),)


def test_without_text_reads_only_its_features() -> None:
    frame = _frame(0)[[*WITHOUT_TEXT, *TARGETS]]
    model = VocRiskModel(features=WITHOUT_TEXT, max_iter=20).fit(frame)
    assert model.predict_proba(frame).shape == (N, 4)
    with pytest.raises(ValueError, match="missing feature columns"):
        VocRiskModel(max_iter=20).fit(frame)


def test_a_single_outcome_cannot_be_learned() -> None:
    x = np.zeros((40, 2))
    with pytest.raises(ValueError, match="both outcomes"):
        RiskClassifier().fit(x, np.zeros(40))
    with pytest.raises(ValueError, match="two examples"):
        RiskClassifier().fit(x, np.r_[np.zeros(39), 1])


def test_baseline_reads_rfm_only() -> None:
    frame = _frame(0)
    p = RfmBaseline().fit(frame).predict_proba(frame)
    assert p.shape == (N, 4) and p.notna().all().all()


def test_deciles_are_tenths_riskiest_first_ties_by_id() -> None:
    p = pd.Series(np.r_[np.linspace(1, 0, 95), np.zeros(5)])
    ids = pd.Series(np.arange(100)[::-1])
    d = deciles(p, ids)
    assert d[0] == 1 and d[94] == 10
    assert np.bincount(d)[1:].tolist() == [10] * 10
    assert deciles(pd.Series([0.5, 0.5]), pd.Series([2, 1])).tolist() == [6, 1]
    assert deciles(pd.Series([], dtype=float), pd.Series([], dtype=int)).tolist() == []
