"""Ingestion over HTTP: event batches from the pages and clients, transcripts from speech-to-text."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from cardwise.core.errors import DomainError, Invalid, NotFound
from cardwise.db.models import Customer
from cardwise.db.types import utcnow
from cardwise.deps import SessionDep
from cardwise.ingest.models import EventInbox, TranscriptInbox
from cardwise.ingest.schemas import (
    MAX_BODY_BYTES,
    MAX_EVENTS,
    EventIn,
    EventRejection,
    EventsOut,
    TranscriptIn,
    TranscriptOut,
)
from cardwise.privacy.masking import mask_pii
from cardwise.security.permissions import allow
from cardwise.security.principal import Principal

router = APIRouter(tags=["ingestion"])


class TooLarge(DomainError):
    status_code = 413


async def _body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    try:
        return json.loads(raw)
    except ValueError:
        raise Invalid("the body is not JSON") from None


@router.post(
    "/events",
    response_model=EventsOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"events": {"type": "array", "items": EventIn.model_json_schema()}},
                    }
                }
            },
        }
    },
)
async def post_events(
    request: Request, session: SessionDep, principal: Annotated[Principal, allow("ingest.events")]
) -> EventsOut:
    """A batch of app and web events. Each event is validated on its own: a malformed one is
    rejected with its reasons and the rest are kept. More than 1,000 events or 1 MiB: 413."""
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise Invalid('the body must be {"events": [...]}')
    items = body["events"]
    if len(items) > MAX_EVENTS:
        raise TooLarge(f"at most {MAX_EVENTS:,} events per batch, got {len(items):,}")
    accepted: list[EventIn] = []
    rejected: list[EventRejection] = []
    me = principal.customer_id  # a signed-in customer posts events about themself only
    for i, item in enumerate(items):
        try:
            event = EventIn.model_validate(item)
            if me is not None and event.customer_id not in (None, me):
                rejected.append(EventRejection(index=i, errors=["customer_id: not the signed-in customer"]))
                continue
            accepted.append(event if me is None else event.model_copy(update={"customer_id": me}))
        except ValidationError as exc:
            rejected.append(
                EventRejection(
                    index=i,
                    errors=[f"{'.'.join(str(x) for x in e['loc']) or 'event'}: {e['msg']}" for e in exc.errors()],
                )
            )
    if items and not accepted:
        raise Invalid(f"every event was malformed; first: {rejected[0].errors[0]}")
    now = utcnow()
    session.add_all(
        EventInbox(
            customer_id=e.customer_id,
            client_ts=e.ts,
            received_at=now,
            event_type=e.event_type,
            page=e.page,
            session_id=e.session_id,
            cookie_id=e.cookie_id,
            device=e.device,
            ip=str(e.ip),
        )
        for e in accepted
    )
    session.commit()
    return EventsOut(accepted=len(accepted), rejected=rejected)


@router.post(
    "/voc/transcripts", response_model=TranscriptOut, status_code=201, dependencies=[allow("ingest.transcripts")]
)
def post_transcript(body: TranscriptIn, session: SessionDep) -> TranscriptOut:
    """A call transcript or transfer memo from a speech-to-text system. Personal data (card, resident
    registration, phone and account numbers, e-mail, names) is masked before anything is stored."""
    if session.get(Customer, body.customer_id) is None:
        raise NotFound(f"customer {body.customer_id} not found")
    masked = mask_pii(body.text)
    row = TranscriptInbox(
        customer_id=body.customer_id,
        started_at=body.started_at,
        channel=body.channel,
        text=masked,
        received_at=utcnow(),
    )
    session.add(row)
    session.commit()
    return TranscriptOut(transcript_id=row.transcript_id, masked=masked != body.text)
