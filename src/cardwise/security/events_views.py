"""Back office: the stored security events and alarms (read only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import func, select

from cardwise.deps import SessionDep
from cardwise.security.events_models import SecurityAlarm, SecurityEvent
from cardwise.security.principal import BackOfficePrincipal

backoffice = APIRouter(prefix="/backoffice/security", tags=["back office", "security"])

Kind = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="e.g. login_failed, waf_blocked")]
Since = Annotated[AwareDatetime | None, Query(description="Only events at or after this moment (with a time zone).")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class EventOut(BaseModel):
    event_id: int
    at: datetime
    kind: str
    outcome: str
    source_ip: str | None
    user_name: str | None
    detail: dict[str, Any]


class EventPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[EventOut]


class AlarmOut(BaseModel):
    alarm_id: int
    rule: str
    subject: str
    window_start: datetime
    at: datetime
    observed: int
    threshold: int
    detail: dict[str, Any]


@backoffice.get("/events", response_model=EventPage)
def list_events(
    session: SessionDep,
    _: BackOfficePrincipal,
    kind: Kind = None,
    since: Since = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> EventPage:
    """Security events, newest first (보안 이벤트, 최신순): filter by kind and time, page with limit/offset."""
    where = []
    if kind:
        where.append(SecurityEvent.kind == kind)
    if since is not None:
        where.append(SecurityEvent.at >= since)
    total = session.execute(select(func.count()).select_from(SecurityEvent).where(*where)).scalar_one()
    rows = session.scalars(
        select(SecurityEvent)
        .where(*where)
        .order_by(SecurityEvent.at.desc(), SecurityEvent.event_id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        EventOut(
            event_id=r.event_id,
            at=r.at,
            kind=r.kind,
            outcome=r.outcome,
            source_ip=r.source_ip,
            user_name=r.user_name,
            detail=r.detail or {},
        )
        for r in rows
    ]
    return EventPage(total=int(total), limit=limit, offset=offset, items=items)


@backoffice.get("/alarms", response_model=list[AlarmOut])
def list_alarms(session: SessionDep, _: BackOfficePrincipal, since: Since = None, limit: Limit = 50) -> list[AlarmOut]:
    """Alarms raised on abnormal access (비정상 접근 경보), newest first."""
    stmt = select(SecurityAlarm)
    if since is not None:
        stmt = stmt.where(SecurityAlarm.at >= since)
    rows = session.scalars(stmt.order_by(SecurityAlarm.at.desc(), SecurityAlarm.alarm_id.desc()).limit(limit)).all()
    return [
        AlarmOut(
            alarm_id=r.alarm_id,
            rule=r.rule,
            subject=r.subject,
            window_start=r.window_start,
            at=r.at,
            observed=r.observed,
            threshold=r.threshold,
            detail=r.detail or {},
        )
        for r in rows
    ]
