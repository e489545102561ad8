"""Privacy tables: data-subject requests, processing restrictions, retention runs (P5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow
from cardwise.privacy.crypto import EncryptedString

_ID = BigInteger().with_variant(Integer, "sqlite")

DSR_KINDS = ("access", "correction", "deletion", "restriction")
DSR_STATUSES = ("received", "in_progress", "completed", "rejected")
OPEN_STATUSES = ("received", "in_progress")


class DataSubjectRequest(Base):
    """One request of a data subject, with its legal deadline and who handled it.

    No foreign key to ``customers``: the request outlives an erasure. Erasure clears ``customer_id``
    and keeps ``subject_ref`` (a keyed hash of the id), so the processing record can be shown for
    years (PIPA: processing records) without naming the person."""

    __tablename__ = "data_subject_requests"
    __table_args__ = (Index("ix_data_subject_requests_status_due", "status", "due_at"),)
    request_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    subject_ref: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="received")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(64))
    # What the requester asked for (e.g. the corrected phone): personal data, so sealed like the contacts.
    payload: Mapped[str | None] = mapped_column(EncryptedString("data_subject_requests.payload"))
    note: Mapped[str | None] = mapped_column(String(500))  # the requester's words or the handler's reason
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counts, what was kept and why


class ProcessingRestriction(Base):
    """A customer who asked to stop processing: no segments, grades, single views, scores,
    recommendations or campaigns while a row without ``lifted_at`` exists."""

    __tablename__ = "processing_restrictions"
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    request_id: Mapped[int | None] = mapped_column(_ID)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RetentionRun(Base):
    """What one retention run destroyed: per data kind and place, the cutoff and the rows or lines."""

    __tablename__ = "retention_runs"
    __table_args__ = (Index("ix_retention_runs_ran_at", "ran_at"),)
    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(48))
    location: Mapped[str] = mapped_column(String(16))  # db, lake, logs, marts
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    rows_destroyed: Mapped[int] = mapped_column(Integer, default=0)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
