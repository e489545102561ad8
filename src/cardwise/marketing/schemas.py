"""Response bodies of the marketing API (the single view's blocks are typed for the OpenAPI docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cardwise.voc.schemas import RiskBlock


class Status(BaseModel):
    age: int
    age_band_ko: str
    age_band_en: str
    gender: str
    gender_ko: str
    marital_status: str
    marital_status_ko: str
    occupation: str
    occupation_ko: str
    sole_proprietor: bool
    target_groups: list[str]


class LifeStageOut(BaseModel):
    code: str
    name_ko: str
    name_en: str
    quarter: str
    evidence: list[dict[str, Any]]


class MainCategory(BaseModel):
    category_code: str
    name_ko: str
    name_en: str
    share: float = Field(description="Share of the last three months' spend.")


class SegmentOut(BaseModel):
    segment_code: str
    name_ko: str
    name_en: str
    target_group: str
    grade: int = Field(ge=1, le=7)
    score: int
    avg_usage_krw: int


class Value(BaseModel):
    monthly_spend_krw: int
    spend_this_month_krw: int
    tenure_months: int
    estimated_12m_revenue_krw: int
    credit_cards: int
    check_cards: int


class Event(BaseModel):
    kind: str
    ko: str
    en: str
    month: str


class Trigger(BaseModel):
    kind: str
    ko: str
    en: str
    p_value: float
    evidence: dict[str, Any]


class Trend(BaseModel):
    ko: list[str]
    en: list[str]
    spend_slope_krw_per_month: int
    count_slope_per_month: float
    usage_drop_probability: float | None = Field(description="Predicted chance that next month's spend halves.")


class Channels(BaseModel):
    preferred: str
    marketing_consent: bool
    app_logins_this_month: int
    app_active_days_this_month: int
    calls_this_month: int


class Action(BaseModel):
    code: str
    ko: str
    en: str
    because: str


class SingleView(BaseModel):
    customer_id: int
    month: str
    status: Status
    life_stage: LifeStageOut
    main_categories: list[MainCategory]
    segments: list[SegmentOut]
    value: Value
    events: list[Event]
    triggers: list[Trigger]
    trend: Trend
    risk: RiskBlock
    channels: Channels
    actions: list[Action]


class SegmentDef(BaseModel):
    code: str
    name_ko: str
    name_en: str
    categories: list[str]
    channels: list[str]
    min_monthly_krw: int
    min_active_months: int


class SegmentCount(BaseModel):
    segment_code: str
    name_ko: str
    name_en: str
    members: int = Field(description="Customers in the segment (grades 1-5).")
    by_grade: dict[str, int]


class SegmentSummary(BaseModel):
    month: str
    target_group: str
    segments: list[SegmentCount]


class AudienceMember(BaseModel):
    customer_id: int
    grade: int
    score: int


class Audience(BaseModel):
    month: str
    target_group: str
    segment_code: str
    grades: list[int]
    total: int
    customers: list[AudienceMember]
    next_after: int | None = Field(description="Pass as after_customer_id for the next page.")


class TriggerRecord(BaseModel):
    month: str
    kind: str
    p_value: float
    evidence: dict[str, Any]


class RunOut(BaseModel):
    run_id: int
    month: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    counts: dict[str, Any]
    metrics: dict[str, Any]
    error: str | None
