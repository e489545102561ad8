"""The family bundle's policy: every threshold, tier and text, loaded from a YAML file and validated.

The default is ``policy.default.yaml`` next to this module (documented in docs/family-bundle.md);
``CARDWISE_FAMILY_POLICY_PATH`` points at another file. A bad file fails at load with one message per
problem (``PolicyError``), never later in the middle of a request.
"""

from __future__ import annotations

import string
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_POLICY_PATH = Path(__file__).with_name("policy.default.yaml")

SELF = "self"  # the representative's own "relation"
KNOWN_RELATIONS = (
    "spouse",
    "unmarried_partner",
    "cohabitant",
    "parent",
    "child",
    "sibling",
    "grandparent",
    "grandchild",
    "in_law",
)
NOTIFICATION_KINDS = (
    "invited",
    "joined",
    "proof_needed",
    "proof_verified",
    "proof_rejected",
    "left",
    "removed",
    "grace",
    "requalified",
    "qualified",
    "dissolved",
    "tier_changed",
)
PLACEHOLDERS = frozenset(
    {
        "group_name",
        "relation_ko",
        "relation_en",
        "deadline",
        "savings_bonus_pp",
        "card_discount_pct",
        "members",
        "reason_ko",
        "reason_en",
        "proof_ko",
        "proof_en",
    }
)

Pp = Annotated[Decimal, Field(ge=0, le=10, decimal_places=3)]  # percentage points of savings interest
Pct = Annotated[Decimal, Field(ge=0, le=50, decimal_places=3)]
Krw = Annotated[int, Field(ge=0, le=10_000_000)]


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the file and every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgeRule(_Strict):
    threshold: int = Field(ge=0, le=120, description="At least one counted member this old, at all times.")


class MemberLimits(_Strict):
    min: int = Field(ge=2, le=20)
    max: int = Field(ge=2, le=20)

    @model_validator(mode="after")
    def _order(self) -> MemberLimits:
        if self.max < self.min:
            raise ValueError(f"members.max ({self.max}) is below members.min ({self.min})")
        return self


class Proof(_Strict):
    name_ko: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=60)
    valid_months: int = Field(ge=1, le=60, description="The document must have been issued this recently.")
    same_address: bool = False


class Relation(_Strict):
    name_ko: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=60)
    proof: str = Field(description="A key of `proofs`, or `none`.")
    max_count: int | None = Field(default=None, ge=1, le=20)


class Benefit(_Strict):
    savings_bonus_pp: Pp = Decimal(0)
    card_discount_pct: Pct = Decimal(0)
    card_discount_monthly_cap_krw: Krw = 0

    def dominates(self, other: Benefit) -> bool:
        return (
            self.savings_bonus_pp >= other.savings_bonus_pp
            and self.card_discount_pct >= other.card_discount_pct
            and self.card_discount_monthly_cap_krw >= other.card_discount_monthly_cap_krw
        )


class SizeTier(Benefit):
    min_members: int = Field(ge=1, le=20)


class TenureTier(Benefit):
    min_years: Decimal = Field(ge=0, le=200)


class AgeBonus(_Strict):
    min_age: int = Field(ge=0, le=120)
    savings_bonus_pp: Pp


class Tenure(_Strict):
    mode: Literal["summed", "group"]
    carry_over: bool = True
    tiers: tuple[TenureTier, ...] = ()


class PointPooling(_Strict):
    min_members: int = Field(ge=2, le=20)
    relations: tuple[str, ...]


class Benefits(_Strict):
    size_tiers: tuple[SizeTier, ...] = Field(min_length=1)
    tenure: Tenure
    age_bonus: tuple[AgeBonus, ...] = ()
    caps: Benefit
    point_pooling: PointPooling | None = None


class Message(_Strict):
    subject_ko: str = Field(min_length=1, max_length=200)
    body_ko: str = Field(min_length=1, max_length=2000)
    subject_en: str = Field(min_length=1, max_length=200)
    body_en: str = Field(min_length=1, max_length=2000)

    @field_validator("subject_ko", "body_ko", "subject_en", "body_en")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(v) if name is not None}
        except ValueError as exc:
            raise ValueError(f"malformed template: {exc}") from None
        unknown = sorted(n for n in names if n not in PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholders {unknown}; allowed: {sorted(PLACEHOLDERS)}")
        return v


def _monotone(items: tuple[Benefit, ...], key: str, what: str) -> None:
    for prev, cur in pairwise(items):
        if getattr(cur, key) <= getattr(prev, key):
            before, after = getattr(prev, key), getattr(cur, key)
            raise ValueError(f"{what} must be sorted by {key} without repeats: {after} follows {before}")
        if not cur.dominates(prev):
            raise ValueError(
                f"{what}: the tier at {key}={getattr(cur, key)} gives less than the one before it; "
                "benefits must never decrease as a group grows or ages"
            )


class FamilyPolicy(_Strict):
    version: str = Field(min_length=1, max_length=40)
    age: AgeRule
    members: MemberLimits
    invitation_valid_days: int = Field(ge=1, le=90)
    invitations_per_day: int = Field(default=10, ge=1, le=100, description="Per group, against message spam.")
    forming_days: int = Field(ge=1, le=365)
    grace_days: int = Field(ge=0, le=365)
    proofs: dict[str, Proof]
    relations: dict[str, Relation] = Field(min_length=1)
    benefits: Benefits
    notifications: dict[str, Message]

    @model_validator(mode="after")
    def _consistent(self) -> FamilyPolicy:
        unknown = sorted(set(self.relations) - set(KNOWN_RELATIONS))
        if unknown:
            raise ValueError(f"unknown relations {unknown}; known: {list(KNOWN_RELATIONS)}")
        for name, rel in self.relations.items():
            if rel.proof != "none" and rel.proof not in self.proofs:
                raise ValueError(f"relation {name!r} needs proof {rel.proof!r}, which `proofs` does not define")
        b = self.benefits
        _monotone(b.size_tiers, "min_members", "benefits.size_tiers")
        _monotone(b.tenure.tiers, "min_years", "benefits.tenure.tiers")
        for prev, cur in pairwise(b.age_bonus):
            if cur.min_age <= prev.min_age or cur.savings_bonus_pp < prev.savings_bonus_pp:
                raise ValueError("benefits.age_bonus must be sorted by min_age with non-decreasing bonuses")
        unreachable = [t.min_members for t in b.size_tiers if t.min_members > self.members.max]
        if unreachable:
            raise ValueError(f"size tiers for {unreachable} members can never apply: members.max is {self.members.max}")
        if b.point_pooling is not None:
            bad = sorted(set(b.point_pooling.relations) - set(self.relations) - {SELF})
            if bad:
                raise ValueError(f"benefits.point_pooling.relations names relations the policy does not allow: {bad}")
        missing = sorted(set(NOTIFICATION_KINDS) - set(self.notifications))
        extra = sorted(set(self.notifications) - set(NOTIFICATION_KINDS))
        if missing or extra:
            raise ValueError(f"notifications: missing {missing}, unknown {extra}")
        return self

    def relation_label(self, relation: str) -> tuple[str, str]:
        if relation == SELF:
            return "대표자", "representative"
        r = self.relations[relation]
        return r.name_ko, r.name_en


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def parse_policy(text: str, source: str = "<policy>") -> FamilyPolicy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"family policy {source} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"family policy {source} must be a mapping at the top level")
    try:
        return FamilyPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"family policy {source} is invalid:\n{_describe(exc)}") from None


def load_policy(path: Path | None = None) -> FamilyPolicy:
    """The policy at ``path`` (the packaged default when None). Raises PolicyError with every problem."""
    target = path or DEFAULT_POLICY_PATH
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read family policy {target}: {exc.strerror or exc}") from None
    return parse_policy(text, str(target))


@lru_cache(maxsize=8)
def _cached(path: Path | None, mtime_ns: int) -> FamilyPolicy:
    return load_policy(path)


def cached_policy(path: Path | None = None) -> FamilyPolicy:
    """Loaded once per file version (the file's mtime); an edited file is picked up on the next call."""
    target = path or DEFAULT_POLICY_PATH
    try:
        mtime = target.stat().st_mtime_ns
    except OSError as exc:
        raise PolicyError(f"cannot read family policy {target}: {exc.strerror or exc}") from None
    return _cached(path, mtime)
