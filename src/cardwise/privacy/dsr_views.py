"""Data-subject requests over HTTP: customers file and follow their own; the back office lists (overdue
first), processes and closes them. The caller comes from :mod:`cardwise.security.principal` only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cardwise.db.types import utcnow
from cardwise.deps import SessionDep, SettingsDep
from cardwise.privacy import dsr
from cardwise.privacy.models import DataSubjectRequest
from cardwise.security.principal import BackOfficePrincipal, CurrentPrincipal, require_customer

router = APIRouter(prefix="/privacy", tags=["privacy"])
backoffice = APIRouter(prefix="/backoffice/privacy", tags=["back office"])

Id = Annotated[int, Path(gt=0, le=2**63 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _text(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    if any(ord(c) < 32 and c not in "\n\t" for c in v):
        raise ValueError("must not contain control characters")
    return v or None


class RequestIn(Strict):
    kind: Literal["access", "correction", "deletion", "restriction"]
    note: str | None = Field(default=None, max_length=500, description="What you ask for, in your words.")
    correction: dict[str, str] | None = Field(
        default=None, description="For a correction: the new name, phone and/or email."
    )

    @field_validator("note")
    @classmethod
    def _note(cls, v: str | None) -> str | None:
        return _text(v)


class RequestOut(BaseModel):
    request_id: int
    kind: str
    kind_ko: str
    status: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    note: str | None
    outcome: dict[str, Any]


class BackOfficeRequestOut(RequestOut):
    customer_id: int | None
    handled_by: str | None
    days_left: int
    overdue: bool


class ProcessedOut(BaseModel):
    request: BackOfficeRequestOut
    export: dict[str, Any] | None = None


class CloseIn(Strict):
    status: Literal["rejected", "completed"]
    reason: str = Field(min_length=1, max_length=500)


def _out(r: DataSubjectRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "kind": r.kind,
        "kind_ko": dsr.KIND_KO[r.kind],
        "status": r.status,
        "received_at": r.received_at,
        "due_at": r.due_at,
        "completed_at": r.completed_at,
        "note": r.note,
        "outcome": r.outcome or {},
    }


def _bo(r: DataSubjectRequest, now: datetime) -> BackOfficeRequestOut:
    return BackOfficeRequestOut(
        **_out(r),
        customer_id=r.customer_id,
        handled_by=r.handled_by,
        days_left=dsr.days_left(r, now),
        overdue=r.status in ("received", "in_progress") and r.due_at < now,
    )


@router.post("/requests", response_model=RequestOut, status_code=201)
def file_request(
    body: RequestIn, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep, response: Response
) -> RequestOut:
    """열람·정정·삭제·처리정지 요구 (access, correction, deletion, stop of processing); answered within 10 days."""
    customer_id = require_customer(principal)
    req, created = dsr.file_request(
        session,
        settings,
        customer_id=customer_id,
        kind=body.kind,
        now=utcnow(),
        note=body.note,
        correction=body.correction,
    )
    session.commit()
    if not created:
        response.status_code = 200
    return RequestOut(**_out(req))


@router.get("/requests", response_model=list[RequestOut])
def my_requests(principal: CurrentPrincipal, session: SessionDep) -> list[RequestOut]:
    return [RequestOut(**_out(r)) for r in dsr.own_requests(session, require_customer(principal))]


@backoffice.get("/requests", response_model=list[BackOfficeRequestOut])
def list_requests(
    principal: BackOfficePrincipal,
    session: SessionDep,
    status: Annotated[Literal["open", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[BackOfficeRequestOut]:
    """Open requests by deadline, overdue first, with the days left (negative: days overdue)."""
    now = utcnow()
    return [_bo(x.request, now) for x in dsr.list_requests(session, now=now, open_only=status == "open", limit=limit)]


@backoffice.post("/requests/{request_id}/process", response_model=ProcessedOut)
def process_request(
    request_id: Id, principal: BackOfficePrincipal, session: SessionDep, settings: SettingsDep
) -> ProcessedOut:
    """Do what the request asks (export, correct, erase, restrict) and complete it."""
    now = utcnow()
    done = dsr.process(session, settings, request_id=request_id, actor=principal.audit_name, now=now)
    session.commit()
    return ProcessedOut(request=_bo(done.request, now), export=done.export)


@backoffice.post("/requests/{request_id}/close", response_model=BackOfficeRequestOut)
def close_request(
    request_id: Id, body: CloseIn, principal: BackOfficePrincipal, session: SessionDep
) -> BackOfficeRequestOut:
    """Close without processing: rejected with the legal reason, or completed elsewhere."""
    now = utcnow()
    req = dsr.close(
        session, request_id=request_id, actor=principal.audit_name, status=body.status, reason=body.reason, now=now
    )
    session.commit()
    return _bo(req, now)
