"""The outbox worker: claims due messages, delivers them, records every attempt.

A message is claimed with a lease (status `sending`, `lease_until`). If the worker dies after
claiming, the lease runs out and another run picks the message up again; a message is marked
`sent` only after its channel took it, so nothing is lost. A crash between the hand-over and the
mark can repeat a delivery, which the dedupe key carried by every channel lets the receiver drop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from cardwise.db.types import utcnow
from cardwise.logging import get_logger
from cardwise.notify.channels import Channel, DeliveryError, Outgoing
from cardwise.notify.models import CustomerContact, Delivery, OutboxMessage

log = get_logger("cardwise.notify.worker")
LEASE = timedelta(seconds=60)


@dataclass
class RunStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


def backoff(attempt: int) -> timedelta:
    """2, 4, 8 … seconds, at most five minutes."""
    return timedelta(seconds=min(2**attempt, 300))


def claim(session: Session, *, now: datetime, batch: int, lease: timedelta = LEASE) -> list[int]:
    """Take up to ``batch`` due messages; concurrent workers never take the same one."""
    due = or_(
        (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == "sending") & (OutboxMessage.lease_until < now),
    )
    ids = list(
        session.execute(
            select(OutboxMessage.message_id)
            .where(due)
            .order_by(OutboxMessage.message_id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    claimed = []
    for message_id in ids:
        # The status check in the UPDATE makes the claim safe on SQLite too (no row locks there).
        res: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(OutboxMessage)
            .where(OutboxMessage.message_id == message_id, due)
            .values(status="sending", lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
        )
        if res.rowcount == 1:
            claimed.append(message_id)
    session.commit()
    return claimed


def deliver_one(session: Session, message_id: int, channels: dict[str, Channel], *, max_attempts: int) -> str:
    msg = session.get(OutboxMessage, message_id)
    assert msg is not None
    contact = session.get(CustomerContact, msg.customer_id) if msg.customer_id is not None else None
    out = Outgoing(
        dedupe_key=msg.dedupe_key,
        # Messages to staff (security alarms) carry their address; customers' come from their contact.
        to_email=contact.email if contact else (msg.payload or {}).get("to_email"),
        to_phone=contact.phone if contact else None,
        subject=msg.subject,
        body=msg.body,
    )
    channel = channels.get(msg.channel) or channels["console"]
    now = utcnow()
    try:
        detail = channel.send(out)
    except DeliveryError as exc:
        session.add(
            Delivery(message_id=message_id, attempt=msg.attempts, channel=channel.name, ok=False, detail=str(exc)[:500])
        )
        msg.last_error = str(exc)[:500]
        if msg.attempts >= max_attempts:
            msg.status = "dead"
            outcome = "dead"
            log.error("notification given up", extra={"notify.key": msg.dedupe_key, "attempts": msg.attempts})
        else:
            msg.status, msg.next_attempt_at = "pending", now + backoff(msg.attempts)
            outcome = "retried"
        msg.lease_until = None
        session.commit()
        return outcome
    session.add(Delivery(message_id=message_id, attempt=msg.attempts, channel=channel.name, ok=True, detail=detail))
    msg.status, msg.sent_at, msg.lease_until = "sent", now, None
    session.commit()
    return "sent"


def run_once(
    engine: Engine, channels: dict[str, Channel], *, batch: int = 100, max_attempts: int = 6, lease: timedelta = LEASE
) -> RunStats:
    factory = sessionmaker(engine, expire_on_commit=False)
    stats = RunStats()
    with factory() as session:
        ids = claim(session, now=utcnow(), batch=batch, lease=lease)
    stats.claimed = len(ids)
    for message_id in ids:
        with factory() as session:
            outcome = deliver_one(session, message_id, channels, max_attempts=max_attempts)
        if outcome == "sent":
            stats.sent += 1
        elif outcome == "retried":
            stats.retried += 1
        else:
            stats.dead += 1
    return stats


def run_forever(
    engine: Engine,
    channels: dict[str, Channel],
    *,
    interval: float = 1.0,
    max_attempts: int = 6,
    lease: timedelta = LEASE,
    stop_after: float | None = None,
) -> None:
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        stats = run_once(engine, channels, max_attempts=max_attempts, lease=lease)
        if stats.claimed == 0:
            time.sleep(interval)
