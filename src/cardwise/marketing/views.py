"""Marketing over HTTP: the single view, segments, campaign audiences, triggers, batch runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from cardwise.core.months import MONTH_PATTERN, parse_month
from cardwise.deps import SessionDep
from cardwise.marketing import service
from cardwise.marketing.catalog import load_catalog
from cardwise.marketing.schemas import (
    Audience,
    RunOut,
    SegmentDef,
    SegmentSummary,
    SingleView,
    TriggerRecord,
)
from cardwise.security.permissions import allow, customer_access

router = APIRouter(tags=["marketing"])

MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; the latest run if absent.")]
CustomerId = Annotated[int, Path(gt=0, le=2**62)]


@router.get("/customers/{customer_id}/single-view", response_model=SingleView, dependencies=[customer_access(own=True)])
def single_view(customer_id: CustomerId, session: SessionDep, month: MonthQuery = None) -> SingleView:
    """The customer on one page: status, life stage, main categories, value, events, trend, risk,
    channels and suggested actions. Precomputed by the monthly batch: one primary-key read."""
    return SingleView.model_validate(service.single_view(session, customer_id, parse_month(month)))


@router.get(
    "/customers/{customer_id}/triggers",
    response_model=list[TriggerRecord],
    dependencies=[customer_access(own=False)],
)
def triggers(
    customer_id: CustomerId, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[TriggerRecord]:
    """State-change triggers raised for the customer, newest month first, with their evidence."""
    return [TriggerRecord.model_validate(t) for t in service.customer_triggers(session, customer_id, limit)]


@router.get("/marketing/segments", response_model=list[SegmentDef], dependencies=[allow("catalog.read")])
def segments() -> list[SegmentDef]:
    """The lifestyle segments and the categories that define them."""
    cat = load_catalog()
    return [
        SegmentDef(
            code=s.code,
            name_ko=s.name_ko,
            name_en=s.name_en,
            categories=s.categories,
            channels=s.channels,
            min_monthly_krw=s.min_monthly_krw,
            min_active_months=s.min_active_months or cat.min_active_months,
        )
        for s in cat.segments
    ]


TargetGroup = Annotated[str, Query(pattern="^(credit|check|simple_pay|sole_proprietor)$")]


@router.get("/marketing/segments/summary", response_model=SegmentSummary, dependencies=[allow("marketing.aggregates")])
def segment_summary(session: SessionDep, target_group: TargetGroup, month: MonthQuery = None) -> SegmentSummary:
    """Per segment of a target group: members and customers per grade 1-7."""
    return SegmentSummary.model_validate(service.segment_summary(session, target_group, parse_month(month)))


@router.get("/marketing/audience", response_model=Audience, dependencies=[allow("marketing.audience")])
def audience(
    session: SessionDep,
    target_group: TargetGroup,
    segment: Annotated[str, Query(pattern="^[A-Z][A-Z_]+$", max_length=32)],
    grades: Annotated[list[int], Query(min_length=1, max_length=7)],
    month: MonthQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    after_customer_id: Annotated[int, Query(ge=0, le=2**62)] = 0,  # larger overflowed the database: 500
) -> Audience:
    """Campaign volume by grade, e.g. grades 1 and 2 of car care among check cardholders."""
    return Audience.model_validate(
        service.audience(
            session,
            target_group=target_group,
            segment_code=segment,
            grades=grades,
            month=parse_month(month),
            limit=limit,
            after_customer_id=after_customer_id,
        )
    )


@router.get("/marketing/runs", response_model=list[RunOut], dependencies=[allow("marketing.aggregates")])
def runs(session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[RunOut]:
    """The monthly batches: status, duration, what they produced, model metrics."""
    return [
        RunOut(
            run_id=r.run_id,
            month=r.month.strftime("%Y-%m"),
            status=r.status,
            started_at=r.started_at,
            finished_at=r.finished_at,
            duration_s=r.duration_s,
            counts=r.counts or {},
            metrics=r.metrics or {},
            error=r.error,
        )
        for r in service.runs(session, limit)
    ]
