"""The monthly recommendation run as a job: compute from the lake, store atomically, record the run.
Called by `cardwise recommend run`, the embedded scheduler and (later) Airflow alike."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.db.engine import engine_for
from cardwise.lake.engines import batch_engine
from cardwise.lake.store import connect
from cardwise.logging import get_logger
from cardwise.marketing.jobs import marts_for, newest_month_without_run
from cardwise.recommend import service
from cardwise.recommend.batch import RecommendError, RunResult, compute_run
from cardwise.recommend.models import RecommendRun

log = get_logger(__name__)


def run_month(settings: Settings, month: date, step: Callable[[str], None] = lambda _: None) -> tuple[int, RunResult]:
    """Run one month and replace its stored documents; a failed run is recorded and stores nothing."""
    engine = engine_for(settings)
    con = connect(settings.lake_dir)
    try:
        with Session(engine, expire_on_commit=False) as session:
            run_id = service.start_run(session, month)
            started = time.perf_counter()
            try:
                result = compute_run(con, marts_for(settings), month, step=step, engine=batch_engine(settings, con))
                step("storing")
                stored = time.perf_counter()
                service.store_run(session, run_id, result, time.perf_counter() - started)
                result.timings["store"] = round(time.perf_counter() - stored, 3)
            except Exception as exc:
                service.fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
                extra = {"recommend.month": f"{month:%Y-%m}", "run_id": run_id}
                if isinstance(exc, RecommendError):  # asked for something impossible: say so, no traceback
                    log.warning("recommendation run refused: %s", exc, extra=extra)
                else:
                    log.exception("recommendation run failed", extra=extra)
                raise
        log.info(
            "recommendation run stored",
            extra={
                "recommend.month": f"{month:%Y-%m}",
                "run_id": run_id,
                "duration_s": round(time.perf_counter() - started, 2),
                "customers": len(result.recommendations),
            },
        )
        return run_id, result
    finally:
        con.close()
        engine.dispose()


def latest_unrun_month(settings: Settings) -> date | None:
    """The lake's newest month, unless a recommendation run for it already succeeded."""
    return newest_month_without_run(settings, RecommendRun)
