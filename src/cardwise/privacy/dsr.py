"""Data-subject requests (P5; PIPA art. 35-37): access, correction, deletion, restriction.

A customer files a request; it is due ``settings.dsr_deadline_days`` (10) days later. The back office
lists open requests overdue first, processes one (the service does what the kind asks) or closes it
with a reason (e.g. rejected: another law requires the data). Every step is a security event.
Services flush; the caller commits — except erasure, which also rewrites files (see :func:`process`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.core.errors import Conflict, Invalid, NotFound
from cardwise.db.models import Customer
from cardwise.notify.models import CustomerContact
from cardwise.privacy import crypto, erasure
from cardwise.privacy.dsr_export import export_customer
from cardwise.privacy.models import DSR_KINDS, OPEN_STATUSES, DataSubjectRequest, ProcessingRestriction
from cardwise.security.events import emit

KIND_KO = {"access": "열람", "correction": "정정", "deletion": "삭제", "restriction": "처리정지"}
CORRECTABLE = ("name", "phone", "email")
_PHONE = re.compile(r"^01[016789][0-9]{7,8}$")
_EMAIL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_NAME = re.compile(r"^[가-힣A-Za-z][가-힣A-Za-z .'-]{0,39}$")


def validate_correction(fields: dict[str, Any]) -> dict[str, str]:
    """The corrected contact fields in stored form; Invalid with the reason otherwise."""
    if not fields:
        raise Invalid("a correction needs at least one of name, phone, email (정정할 항목이 없습니다)")
    unknown = sorted(set(fields) - set(CORRECTABLE))
    if unknown:
        raise Invalid(f"only {', '.join(CORRECTABLE)} can be corrected here, not {', '.join(unknown)}")
    out: dict[str, str] = {}
    for key, raw in fields.items():
        if not isinstance(raw, str):
            raise Invalid(f"{key} must be text")
        value = raw.strip()
        if key == "phone":
            digits = re.sub(r"[\s.()\-]", "", value)
            if not _PHONE.match(digits):
                raise Invalid("phone must be a Korean mobile number like 010-1234-5678 (휴대전화 번호 형식)")
            value = f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"
        elif key == "email" and not _EMAIL.match(value):
            raise Invalid("email is not a valid e-mail address (이메일 형식이 아닙니다)")
        elif key == "name" and not _NAME.match(value):
            raise Invalid("name must be 1-40 letters (이름은 한글 또는 영문 1~40자)")
        out[key] = value
    return out


def _subject_ref(settings: Settings, customer_id: int) -> str:
    return erasure.subject_ref(customer_id, settings.pii_index_key.encode())


def file_request(
    session: Session,
    settings: Settings,
    *,
    customer_id: int,
    kind: str,
    now: datetime,
    note: str | None = None,
    correction: dict[str, Any] | None = None,
) -> tuple[DataSubjectRequest, bool]:
    """File a request; (request, created). An open request of the same kind is returned instead of a second."""
    if kind not in DSR_KINDS:
        raise Invalid(f"kind must be one of {', '.join(DSR_KINDS)}")
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found")
    payload = None
    if kind == "correction":
        payload = json.dumps(validate_correction(correction or {}), ensure_ascii=False)
    elif correction:
        raise Invalid("corrected fields belong to a correction request only")
    existing = session.execute(
        select(DataSubjectRequest).where(
            DataSubjectRequest.customer_id == customer_id,
            DataSubjectRequest.kind == kind,
            DataSubjectRequest.status.in_(OPEN_STATUSES),
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    req = DataSubjectRequest(
        customer_id=customer_id,
        subject_ref=_subject_ref(settings, customer_id),
        kind=kind,
        status="received",
        received_at=now,
        due_at=now + timedelta(days=settings.dsr_deadline_days),
        payload=payload,
        note=note,
        outcome={},
    )
    session.add(req)
    session.flush()
    emit(
        f"dsr_{kind}_received",
        outcome="success",
        user=f"customer:{customer_id}",
        detail={"request_id": req.request_id, "due_at": req.due_at.isoformat()},
    )
    return req, True


def own_requests(session: Session, customer_id: int) -> list[DataSubjectRequest]:
    return list(
        session.execute(
            select(DataSubjectRequest)
            .where(DataSubjectRequest.customer_id == customer_id)
            .order_by(DataSubjectRequest.received_at.desc(), DataSubjectRequest.request_id.desc())
        ).scalars()
    )


@dataclass(frozen=True)
class Listed:
    request: DataSubjectRequest
    days_left: int  # negative: overdue by that many days
    overdue: bool


def days_left(req: DataSubjectRequest, now: datetime) -> int:
    """Whole days to the deadline (rounded down; negative when overdue)."""
    return (req.due_at - now) // timedelta(days=1)


def list_requests(session: Session, *, now: datetime, open_only: bool = True, limit: int = 200) -> list[Listed]:
    """Requests for the back office: open ones by deadline (so the overdue come first), then closed ones."""
    query = select(DataSubjectRequest)
    if open_only:
        query = query.where(DataSubjectRequest.status.in_(OPEN_STATUSES))
    rows = session.execute(query.order_by(DataSubjectRequest.due_at, DataSubjectRequest.request_id)).scalars().all()
    listed = [Listed(r, days_left(r, now), r.status in OPEN_STATUSES and r.due_at < now) for r in rows]
    listed.sort(key=lambda x: (x.request.status not in OPEN_STATUSES, x.request.due_at, x.request.request_id))
    return listed[:limit]


def get(session: Session, request_id: int) -> DataSubjectRequest:
    req = session.get(DataSubjectRequest, request_id)
    if req is None:
        raise NotFound(f"request {request_id} not found")
    return req


@dataclass
class Processed:
    request: DataSubjectRequest
    export: dict[str, Any] | None = None


def process(session: Session, settings: Settings, *, request_id: int, actor: str, now: datetime) -> Processed:
    """Do what an open request asks and complete it.

    Deletion changes the database in the session's transaction and rewrites the lake, marts, reports
    and log files (each atomically) before the caller commits: if a file step fails the database is
    rolled back by the caller and the request stays open; erasure is idempotent, so it is simply run again."""
    req = get(session, request_id)
    if req.status not in OPEN_STATUSES:
        raise Conflict(f"request {request_id} is {req.status} already")
    if req.customer_id is None:
        raise Conflict(f"request {request_id} has no subject any more")
    customer_id = req.customer_id
    req.status = "in_progress"
    req.handled_by = actor[:64]
    export: dict[str, Any] | None = None
    conn = session.connection()
    if req.kind == "access":
        export = export_customer(conn, settings.lake_dir, customer_id, now=now)
        req.outcome = {"tables": {k: len(v) for k, v in export["database"].items()}, "lake": len(export["lake"])}
    elif req.kind == "correction":
        fields = json.loads(req.payload or "{}")
        contact = session.get(CustomerContact, customer_id)
        if contact is None:
            raise NotFound(f"customer {customer_id} has no contact record to correct")
        for key, value in fields.items():
            setattr(contact, key, value)
        if "phone" in fields:
            contact.phone_index = crypto.phone_index(fields["phone"])
        req.outcome = {"corrected": sorted(fields)}
        req.payload = None  # done: the new values live in the contact record only
    elif req.kind == "restriction":
        existing = session.get(ProcessingRestriction, customer_id)
        if existing is None:
            session.add(ProcessingRestriction(customer_id=customer_id, request_id=req.request_id, since=now))
        else:
            existing.lifted_at = None
            existing.since = now
            existing.request_id = req.request_id
        req.outcome = {"restricted": ["marketing", "recommendations", "voc_scores", "campaigns"]}
    elif req.kind == "deletion":
        session.flush()
        db = erasure.erase_in_db(conn, customer_id, now=now)
        files = erase_files(settings, [customer_id])
        req.outcome = {"database": db, **files}
        req.customer_id = None  # the request stays as a processing record, named by subject_ref only
    req.status = "completed"
    req.completed_at = now
    session.flush()
    # The completion event names the request, not the customer: after an erasure nothing may point back.
    emit(
        f"dsr_{req.kind}_completed",
        outcome="success",
        user=actor,
        detail={"request_id": req.request_id, "late": now > req.due_at},
    )
    return Processed(req, export)


def erase_files(settings: Settings, customer_ids: list[int]) -> dict[str, Any]:
    lake = settings.lake_dir
    return {
        "lake": erasure.erase_in_lake(lake, customer_ids) if (lake / "_manifest.json").exists() else {},
        "marts_rows": erasure.erase_in_marts(settings.data_dir / "marts", customer_ids),
        "reports": erasure.erase_in_reports(settings.data_dir / "reports", customer_ids),
        "log_lines": erasure.erase_in_logs(settings.log_dir, customer_ids),
    }


def close(
    session: Session, *, request_id: int, actor: str, status: str, reason: str, now: datetime
) -> DataSubjectRequest:
    """Close without processing: ``rejected`` (with the legal reason) or ``completed`` (handled elsewhere)."""
    if status not in ("rejected", "completed"):
        raise Invalid("status must be rejected or completed")
    if not reason.strip():
        raise Invalid("a reason is required to close a request (사유를 입력하세요)")
    req = get(session, request_id)
    if req.status not in OPEN_STATUSES:
        raise Conflict(f"request {request_id} is {req.status} already")
    req.status = status
    req.handled_by = actor[:64]
    req.completed_at = now
    req.note = reason.strip()[:500]
    req.payload = None
    session.flush()
    emit(f"dsr_{req.kind}_{status}", outcome="success", user=actor, detail={"request_id": req.request_id})
    return req


def lift_restriction(session: Session, *, customer_id: int, now: datetime) -> bool:
    found = session.get(ProcessingRestriction, customer_id)
    if found is None or found.lifted_at is not None:
        return False
    found.lifted_at = now
    session.flush()
    emit("dsr_restriction_lifted", outcome="success", user=f"customer:{customer_id}")
    return True
