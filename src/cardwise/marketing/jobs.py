"""The monthly marketing batch as a job: compute from the lake, store atomically, record the run.
Called by `cardwise marketing run`, the embedded scheduler and (later) Airflow alike."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.db.engine import engine_for
from cardwise.lake.engines import batch_engine
from cardwise.lake.marts import Marts
from cardwise.lake.store import connect
from cardwise.logging import get_logger
from cardwise.marketing import service
from cardwise.marketing.batch import BatchError, MonthResult, compute_month
from cardwise.marketing.marts import lake_months
from cardwise.marketing.models import MarketingRun
from cardwise.marketing.state_model import DropModel

log = get_logger(__name__)


def marts_for(settings: Settings) -> Marts:
    return Marts(settings.data_dir / "marts", settings.lake_dir)


def run_month(settings: Settings, month: date, step: Callable[[str], None] = lambda _: None) -> tuple[int, MonthResult]:
    """Run one month and replace its stored results; a failed run is recorded and stores nothing."""
    engine = engine_for(settings)
    con = connect(settings.lake_dir)
    try:
        with Session(engine, expire_on_commit=False) as session:
            run_id = service.start_run(session, month)
            started = time.perf_counter()
            try:
                result = compute_month(
                    con,
                    marts_for(settings),
                    month,
                    prior_events=service.prior_life_events(session, month),
                    step=step,
                    drop_model=_drop_champion(settings),
                    risk=_voc_risk(session, month),
                    engine=batch_engine(settings, con),
                )
                step("storing")
                service.store_month(session, run_id, result, time.perf_counter() - started)
            except Exception as exc:
                service.fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
                extra = {"marketing.month": f"{month:%Y-%m}", "run_id": run_id}
                if isinstance(exc, BatchError):  # asked for something impossible: say so, no traceback
                    log.warning("marketing run refused: %s", exc, extra=extra)
                else:
                    log.exception("marketing run failed", extra=extra)
                raise
        log.info(
            "marketing run stored",
            extra={
                "marketing.month": f"{month:%Y-%m}",
                "run_id": run_id,
                "duration_s": round(time.perf_counter() - started, 2),
            },
        )
        return run_id, result
    finally:
        con.close()
        engine.dispose()


def _voc_risk(session: Session, month: date) -> dict[int, dict[str, Any]]:
    """The VOC risk blocks of the month (or the newest scored month before it), empty when none."""
    from cardwise.voc.service import risk_for_month

    return risk_for_month(session, month)


def _drop_champion(settings: Settings) -> tuple[str, DropModel] | None:
    """The registry's usage-drop champion, if the lifecycle has trained one."""
    from cardwise.mlops.lifecycle import load_champion

    found = load_champion(settings, "usage_drop")
    if found is None:
        return None
    info, model = found
    return info.version, model


def latest_unrun_month(settings: Settings) -> date | None:
    """The lake's newest month, unless a marketing run for it already succeeded."""
    return newest_month_without_run(settings, MarketingRun)


def newest_month_without_run(settings: Settings, runs: Any) -> date | None:
    """The lake's newest month, unless ``runs`` (a run table with ``month`` and ``status``: marketing,
    recommendations) holds a succeeded run for it."""
    con = connect(settings.lake_dir)
    try:
        months = lake_months(con)
    finally:
        con.close()
    if not months:
        return None
    engine = engine_for(settings)
    try:
        with engine.connect() as conn:
            done = conn.execute(select(runs.run_id).where(runs.month == months[-1], runs.status == "succeeded")).first()
    finally:
        engine.dispose()
    return None if done else months[-1]
