"""Card-safety HTTP API: authorizations, card controls, pauses, lost/stolen reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from sqlalchemy import select

from cardwise.core.errors import Invalid, NotFound
from cardwise.db.models import Card
from cardwise.db.types import utcnow
from cardwise.deps import SessionDep, SettingsDep, StatementSessionsDep
from cardwise.safety import service
from cardwise.safety.models import CardControl, CardPause, LostReport
from cardwise.safety.rules import SEOUL
from cardwise.safety.schemas import (
    AnomalyIn,
    AnomalyOut,
    AuthorizationIn,
    AuthorizationOut,
    CloseReportIn,
    ControlsIn,
    ControlsOut,
    LostReportIn,
    LostReportOut,
    PauseIn,
    PauseOut,
    ReasonOut,
)
from cardwise.security.permissions import allow, card_access

router = APIRouter(tags=["card safety"])
backoffice = APIRouter(prefix="/backoffice", tags=["back office"])


@router.post("/authorizations", response_model=AuthorizationOut, dependencies=[allow("authorizations.decide")])
async def authorize(
    request: Request,
    body: AuthorizationIn,
    sessions: StatementSessionsDep,
    idempotency_key: Annotated[str | None, Header(min_length=8, max_length=128)] = None,
) -> AuthorizationOut:
    """Decide an authorization before approval. Retries with the same idempotency key get the same answer."""
    key = idempotency_key or body.idempotency_key
    if not key:
        raise Invalid("an idempotency key is required (Idempotency-Key header or idempotency_key field)")
    req = service.AuthorizationRequest(
        idempotency_key=key,
        card_token=body.card_token,
        amount_krw=body.amount_krw,
        merchant_id=body.merchant_id,
        at=body.timestamp,
        channel=body.channel,
        contactless=body.contactless,
    )
    pool, model = request.app.state.pg_pool, request.app.state.anomaly_model
    if pool is not None:  # PostgreSQL: non-blocking, many decisions in flight per process
        result = await service.authorize_async(pool, req, model)
    else:
        # SQLite: runs on the event loop on purpose; a decision is well under a millisecond and a
        # thread hop (with its GIL contention) cost more than it saved.
        with sessions() as session:
            result = service.authorize(session, req, model)
            session.commit()
    return AuthorizationOut(
        authorization_id=result.authorization_id,
        approved=result.approved,
        decision="APPROVED" if result.approved else "DECLINED",
        reasons=[ReasonOut(code=r.code, message_ko=r.message_ko, message_en=r.message_en) for r in result.reasons],
        card_last4=result.card_last4,
        replayed=result.replayed,
        anomaly_alert=result.anomaly_alert,
    )


@router.post("/anomaly", response_model=AnomalyOut, dependencies=[allow("anomaly.score")])
def anomaly(body: AnomalyIn, request: Request, session: SessionDep, settings: SettingsDep) -> AnomalyOut:
    """After approval: is this transaction unlike the card holder's usual pattern? "Y" or "N", with reasons."""
    from cardwise.safety.anomaly import load_latest, score_transaction

    model = getattr(request.app.state, "anomaly_model", None)
    if model is None:
        try:
            model = request.app.state.anomaly_model = load_latest(settings.models_dir)
        except FileNotFoundError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
    card = session.execute(select(Card.card_id, Card.customer_id).where(Card.token == body.card_token)).one_or_none()
    if card is None:
        raise NotFound("unknown card")
    recent = service.recent_on_card(session, card.card_id, body.timestamp)
    try:
        verdict = score_transaction(
            model,
            customer_id=card.customer_id,
            category_code=body.category_code,
            region_code=body.region_code,
            channel=body.channel,
            amount_krw=body.amount_krw,
            local_hour=body.timestamp.astimezone(SEOUL).hour,
            recent_on_card=int(recent),
        )
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return AnomalyOut(
        anomaly="Y" if verdict.anomaly else "N",
        score=verdict.score,
        threshold=verdict.threshold,
        reasons=[
            ReasonOut(code=f"UNUSUAL_{name.upper()}", message_ko=ko, message_en=en) for name, ko, en in verdict.reasons
        ],
    )


def _controls_out(row: CardControl) -> ControlsOut:
    return ControlsOut(
        card_id=row.card_id,
        allowed_regions=row.allowed_regions,
        blocked_windows=row.blocked_windows,  # type: ignore[arg-type]
        blocked_categories=row.blocked_categories,
        max_amount_krw=row.max_amount_krw,
        block_online=row.block_online,
        block_overseas=row.block_overseas,
        block_contactless=row.block_contactless,
    )


@router.get("/cards/{card_id}/controls", response_model=ControlsOut, dependencies=[card_access(write=False)])
def get_controls(card_id: int, session: SessionDep) -> ControlsOut:
    return _controls_out(service.get_controls(session, card_id))


@router.put("/cards/{card_id}/controls", response_model=ControlsOut, dependencies=[card_access(write=True)])
def put_controls(card_id: int, body: ControlsIn, session: SessionDep) -> ControlsOut:
    """Replace the card's rules: allowed regions, blocked time windows, blocked categories, limits, channels."""
    row = service.set_controls(
        session,
        card_id=card_id,
        allowed_regions=body.allowed_regions,
        blocked_windows=[w.model_dump() for w in body.blocked_windows],
        blocked_categories=body.blocked_categories,
        max_amount_krw=body.max_amount_krw,
        block_online=body.block_online,
        block_overseas=body.block_overseas,
        block_contactless=body.block_contactless,
    )
    session.commit()
    return _controls_out(row)


def _pause_out(p: CardPause) -> PauseOut:
    return PauseOut(pause_id=p.pause_id, card_id=p.card_id, starts_at=p.starts_at, ends_at=p.ends_at, status=p.status)


@router.post(
    "/cards/{card_id}/pauses", response_model=PauseOut, status_code=201, dependencies=[card_access(write=True)]
)
def create_pause(card_id: int, body: PauseIn, session: SessionDep) -> PauseOut:
    """Suspend the card's rules between two moments (a lost/stolen lock stays in force)."""
    pause = service.create_pause(session, card_id=card_id, starts_at=body.starts_at, ends_at=body.ends_at, now=utcnow())
    session.commit()
    return _pause_out(pause)


@router.delete("/cards/{card_id}/pauses/{pause_id}", response_model=PauseOut, dependencies=[card_access(write=True)])
def cancel_pause(card_id: int, pause_id: int, session: SessionDep) -> PauseOut:
    pause = service.cancel_pause(session, card_id=card_id, pause_id=pause_id)
    session.commit()
    return _pause_out(pause)


def _report_out(r: LostReport) -> LostReportOut:
    return LostReportOut(
        report_id=r.report_id,
        card_id=r.card_id,
        kind=r.kind,
        status=r.status,
        reported_at=r.reported_at,
        closed_at=r.closed_at,
        resolution=r.resolution,
        replacement_card_id=r.replacement_card_id,
    )


@router.post(
    "/cards/{card_id}/lost-report",
    response_model=LostReportOut,
    status_code=201,
    dependencies=[card_access(write=True)],
)
def report_lost(card_id: int, body: LostReportIn, session: SessionDep) -> LostReportOut:
    """Report the card lost or stolen: it is locked at once and every authorization is declined."""
    report = service.report_lost(session, card_id=card_id, kind=body.kind)
    session.commit()
    return _report_out(report)


@backoffice.get("/lost-reports", response_model=list[LostReportOut], dependencies=[allow("backoffice.read")])
def list_reports(
    session: SessionDep,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,  # a larger offset overflowed the database: 500
) -> list[LostReportOut]:
    return [_report_out(r) for r in service.list_reports(session, status=status, limit=limit, offset=offset)]


@backoffice.post(
    "/lost-reports/{report_id}/close", response_model=LostReportOut, dependencies=[allow("backoffice.write")]
)
def close_report(
    report_id: Annotated[int, Path(gt=0, le=2**63 - 1)],  # a larger id overflowed the database: 500
    body: CloseReportIn,
    session: SessionDep,
    settings: SettingsDep,
) -> LostReportOut:
    report = service.close_report(
        session, report_id=report_id, reissue=body.reissue, pan_key=settings.pan_hmac_key, today=date.today()
    )
    session.commit()
    return _report_out(report)
