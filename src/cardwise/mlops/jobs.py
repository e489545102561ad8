"""Job runs: every scheduled or manual job records its status and duration (O3, O4)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.db.engine import engine_for
from cardwise.db.types import utcnow
from cardwise.logging import get_logger
from cardwise.mlops.models import JobRun

log = get_logger(__name__)
T = TypeVar("T")


def tracked(settings: Settings, job: str, fn: Callable[[], T], *, trigger: str = "scheduler") -> T:
    """Run ``fn`` as job ``job``: a row is written when it starts and completed when it ends.
    The job's own work commits separately, so a failed job is recorded without undoing anything."""
    engine = engine_for(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            run = JobRun(job=job, trigger=trigger, status="running", started_at=utcnow())
            session.add(run)
            session.commit()
            started = time.perf_counter()
            try:
                result = fn()
            except Exception as exc:
                run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
                run.finished_at, run.duration_s = utcnow(), round(time.perf_counter() - started, 3)
                session.commit()
                log.exception("job failed", extra={"job.name": job})
                raise
            run.status = "succeeded"
            run.finished_at, run.duration_s = utcnow(), round(time.perf_counter() - started, 3)
            run.detail = _detail(result)
            session.commit()
            return result
    finally:
        engine.dispose()


def _detail(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, dict):
        return {str(k): v if isinstance(v, int | float | str | bool | None) else str(v) for k, v in result.items()}
    if hasattr(result, "as_dict"):
        return _detail(result.as_dict())
    return {"result": result if isinstance(result, int | float | str | bool) else str(result)}
