"""VOC risk as jobs: train, evaluate, score a month, judge a campaign. Called by `cardwise voc …`, the
embedded scheduler and (later) the lifecycle workflows alike; each opens its lake connection and
database session and hands them to the pure functions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.db.engine import engine_for, session_scope
from cardwise.lake.engines import batch_engine
from cardwise.lake.marts import Marts
from cardwise.lake.store import connect
from cardwise.logging import get_logger
from cardwise.marketing.marts import lake_months
from cardwise.voc import service
from cardwise.voc.campaigns import LABEL_COLUMNS, outcomes_from_labels
from cardwise.voc.dataset import DatasetError
from cardwise.voc.signals import TextSignals
from cardwise.voc.training import (
    DEFAULT_TEST_MONTHS,
    TrainedVocModel,
    evaluate_voc,
    load,
    save,
    score_month,
    train_voc,
)

log = get_logger(__name__)
Step = Callable[[str], None]


def _sources(settings: Settings) -> tuple[Marts, TextSignals]:
    root = settings.data_dir / "marts"
    return Marts(root, settings.lake_dir), TextSignals(root, settings.lake_dir)


def _feedback(settings: Settings) -> pd.DataFrame | None:
    """Campaign memberships and outcomes, or nothing when the database is not set up."""
    engine = engine_for(settings)
    try:
        with Session(engine) as session:
            feedback = service.feedback_frame(session)
        return feedback if len(feedback) else None
    except DBAPIError as exc:
        log.warning("VOC runs without campaign feedback: %s", str(exc).splitlines()[0])
        return None
    finally:
        engine.dispose()


def train_job(
    settings: Settings, *, seed: int = 0, until: date | None = None, step: Step = lambda _: None
) -> tuple[TrainedVocModel, dict[str, Any], Path]:
    con = connect(settings.lake_dir)
    try:
        feedback = _feedback(settings)
        marts, signals = _sources(settings)
        engine = batch_engine(settings, con)
        trained, metrics = train_voc(
            con, marts, signals, until=until, seed=seed, feedback=feedback, step=step, engine=engine
        )
    finally:
        con.close()
    metrics["feedback_rows"] = 0 if feedback is None else len(feedback)
    trained.metrics = metrics
    path = save(trained, settings.models_dir)
    log.info("VOC model trained", extra={"model.version": trained.version, "rows": trained.rows})
    return trained, metrics, path


def evaluate_job(
    settings: Settings,
    *,
    test_months: tuple[date, ...] = DEFAULT_TEST_MONTHS,
    seed: int = 0,
    out: Path | None = None,
    step: Step = lambda _: None,
) -> tuple[dict[str, Any], Path]:
    con = connect(settings.lake_dir)
    try:
        marts, signals = _sources(settings)
        report = evaluate_voc(con, marts, signals, test_months=test_months, seed=seed, step=step)
    finally:
        con.close()
    target = out or settings.data_dir / "reports" / "voc.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report, target


def score_job(
    settings: Settings, month: date, *, version: str | None = None, step: Step = lambda _: None
) -> tuple[int, pd.DataFrame, TrainedVocModel]:
    """Score every customer at ``month`` with a stored model and replace the month's scores."""
    trained = load(settings.models_dir, version)
    feedback = _feedback(settings)
    engine = engine_for(settings)
    con = connect(settings.lake_dir)
    try:
        with session_scope(engine) as session:
            run_id = service.start_run(session, month=month, model_version=trained.version)
        started = time.perf_counter()
        try:
            marts, signals = _sources(settings)
            scores = score_month(
                con, marts, signals, trained, month, feedback=feedback, step=step, engine=batch_engine(settings, con)
            )
            step("storing")
            with session_scope(engine) as session:
                service.store_scores(
                    session, run_id=run_id, month=month, scores=scores, duration_s=time.perf_counter() - started
                )
        except Exception as exc:
            with session_scope(engine) as session:
                service.fail_run(session, run_id=run_id, error=f"{type(exc).__name__}: {exc}")
            extra = {"voc.month": f"{month:%Y-%m}", "run_id": run_id}
            if isinstance(exc, DatasetError):
                log.warning("VOC scoring refused: %s", exc, extra=extra)
            else:
                log.exception("VOC scoring failed", extra=extra)
            raise
    finally:
        con.close()
        engine.dispose()
    log.info(
        "VOC scores stored",
        extra={
            "voc.month": f"{month:%Y-%m}",
            "run_id": run_id,
            "customers": len(scores),
            "model.version": trained.version,
        },
    )
    return run_id, scores, trained


def outcomes_job(settings: Settings, campaign_id: int) -> int:
    """Record a campaign's outcomes from the lake's labels (the synthetic world's ground truth)."""
    engine = engine_for(settings)
    con = connect(settings.lake_dir)
    try:
        labels = con.sql("SELECT * FROM labels").df()
        with session_scope(engine) as session:
            report = service.campaign_report(session, campaign_id)
            members = service.campaign_members(session, campaign_id)
            if report["target"] not in LABEL_COLUMNS:
                raise DatasetError(f"no labels for target {report['target']}")
            month = date.fromisoformat(report["month"] + "-01")
            outcomes = outcomes_from_labels(labels, report["target"], month, members["customer_id"].tolist())
            return service.record_outcomes(session, campaign_id=campaign_id, outcomes=outcomes, source="lake")
    finally:
        con.close()
        engine.dispose()


def monthly_job(settings: Settings, step: Step = lambda _: None) -> int | None:
    """Scheduled: score the lake's newest month unless it is scored; train a model first if none exists."""
    con = connect(settings.lake_dir)
    try:
        months = lake_months(con)
    finally:
        con.close()
    if not months:
        return None
    engine = engine_for(settings)
    try:
        with Session(engine) as session:
            done = service.latest_month(session) == months[-1]
    finally:
        engine.dispose()
    if done:
        return None
    try:
        load(settings.models_dir)
    except FileNotFoundError:
        train_job(settings, step=step)
    run_id, _, _ = score_job(settings, months[-1], step=step)
    return run_id
