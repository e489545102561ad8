"""Inboxes for what clients post (events, transcripts): stored in one transaction with the request,
then exported to the lake by the micro-batch exporter, which keeps its high-water marks in the lake."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow


class EventInbox(Base):
    __tablename__ = "event_inbox"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    client_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_type: Mapped[str] = mapped_column(String(16))
    page: Mapped[str | None] = mapped_column(String(200))
    session_id: Mapped[str] = mapped_column(String(64))
    cookie_id: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(8))
    ip: Mapped[str] = mapped_column(String(45))

    __table_args__ = (Index("ix_event_inbox_received", "received_at"),)


class TranscriptInbox(Base):
    __tablename__ = "transcript_inbox"
    transcript_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)  # masked before it is stored
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_transcript_inbox_received", "received_at"),)
