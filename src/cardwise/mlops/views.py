"""Model lifecycle over HTTP: Prometheus metrics and the back office's model and job data."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import select

from cardwise.core.errors import NotFound
from cardwise.deps import SessionDep, SettingsDep, get_engine
from cardwise.mlops import lifecycle
from cardwise.mlops.managed import managed_models
from cardwise.mlops.models import JobRun
from cardwise.mlops.monitoring import snapshot
from cardwise.security.permissions import allow

router = APIRouter(tags=["operations"])
backoffice = APIRouter(prefix="/backoffice", tags=["back office"])

ModelName = Annotated[str, Path(pattern="^[a-z_]{2,64}$")]


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition: job status and duration, failures, model decisions and scores, prediction
    volumes, input drift. Built per scrape from the store, so every server process reports the same."""
    snap = snapshot(get_engine(request))
    reg = CollectorRegistry()
    job_ok = Gauge("cardwise_job_last_success", "1 if the job's last run succeeded", ["job"], registry=reg)
    job_s = Gauge("cardwise_job_last_duration_seconds", "Duration of the job's last run", ["job"], registry=reg)
    job_fail = Gauge("cardwise_job_failures", "Failed runs recorded", ["job"], registry=reg)
    for name, row in snap["jobs"].items():
        job_ok.labels(name).set(1.0 if row["status"] == "succeeded" else 0.0)
        if row["duration_s"] is not None:
            job_s.labels(name).set(row["duration_s"])
    for name, n in snap["job_failures"].items():
        job_fail.labels(name).set(n)
    score = Gauge(
        "cardwise_model_champion_score",
        "Champion's held-out score at its last decision",
        ["model", "metric"],
        registry=reg,
    )
    decisions = Gauge("cardwise_model_decisions", "Lifecycle decisions", ["model", "decision"], registry=reg)
    counts: dict[tuple[str, str], int] = {}
    for d in snap["decisions"]:
        counts[(d["model"], d["decision"])] = counts.get((d["model"], d["decision"]), 0) + 1
        if (
            d["decision"] in ("first_champion", "promoted", "manual_promote", "rollback")
            and d["challenger_score"] is not None
        ):
            score.labels(d["model"], d["metric"]).set(d["challenger_score"])
    for (model, decision), n in counts.items():
        decisions.labels(model, decision).set(n)
    volume = Gauge(
        "cardwise_predictions",
        "Predictions made (anomaly: last 24 h; usage drop: last batch)",
        ["model", "kind"],
        registry=reg,
    )
    volume.labels("anomaly", "scored").set(snap["predictions"]["anomaly_scored_24h"])
    volume.labels("anomaly", "alerts").set(snap["predictions"]["anomaly_alerts_24h"])
    volume.labels("usage_drop", "scored").set(snap["predictions"]["usage_drop_last_run"])
    drift = Gauge(
        "cardwise_model_input_psi", "Population stability index of a model input", ["model", "feature"], registry=reg
    )
    for model, report in _latest_drift(request).items():
        for feature, row in report.get("features", {}).items():
            drift.labels(model, feature).set(row["psi"])
    from cardwise.security.alarms import add_alarm_metrics

    add_alarm_metrics(reg, get_engine(request))  # cardwise_security_alarms_total{kind}, from the store
    return Response(generate_latest(reg), media_type=CONTENT_TYPE_LATEST)


def _latest_drift(request: Request) -> dict[str, Any]:
    with get_engine(request).connect() as conn:
        row = conn.execute(
            select(JobRun.detail)
            .where(JobRun.job == "drift", JobRun.status == "succeeded")
            .order_by(JobRun.run_id.desc())
            .limit(1)
        ).first()
    if row is None:
        return {}
    return {k: json.loads(v) for k, v in (row[0] or {}).items() if isinstance(v, str)}


@backoffice.get("/models", dependencies=[allow("models.read")])
def models(settings: SettingsDep, request: Request) -> list[dict[str, Any]]:
    """Every managed model: its champion (version, held-out scores, data window) and its decisions."""
    from cardwise.mlops.registry import Registry

    registry = Registry(settings) if Registry.exists(settings) else None
    snap = snapshot(get_engine(request))
    drift = _latest_drift(request)
    out = []
    for name, managed in managed_models(settings).items():
        champ = registry.champion(name) if registry and name in registry.models() else None
        out.append(
            {
                "model": name,
                "description": managed.description,
                "metric": managed.metric,
                "champion": None
                if champ is None
                else {
                    "version": champ.version,
                    "metrics": champ.metrics,
                    "data_window": champ.tags.get("data_window"),
                    "data_rows": champ.tags.get("data_rows"),
                },
                "decisions": [d for d in snap["decisions"] if d["model"] == name][-20:],
                "drift": drift.get(name),
            }
        )
    return out


@backoffice.get("/models/{name}/decisions", dependencies=[allow("models.read")])
def model_decisions(
    name: ModelName, session: SessionDep, settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """The model's promotion decisions, newest first, each with both scores."""
    if name not in managed_models(settings):
        raise NotFound(f"unknown model {name}")
    return [
        {
            "decision_id": d.decision_id,
            "decision": d.decision,
            "metric": d.metric,
            "champion_version": d.champion_version,
            "challenger_version": d.challenger_version,
            "champion_score": d.champion_score,
            "challenger_score": d.challenger_score,
            "margin": d.margin,
            "rows_at_champion": d.rows_at_champion,
            "rows_now": d.rows_now,
            "reason": d.reason,
            "decided_at": d.decided_at,
        }
        for d in lifecycle.decisions(session, name, limit)
    ]


@backoffice.get("/jobs", dependencies=[allow("models.read")])
def jobs(
    session: SessionDep,
    job: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Job runs, newest first, with status, duration and what they did."""
    query = select(JobRun).order_by(JobRun.run_id.desc()).limit(limit)
    if job:
        query = query.where(JobRun.job == job)
    return [
        {
            "run_id": r.run_id,
            "job": r.job,
            "trigger": r.trigger,
            "status": r.status,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "duration_s": r.duration_s,
            "error": r.error,
        }
        for r in session.execute(query).scalars()
    ]
