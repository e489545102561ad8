"""Drift statistics, job-run records, retention, and the metrics and back-office endpoints."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.engine import make_engine
from cardwise.db.types import utcnow
from cardwise.mlops.jobs import tracked
from cardwise.mlops.lifecycle import retrain_if_needed
from cardwise.mlops.managed import AnomalyModel
from cardwise.mlops.models import JobRun
from cardwise.mlops.monitoring import drift, level, psi
from cardwise.notify.models import OutboxMessage
from cardwise.scheduler import JOBS, run_job
from tests.auth_helpers import as_staff

samples = st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=20, max_size=300)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_psi_of_a_sample_against_itself_is_zero(x: list[float]) -> None:
    assert psi(x, x) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_psi_is_never_negative(a: list[float], b: list[float]) -> None:
    assert psi(a, b) >= 0


def test_psi_grows_with_the_shift_and_levels_follow_the_settings() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 20_000)
    values = [psi(ref, rng.normal(shift, 1, 20_000)) for shift in (0.0, 0.2, 0.5, 1.0)]
    assert values == sorted(values) and values[0] < 0.01 and values[-1] > 0.25
    s = Settings(environment="test")
    assert [level(v, s) for v in (0.01, 0.15, 0.4)] == ["ok", "warn", "alarm"]


def test_drift_of_the_champion_inputs(lc_settings: Settings) -> None:
    with pytest.raises(LookupError):
        drift(lc_settings, "anomaly")
    retrain_if_needed(lc_settings, "anomaly", managed=AnomalyModel(sample=20_000))
    report = drift(lc_settings, "anomaly").as_dict()
    assert report["current"] == "2023-10" and report["reference"] == "2023-09"
    assert set(report["features"]) >= {"amount_z", "category_surprise", "card_velocity"}
    assert report["worst"] in {"ok", "warn", "alarm", "unknown"}


def test_job_runs_record_success_and_failure(lc_settings: Settings) -> None:
    assert tracked(lc_settings, "demo", lambda: {"rows": 3}, trigger="cli") == {"rows": 3}

    def broken() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        tracked(lc_settings, "demo", broken, trigger="cli")
    engine = make_engine(lc_settings.sqlalchemy_url)
    with Session(engine) as s:
        runs = s.execute(select(JobRun).order_by(JobRun.run_id)).scalars().all()
    engine.dispose()
    assert [(r.status, r.detail, r.error) for r in runs] == [
        ("succeeded", {"rows": 3}, None),
        ("failed", {}, "RuntimeError: disk full"),
    ]
    assert all(r.duration_s is not None and r.finished_at is not None for r in runs)


def test_retention_deletes_only_what_expired(lc_settings: Settings) -> None:
    engine = make_engine(lc_settings.sqlalchemy_url)
    old = utcnow() - timedelta(days=200)
    with Session(engine) as s:
        for i, (status, created) in enumerate([("sent", old), ("dead", old), ("pending", old), ("sent", utcnow())]):
            s.add(
                OutboxMessage(
                    dedupe_key=f"k{i}",
                    customer_id=None,
                    kind="t",
                    channel="console",
                    subject="s",
                    body="b",
                    payload={},
                    status=status,
                    attempts=0,
                    created_at=created,
                    next_attempt_at=created,
                )
            )
        s.commit()
    result = run_job(lc_settings, "retention", trigger="cli")
    assert result["outbox_deleted"] == 2
    with Session(engine) as s:
        left = sorted(s.execute(select(OutboxMessage.dedupe_key)).scalars())
        job = s.execute(select(JobRun).where(JobRun.job == "retention")).scalar_one()
    engine.dispose()
    assert left == ["k2", "k3"] and job.status == "succeeded"


def test_every_job_has_a_schedule_and_a_reason() -> None:
    ids = [j.id for j in JOBS]
    assert len(ids) == len(set(ids))
    assert {"switch_pauses", "marketing", "clusters", "retrain_check", "retention", "drift"} <= set(ids)


def test_metrics_and_back_office(lc_settings: Settings) -> None:
    retrain_if_needed(lc_settings, "anomaly", managed=AnomalyModel(sample=20_000))
    run_job(lc_settings, "drift", trigger="cli")
    with TestClient(create_app(lc_settings), headers=as_staff("analyst")) as client:
        text = client.get("/metrics").text
        assert 'cardwise_job_last_success{job="drift"} 1.0' in text
        assert 'cardwise_model_decisions{decision="first_champion",model="anomaly"} 1.0' in text
        assert 'cardwise_model_input_psi{feature="amount_z",model="anomaly"}' in text
        models = client.get("/v1/backoffice/models").json()
        anomaly = next(m for m in models if m["model"] == "anomaly")
        assert anomaly["champion"]["version"] == "1" and anomaly["drift"]["current"] == "2023-10"
        assert client.get("/v1/backoffice/models/anomaly/decisions").json()[0]["decision"] == "first_champion"
        assert client.get("/v1/backoffice/models/unknown/decisions").status_code == 404
        assert client.get("/v1/backoffice/jobs", params={"job": "drift"}).json()[0]["status"] == "succeeded"
