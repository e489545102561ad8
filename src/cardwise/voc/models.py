"""VOC risk results and what follows from them: scoring runs, scores per customer and month,
campaigns with their members and outcomes.

A scoring run replaces its month's scores in one transaction, so a reader sees the old month or the
new one. (Transcripts from a speech-to-text engine arrive through the ingestion domain's inbox and reach
the lake's ``transcript_log``; see ``voc/stt.py``.)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow


class VocRun(Base):
    """One monthly scoring run: which model scored which month, how long it took, what it stored."""

    __tablename__ = "voc_runs"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    model_version: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))


class VocScore(Base):
    """A customer's four probabilities for the month after ``month``, with deciles and top drivers."""

    __tablename__ = "voc_scores"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    model_version: Mapped[str] = mapped_column(String(40))
    churn: Mapped[float] = mapped_column(Float)
    complaint: Mapped[float] = mapped_column(Float)
    delinquency: Mapped[float] = mapped_column(Float)
    card_loan: Mapped[float] = mapped_column(Float)
    # 1 = the riskiest tenth of the month's customers, 10 = the least risky.
    churn_decile: Mapped[int] = mapped_column(SmallInteger)
    complaint_decile: Mapped[int] = mapped_column(SmallInteger)
    delinquency_decile: Mapped[int] = mapped_column(SmallInteger)
    card_loan_decile: Mapped[int] = mapped_column(SmallInteger)
    drivers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_voc_scores_customer", "customer_id", "month"),
        # Campaign selection reads one target's top deciles of a month.
        Index("ix_voc_scores_churn", "month", "churn_decile"),
        Index("ix_voc_scores_complaint", "month", "complaint_decile"),
        Index("ix_voc_scores_delinquency", "month", "delinquency_decile"),
        Index("ix_voc_scores_card_loan", "month", "card_loan_decile"),
    )


class VocCampaign(Base):
    """A campaign chosen from one month's scores (e.g. churn-defence coupons to the riskiest tenth)."""

    __tablename__ = "voc_campaigns"
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    month: Mapped[date] = mapped_column(Date)
    target: Mapped[str] = mapped_column(String(16))
    deciles: Mapped[list[int]] = mapped_column(JSON, default=list)
    control_share: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    members: Mapped[int] = mapped_column(Integer, default=0)
    treated: Mapped[int] = mapped_column(Integer, default=0)
    excluded: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("kind", "month", name="uq_voc_campaigns_kind_month"),)


class VocCampaignMember(Base):
    """A selected customer: treated (messaged) or held out as control, and the outcome once known."""

    __tablename__ = "voc_campaign_members"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("voc_campaigns.campaign_id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    arm: Mapped[str] = mapped_column(String(10))  # treatment, control
    probability: Mapped[float] = mapped_column(Float)
    decile: Mapped[int] = mapped_column(SmallInteger)
    message_key: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[bool | None] = mapped_column(Boolean)  # the campaign's target event happened
    outcome_on: Mapped[date | None] = mapped_column(Date)
    outcome_source: Mapped[str | None] = mapped_column(String(16))  # api, lake
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_voc_campaign_members_customer", "customer_id"),)
