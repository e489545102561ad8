"""Queueing messages: always inside the caller's transaction, so an event and its message are
written together or not at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cardwise.db.models import Customer
from cardwise.notify.models import OutboxMessage

# The customer's preferred channel; push has no gateway yet and goes to the console channel.
_CHANNEL_FOR_PREFERENCE = {"sms": "sms", "email": "email", "push": "console"}


_INSERT_ONCE = {
    name: dialect_insert(OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])  # type: ignore[arg-type]
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def channel_for_preference(preference: str | None) -> str:
    return _CHANNEL_FOR_PREFERENCE.get(preference or "", "console")


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    customer_id: int | None,
    kind: str,
    subject: str,
    body: str,
    payload: dict[str, Any] | None = None,
    channel: str | None = None,
) -> None:
    """Add a message once per ``dedupe_key``; a second call with the same key does nothing."""
    if channel is None:
        pref = None
        if customer_id is not None:
            pref = session.execute(
                select(Customer.preferred_channel).where(Customer.customer_id == customer_id)
            ).scalar_one_or_none()
        channel = channel_for_preference(pref)
    values = dict(
        dedupe_key=dedupe_key,
        customer_id=customer_id,
        kind=kind,
        channel=channel,
        subject=subject,
        body=body,
        payload=payload or {},
        status="pending",
        attempts=0,
    )
    conn = session.connection()
    conn.execute(_INSERT_ONCE[conn.dialect.name], values)
