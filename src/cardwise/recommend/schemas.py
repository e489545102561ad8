"""Response bodies of the recommendation API. The stored documents are served as they are; these
models document them in OpenAPI and the tests validate every stored document against them
(``extra="forbid"``: a field added to a document but not here fails the tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Category(_Strict):
    category_code: str
    name_ko: str
    name_en: str


class ProductRef(_Strict):
    product_id: str
    name_ko: str
    name_en: str
    card_type: Literal["credit", "check"]
    annual_fee_krw: int


class EarnedIn(Category):
    monthly_benefit_krw: int
    share: float = Field(description="Share of the card's simulated benefit earned in this category.")


class BestCard(ProductRef):
    held: bool = Field(description="The customer already holds a card of this product.")
    monthly_benefit_krw: int = Field(description="Average simulated benefit per month over the report period.")
    net_annual_benefit_krw: int = Field(description="Twelve months of that benefit minus the annual fee.")
    earned_in: list[EarnedIn]
    reason_ko: str
    reason_en: str


class CardValue(ProductRef):
    net_annual_benefit_krw: int


class PopularCard(ProductRef):
    score: float = Field(description="Adoption model: chance this is the card taken up, among those on sale.")
    share_of_similar_members: float = Field(description="Share of the 50 most similar members who hold it.")


class SimilarMembers(_Strict):
    size: int = Field(description="Members in the customer's lifestyle group.")
    label_ko: str
    label_en: str
    categories: list[str]
    neighbours: int
    text_ko: str | None = None
    text_en: str | None = None


class PreferredCategory(Category):
    probability: float = Field(description="P(used next month).")
    share_3m: float
    trend: Literal["up", "down", "steady"]


class NewCategory(Category):
    probability: float
    reason_ko: str
    reason_en: str


class PeerCategory(Category):
    share_of_members: float


class Categories(_Strict):
    preferred: list[PreferredCategory]
    new: list[NewCategory | PeerCategory]


class MerchantPick(_Strict):
    merchant_id: int
    name: str
    category_code: str
    category_name_ko: str
    place_ko: str
    visit_probability: float | None = None
    repeat_probability: float | None = Field(default=None, description="P(purchases on 2+ days next month).")
    regular: bool | None = None
    days_6m: int | None = None


class PopularMerchant(_Strict):
    merchant_id: int
    name: str
    category_code: str
    category_name_ko: str
    category_name_en: str
    place_ko: str
    place_en: str
    customers_per_month: float


class Merchants(_Strict):
    preferred: list[MerchantPick]
    new: list[MerchantPick | PopularMerchant]


class Recommendations(_Strict):
    customer_id: int
    month: str
    cold_start: bool
    reason_ko: str | None = None
    reason_en: str | None = None
    best_cards: list[BestCard]
    best_by_type: dict[str, CardValue]
    current_cards: list[CardValue]
    gain_over_current_krw: int | None
    similar_members: SimilarMembers
    popular_cards: list[PopularCard | ProductRef]
    categories: Categories
    merchants: Merchants


class MonthSpend(_Strict):
    month: str
    spend_krw: int
    purchases: int


class TopCategory(Category):
    spend_krw: int
    share: float
    purchases: int


class Change(Category):
    previous_krw: int
    current_krw: int
    change_pct: int | None
    direction: Literal["up", "down", "new", "gone"]


class Period(_Strict):
    from_: str = Field(alias="from")
    to: str
    months: int


class Report(_Strict):
    customer_id: int
    month: str
    cold_start: bool
    period: Period
    total_spend_krw: int
    monthly_average_krw: int
    purchases: int
    monthly: list[MonthSpend]
    top_categories: list[TopCategory]
    changes: list[Change]
    channels: dict[str, float]
    lifestyle: SimilarMembers | None = None
    best_card: BestCard | None
    summary_ko: str
    summary_en: str


class StageEvidence(_Strict):
    months: list[str]
    monthly_purchases: list[int]
    monthly_growth: float = Field(description="Fitted change of purchases per month (0.05 = +5 %).")
    p_value: float
    age_months: int


class Target(_Strict):
    customer_id: int
    score: float
    days_6m: int | None = None


class MerchantTargets(_Strict):
    merchant_id: int
    month: str
    name: str
    category_code: str
    category_name_ko: str
    category_name_en: str
    region_code: str
    place_ko: str
    place_en: str
    channel: str
    opened_on: str | None
    closed_on: str | None
    stage: Literal["new", "growing", "mature", "declining", "closed", "inactive"]
    stage_ko: str
    stage_evidence: StageEvidence
    customers_last_month: int
    regulars: int = Field(description="Customers who bought here in at least 3 of the last 6 months.")
    expected_new_visitors: float = Field(
        description="Sum of P(visit) over candidates who did not buy here in 6 months."
    )
    expected_new_regulars: float
    likely_visitors: list[Target]
    likely_regulars: list[Target]


class SimilarProduct(ProductRef):
    similarity: float
    by_rules: float
    by_payout: float
    by_holders: float
    shared_categories: list[str]


class SimilarProducts(ProductRef):
    month: str
    launched_on: str
    discontinued_on: str | None
    on_sale: bool
    holders: int
    similar: list[SimilarProduct]


class StageCounts(BaseModel):
    month: str
    stages: dict[str, int]


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
