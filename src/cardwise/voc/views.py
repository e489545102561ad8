"""VOC risk over HTTP: a customer's risk, campaigns and their outcomes, scoring runs.

Transcripts from a speech-to-text engine are posted to the ingestion domain (``POST /v1/voc/transcripts``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from cardwise.core.months import MONTH_PATTERN, parse_month
from cardwise.deps import SessionDep
from cardwise.security.permissions import allow, customer_access
from cardwise.voc import service
from cardwise.voc.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignReport,
    CustomerRisk,
    OutcomesIn,
    VocRunOut,
)

router = APIRouter(tags=["voc"])

MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; the newest if absent.")]
CustomerId = Annotated[int, Path(gt=0, le=2**62)]
ObjectId = Annotated[int, Path(gt=0, le=2**62)]


@router.get("/customers/{customer_id}/risk", response_model=CustomerRisk, dependencies=[customer_access(own=False)])
def customer_risk(customer_id: CustomerId, session: SessionDep, month: MonthQuery = None) -> CustomerRisk:
    """Churn, complaint, delinquency and card-loan propensity for next month, with deciles, top drivers
    and the keywords of recent calls."""
    return CustomerRisk.model_validate(
        service.customer_risk(session, customer_id=customer_id, month=parse_month(month))
    )


@router.post(
    "/voc/campaigns",
    response_model=CampaignOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow("campaigns.write")],
)
def create_campaign(body: CampaignIn, session: SessionDep) -> CampaignOut:
    """Select a campaign's members from a month's scores (e.g. churn-defence coupons to decile 1), hold out
    a control group and queue the messages; one campaign per kind and month (409 otherwise)."""
    result = service.create_campaign(
        session, kind=body.kind, month=parse_month(body.month), deciles=body.deciles, control_share=body.control_share
    )
    session.commit()
    return CampaignOut.model_validate(result)


@router.get("/voc/campaigns", response_model=list[CampaignOut], dependencies=[allow("campaigns.read")])
def list_campaigns(session: SessionDep) -> list[CampaignOut]:
    """Campaigns, newest first."""
    return [CampaignOut.model_validate(c) for c in service.list_campaigns(session)]


@router.get("/voc/campaigns/{campaign_id}", response_model=CampaignReport, dependencies=[allow("campaigns.read")])
def campaign_report(campaign_id: ObjectId, session: SessionDep) -> CampaignReport:
    """The campaign with event rates of the treated and the control group and the difference."""
    return CampaignReport.model_validate(service.campaign_report(session, campaign_id))


@router.post(
    "/voc/campaigns/{campaign_id}/outcomes", response_model=CampaignReport, dependencies=[allow("campaigns.write")]
)
def record_outcomes(campaign_id: ObjectId, body: OutcomesIn, session: SessionDep) -> CampaignReport:
    """Whether each member's target event happened; stored outcomes become training labels."""
    service.record_outcomes(
        session,
        campaign_id=campaign_id,
        outcomes=[(o.customer_id, o.outcome, o.observed_on) for o in body.outcomes],
        source="api",
    )
    session.commit()
    return CampaignReport.model_validate(service.campaign_report(session, campaign_id))


@router.get("/voc/runs", response_model=list[VocRunOut], dependencies=[allow("marketing.aggregates")])
def runs(session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[VocRunOut]:
    """Scoring runs, newest first."""
    return [VocRunOut.model_validate(r) for r in service.runs(session, limit)]
