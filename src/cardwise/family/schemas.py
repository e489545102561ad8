"""Request and response bodies of the family bundle API. Bad input is a 422 with a message before any
service runs; phone numbers are never echoed (only masked), names only masked (김○○)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from cardwise.family.rules import Amounts, AppliedRule, GroupBenefit, MemberBenefit, Problem
from cardwise.family.service import normalize_phone

_RELATION = r"^[a-z_]{2,24}$"
# Rates are exact decimals inside and plain JSON numbers outside (0.3, not "0.3").
Rate = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _plain_text(v: str) -> str:
    v = v.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in v):
        raise ValueError("must not contain control characters")
    if not v:
        raise ValueError("must not be blank")
    return v


class GroupIn(Strict):
    name: str = Field(default="우리 가족", min_length=1, max_length=40, description="Shown to the members.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _plain_text(v)


class InvitationIn(Strict):
    relation: str = Field(pattern=_RELATION, description="To the representative: spouse, child, parent …")
    phone: str | None = Field(default=None, max_length=20, description="Mobile number, e.g. 010-1234-5678.")
    customer_id: int | None = Field(default=None, gt=0, lt=10**18, description="Or the customer number.")

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return None if v is None else normalize_phone(v)

    @model_validator(mode="after")
    def _one_target(self) -> InvitationIn:
        if (self.phone is None) == (self.customer_id is None):
            raise ValueError("give exactly one of phone or customer_id")
        return self


class InvitationOut(BaseModel):
    invitation_id: int
    group_id: int
    relation: str
    relation_ko: str
    invitee: str = Field(description="Masked phone (010-****-5678) or masked customer number; never in full.")
    via: str
    status: str
    created_at: datetime
    expires_at: datetime


class MyInvitationOut(BaseModel):
    invitation_id: int
    group_id: int
    group_name: str
    representative_name: str = Field(description="Masked (김○○).")
    relation: str
    relation_ko: str
    expires_at: datetime


class ProblemOut(BaseModel):
    code: str
    message_ko: str
    message_en: str

    @classmethod
    def of(cls, p: Problem) -> ProblemOut:
        return cls(code=p.code, message_ko=p.message_ko, message_en=p.message_en)


class MemberOut(BaseModel):
    customer_id: int
    display_name: str = Field(description="Masked (김○○).")
    relation: str
    relation_ko: str
    is_representative: bool
    joined_at: datetime
    proof_status: str
    counted: bool = Field(description="Counted today: in the group with a verified proof of relation.")
    older_member: bool = Field(description="At or over the policy's age threshold this year.")


class GroupOut(BaseModel):
    group_id: int
    name: str
    status: str
    status_ko: str
    representative_customer_id: int
    created_at: datetime
    forming_deadline: datetime | None
    qualified_at: datetime | None
    grace_deadline: datetime | None
    dissolved_at: datetime | None
    dissolved_reason: str | None
    eligible: bool
    problems: list[ProblemOut]
    members: list[MemberOut]
    invitations: list[InvitationOut] = Field(description="Pending invitations; shown to the representative only.")


class AmountsOut(BaseModel):
    savings_bonus_pp: Rate = Field(description="Extra savings interest, percentage points a year.")
    card_discount_pct: Rate
    card_discount_monthly_cap_krw: int

    @classmethod
    def of(cls, a: Amounts) -> AmountsOut:
        return cls(
            savings_bonus_pp=a.savings_bonus_pp,
            card_discount_pct=a.card_discount_pct,
            card_discount_monthly_cap_krw=a.card_discount_monthly_cap_krw,
        )


class RuleOut(BaseModel):
    code: str
    message_ko: str
    message_en: str
    amounts: AmountsOut

    @classmethod
    def of(cls, r: AppliedRule) -> RuleOut:
        return cls(code=r.code, message_ko=r.message_ko, message_en=r.message_en, amounts=AmountsOut.of(r.amounts))


class MemberBenefitOut(BaseModel):
    customer_id: int
    relation: str
    counted: bool
    amounts: AmountsOut
    point_pooling: bool
    rules: list[RuleOut]

    @classmethod
    def of(cls, m: MemberBenefit) -> MemberBenefitOut:
        return cls(
            customer_id=m.customer_id,
            relation=m.relation,
            counted=m.counted,
            amounts=AmountsOut.of(m.amounts),
            point_pooling=m.point_pooling,
            rules=[RuleOut.of(r) for r in m.rules],
        )


class BenefitsOut(BaseModel):
    group_id: int
    date: date
    policy_version: str
    eligible: bool
    problems: list[ProblemOut]
    members_counted: int
    tenure_mode: str
    tenure_days: int
    size_tier: int | None = Field(description="min_members of the size tier applied.")
    tenure_tier: Rate | None = Field(description="min_years of the tenure tier applied.")
    age_tier: int | None = Field(description="min_age of the age bonus applied.")
    amounts: AmountsOut
    point_pooling: bool
    rules: list[RuleOut] = Field(description="Which rule produced which part of the benefit, in order.")
    members: list[MemberBenefitOut]

    @classmethod
    def of(cls, group_id: int, policy_version: str, b: GroupBenefit, *, members: bool = True) -> BenefitsOut:
        return cls(
            group_id=group_id,
            date=b.on,
            policy_version=policy_version,
            eligible=b.eligibility.eligible,
            problems=[
                ProblemOut(code=p.code, message_ko=p.message_ko, message_en=p.message_en)
                for p in b.eligibility.problems
            ],
            members_counted=b.members_counted,
            tenure_mode=b.tenure_mode,
            tenure_days=b.tenure_days,
            size_tier=b.size_tier,
            tenure_tier=b.tenure_tier,
            age_tier=b.age_tier,
            amounts=AmountsOut.of(b.amounts),
            point_pooling=b.point_pooling,
            rules=[RuleOut.of(r) for r in b.rules],
            members=[MemberBenefitOut.of(m) for m in b.members if m.customer_id > 0] if members else [],
        )


class JoinIn(Strict):
    relation: str = Field(pattern=_RELATION)
    birth_year: int = Field(ge=1900, le=2100)
    prior_tenure_years: float = Field(
        default=0, ge=0, le=100, allow_inf_nan=False, description="Years in other family groups before."
    )


class WhatIfIn(Strict):
    on: date | None = Field(default=None, alias="date", description="Default: today (Korea).")
    join: JoinIn | None = None
    leave_customer_id: int | None = Field(default=None, gt=0, lt=10**18)

    @model_validator(mode="after")
    def _something(self) -> WhatIfIn:
        if self.join is None and self.leave_customer_id is None:
            raise ValueError("say who would join (join) or who would leave (leave_customer_id)")
        return self


class WhatIfOut(BaseModel):
    message_ko: str
    message_en: str
    before: BenefitsOut
    after: BenefitsOut


class LeaveIn(Strict):
    new_representative_customer_id: int | None = Field(
        default=None, gt=0, lt=10**18, description="Required when the representative leaves while others stay."
    )


class DocumentIn(Strict):
    kind: str = Field(pattern=r"^[a-z_]{2,40}$", description="family_relation_certificate, …")
    issued_on: date
    same_address: bool | None = Field(default=None, description="The abstract shows the representative's address.")
    reference: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:/-]+$",
        description="Key of the uploaded scan in the document store (the file itself is not sent here).",
    )


class DocumentOut(BaseModel):
    document_id: int
    group_id: int
    customer_id: int
    relation: str
    kind: str
    issued_on: date
    same_address: bool | None
    reference: str
    status: str
    submitted_at: datetime
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    note: str | None = None


class ReviewIn(Strict):
    decision: Literal["verified", "rejected"]
    note: str | None = Field(default=None, max_length=200, description="Required for a rejection.")

    @field_validator("note")
    @classmethod
    def _note(cls, v: str | None) -> str | None:
        return None if v is None or not v.strip() else _plain_text(v)


class PendingItemOut(BaseModel):
    code: str
    message_ko: str
    message_en: str
    action: str | None
    due: datetime | None


class MemberPendingOut(BaseModel):
    customer_id: int | None = Field(description="None for someone invited who has not joined yet.")
    invitation_id: int | None
    display_name: str
    relation: str
    relation_ko: str
    items: list[PendingItemOut]


class PendingOut(BaseModel):
    group_id: int
    status: str
    status_ko: str
    group_items: list[PendingItemOut]
    members: list[MemberPendingOut]


class EventOut(BaseModel):
    event_id: int
    kind: str
    customer_id: int | None
    actor: str
    at: datetime
    detail: dict[str, Any]


class MembershipHistoryOut(BaseModel):
    membership_id: int
    customer_id: int
    relation: str
    joined_at: datetime
    left_at: datetime | None
    leave_reason: str | None
    proof_status: str
    proof_verified_at: datetime | None


class BackOfficeGroupOut(BaseModel):
    group: GroupOut
    memberships: list[MembershipHistoryOut]
    documents: list[DocumentOut]
    events: list[EventOut]


class RemoveIn(Strict):
    reason: str = Field(min_length=1, max_length=200, description="Recorded in the group's history.")

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        return _plain_text(v)
