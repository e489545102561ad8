"""The embedded job scheduler (APScheduler) of the single-machine setup.

Jobs call the same functions as their CLI commands, so cron or Airflow can run them instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler

from cardwise.config import Settings
from cardwise.db.engine import engine_for, session_scope
from cardwise.db.types import utcnow
from cardwise.logging import get_logger

if TYPE_CHECKING:  # scikit-learn loads only when a cluster job runs
    from cardwise.family.service import DailySummary as FamilyDailySummary
    from cardwise.safety.clusters import ClusterRun

log = get_logger("cardwise.scheduler")


def switch_pauses_job(settings: Settings) -> int:
    from cardwise.safety.service import switch_pauses

    engine = engine_for(settings)
    try:
        with session_scope(engine) as session:
            changes = switch_pauses(session, now=utcnow())
    finally:
        engine.dispose()
    if changes:
        log.info("pauses switched", extra={"pauses.changed": len(changes)})
    return len(changes)


def mail_cluster_run(settings: Settings, run: ClusterRun, run_id: str) -> int:
    """Queue a cluster run's recommendation e-mails in one transaction (the worker delivers them)."""
    from cardwise.safety.clusters import recommendation_mails

    engine = engine_for(settings)
    try:
        with session_scope(engine) as session:
            return recommendation_mails(session, run, run_id)
    finally:
        engine.dispose()


def cluster_job(settings: Settings) -> str | None:
    """Quarterly: cluster the lake's last three months and mail each cluster its recommendations."""
    from datetime import date

    from cardwise.lake.engines import batch_engine
    from cardwise.lake.store import connect, read_manifest
    from cardwise.safety.clusters import last_quarter_of, run_clusters, save_run

    period_end = date.fromisoformat(str(read_manifest(settings.lake_dir)["end"]))
    start, end = last_quarter_of(period_end)
    con = connect(settings.lake_dir)
    try:
        run = run_clusters(con, start=start, end=end, engine=batch_engine(settings, con))
    finally:
        con.close()
    run_id, _ = save_run(run, settings.data_dir / "reports")
    queued = mail_cluster_run(settings, run, run_id)
    log.info("cluster run done", extra={"cluster.run_id": run_id, "cluster.k": run.k, "mails.queued": queued})
    return run_id


def marketing_job(settings: Settings) -> int | None:
    """Monthly: the marketing batch for the lake's newest month, unless it already ran."""
    from cardwise.marketing.jobs import latest_unrun_month, run_month

    month = latest_unrun_month(settings)
    if month is None:
        return None
    run_id, _ = run_month(settings, month)
    return run_id


def recommend_job(settings: Settings) -> int | None:
    """Monthly, after the marketing batch: recommendations for the lake's newest month, unless they ran."""
    from cardwise.recommend.jobs import latest_unrun_month, run_month

    month = latest_unrun_month(settings)
    if month is None:
        return None
    run_id, _ = run_month(settings, month)
    return run_id


def voc_job(settings: Settings) -> int | None:
    """Monthly, before the marketing batch: VOC risk scores of the lake's newest month (a model is trained
    first if none exists), so the month's single views carry them."""
    from cardwise.voc.jobs import monthly_job

    return monthly_job(settings)


def family_daily_job(settings: Settings) -> FamilyDailySummary:
    """Daily: expire invitations, re-check family groups, dissolve those whose grace period is over."""
    from cardwise.family.policy import load_policy
    from cardwise.family.service import run_daily

    policy = load_policy(settings.family_policy_path)
    engine = engine_for(settings)
    try:
        summary = run_daily(engine, policy, now=utcnow())
    finally:
        engine.dispose()
    log.info(
        "family groups checked",
        extra={
            "family.checked": summary.groups_checked,
            "family.grace": summary.entered_grace,
            "family.dissolved": summary.dissolved,
            "family.errors": summary.errors,
        },
    )
    return summary


def retrain_check_job(settings: Settings) -> dict[str, str]:
    """Hourly: every managed model whose data grew past the threshold gets a challenger (O1, O2)."""
    from cardwise.mlops.lifecycle import retrain_if_needed
    from cardwise.mlops.managed import managed_models

    return {name: retrain_if_needed(settings, name).decision for name in managed_models(settings)}


def retention_job(settings: Settings) -> dict[str, int]:
    """Daily: destroy what is past its retention (privacy/retention.yaml) in the database, the lake and
    the log files, irreversibly, and record the run in retention_runs."""
    from cardwise.privacy.retention import load_policy, run_retention, summary

    policy = load_policy(settings.retention_policy_path)
    engine = engine_for(settings)
    try:
        with session_scope(engine) as session:
            done = run_retention(
                session.connection(), policy=policy, now=utcnow(), lake=settings.lake_dir, log_dir=settings.log_dir
            )
    finally:
        engine.dispose()
    result = summary(done)
    # The figures the job has always reported, for the job list and its existing readers.
    result["outbox_deleted"] = sum(d.rows for d in done if d.location == "db" and d.place.startswith("outbox."))
    result["job_runs_deleted"] = sum(d.rows for d in done if d.location == "db" and d.place.startswith("job_runs."))
    return result


def ingest_job(settings: Settings) -> dict[str, int]:
    """Every 20 seconds: what the platform stored reaches the lake (D3)."""
    from cardwise.ingest.exporter import export_once

    engine = engine_for(settings)
    try:
        return export_once(engine, settings.lake_dir).as_dict()
    finally:
        engine.dispose()


def compact_job(settings: Settings) -> int:
    """Hourly: merge the exporter's small files."""
    from cardwise.ingest.exporter import compact

    return compact(settings.lake_dir)


def ship_logs_job(settings: Settings) -> dict[str, Any] | None:
    """Every minute: the JSON log files to OpenSearch, when CARDWISE_OPENSEARCH_URL is set (L1)."""
    from cardwise.logs.shipper import ship_job

    return ship_job(settings)


def _drift(settings: Settings) -> dict[str, str]:
    from cardwise.mlops.monitoring import drift_job

    return drift_job(settings)


@dataclass(frozen=True)
class Job:
    id: str
    fn: Callable[[Settings], Any]
    trigger: str  # APScheduler trigger
    schedule: dict[str, Any]
    why: str


# The platform's jobs, one table for the embedded scheduler, the CLI (`cardwise jobs run`) and the
# Airflow DAGs under dags/ (which call the same functions).
JOBS: tuple[Job, ...] = (
    Job("switch_pauses", switch_pauses_job, "interval", {"minutes": 1}, "a pause starts or ends at most a minute late"),
    Job("ingest", ingest_job, "interval", {"seconds": 20}, "authorizations, events, transcripts to the lake"),
    Job("compact", compact_job, "cron", {"minute": 45}, "merge the exporter's small files"),
    Job("voc", voc_job, "cron", {"day": 2, "hour": 2, "minute": 40}, "monthly VOC risk scores, before the views"),
    Job("marketing", marketing_job, "cron", {"day": 2, "hour": 3, "minute": 30}, "monthly segments, life stage, views"),
    Job("recommend", recommend_job, "cron", {"day": 2, "hour": 4, "minute": 15}, "monthly cards, merchants, reports"),
    Job("family_daily", family_daily_job, "cron", {"hour": 2, "minute": 10}, "grace periods, invitations"),
    # seed 002: "군집분석 3개월 주기로 시행", early on the first day of the quarter.
    Job("clusters", cluster_job, "cron", {"month": "1,4,7,10", "day": 1, "hour": 3}, "quarterly cluster analysis"),
    Job("retrain_check", retrain_check_job, "cron", {"minute": 20}, "retrain models whose data grew"),
    Job("drift", _drift, "cron", {"hour": 5, "minute": 10}, "input drift of every champion (PSI)"),
    Job("ship_logs", ship_logs_job, "interval", {"minutes": 1}, "log files to the search engine, if configured"),
    Job("retention", retention_job, "cron", {"hour": 4, "minute": 40}, "delete what is past its retention"),
)


def job(job_id: str) -> Job:
    for j in JOBS:
        if j.id == job_id:
            return j
    raise KeyError(job_id)


def run_job(settings: Settings, job_id: str, *, trigger: str = "scheduler") -> Any:
    """Run one job now, recorded in job_runs with its status and duration."""
    from cardwise.mlops.jobs import tracked

    j = job(job_id)
    return tracked(settings, j.id, lambda: j.fn(settings), trigger=trigger)


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="Asia/Seoul")
    for j in JOBS:
        scheduler.add_job(
            run_job, j.trigger, args=[settings, j.id], id=j.id, max_instances=1, coalesce=True, **j.schedule
        )
    scheduler.start()
    return scheduler
