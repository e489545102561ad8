"""What the model lifecycle keeps in the relational store: every promotion decision with both scores,
and every job run with its status and duration (the back office and Prometheus read these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow


class ModelDecision(Base):
    __tablename__ = "model_decisions"
    decision_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(64), index=True)
    # promoted, rejected, failed, not_needed, first_champion, manual_promote, rollback
    decision: Mapped[str] = mapped_column(String(24))
    metric: Mapped[str] = mapped_column(String(64))
    champion_version: Mapped[str | None] = mapped_column(String(32))
    challenger_version: Mapped[str | None] = mapped_column(String(32))
    champion_score: Mapped[float | None] = mapped_column(Float)
    challenger_score: Mapped[float | None] = mapped_column(Float)
    margin: Mapped[float] = mapped_column(Float, default=0.0)
    rows_at_champion: Mapped[int | None] = mapped_column(Integer)
    rows_now: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(2000), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRun(Base):
    __tablename__ = "job_runs"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16))  # scheduler, cli, airflow, api
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))

    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)
