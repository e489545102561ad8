"""Request and response bodies of the VOC risk API; ``RiskBlock`` is also the single view's risk block."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from cardwise.core.months import MONTH_PATTERN

__all__ = [
    "CampaignIn",
    "CampaignOut",
    "CampaignReport",
    "CustomerRisk",
    "OutcomesIn",
    "RiskBlock",
    "VocRunOut",
]


class RiskDriver(BaseModel):
    code: str
    ko: str
    en: str
    impact: float = Field(description="Probability added by this group compared with typical values.")
    evidence_ko: str | None = None
    evidence_en: str | None = None


class RiskScore(BaseModel):
    ko: str
    en: str
    probability: float = Field(description="Calibrated probability that it happens next month.")
    decile: int = Field(ge=1, le=10, description="1 = the riskiest tenth of the month's customers.")
    level: str = Field(description="high (decile 1), elevated (decile 2) or low.")
    level_ko: str
    drivers: list[RiskDriver]


class RiskBlock(BaseModel):
    """Churn, complaint, delinquency and card-loan propensity (M4), or why they are not available."""

    available: bool
    note: str | None = None
    month: str | None = Field(default=None, description="The month the scores were computed at (YYYY-MM).")
    model_version: str | None = None
    horizon: str | None = None
    summary_ko: str | None = Field(default=None, description="e.g. 이탈↓ / 민원↑ / 연체↓ / 카드론↑")
    summary_en: str | None = None
    scores: dict[str, RiskScore] = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list, description="Frequent nouns of the customer's recent calls.")


class CustomerRisk(RiskBlock):
    customer_id: int


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="CHURN_DEFENCE, COMPLAINT_CARE, DELINQUENCY_CARE or CARD_LOAN_OFFER.")
    month: str | None = Field(default=None, pattern=MONTH_PATTERN, description="Scores' month.")
    deciles: list[int] = Field(default=[1], min_length=1, max_length=10)
    control_share: float = Field(default=0.1, ge=0, lt=1)


class CampaignOut(BaseModel):
    campaign_id: int
    kind: str
    ko: str
    en: str
    target: str
    month: str
    deciles: list[int]
    control_share: float
    model_version: str
    advertising: bool
    members: int
    treated: int
    excluded: dict[str, int]
    created_at: datetime


class ArmStats(BaseModel):
    members: int
    with_outcome: int
    events: int
    rate: float | None


class CampaignReport(CampaignOut):
    outcome_window: list[str]
    treatment: ArmStats
    control: ArmStats
    effect: float | None
    effect_meaning: str


class Outcome(BaseModel):
    customer_id: int = Field(gt=0, le=2**62)
    outcome: bool = Field(description="The campaign's target event happened in the outcome window.")
    observed_on: date | None = None


class OutcomesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[Outcome] = Field(min_length=1, max_length=100_000)


class VocRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    run_id: int
    month: date
    model_version: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    counts: dict[str, float | int]
    error: str | None
