"""Storing a month's marketing results and reading them back for the API, the CLI and the pages."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from cardwise.core.errors import Invalid, NotFound
from cardwise.db.types import utcnow
from cardwise.marketing.batch import LIFE_KINDS, MonthResult
from cardwise.marketing.catalog import TARGET_GROUPS, load_catalog
from cardwise.marketing.models import CustomerSingleView, CustomerTrigger, LifeStage, MarketingRun, SegmentGrade
from cardwise.marketing.single_view import records
from cardwise.privacy.dsr_restriction import restricted_ids

_CHUNK = 20_000


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), _CHUNK):
        yield rows[i : i + _CHUNK]


def _plain(value: Any) -> Any:
    """numpy scalars and arrays inside JSON evidence become plain Python values."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if isinstance(o, np.generic) else list(o)))


def start_run(session: Session, month: date) -> int:
    run = MarketingRun(month=month, status="running", started_at=utcnow())
    session.add(run)
    session.commit()
    return run.run_id


def fail_run(session: Session, run_id: int, error: str) -> None:
    session.rollback()
    run = session.get(MarketingRun, run_id)
    if run is not None:
        run.status = "failed"
        run.finished_at = utcnow()
        run.error = error[:2000]
        session.commit()


def prior_life_events(session: Session, month: date) -> pd.DataFrame:
    rows = session.execute(
        select(CustomerTrigger.customer_id, CustomerTrigger.month, CustomerTrigger.kind).where(
            CustomerTrigger.kind.in_(LIFE_KINDS), CustomerTrigger.month < month
        )
    ).all()
    return pd.DataFrame(rows, columns=["customer_id", "month", "kind"])


def without_restricted(result: MonthResult, restricted: set[int]) -> MonthResult:
    """The month's results without the restricted customers."""
    if not restricted:
        return result

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["customer_id"].isin(restricted)] if "customer_id" in frame else frame

    return replace(
        result,
        grades=keep(result.grades),
        stages=keep(result.stages),
        triggers=keep(result.triggers),
        features=keep(result.features),
        views=[v for v in result.views if int(v["customer_id"]) not in restricted],
    )


def store_month(session: Session, run_id: int, result: MonthResult, duration_s: float) -> None:
    """Replace the month's results (and the quarter's life stages) in one transaction. Customers who
    asked to stop processing get nothing stored (privacy/dsr_restriction.py)."""
    month = result.month
    conn: Connection = session.connection()
    result = without_restricted(result, restricted_ids(session))
    conn.execute(delete(SegmentGrade).where(SegmentGrade.month == month))
    conn.execute(delete(CustomerTrigger).where(CustomerTrigger.month == month))
    conn.execute(delete(CustomerSingleView).where(CustomerSingleView.month == month))
    conn.execute(delete(LifeStage).where(LifeStage.quarter == result.quarter))

    grades = result.grades[
        [
            "month",
            "target_group",
            "segment_code",
            "customer_id",
            "grade",
            "score",
            "avg_usage_krw",
            "active_months",
            "in_segment",
        ]
    ].assign(month=month)
    for chunk in _chunks(records(grades)):
        conn.execute(insert(SegmentGrade), chunk)
    stage_rows = [
        {"quarter": result.quarter, "customer_id": int(c), "stage": s, "evidence": _plain(e)}
        for c, s, e in zip(result.stages["customer_id"], result.stages["stage"], result.stages["evidence"], strict=True)
    ]
    for chunk in _chunks(stage_rows):
        conn.execute(insert(LifeStage), chunk)
    trigger_rows = [
        {"month": month, "customer_id": int(c), "kind": k, "p_value": float(p), "evidence": _plain(e)}
        for c, k, p, e in zip(
            result.triggers["customer_id"],
            result.triggers["kind"],
            result.triggers["p_value"],
            result.triggers["evidence"],
            strict=True,
        )
    ]
    for chunk in _chunks(trigger_rows):
        conn.execute(insert(CustomerTrigger), chunk)
    now = utcnow()
    view_rows = [
        {"customer_id": v["customer_id"], "month": month, "computed_at": now, "view": _plain(v)} for v in result.views
    ]
    for chunk in _chunks(view_rows):
        conn.execute(insert(CustomerSingleView), chunk)
    run = session.get(MarketingRun, run_id)
    if run is None:
        raise NotFound(f"marketing run {run_id} not found")
    run.status = "succeeded"
    run.finished_at = utcnow()
    run.duration_s = round(duration_s, 3)
    run.counts = result.counts()
    run.metrics = {**result.metrics, "timings_s": result.timings}
    session.commit()


def latest_month(session: Session) -> date | None:
    month: date | None = session.execute(
        select(func.max(MarketingRun.month)).where(MarketingRun.status == "succeeded")
    ).scalar_one_or_none()
    return month


def _month_or_latest(session: Session, month: date | None) -> date:
    if month is not None:
        return month
    latest = latest_month(session)
    if latest is None:
        raise NotFound("no marketing batch has run yet (cardwise marketing run --month YYYY-MM)")
    return latest


def single_view(session: Session, customer_id: int, month: date | None = None) -> dict[str, Any]:
    query = select(CustomerSingleView.view).where(CustomerSingleView.customer_id == customer_id)
    query = (
        query.where(CustomerSingleView.month == month)
        if month is not None
        else query.order_by(CustomerSingleView.month.desc()).limit(1)
    )
    view: dict[str, Any] | None = session.execute(query).scalar_one_or_none()
    if view is None:
        raise NotFound(f"no single view for customer {customer_id}" + (f" in {month:%Y-%m}" if month else ""))
    return view


def _check_target(target_group: str, segment_code: str | None = None) -> None:
    if target_group not in TARGET_GROUPS:
        raise Invalid(f"target_group must be one of {', '.join(TARGET_GROUPS)}")
    if segment_code is not None:
        try:
            load_catalog().segment(segment_code)
        except KeyError:
            raise NotFound(f"unknown segment {segment_code}") from None


def segment_summary(session: Session, target_group: str, month: date | None = None) -> dict[str, Any]:
    """Per segment: members and customers per grade (the seed's '해당 고객(명)' table)."""
    _check_target(target_group)
    month = _month_or_latest(session, month)
    rows = session.execute(
        select(SegmentGrade.segment_code, SegmentGrade.grade, func.count())
        .where(SegmentGrade.month == month, SegmentGrade.target_group == target_group)
        .group_by(SegmentGrade.segment_code, SegmentGrade.grade)
    ).all()
    by_segment: dict[str, dict[int, int]] = {}
    for code, grade, n in rows:
        by_segment.setdefault(code, {})[int(grade)] = int(n)
    catalog = load_catalog()
    segments = []
    for seg in catalog.segments:
        grades = by_segment.get(seg.code, {})
        segments.append(
            {
                "segment_code": seg.code,
                "name_ko": seg.name_ko,
                "name_en": seg.name_en,
                "members": sum(n for g, n in grades.items() if g <= 5),
                "by_grade": {str(g): grades.get(g, 0) for g in range(1, 8)},
            }
        )
    return {"month": month.strftime("%Y-%m"), "target_group": target_group, "segments": segments}


def audience(
    session: Session,
    *,
    target_group: str,
    segment_code: str,
    grades: Sequence[int],
    month: date | None = None,
    limit: int = 1000,
    after_customer_id: int = 0,
) -> dict[str, Any]:
    """Campaign volume by grade: who (paged by customer id) and how many."""
    _check_target(target_group, segment_code)
    if not grades or any(g < 1 or g > 7 for g in grades):
        raise Invalid("grades must be between 1 and 7")
    month = _month_or_latest(session, month)
    where = (
        SegmentGrade.month == month,
        SegmentGrade.target_group == target_group,
        SegmentGrade.segment_code == segment_code,
        SegmentGrade.grade.in_(sorted(set(grades))),
    )
    total = session.execute(select(func.count()).select_from(SegmentGrade).where(*where)).scalar_one()
    rows = session.execute(
        select(SegmentGrade.customer_id, SegmentGrade.grade, SegmentGrade.score)
        .where(*where, SegmentGrade.customer_id > after_customer_id)
        .order_by(SegmentGrade.customer_id)
        .limit(limit)
    ).all()
    return {
        "month": month.strftime("%Y-%m"),
        "target_group": target_group,
        "segment_code": segment_code,
        "grades": sorted(set(grades)),
        "total": int(total),
        "customers": [{"customer_id": int(c), "grade": int(g), "score": int(s)} for c, g, s in rows],
        "next_after": int(rows[-1][0]) if len(rows) == limit else None,
    }


def customer_triggers(session: Session, customer_id: int, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CustomerTrigger)
        .where(CustomerTrigger.customer_id == customer_id)
        .order_by(CustomerTrigger.month.desc(), CustomerTrigger.kind)
        .limit(limit)
    ).scalars()
    return [
        {"month": r.month.strftime("%Y-%m"), "kind": r.kind, "p_value": r.p_value, "evidence": r.evidence} for r in rows
    ]


def runs(session: Session, limit: int = 20) -> list[MarketingRun]:
    return list(session.execute(select(MarketingRun).order_by(MarketingRun.run_id.desc()).limit(limit)).scalars())
