"""Marketing results kept for the API and the pages: runs, grades, life stages, triggers, single views.

Each monthly run replaces its month's rows in one transaction (``service.store_month``), so a
reader sees the old month or the new one, never a mix.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db import models as _core_tables  # noqa: F401  (the tables these reference)
from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow


class MarketingRun(Base):
    """One monthly batch (or quarterly life-stage run) with what it produced and how long it took."""

    __tablename__ = "marketing_runs"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))


class SegmentGrade(Base):
    __tablename__ = "segment_grades"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    target_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    segment_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grade: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[int] = mapped_column(SmallInteger)
    avg_usage_krw: Mapped[int] = mapped_column(BigInteger)
    active_months: Mapped[int] = mapped_column(SmallInteger)
    in_segment: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        # Campaign selection: "grades 1-2 of car care among check cardholders".
        Index("ix_segment_grades_audience", "month", "target_group", "segment_code", "grade"),
        Index("ix_segment_grades_customer", "customer_id", "month"),
    )


class LifeStage(Base):
    __tablename__ = "life_stages"
    quarter: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the quarter
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    stage: Mapped[str] = mapped_column(String(24))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_life_stages_customer", "customer_id", "quarter"),)


class CustomerTrigger(Base):
    __tablename__ = "customer_triggers"
    trigger_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    p_value: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_customer_triggers_customer", "customer_id", "month"),)


class CustomerSingleView(Base):
    """The precomputed single view: one row, one query per customer."""

    __tablename__ = "customer_single_views"
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    view: Mapped[dict[str, Any]] = mapped_column(JSON)
