"""Monitoring (O4): input drift per feature (population stability index), each model's metric over
time, prediction volumes, job runs, exposed to Prometheus and to the back office.

PSI = Σ (a − e) · ln(a / e) over ten bins cut at the reference's deciles (a, e: shares of the
current and reference rows per bin). The usual reading, used as the default levels: below 0.1 no
shift, 0.1–0.25 a shift worth a look (warn), above 0.25 a shift that needs action (alarm).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, select

from cardwise.config import Settings
from cardwise.db.types import utcnow
from cardwise.marketing.marts import add_months, lake_months

_EPS = 1e-4


def psi(reference: npt.ArrayLike, current: npt.ArrayLike, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` (finite values only)."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    a = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    e, a = np.maximum(e, _EPS), np.maximum(a, _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def level(value: float, settings: Settings) -> str:
    if not np.isfinite(value):
        return "unknown"
    if value >= settings.drift_alarm_psi:
        return "alarm"
    if value >= settings.drift_warn_psi:
        return "warn"
    return "ok"


@dataclass(frozen=True)
class DriftReport:
    model: str
    reference: str
    current: str
    features: dict[str, float]
    levels: dict[str, str]

    @property
    def worst(self) -> str:
        order = ["ok", "unknown", "warn", "alarm"]
        return max(self.levels.values(), key=order.index) if self.levels else "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "reference": self.reference,
            "current": self.current,
            "worst": self.worst,
            "features": {k: {"psi": round(v, 4), "level": self.levels[k]} for k, v in self.features.items()},
        }


def drift(settings: Settings, name: str) -> DriftReport:
    """The serving model's inputs: its last training month against the lake's newest month."""
    from cardwise.lake.store import connect
    from cardwise.mlops.lifecycle import load_champion

    found = load_champion(settings, name)
    if found is None:
        raise LookupError(f"{name} has no champion to monitor")
    info, model = found
    window = info.tags.get("data_window", "")
    con = connect(settings.lake_dir)
    try:
        months = lake_months(con)
        current = months[-1]
        end = date_of(window.split("..")[-1]) if ".." in window else months[-2]
        reference = add_months(end, -1)
        if name == "anomaly":
            from cardwise.safety.anomaly import FEATURES, load_frame

            ref_x, _ = model.profiles.features(load_frame(con, reference, add_months(reference, 1), model.codes))
            cur_x, _ = model.profiles.features(load_frame(con, current, add_months(current, 1), model.codes))
            values = {f: psi(ref_x[:, i], cur_x[:, i]) for i, f in enumerate(FEATURES)}
        else:
            from cardwise.marketing.batch import customer_features_for
            from cardwise.marketing.jobs import marts_for
            from cardwise.marketing.marts import ensure_monthly_marts, register_marts
            from cardwise.marketing.state_model import FEATURES as DROP_FEATURES

            marts = marts_for(settings)
            ensure_monthly_marts(con, marts, months)
            register_marts(con, marts, months)
            ref_f, cur_f = customer_features_for(con, reference), customer_features_for(con, current)
            values = {f: psi(ref_f[f], cur_f[f]) for f in DROP_FEATURES}
    finally:
        con.close()
    return DriftReport(
        model=name,
        reference=f"{reference:%Y-%m}",
        current=f"{current:%Y-%m}",
        features=values,
        levels={k: level(v, settings) for k, v in values.items()},
    )


def date_of(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def drift_job(settings: Settings) -> dict[str, str]:
    """Daily: drift of every champion's inputs; the reports are kept in the job run's detail."""
    import json

    from cardwise.mlops.managed import managed_models

    out: dict[str, str] = {}
    for name in managed_models(settings):
        try:
            out[name] = json.dumps(drift(settings, name).as_dict())
        except LookupError:
            continue
    return out


def snapshot(engine: Engine) -> dict[str, Any]:
    """What the back office and Prometheus show: jobs, decisions, prediction volumes."""
    from cardwise.marketing.models import MarketingRun
    from cardwise.mlops.models import JobRun, ModelDecision
    from cardwise.notify.models import OutboxMessage
    from cardwise.safety.models import Authorization

    since = utcnow() - timedelta(days=1)
    with engine.connect() as conn:
        jobs = {}
        for job_name, status, duration, started in conn.execute(
            select(JobRun.job, JobRun.status, JobRun.duration_s, JobRun.started_at).where(
                JobRun.run_id.in_(select(func.max(JobRun.run_id)).group_by(JobRun.job).scalar_subquery())
            )
        ).all():
            jobs[job_name] = {"status": status, "duration_s": duration, "started_at": started.isoformat()}
        failures = dict(
            conn.execute(select(JobRun.job, func.count()).where(JobRun.status == "failed").group_by(JobRun.job)).all()
        )
        decisions = [
            {
                "model": d.model,
                "decision": d.decision,
                "metric": d.metric,
                "champion_score": d.champion_score,
                "challenger_score": d.challenger_score,
                "decided_at": d.decided_at.isoformat(),
            }
            for d in conn.execute(select(ModelDecision).order_by(ModelDecision.decision_id)).all()
        ]
        # By the payment's time: (requested_at, id) is indexed for the payment log; created_at is not.
        approved_24h = conn.execute(
            select(func.count()).where(Authorization.approved, Authorization.requested_at >= since)
        ).scalar_one()
        anomaly_alerts_24h = conn.execute(
            select(func.count()).where(OutboxMessage.kind == "anomaly_alert", OutboxMessage.created_at >= since)
        ).scalar_one()
        last_run = conn.execute(
            select(MarketingRun.counts).where(MarketingRun.status == "succeeded").order_by(MarketingRun.run_id.desc())
        ).first()
    return {
        "jobs": jobs,
        "job_failures": {str(k): int(v) for k, v in failures.items()},
        "decisions": decisions,
        "predictions": {
            "anomaly_scored_24h": int(approved_24h),
            "anomaly_alerts_24h": int(anomaly_alerts_24h),
            "usage_drop_last_run": int((last_run[0] or {}).get("single_views", 0)) if last_run else 0,
        },
    }
