"""The embedded job scheduler (APScheduler) of the single-machine setup.

Jobs call the same functions as their CLI commands, so cron or Airflow can run them instead.
"""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from cardwise.config import Settings
from cardwise.db.engine import engine_for, session_scope
from cardwise.db.types import utcnow
from cardwise.logging import get_logger

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


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="Asia/Seoul")
    # Every minute: a pause starts or ends at most a minute late in the records (decisions use the interval).
    scheduler.add_job(
        switch_pauses_job, "interval", minutes=1, args=[settings], id="switch_pauses", max_instances=1, coalesce=True
    )
    scheduler.start()
    return scheduler
