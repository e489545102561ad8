"""Customer pages (/my/...): cards with their safety rules in three steps (regions, time windows,
categories), pause, lost/stolen report; alerts and declined payments; the spend report with charts and
the best card; the family group and its benefits (large type, one task per screen).

Every page calls the domain services in-process with one session; a write commits once. Bad input
shows the form again (422) with the message; another customer's card answers 404 like a missing one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.core.errors import Conflict, DomainError, Invalid, NotFound
from cardwise.db.models import Card, Merchant, Product
from cardwise.db.types import utcnow
from cardwise.deps import SessionDep, SettingsDep
from cardwise.notify.models import OutboxMessage
from cardwise.reference.categories import load_categories
from cardwise.reference.regions import load_regions
from cardwise.safety import service as safety
from cardwise.safety.models import Authorization, CardControl, CardPause, LostReport
from cardwise.safety.schemas import WindowIn
from cardwise.security.principal import Principal
from cardwise.web.deps import CustomerUser, PageForm, page_lang
from cardwise.web.formatting import SEOUL
from cardwise.web.i18n import N_, current_lang, gettext
from cardwise.web.templating import chart_json, render

router = APIRouter(prefix="/my", include_in_schema=False, dependencies=[Depends(page_lang)])

CardPath = Annotated[int, Path(gt=0, le=2**63 - 1)]
MAX_WINDOWS = 14
ALERTS_LIMIT = 50

STATUS_LABELS = {
    "active": N_("In use"),
    "locked": N_("Locked (lost/stolen report)"),
    "closed": N_("Closed"),
    "paused": N_("Rules paused"),
}
PAUSE_STATUS = {
    "scheduled": N_("Scheduled"),
    "active": N_("Running"),
    "ended": N_("Ended"),
    "cancelled": N_("Cancelled"),
}
MESSAGE_KINDS = {
    "authorization_declined": N_("Payment declined"),
    "anomaly_alert": N_("Unusual payment"),
    "cluster_recommendation": N_("Safety tip"),
    "pause_active": N_("Pause started"),
    "pause_ended": N_("Pause ended"),
    "card_locked": N_("Card locked"),
}
OTHER_MESSAGE = N_("Notice")


# --- reading -----------------------------------------------------------------------------------------------------


@dataclass
class CardView:
    card: Card
    product: Product
    controls: CardControl | None
    open_report: LostReport | None
    pauses: list[CardPause]

    @property
    def status(self) -> str:
        if self.card.closed_on is not None:
            return "closed"
        if self.card.locked:
            return "locked"
        now = utcnow()
        if any(p.status != "cancelled" and _aware(p.starts_at) <= now < _aware(p.ends_at) for p in self.pauses):
            return "paused"
        return "active"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # stored moments are UTC


def _own_card(session: Session, principal: Principal, card_id: int) -> CardView:
    """The signed-in customer's card; anyone else's (or none) is a 404, so ids cannot be probed."""
    row = session.execute(
        select(Card, Product).join(Product, Product.product_id == Card.product_id).where(Card.card_id == card_id)
    ).one_or_none()
    if row is None or row[0].customer_id != principal.customer_id:
        raise HTTPException(status_code=404, detail="not found")
    card, product = row
    return CardView(
        card=card,
        product=product,
        controls=session.get(CardControl, card_id),
        open_report=session.scalar(
            select(LostReport).where(LostReport.card_id == card_id, LostReport.status == "open")
        ),
        pauses=list(
            session.scalars(
                select(CardPause)
                .where(CardPause.card_id == card_id, CardPause.status.in_(("scheduled", "active")))
                .order_by(CardPause.starts_at)
            )
        ),
    )


def _controls_args(view: CardView) -> dict[str, Any]:
    c = view.controls
    return {
        "allowed_regions": None if c is None or c.allowed_regions is None else list(c.allowed_regions),
        "blocked_windows": [] if c is None else list(c.blocked_windows),
        "blocked_categories": [] if c is None else list(c.blocked_categories),
        "max_amount_krw": None if c is None else c.max_amount_krw,
        "block_online": False if c is None else c.block_online,
        "block_overseas": False if c is None else c.block_overseas,
        "block_contactless": False if c is None else c.block_contactless,
    }


def _save_controls(session: Session, view: CardView, **changes: Any) -> None:
    safety.set_controls(session, card_id=view.card.card_id, **{**_controls_args(view), **changes})
    session.commit()


def _region_name(code: str) -> str:
    regions = load_regions()
    if code not in regions:
        return code
    r = regions.by_code(code)
    return r.name_en if current_lang() == "en" else r.name_ko


def _category_name(code: str) -> str:
    categories = load_categories()
    if code not in categories:
        return code
    c = categories.by_code(code)
    return c.name_en if current_lang() == "en" else c.name_ko


def _saved(card_id: int, what: str) -> RedirectResponse:
    return RedirectResponse(f"/my/cards/{card_id}?saved={what}", status_code=303)


SAVED = {
    "regions": N_("Allowed regions saved."),
    "times": N_("Blocked times saved."),
    "categories": N_("Blocked categories saved."),
    "pause": N_("Pause saved."),
}


# --- my cards ----------------------------------------------------------------------------------------------------


@router.get("/cards")
def my_cards(request: Request, principal: CustomerUser, session: SessionDep) -> Response:
    rows = session.execute(
        select(Card, Product)
        .join(Product, Product.product_id == Card.product_id)
        .where(Card.customer_id == principal.customer_id)
        .order_by(Card.closed_on.is_not(None), Card.is_primary.desc(), Card.card_id)
    ).all()
    views = []
    for card, product in rows:
        views.append(
            CardView(
                card=card,
                product=product,
                controls=None,
                open_report=None,
                pauses=list(
                    session.scalars(
                        select(CardPause).where(CardPause.card_id == card.card_id, CardPause.status == "active")
                    )
                ),
            )
        )
    return render(request, "customer/cards.html", principal=principal, title=N_("My cards"), cards=views)


@router.get("/cards/{card_id}")
def card_page(request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep) -> Response:
    view = _own_card(session, principal, card_id)
    args = _controls_args(view)
    saved = SAVED.get(request.query_params.get("saved", ""))
    return render(
        request,
        "customer/card.html",
        principal=principal,
        title=N_("Card safety settings"),
        view=view,
        regions=[_region_name(c) for c in args["allowed_regions"] or []],
        anywhere=args["allowed_regions"] is None,
        windows=args["blocked_windows"],
        categories=[_category_name(c) for c in args["blocked_categories"]],
        status_labels=STATUS_LABELS,
        pause_status=PAUSE_STATUS,
        saved=saved,
    )


# --- step 1: regions ---------------------------------------------------------------------------------------------


def _regions_page(
    request: Request, principal: Principal, view: CardView, chosen: set[str], anywhere: bool, error: str | None
) -> Response:
    regions = load_regions()
    return render(
        request,
        "customer/regions.html",
        principal=principal,
        status_code=422 if error else 200,
        title=N_("Step 1: where the card may be used"),
        view=view,
        provinces=[r for r in regions.provinces],
        districts=list(regions.seoul_districts),
        overseas=regions.overseas,
        chosen=chosen,
        anywhere=anywhere,
        error=error,
    )


@router.get("/cards/{card_id}/regions")
def regions_form(request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep) -> Response:
    view = _own_card(session, principal, card_id)
    allowed = _controls_args(view)["allowed_regions"]
    return _regions_page(request, principal, view, set(allowed or []), allowed is None, None)


@router.post("/cards/{card_id}/regions")
def regions_save(
    request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep, form: PageForm
) -> Response:
    view = _own_card(session, principal, card_id)
    anywhere = form.get("scope") != "only"
    chosen = {str(v) for v in form.getlist("region")}
    if not anywhere and not chosen:
        return _regions_page(request, principal, view, chosen, anywhere, N_("Choose at least one region."))
    unknown = [c for c in chosen if c not in load_regions()]
    if unknown:
        return _regions_page(request, principal, view, chosen, anywhere, N_("Unknown region."))
    try:
        _save_controls(session, view, allowed_regions=None if anywhere else sorted(chosen))
    except Invalid:
        session.rollback()
        return _regions_page(request, principal, view, chosen, anywhere, N_("Unknown region."))
    return _saved(card_id, "regions")


# --- step 2: time windows ----------------------------------------------------------------------------------------


def _times_page(
    request: Request, principal: Principal, view: CardView, error: str | None, entered: dict[str, Any]
) -> Response:
    return render(
        request,
        "customer/times.html",
        principal=principal,
        status_code=422 if error else 200,
        title=N_("Step 2: times when the card is blocked"),
        view=view,
        windows=_controls_args(view)["blocked_windows"],
        error=error,
        entered=entered,
        max_windows=MAX_WINDOWS,
    )


@router.get("/cards/{card_id}/times")
def times_form(request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep) -> Response:
    view = _own_card(session, principal, card_id)
    return _times_page(request, principal, view, None, {"days": [], "start": "22:00", "end": "06:00"})


@router.post("/cards/{card_id}/times")
def times_add(
    request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep, form: PageForm
) -> Response:
    view = _own_card(session, principal, card_id)
    raw_days = [str(d) for d in form.getlist("day")]
    entered = {"days": raw_days, "start": str(form.get("start", "")), "end": str(form.get("end", ""))}
    if not raw_days:
        return _times_page(request, principal, view, N_("Choose at least one day."), entered)
    try:
        window = WindowIn.model_validate(
            {"days": [int(d) for d in raw_days], "start": entered["start"], "end": entered["end"]}
        )
    except (ValidationError, ValueError):
        return _times_page(request, principal, view, N_("Enter the times as HH:MM (00:00 to 23:59)."), entered)
    windows = _controls_args(view)["blocked_windows"]
    if len(windows) >= MAX_WINDOWS:
        return _times_page(request, principal, view, N_("A card can have at most 14 blocked times."), entered)
    _save_controls(session, view, blocked_windows=[*windows, window.model_dump()])
    return _saved(card_id, "times")


@router.post("/cards/{card_id}/times/remove")
def times_remove(
    request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep, form: PageForm
) -> Response:
    view = _own_card(session, principal, card_id)
    windows = _controls_args(view)["blocked_windows"]
    try:
        index = int(str(form.get("index", "")))
    except ValueError:
        index = -1
    if not 0 <= index < len(windows):
        return _times_page(request, principal, view, N_("That blocked time no longer exists."), {"days": []})
    _save_controls(session, view, blocked_windows=windows[:index] + windows[index + 1 :])
    return _saved(card_id, "times")


# --- step 3: categories ------------------------------------------------------------------------------------------


def _categories_page(
    request: Request, principal: Principal, view: CardView, chosen: set[str], error: str | None
) -> Response:
    catalog = load_categories()
    groups = [(g, [c for c in catalog.categories if c.group == g.code]) for g in catalog.groups]
    return render(
        request,
        "customer/categories.html",
        principal=principal,
        status_code=422 if error else 200,
        title=N_("Step 3: shops the card may not be used at"),
        view=view,
        groups=[(g, cs) for g, cs in groups if cs],
        chosen=chosen,
        error=error,
    )


@router.get("/cards/{card_id}/categories")
def categories_form(request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep) -> Response:
    view = _own_card(session, principal, card_id)
    return _categories_page(request, principal, view, set(_controls_args(view)["blocked_categories"]), None)


@router.post("/cards/{card_id}/categories")
def categories_save(
    request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep, form: PageForm
) -> Response:
    view = _own_card(session, principal, card_id)
    chosen = {str(v) for v in form.getlist("category")}
    if any(c not in load_categories() for c in chosen):
        return _categories_page(request, principal, view, chosen, N_("Unknown category."))
    try:
        _save_controls(session, view, blocked_categories=sorted(chosen))
    except Invalid:
        session.rollback()
        return _categories_page(request, principal, view, chosen, N_("Unknown category."))
    return _saved(card_id, "categories")


# --- pause -------------------------------------------------------------------------------------------------------


def _local(value: str) -> datetime:
    """A ``datetime-local`` field (YYYY-MM-DDTHH:MM) in Seoul time."""
    if len(value) > 32:
        raise ValueError("too long")
    return datetime.fromisoformat(value).replace(tzinfo=SEOUL)


def _pause_page(
    request: Request, principal: Principal, view: CardView, error: str | None, entered: dict[str, str]
) -> Response:
    return render(
        request,
        "customer/pause.html",
        principal=principal,
        status_code=422 if error else 200,
        title=N_("Pause the card's rules"),
        view=view,
        error=error,
        entered=entered,
        pause_status=PAUSE_STATUS,
    )


@router.get("/cards/{card_id}/pause")
def pause_form(request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep) -> Response:
    view = _own_card(session, principal, card_id)
    start = utcnow().astimezone(SEOUL).replace(second=0, microsecond=0) + timedelta(minutes=5)
    entered = {"starts": f"{start:%Y-%m-%dT%H:%M}", "ends": f"{start + timedelta(hours=3):%Y-%m-%dT%H:%M}"}
    return _pause_page(request, principal, view, None, entered)


@router.post("/cards/{card_id}/pause")
def pause_save(
    request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep, form: PageForm
) -> Response:
    view = _own_card(session, principal, card_id)
    entered = {"starts": str(form.get("starts", "")), "ends": str(form.get("ends", ""))}
    try:
        starts, ends = _local(entered["starts"]), _local(entered["ends"])
    except ValueError:
        return _pause_page(request, principal, view, N_("Enter the start and the end as a date and a time."), entered)
    if ends <= starts:
        return _pause_page(request, principal, view, N_("The end must come after the start."), entered)
    try:
        safety.create_pause(session, card_id=card_id, starts_at=starts, ends_at=ends, now=utcnow())
    except Invalid:
        session.rollback()
        return _pause_page(request, principal, view, N_("The end must be in the future."), entered)
    session.commit()
    return _saved(card_id, "pause")


@router.post("/cards/{card_id}/pause/{pause_id}/cancel")
def pause_cancel(
    card_id: CardPath,
    pause_id: Annotated[int, Path(gt=0, le=2**63 - 1)],
    principal: CustomerUser,
    session: SessionDep,
) -> Response:
    _own_card(session, principal, card_id)
    try:
        safety.cancel_pause(session, card_id=card_id, pause_id=pause_id)
    except (NotFound, Conflict):
        session.rollback()  # already ended or cancelled: the card page shows the current state
        return _saved(card_id, "")
    session.commit()
    return _saved(card_id, "pause")


# --- lost or stolen ----------------------------------------------------------------------------------------------

LOST_KINDS = {"lost": N_("Lost"), "stolen": N_("Stolen")}


@router.get("/cards/{card_id}/lost")
def lost_form(request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep) -> Response:
    view = _own_card(session, principal, card_id)
    return render(
        request,
        "customer/lost.html",
        principal=principal,
        title=N_("Report the card lost or stolen"),
        view=view,
        step="choose",
        kind=None,
        kinds=LOST_KINDS,
        error=None,
    )


@router.post("/cards/{card_id}/lost")
def lost_submit(
    request: Request, card_id: CardPath, principal: CustomerUser, session: SessionDep, form: PageForm
) -> Response:
    """Two steps: the kind, then an explicit confirmation; the card is locked at the confirmation."""
    view = _own_card(session, principal, card_id)
    kind = str(form.get("kind", ""))
    context: dict[str, Any] = {"view": view, "kinds": LOST_KINDS, "title": N_("Report the card lost or stolen")}
    if kind not in LOST_KINDS:
        return render(
            request,
            "customer/lost.html",
            principal=principal,
            status_code=422,
            step="choose",
            kind=None,
            error=N_("Choose lost or stolen."),
            **context,
        )
    if form.get("confirm") != "yes":
        return render(
            request, "customer/lost.html", principal=principal, step="confirm", kind=kind, error=None, **context
        )
    try:
        report = safety.report_lost(session, card_id=card_id, kind=kind)
    except Conflict:
        session.rollback()
        return render(
            request,
            "customer/lost.html",
            principal=principal,
            status_code=409,
            step="choose",
            kind=None,
            error=N_("This card is closed."),
            **context,
        )
    session.commit()
    return render(
        request,
        "customer/lost.html",
        principal=principal,
        step="done",
        kind=kind,
        report=report,
        error=None,
        **{**context, "view": _own_card(session, principal, card_id)},
    )


# --- alerts and declined payments ---------------------------------------------------------------------------------


@router.get("/alerts")
def alerts(request: Request, principal: CustomerUser, session: SessionDep) -> Response:
    my_cards = select(Card.card_id).where(Card.customer_id == principal.customer_id)
    declined = session.execute(
        select(Authorization, Card.last4, Merchant.name, Merchant.category_code, Merchant.region_code)
        .join(Card, Card.card_id == Authorization.card_id)
        .join(Merchant, Merchant.merchant_id == Authorization.merchant_id)
        .where(Authorization.card_id.in_(my_cards), Authorization.approved.is_(False))
        .order_by(Authorization.requested_at.desc(), Authorization.authorization_id.desc())
        .limit(ALERTS_LIMIT)
    ).all()
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.customer_id == principal.customer_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.message_id.desc())
        .limit(ALERTS_LIMIT)
    ).all()
    lang = current_lang()
    rows = [
        {
            "at": a.requested_at,
            "last4": last4,
            "merchant": name,
            "category": _category_name(category),
            "region": _region_name(region),
            "amount": a.amount_krw,
            "reasons": [r.get(f"message_{lang}") or r.get("message_ko") or r.get("code") for r in a.reasons],
        }
        for a, last4, name, category, region in declined
    ]
    return render(
        request,
        "customer/alerts.html",
        principal=principal,
        title=N_("Alerts and declined payments"),
        declined=rows,
        messages=messages,
        kinds=MESSAGE_KINDS,
        other_kind=OTHER_MESSAGE,
    )


# --- spend report ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _report_charts(report_text: str, lang: str) -> tuple[tuple[str, str], ...]:
    """The report's two figures as JSON. A stored report does not change, so each is built once per
    report and language (building plotly figures costs ~10 ms of CPU and much garbage)."""
    import plotly.graph_objects as go

    report = json.loads(report_text)
    monthly = report.get("monthly") or []
    months = [m["month"][:7].replace("-", ".") for m in monthly]
    spend = go.Figure(
        go.Bar(
            x=months,
            y=[m["spend_krw"] for m in monthly],
            marker_color="#0b3d91",
            hovertemplate="%{x}: ₩%{y:,.0f}<extra></extra>",
        )
    )
    spend.update_layout(
        title=gettext("Spending by month"), yaxis={"tickprefix": "₩", "tickformat": ",.0f"}, xaxis={"type": "category"}
    )
    top = list(reversed(report.get("top_categories") or []))
    cats = go.Figure(
        go.Bar(
            x=[c["spend_krw"] for c in top],
            y=[c.get(f"name_{lang}") or c["name_ko"] for c in top],
            orientation="h",
            marker_color="#1b5e20",
            hovertemplate="%{y}: ₩%{x:,.0f}<extra></extra>",
        )
    )
    cats.update_layout(title=gettext("Where the money went"), xaxis={"tickprefix": "₩", "tickformat": ",.0f"})
    return (("monthly", chart_json(spend)), ("categories", chart_json(cats)))


@router.get("/report")
def report_page(request: Request, principal: CustomerUser, session: SessionDep) -> Response:
    from cardwise.recommend import service as recommend

    assert principal.customer_id is not None
    try:
        report_text = recommend.report(session, principal.customer_id)
        report = json.loads(report_text)
        recs = json.loads(recommend.recommendations(session, principal.customer_id))
    except NotFound:
        return render(request, "customer/report.html", principal=principal, title=N_("My spending report"), report=None)
    return render(
        request,
        "customer/report.html",
        principal=principal,
        title=N_("My spending report"),
        report=report,
        charts=dict(_report_charts(report_text, current_lang())) if report.get("monthly") else None,
        best=report.get("best_card") or recs.get("best_card"),
        popular=(recs.get("popular_cards") or [])[:3],
        similar=recs.get("similar_members"),
    )


# --- family ------------------------------------------------------------------------------------------------------


def _policy(settings: Any) -> Any:
    from cardwise.family.policy import cached_policy

    return cached_policy(settings.family_policy_path)


def _my_group(session: Session, customer_id: int) -> Any:
    from cardwise.family import service as family
    from cardwise.family.models import FamilyGroup

    membership = family.current_membership(session, customer_id)
    if membership is None:
        return None, None
    return session.get(FamilyGroup, membership.group_id), membership


FAMILY_STATUS = {
    "forming": N_("Gathering the family"),
    "active": N_("Receiving benefits"),
    "grace": N_("Conditions to check"),
    "dissolved": N_("Ended"),
}


@router.get("/family")
def family_page(request: Request, principal: CustomerUser, session: SessionDep, settings: SettingsDep) -> Response:
    from cardwise.family import service as family

    assert principal.customer_id is not None
    policy = _policy(settings)
    now = utcnow()
    group, _ = _my_group(session, principal.customer_id)
    invitations = [
        {"invitation": inv, "group": g, "relation": policy.relation_label(inv.relation)}
        for inv, g in family.my_invitations(session, principal.customer_id, now)
    ]
    context: dict[str, Any] = {"group": group, "invitations": invitations, "status_labels": FAMILY_STATUS}
    if group is not None:
        benefit = family.group_benefits(session, policy, group.group_id, family.seoul_date(now))
        members = family.members_of(session, group.group_id)
        names = family.display_names(session, [m.customer_id for m in members])
        counted = set(benefit.eligibility.counted)
        context.update(
            benefit=benefit,
            members=[
                {
                    "name": names.get(m.customer_id, family.mask_name(None)),
                    "relation": policy.relation_label(m.relation)
                    if m.relation in (*policy.relations, "self")
                    else (m.relation, m.relation),
                    "is_me": m.customer_id == principal.customer_id,
                    "is_representative": m.customer_id == group.representative_id,
                    "counted": m.customer_id in counted,
                    "proof_status": m.proof_status,
                }
                for m in members
            ],
            pending=family.pending_invitations(session, group.group_id, now)
            if group.representative_id == principal.customer_id
            else [],
        )
    return render(request, "customer/family.html", principal=principal, title=N_("My family"), **context)


@router.get("/family/benefits")
def family_benefits(request: Request, principal: CustomerUser, session: SessionDep, settings: SettingsDep) -> Response:
    from cardwise.family import service as family

    assert principal.customer_id is not None
    group, _ = _my_group(session, principal.customer_id)
    if group is None:
        return RedirectResponse("/my/family", status_code=303)
    benefit = family.group_benefits(session, _policy(settings), group.group_id, family.seoul_date(utcnow()))
    return render(
        request, "customer/family_benefits.html", principal=principal, title=N_("Our family benefits"), benefit=benefit
    )


def _what_if_page(
    request: Request,
    principal: Principal,
    policy: Any,
    *,
    entered: dict[str, str],
    error: str | None = None,
    result: Any = None,
) -> Response:
    return render(
        request,
        "customer/family_what_if.html",
        principal=principal,
        status_code=422 if error else 200,
        title=N_("What if someone joins?"),
        relations=[(r, policy.relation_label(r)) for r in policy.relations],
        entered=entered,
        error=error,
        result=result,
    )


@router.get("/family/what-if")
def what_if_form(request: Request, principal: CustomerUser, session: SessionDep, settings: SettingsDep) -> Response:
    assert principal.customer_id is not None
    if _my_group(session, principal.customer_id)[0] is None:
        return RedirectResponse("/my/family", status_code=303)
    return _what_if_page(request, principal, _policy(settings), entered={"relation": "", "birth_year": ""})


@router.post("/family/what-if")
def what_if_submit(
    request: Request, principal: CustomerUser, session: SessionDep, settings: SettingsDep, form: PageForm
) -> Response:
    from cardwise.family import service as family

    assert principal.customer_id is not None
    policy = _policy(settings)
    group, _ = _my_group(session, principal.customer_id)
    if group is None:
        return RedirectResponse("/my/family", status_code=303)
    entered = {"relation": str(form.get("relation", "")), "birth_year": str(form.get("birth_year", "")).strip()}
    today = family.seoul_date(utcnow())
    if entered["relation"] not in policy.relations:
        return _what_if_page(
            request, principal, policy, entered=entered, error=N_("Choose how they are related to you.")
        )
    if not entered["birth_year"].isdigit() or not 1900 <= int(entered["birth_year"]) <= today.year:
        return _what_if_page(
            request, principal, policy, entered=entered, error=N_("Enter the year of birth as four digits, e.g. 1958.")
        )
    try:
        result = family.what_if(
            session,
            policy,
            group_id=group.group_id,
            on=today,
            join_relation=entered["relation"],
            join_birth_year=int(entered["birth_year"]),
            join_prior_years=0.0,
            leave_customer_id=None,
        )
    except DomainError as exc:
        return _what_if_page(request, principal, policy, entered=entered, error=exc.message)
    return _what_if_page(request, principal, policy, entered=entered, result=result)
