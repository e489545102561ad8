"""Card controls, pauses, lost/stolen reports, card events and authorizations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db import models as _core_tables  # noqa: F401  (the tables these reference)
from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow


class CardControl(Base):
    """The customer's own rules for one card (absent row = no rules)."""

    __tablename__ = "card_controls"
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.card_id"), primary_key=True)
    allowed_regions: Mapped[list[str] | None] = mapped_column(JSON)
    blocked_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    blocked_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_amount_krw: Mapped[int | None] = mapped_column(BigInteger)
    block_online: Mapped[bool] = mapped_column(Boolean, default=False)
    block_overseas: Mapped[bool] = mapped_column(Boolean, default=False)
    block_contactless: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CardPause(Base):
    """The controls are suspended between ``starts_at`` and ``ends_at``."""

    __tablename__ = "card_pauses"
    pause_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.card_id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled, active, ended, cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LostReport(Base):
    __tablename__ = "lost_reports"
    report_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.card_id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # lost, stolen
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)  # open, closed
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(16))  # found, reissued
    replacement_card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.card_id"))


class CardEvent(Base):
    """Every state change of a card's safety settings, for the back office and audits."""

    __tablename__ = "card_events"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.card_id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Authorization(Base):
    __tablename__ = "authorizations"
    __table_args__ = (
        Index("ix_authorizations_card_requested", "card_id", "requested_at"),
        # The back office lists declines; approvals (the vast majority) need no entry in this index.
        Index(
            "ix_authorizations_declined_created",
            "created_at",
            postgresql_where=text("NOT approved"),
            sqlite_where=text("NOT approved"),
        ),
        # The back office's payment log: keyset pages newest first, all or declined only, or by merchant.
        Index("ix_authorizations_requested", "requested_at", "authorization_id"),
        Index(
            "ix_authorizations_declined_requested",
            "requested_at",
            "authorization_id",
            postgresql_where=text("NOT approved"),
            sqlite_where=text("NOT approved"),
        ),
        Index("ix_authorizations_merchant_requested", "merchant_id", "requested_at"),
    )
    authorization_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.card_id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.merchant_id"))
    amount_krw: Mapped[int] = mapped_column(BigInteger)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(8))
    contactless: Mapped[bool] = mapped_column(Boolean)
    approved: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
