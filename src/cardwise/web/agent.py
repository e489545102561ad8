"""The agent's customer single view (/agent/customers/{id}, M7): every block on one page — profile, cards
and their safety state, the marketing single view (life stage, categories, segments and grades, value,
events, triggers, trend, channels), VOC risk, recommendations, recent payments and alerts, family group —
and the suggested actions, the marketing batch's first and the safety situation's after them.

No names or contacts: the agent sees the pseudonymous customer number, card last four digits only.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.core.errors import NotFound
from cardwise.db.models import Card, Customer, Product
from cardwise.deps import SessionDep
from cardwise.family import service as family
from cardwise.marketing import service as marketing
from cardwise.recommend import service as recommend
from cardwise.safety import backoffice as bo
from cardwise.safety.models import CardControl, LostReport
from cardwise.security.principal import Principal
from cardwise.voc import service as voc
from cardwise.web.backoffice import category_name, region_name
from cardwise.web.deps import page_permission
from cardwise.web.i18n import N_
from cardwise.web.templating import render

router = APIRouter(prefix="/agent", include_in_schema=False)

Agent = Annotated[Principal, page_permission("customers.read")]
CustomerPath = Annotated[int, Path(gt=0, le=2**63 - 1)]

SAFETY_ACTIONS = {
    "LOST_REPORT_OPEN": (N_("Follow up the open lost/stolen report: found or reissue"), "/backoffice/lost-reports"),
    "CONFIRM_UNUSUAL": (N_("Confirm the recent unusual payment with the customer"), "/backoffice/anomaly?customer="),
    "REVIEW_RULES": (N_("Review the card rules with the customer: several payments were declined"), None),
    "OFFER_RULES": (N_("Offer card safety rules (regions, times, categories)"), None),
}


@router.get("/customers")
def find_customer(principal: Agent, customer_id: Annotated[str, Query(max_length=20)] = "") -> Response:
    text = customer_id.strip()
    if not text.isdigit() or int(text) <= 0:
        return RedirectResponse("/backoffice", status_code=303)
    return RedirectResponse(f"/agent/customers/{int(text)}", status_code=303)


def _optional(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotFound:
        return None


def safety_actions(
    *, open_reports: int, recent_alerts: int, declines: int, cards_with_rules: int, cards: int
) -> list[str]:
    """What the safety situation suggests, most urgent first (pure; the page adds the links)."""
    out = []
    if open_reports:
        out.append("LOST_REPORT_OPEN")
    if recent_alerts:
        out.append("CONFIRM_UNUSUAL")
    if declines >= 3:
        out.append("REVIEW_RULES")
    if cards and not cards_with_rules:
        out.append("OFFER_RULES")
    return out


def _cards(session: Session, customer_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Card, Product.name_ko, Product.name_en, CardControl.card_id)
        .join(Product, Product.product_id == Card.product_id)
        .outerjoin(CardControl, CardControl.card_id == Card.card_id)
        .where(Card.customer_id == customer_id)
        .order_by(Card.is_primary.desc(), Card.card_id)
    ).all()
    return [
        {"card": c, "product": {"name_ko": ko, "name_en": en}, "has_rules": rules is not None}
        for c, ko, en, rules in rows
    ]


@router.get("/customers/{customer_id}")
def single_view(request: Request, customer_id: CustomerPath, principal: Agent, session: SessionDep) -> Response:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer not found")
    cards = _cards(session, customer_id)
    card_ids = [c["card"].card_id for c in cards]
    view = _optional(marketing.single_view, session, customer_id)
    risk = _optional(voc.customer_risk, session, customer_id=customer_id)
    recs_text = _optional(recommend.recommendations, session, customer_id)
    recs = json.loads(recs_text) if recs_text else None
    payments = bo.payment_log(session, bo.PaymentFilter(customer_id=customer_id, page_size=10))
    declined = bo.payment_log(session, bo.PaymentFilter(customer_id=customer_id, decision="declined", page_size=5))
    alerts, _ = bo.anomaly_alerts(session, customer_id=customer_id, limit=5)
    reports = list(
        session.execute(
            select(LostReport).where(LostReport.card_id.in_(card_ids)).order_by(LostReport.report_id.desc()).limit(5)
        ).scalars()
    )
    membership = family.current_membership(session, customer_id)
    codes = safety_actions(
        open_reports=sum(1 for r in reports if r.status == "open"),
        recent_alerts=len(alerts),
        declines=len(declined.rows),
        cards_with_rules=sum(1 for c in cards if c["has_rules"]),
        cards=sum(1 for c in cards if c["card"].closed_on is None),
    )
    safety_suggestions = []
    for c in codes:
        label, href = SAFETY_ACTIONS[c]
        if href and href.endswith("="):
            href += str(customer_id)
        safety_suggestions.append({"label": label, "href": href})
    return render(
        request,
        "agent/single_view.html",
        principal=principal,
        title=N_("Customer single view"),
        customer=customer,
        cards=cards,
        view=view,
        risk=risk or (view or {}).get("risk"),
        recs=recs,
        payments=payments,
        declined=declined,
        alerts=alerts,
        reports=reports,
        membership=membership,
        safety_suggestions=safety_suggestions,
        category_name=category_name,
        region_name=region_name,
    )
