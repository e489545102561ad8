"""Recommendation results kept for the API and the pages: runs, and one precomputed JSON document
per customer (recommendations and spend-pattern report), per merchant (targets) and per product
(similar products), each keyed by its id and the run month.

Documents are stored as compact UTF-8 JSON text and served as they are: a read is one primary-key
lookup with no re-encoding. Each monthly run replaces its month in one transaction
(``service.store_run``), so a reader sees the old month or the new one, never a mix.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db import models as _core_tables  # noqa: F401  (the tables these reference)
from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow


class RecommendRun(Base):
    """One monthly run with what it produced, how long it took and its cold-start fallbacks."""

    __tablename__ = "recommend_runs"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cold_start: Mapped[str | None] = mapped_column(Text)
    """JSON text: fallbacks by age band and gender and by home place, for customers the run did not see."""
    error: Mapped[str | None] = mapped_column(String(2000))


class CustomerRecommendation(Base):
    __tablename__ = "customer_recommendations"
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)
    cold_start: Mapped[bool] = mapped_column(default=False)
    recommendations: Mapped[str] = mapped_column(Text)
    report: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_customer_recommendations_month", "month"),)


class MerchantTarget(Base):
    __tablename__ = "merchant_targets"
    merchant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16))
    document: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_merchant_targets_stage", "month", "stage"),)


class ProductSimilarity(Base):
    __tablename__ = "product_similarities"
    product_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
