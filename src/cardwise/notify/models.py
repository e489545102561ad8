"""The outbox, delivery attempts and customer contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db import models as _core_tables  # noqa: F401  (the tables these reference)
from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow
from cardwise.privacy.crypto import EncryptedString


class OutboxMessage(Base):
    """A message written in the same transaction as the event that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_kind_created", "kind", "created_at"),  # the back office's alert lists, newest first
    )
    message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)  # one message per event, ever
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))  # sms, email, push, console
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending, sending, sent, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """One attempt to hand a message to its channel."""

    __tablename__ = "deliveries"
    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.message_id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    ok: Mapped[bool]
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerContact(Base):
    """Where to reach a customer. Kept apart from the analytics tables; name, phone and e-mail are
    encrypted at rest (privacy/crypto.py), the phone is found by its keyed blind index."""

    __tablename__ = "customer_contacts"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedString("customer_contacts.name"))
    phone: Mapped[str] = mapped_column(EncryptedString("customer_contacts.phone"))
    email: Mapped[str] = mapped_column(EncryptedString("customer_contacts.email"))
    phone_index: Mapped[str] = mapped_column(String(64), index=True)  # crypto.phone_index(phone)
