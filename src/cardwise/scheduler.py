"""The embedded job scheduler (APScheduler) of the single-machine setup.

Jobs call the same functions as their CLI commands, so cron or Airflow can run them instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

    from cardwise.lake.store import connect, read_manifest
    from cardwise.safety.clusters import last_quarter_of, run_clusters, save_run

    period_end = date.fromisoformat(str(read_manifest(settings.lake_dir)["end"]))
    start, end = last_quarter_of(period_end)
    con = connect(settings.lake_dir)
    try:
        run = run_clusters(con, start=start, end=end)
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


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="Asia/Seoul")
    # Every minute: a pause starts or ends at most a minute late in the records (decisions use the interval).
    scheduler.add_job(
        switch_pauses_job, "interval", minutes=1, args=[settings], id="switch_pauses", max_instances=1, coalesce=True
    )
    # Monthly batch (seed 001: segments monthly, life stage quarterly within the same run).
    scheduler.add_job(
        marketing_job, "cron", day=2, hour=3, minute=30, args=[settings], id="marketing", max_instances=1, coalesce=True
    )
    # Daily, after midnight in Korea: family groups past their grace period are dissolved, invitations expire.
    scheduler.add_job(
        family_daily_job, "cron", hour=2, minute=10, args=[settings], id="family_daily", max_instances=1, coalesce=True
    )
    # Every three months (seed 002: "군집분석 3개월 주기로 시행"), early on the first day of the quarter.
    scheduler.add_job(
        cluster_job,
        "cron",
        month="1,4,7,10",
        day=1,
        hour=3,
        args=[settings],
        id="clusters",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
