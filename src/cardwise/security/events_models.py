"""Stored security events and the alarms raised on them (migration 0010)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow


class SecurityEvent(Base):
    """One security event as emitted (login failed, request blocked, data-subject request …)."""

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_kind_at", "kind", "at"),)
    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(8))  # success, failure, unknown
    source_ip: Mapped[str | None] = mapped_column(String(45))
    user_name: Mapped[str | None] = mapped_column(String(128), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SecurityAlarm(Base):
    """An alarm on abnormal access; at most one per rule, key and alarm window (``dedupe_key``)."""

    __tablename__ = "security_alarms"
    alarm_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(128))  # the account, the address, or "*" for all traffic
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)  # the back office lists newest first
    observed: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
