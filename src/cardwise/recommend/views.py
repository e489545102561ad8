"""Recommendations over HTTP: a customer's cards, categories and merchants, their spend-pattern
report, a merchant's likely visitors and regulars, products similar to a (discontinued) one.

Documents are precomputed by the monthly run and returned as stored (one primary-key read).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cardwise.core.months import MONTH_PATTERN, parse_month
from cardwise.deps import SessionDep
from cardwise.recommend import service
from cardwise.recommend.schemas import (
    MerchantTargets,
    Recommendations,
    Report,
    RunOut,
    SimilarProducts,
    StageCounts,
)
from cardwise.security.permissions import allow, customer_access

router = APIRouter(tags=["recommendations"])

MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; the latest run if absent.")]
CustomerId = Annotated[int, Path(gt=0, le=2**62)]
MerchantId = Annotated[int, Path(gt=0, le=2**62)]
ProductId = Annotated[str, Path(pattern=r"^(CR|CK)\d{2,6}$")]


def _json(text: str) -> Response:
    return Response(content=text.encode(), media_type="application/json")


@router.get(
    "/customers/{customer_id}/recommendations",
    response_model=None,
    dependencies=[customer_access(own=True)],
    responses={200: {"model": Recommendations, "description": "The customer's recommendations."}},
)
def recommendations(customer_id: CustomerId, session: SessionDep, month: MonthQuery = None) -> Response:
    """Best cards by simulated benefit (with the categories that earn it), cards popular among members
    like the customer (with the size of their lifestyle group), preferred and new categories and
    merchants. A customer without recent purchases gets the cold-start answer (``cold_start: true``)."""
    return _json(service.recommendations(session, customer_id, parse_month(month)))


@router.get(
    "/customers/{customer_id}/report",
    response_model=None,
    dependencies=[customer_access(own=True)],
    responses={200: {"model": Report, "description": "The customer's spend-pattern report."}},
)
def report(customer_id: CustomerId, session: SessionDep, month: MonthQuery = None) -> Response:
    """Spend-pattern report (카드소비패턴분석): period, monthly spend, top categories, changes against the
    three months before, channels, lifestyle group and the best card."""
    return _json(service.report(session, customer_id, parse_month(month)))


@router.get(
    "/merchants/{merchant_id}/targets",
    response_model=None,
    dependencies=[allow("marketing.audience")],
    responses={200: {"model": MerchantTargets, "description": "The merchant's life cycle and audiences."}},
)
def merchant_targets(
    merchant_id: MerchantId,
    session: SessionDep,
    month: MonthQuery = None,
    limit: Annotated[int | None, Query(ge=1, le=20, description="Customers per list (20 if absent).")] = None,
) -> Response:
    """Life-cycle stage (new, growing, mature, declining; closed or inactive) with its evidence, the
    customers most likely to visit who have not bought here in six months, and the customers most
    likely to become regulars, each with a score."""
    text = service.merchant_targets(session, merchant_id, parse_month(month))
    if limit is None:
        return _json(text)
    doc = json.loads(text)
    doc["likely_visitors"] = doc["likely_visitors"][:limit]
    doc["likely_regulars"] = doc["likely_regulars"][:limit]
    return _json(service.dumps(doc))


@router.get(
    "/products/{product_id}/similar",
    response_model=None,
    dependencies=[allow("catalog.read")],
    responses={200: {"model": SimilarProducts, "description": "Products on sale most similar to this one."}},
)
def similar_products(product_id: ProductId, session: SessionDep, month: MonthQuery = None) -> Response:
    """The products on sale most similar to this one (e.g. a discontinued card), by benefit rules,
    by who they pay and by who holds them."""
    return _json(service.similar_products(session, product_id, parse_month(month)))


@router.get(
    "/recommendations/merchant-stages", response_model=StageCounts, dependencies=[allow("marketing.aggregates")]
)
def merchant_stages(session: SessionDep, month: MonthQuery = None) -> StageCounts:
    """How many merchants are in each life-cycle stage."""
    return StageCounts.model_validate(service.merchants_by_stage(session, parse_month(month)))


@router.get("/recommendations/runs", response_model=list[RunOut], dependencies=[allow("marketing.aggregates")])
def runs(session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[RunOut]:
    """The monthly recommendation runs: status, duration, what they produced, model metrics."""
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
