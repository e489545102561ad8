"""Retraining on data growth, promotion only of a better model, failures that change nothing, rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.core.errors import Conflict
from cardwise.db.engine import make_engine
from cardwise.mlops.lifecycle import load_champion, promote, retrain_if_needed, rollback
from cardwise.mlops.managed import AnomalyModel
from cardwise.mlops.models import ModelDecision
from cardwise.mlops.registry import Registry
from tests.mlops.conftest import append_month

# Two real configurations of the anomaly model: a careful one, and one starved of data.
GOOD = AnomalyModel(sample=20_000)
POOR = AnomalyModel(sample=300, history_months=2)


def decisions(settings: Settings) -> list[ModelDecision]:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as s:
            return list(s.execute(select(ModelDecision).order_by(ModelDecision.decision_id)).scalars())
    finally:
        engine.dispose()


def test_first_model_becomes_champion_with_its_run_logged(lc_settings: Settings) -> None:
    d = retrain_if_needed(lc_settings, "anomaly", managed=GOOD)
    assert d.decision == "first_champion" and d.challenger_score is not None
    champ = Registry(lc_settings).champion("anomaly")
    assert champ is not None and champ.version == d.challenger_version
    assert {"data_window", "data_rows", "data_rows_total", "holdout"} <= set(champ.tags)
    assert champ.metrics["average_precision"] == pytest.approx(d.challenger_score)
    assert champ.params["sample"] == "20000"
    loaded = load_champion(lc_settings, "anomaly")
    assert loaded is not None and loaded[1].detector.threshold_ > 0


def test_data_growth_past_the_threshold_retrains_and_a_better_challenger_is_promoted(lc_settings: Settings) -> None:
    first = retrain_if_needed(lc_settings, "anomaly", managed=POOR)
    assert first.decision == "first_champion"
    # Below the threshold nothing is trained.
    assert retrain_if_needed(lc_settings, "anomaly", managed=GOOD, threshold=1_000).decision == "not_needed"
    added = append_month(lc_settings.lake_dir)
    assert added > 1_000
    d = retrain_if_needed(lc_settings, "anomaly", managed=GOOD, threshold=1_000)
    assert d.rows_now is not None and d.rows_at_champion is not None
    assert d.rows_now - d.rows_at_champion == added
    assert d.decision == "promoted", d
    assert d.challenger_score is not None and d.champion_score is not None
    assert d.challenger_score >= d.champion_score + lc_settings.promote_margin
    registry = Registry(lc_settings)
    assert registry.champion("anomaly").version == d.challenger_version  # type: ignore[union-attr]
    assert registry.by_alias("anomaly", "previous").version == first.challenger_version  # type: ignore[union-attr]
    stored = decisions(lc_settings)[-1]
    assert (stored.decision, stored.champion_score, stored.challenger_score) == (
        "promoted",
        d.champion_score,
        d.challenger_score,
    )


def test_a_worse_challenger_is_refused_and_the_champion_stays(lc_settings: Settings) -> None:
    champ = retrain_if_needed(lc_settings, "anomaly", managed=GOOD)
    append_month(lc_settings.lake_dir)
    d = retrain_if_needed(lc_settings, "anomaly", managed=POOR, threshold=1_000)
    assert d.decision == "rejected", d
    assert d.challenger_score is not None and d.champion_score is not None
    assert d.challenger_score < d.champion_score + lc_settings.promote_margin
    registry = Registry(lc_settings)
    assert registry.champion("anomaly").version == champ.challenger_version  # type: ignore[union-attr]
    assert registry.version("anomaly", d.challenger_version or "").tags["decision"] == "rejected"


def test_a_failed_training_never_replaces_the_champion(lc_settings: Settings) -> None:
    champ = retrain_if_needed(lc_settings, "anomaly", managed=GOOD)
    broken = AnomalyModel(sample=0)  # the mixture gets no rows: scikit-learn refuses to fit
    d = retrain_if_needed(lc_settings, "anomaly", managed=broken, force=True)
    assert d.decision == "failed" and "champion kept" in d.reason
    assert Registry(lc_settings).champion("anomaly").version == champ.challenger_version  # type: ignore[union-attr]
    assert decisions(lc_settings)[-1].decision == "failed"


def test_rollback_and_manual_promotion(lc_settings: Settings) -> None:
    with pytest.raises(Conflict):
        rollback(lc_settings, "anomaly")
    first = retrain_if_needed(lc_settings, "anomaly", managed=POOR)
    second = retrain_if_needed(lc_settings, "anomaly", managed=GOOD, force=True)
    assert second.decision == "promoted"
    back = rollback(lc_settings, "anomaly")
    assert back.challenger_version == first.challenger_version
    assert Registry(lc_settings).champion("anomaly").version == first.challenger_version  # type: ignore[union-attr]
    promote(lc_settings, "anomaly", second.challenger_version or "")
    assert Registry(lc_settings).champion("anomaly").version == second.challenger_version  # type: ignore[union-attr]
    assert [x.decision for x in decisions(lc_settings)][-2:] == ["rollback", "manual_promote"]
