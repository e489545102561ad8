"""The family bundle's rules, pure: who counts on a date, whether a group qualifies, what it earns.

No database and no clock: every function takes the members' facts and a date. The service feeds them
from the stored history; the report feeds them from the lake's households; the property tests feed
them from Hypothesis. The same date always gives the same answer, so a benefit "on 2025-03-01" can be
recomputed at any later time and explained rule by rule.

Conventions (docs/family-bundle.md):
- Dates are calendar days in Korea (Asia/Seoul). A membership covers ``[joined_on, left_on)``: a member
  who leaves on a day is no longer counted that day.
- A member is *counted* on a day when they are in the group and their proof of relation has been
  verified by then (the representative and relations needing no proof are verified on joining).
- Age is the calendar-year age (year of the day minus year of birth); the data holds birth years only.
- Tenure is in days; a tier's ``min_years`` means ``min_years × 365`` days.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from cardwise.family.policy import SELF, FamilyPolicy

SEOUL = ZoneInfo("Asia/Seoul")
DAYS_PER_YEAR = 365


# --- facts ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """One membership (one stint of one customer in one group)."""

    customer_id: int
    birth_year: int
    relation: str  # to the representative; "self" for the representative
    joined_on: date
    left_on: date | None = None
    verified_on: date | None = None  # when the proof of relation was verified; None = not (yet)
    prior_days: int = 0  # days of this customer's earlier stints in the same group (always count)
    prior_days_elsewhere: int = 0  # days in other family groups before (count when the policy carries them over)

    def in_group_on(self, d: date) -> bool:
        return self.joined_on <= d and (self.left_on is None or d < self.left_on)

    def counted_on(self, d: date) -> bool:
        return self.in_group_on(d) and self.verified_on is not None and self.verified_on <= d

    def age_on(self, d: date) -> int:
        return d.year - self.birth_year

    def days_on(self, d: date) -> int:
        """Days of this stint before ``d``."""
        end = d if self.left_on is None else min(d, self.left_on)
        return max(0, (end - self.joined_on).days)

    def tenure_days(self, d: date, *, carry_over: bool) -> int:
        """Tenure in the bundle before ``d``: this stint, earlier stints here, and (carry-over) elsewhere."""
        return self.prior_days + (self.prior_days_elsewhere if carry_over else 0) + self.days_on(d)


# --- results -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Amounts:
    savings_bonus_pp: Decimal = Decimal(0)
    card_discount_pct: Decimal = Decimal(0)
    card_discount_monthly_cap_krw: int = 0

    def plus(self, other: Amounts) -> Amounts:
        return Amounts(
            self.savings_bonus_pp + other.savings_bonus_pp,
            self.card_discount_pct + other.card_discount_pct,
            self.card_discount_monthly_cap_krw + other.card_discount_monthly_cap_krw,
        )

    def at_most(self, cap: Amounts) -> Amounts:
        return Amounts(
            min(self.savings_bonus_pp, cap.savings_bonus_pp),
            min(self.card_discount_pct, cap.card_discount_pct),
            min(self.card_discount_monthly_cap_krw, cap.card_discount_monthly_cap_krw),
        )

    def dominates(self, other: Amounts) -> bool:
        return (
            self.savings_bonus_pp >= other.savings_bonus_pp
            and self.card_discount_pct >= other.card_discount_pct
            and self.card_discount_monthly_cap_krw >= other.card_discount_monthly_cap_krw
        )


ZERO = Amounts()


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message_ko: str
    message_en: str
    short_ko: str = ""  # a few words, for notifications ("50세 이상 가족 없음")
    short_en: str = ""


@dataclass(frozen=True, slots=True)
class Eligibility:
    on: date
    eligible: bool
    counted: tuple[int, ...]  # customer ids counted that day
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class AppliedRule:
    """One line of the explanation: which rule applied and what it contributed."""

    code: str
    message_ko: str
    message_en: str
    amounts: Amounts = ZERO


@dataclass(frozen=True, slots=True)
class MemberBenefit:
    customer_id: int
    relation: str
    counted: bool
    amounts: Amounts
    point_pooling: bool
    rules: tuple[AppliedRule, ...]


@dataclass(frozen=True, slots=True)
class GroupBenefit:
    on: date
    eligibility: Eligibility
    members_counted: int
    tenure_mode: str
    tenure_days: int
    size_tier: int | None  # min_members of the size tier applied
    tenure_tier: Decimal | None  # min_years of the tenure tier applied
    age_tier: int | None  # min_age of the age bonus applied
    amounts: Amounts
    point_pooling: bool
    rules: tuple[AppliedRule, ...]
    members: tuple[MemberBenefit, ...] = field(default=())

    @property
    def signature(self) -> str:
        """What a member would notice changing: qualification and the tiers (not the days of tenure)."""
        a = self.amounts
        return (
            f"{int(self.eligibility.eligible)}|{a.savings_bonus_pp}|{a.card_discount_pct}|"
            f"{a.card_discount_monthly_cap_krw}|{int(self.point_pooling)}"
        )


@dataclass(frozen=True, slots=True)
class WhatIf:
    before: GroupBenefit
    after: GroupBenefit
    message_ko: str
    message_en: str


# --- plain Korean helpers ------------------------------------------------------------------------------------


def fmt_decimal(x: Decimal) -> str:
    """0.30 → "0.3", 1.00 → "1": how people write rates."""
    return f"{x.normalize():f}"


def particle(word: str, after_consonant: str, after_vowel: str) -> str:
    """The Korean particle that fits ``word``: 이/가, 은/는, 을/를, 과/와 (both forms when unsure)."""
    last = word.rstrip()[-1:] if word.strip() else ""
    if "가" <= last <= "힣":
        has_final = (ord(last) - ord("가")) % 28 != 0
        return word + (after_consonant if has_final else after_vowel)
    return f"{word}{after_consonant}({after_vowel})"


def _won(x: int) -> str:
    return f"{x:,}원"


# --- eligibility ---------------------------------------------------------------------------------------------


def counted_members(members: tuple[MemberFacts, ...] | list[MemberFacts], d: date) -> list[MemberFacts]:
    return [m for m in members if m.counted_on(d)]


def eligibility(policy: FamilyPolicy, members: tuple[MemberFacts, ...] | list[MemberFacts], d: date) -> Eligibility:
    """Does the group qualify on ``d``? Every unmet condition is listed, in plain Korean and English."""
    counted = counted_members(members, d)
    n = len(counted)
    problems: list[Problem] = []
    lo, hi, age = policy.members.min, policy.members.max, policy.age.threshold
    if n < lo:
        problems.append(
            Problem(
                "TOO_FEW_MEMBERS",
                f"가족결합에는 서류 확인이 끝난 가족이 {lo}명 이상 필요합니다(확인된 가족 {n}명).",
                f"A bundle needs at least {lo} members with verified proof ({n} verified).",
                f"확인된 가족 {lo}명 미만",
                f"fewer than {lo} verified members",
            )
        )
    if n > hi:
        problems.append(
            Problem(
                "TOO_MANY_MEMBERS",
                f"가족결합은 {hi}명까지 함께할 수 있습니다({n}명).",
                f"A bundle has at most {hi} members ({n}).",
                f"{hi}명 초과",
                f"more than {hi} members",
            )
        )
    if not any(m.age_on(d) >= age for m in counted):
        problems.append(
            Problem(
                "NO_OLDER_MEMBER",
                f"{age}세 이상 가족이 한 분 이상 함께해야 합니다.",
                f"At least one member aged {age} or over must be in the bundle.",
                f"{age}세 이상 가족 없음",
                f"no member aged {age} or over",
            )
        )
    by_relation = Counter(m.relation for m in counted)
    for relation, count in sorted(by_relation.items()):
        if relation == SELF:
            if count > 1:  # pragma: no cover - the service keeps one representative
                problems.append(Problem("REPRESENTATIVES", "대표자는 한 명이어야 합니다.", "One representative only."))
            continue
        rule = policy.relations.get(relation)
        if rule is None:
            problems.append(
                Problem(
                    "RELATION_NOT_ALLOWED",
                    f"'{relation}' 관계는 지금 정책에서 가족결합에 함께할 수 없습니다.",
                    f"The relation '{relation}' is not allowed by the current policy.",
                    "허용되지 않는 관계",
                    "relation not allowed",
                )
            )
        elif rule.max_count is not None and count > rule.max_count:
            problems.append(
                Problem(
                    "RELATION_LIMIT",
                    f"{particle(rule.name_ko, '은', '는')} {rule.max_count}명까지 함께할 수 있습니다.",
                    f"At most {rule.max_count} {rule.name_en} member(s).",
                    f"{rule.name_ko} {rule.max_count}명 초과",
                    f"more than {rule.max_count} {rule.name_en}",
                )
            )
    return Eligibility(d, not problems, tuple(m.customer_id for m in counted), tuple(problems))


def _change_points(members: tuple[MemberFacts, ...] | list[MemberFacts], d: date) -> list[date]:
    """Days on which eligibility may change (joins, leaves, verifications, New Year for ages), before ``d``."""
    if not members:
        return []
    first = min(m.joined_on for m in members)
    points = {first}
    for m in members:
        for p in (m.joined_on, m.left_on, m.verified_on):
            if p is not None:
                points.add(p)
    points.update(date(y, 1, 1) for y in range(first.year + 1, d.year + 1))
    return sorted(p for p in points if first <= p < d)


def qualified_days(policy: FamilyPolicy, members: tuple[MemberFacts, ...] | list[MemberFacts], d: date) -> int:
    """Days before ``d`` on which the group qualified: the group's own tenure."""
    points = _change_points(members, d)
    total = 0
    for i, start in enumerate(points):
        end = points[i + 1] if i + 1 < len(points) else d
        if eligibility(policy, members, start).eligible:
            total += (end - start).days
    return total


# --- benefits ------------------------------------------------------------------------------------------------


def _amounts(tier: object) -> Amounts:
    return Amounts(
        getattr(tier, "savings_bonus_pp", Decimal(0)),
        getattr(tier, "card_discount_pct", Decimal(0)),
        getattr(tier, "card_discount_monthly_cap_krw", 0),
    )


def _describe(a: Amounts) -> tuple[str, str]:
    parts_ko, parts_en = [], []
    if a.savings_bonus_pp:
        parts_ko.append(f"적금 우대금리 연 +{fmt_decimal(a.savings_bonus_pp)}%p")
        parts_en.append(f"+{fmt_decimal(a.savings_bonus_pp)}%p savings interest")
    if a.card_discount_pct:
        parts_ko.append(
            f"카드 할인 {fmt_decimal(a.card_discount_pct)}%(월 {_won(a.card_discount_monthly_cap_krw)}까지)"
        )
        parts_en.append(
            f"{fmt_decimal(a.card_discount_pct)}% card discount (up to KRW {a.card_discount_monthly_cap_krw:,}/month)"
        )
    if not parts_ko:
        return "추가 혜택 없음", "no extra benefit"
    return ", ".join(parts_ko), ", ".join(parts_en)


def benefits(policy: FamilyPolicy, members: tuple[MemberFacts, ...] | list[MemberFacts], d: date) -> GroupBenefit:
    """The group's and each member's benefit on ``d``, with the rules that produced them."""
    elig = eligibility(policy, members, d)
    counted = counted_members(members, d)
    b = policy.benefits
    tenure_mode = b.tenure.mode
    if tenure_mode == "summed":
        tenure_days = sum(m.tenure_days(d, carry_over=b.tenure.carry_over) for m in counted)
    else:
        tenure_days = qualified_days(policy, members, d)

    rules: list[AppliedRule] = []
    total = ZERO
    size_tier = tenure_tier = age_tier = None
    pooling = False
    if not elig.eligible:
        rules.append(
            AppliedRule(
                "NOT_QUALIFIED",
                "가족결합 조건을 채우지 못해 혜택이 없습니다: " + " ".join(p.message_ko for p in elig.problems),
                "The group does not qualify, so there is no benefit: " + " ".join(p.message_en for p in elig.problems),
            )
        )
    else:
        n = len(counted)
        size = [t for t in b.size_tiers if t.min_members <= n]
        if size:
            tier = size[-1]
            size_tier, amounts = tier.min_members, _amounts(tier)
            ko, en = _describe(amounts)
            rules.append(
                AppliedRule(
                    "SIZE_TIER",
                    f"가족 {n}명 ({tier.min_members}명 이상 구간): {ko}",
                    f"{n} members (tier from {tier.min_members}): {en}",
                    amounts,
                )
            )
            total = total.plus(amounts)
        tenure = [t for t in b.tenure.tiers if t.min_years * DAYS_PER_YEAR <= tenure_days]
        years = fmt_decimal((Decimal(tenure_days) / DAYS_PER_YEAR).quantize(Decimal("0.1")))
        what_ko = "가족 가입기간 합계" if tenure_mode == "summed" else "가족결합 유지기간"
        what_en = "summed members' tenure" if tenure_mode == "summed" else "group tenure"
        if tenure:
            ttier = tenure[-1]
            tenure_tier, amounts = ttier.min_years, _amounts(ttier)
            ko, en = _describe(amounts)
            rules.append(
                AppliedRule(
                    "TENURE_TIER",
                    f"{what_ko} {years}년 ({fmt_decimal(ttier.min_years)}년 이상 구간): {ko}",
                    f"{what_en} {years} years (tier from {fmt_decimal(ttier.min_years)}): {en}",
                    amounts,
                )
            )
            total = total.plus(amounts)
        elif b.tenure.tiers:
            nxt = b.tenure.tiers[0].min_years
            rules.append(
                AppliedRule(
                    "TENURE_TIER",
                    f"{what_ko} {years}년: {fmt_decimal(nxt)}년부터 기간 혜택이 더해집니다.",
                    f"{what_en} {years} years: the tenure benefit starts at {fmt_decimal(nxt)} years.",
                )
            )
        oldest = max(m.age_on(d) for m in counted)
        ages = [t for t in b.age_bonus if t.min_age <= oldest]
        if ages:
            atier = ages[-1]
            age_tier, amounts = atier.min_age, Amounts(savings_bonus_pp=atier.savings_bonus_pp)
            rules.append(
                AppliedRule(
                    "AGE_BONUS",
                    f"{atier.min_age}세 이상 가족이 함께함: 적금 우대금리 연 +{fmt_decimal(atier.savings_bonus_pp)}%p",
                    f"a member aged {atier.min_age} or over: +{fmt_decimal(atier.savings_bonus_pp)}%p savings",
                    amounts,
                )
            )
            total = total.plus(amounts)
        cap = _amounts(b.caps)
        capped = total.at_most(cap)
        if capped != total:
            ko, en = _describe(cap)
            rules.append(AppliedRule("CAP", f"상한 적용: {ko}", f"capped at {en}", capped))
            total = capped
        pool = b.point_pooling
        if pool is not None:
            pool_members = [m for m in counted if m.relation in pool.relations]
            pooling = len(pool_members) >= pool.min_members
            if pooling:
                rules.append(
                    AppliedRule(
                        "POINT_POOLING",
                        f"직계 가족 {len(pool_members)}명이 카드 포인트를 함께 모읍니다.",
                        f"{len(pool_members)} direct-line members pool their card points.",
                    )
                )
    member_out = tuple(_member_benefit(policy, m, d, elig.eligible, total, pooling) for m in members if _shown(m, d))
    return GroupBenefit(
        on=d,
        eligibility=elig,
        members_counted=len(counted),
        tenure_mode=tenure_mode,
        tenure_days=tenure_days,
        size_tier=size_tier,
        tenure_tier=tenure_tier,
        age_tier=age_tier,
        amounts=total,
        point_pooling=pooling,
        rules=tuple(rules),
        members=member_out,
    )


def _shown(m: MemberFacts, d: date) -> bool:
    return m.in_group_on(d)


def _member_benefit(
    policy: FamilyPolicy, m: MemberFacts, d: date, eligible: bool, total: Amounts, pooling: bool
) -> MemberBenefit:
    pool = policy.benefits.point_pooling
    if not m.counted_on(d):
        rule = AppliedRule(
            "PROOF_NOT_VERIFIED",
            "가족관계 서류 확인이 끝나면 혜택을 함께 받으십니다.",
            "The member shares the benefits once their proof of relation is verified.",
        )
        return MemberBenefit(m.customer_id, m.relation, False, ZERO, False, (rule,))
    if not eligible:
        rule = AppliedRule(
            "NOT_QUALIFIED", "가족결합 조건을 채우면 혜택을 받으십니다.", "Benefits apply once the group qualifies."
        )
        return MemberBenefit(m.customer_id, m.relation, True, ZERO, False, (rule,))
    member_pools = pooling and pool is not None and m.relation in pool.relations
    ko, en = _describe(total)
    rules = [AppliedRule("GROUP_BENEFIT", f"가족결합 혜택: {ko}", f"the group's benefit: {en}", total)]
    if pooling and not member_pools:
        rules.append(
            AppliedRule(
                "NO_POINT_POOLING",
                "포인트 함께 모으기는 직계 가족만 할 수 있습니다.",
                "Point pooling is for the direct line only.",
            )
        )
    return MemberBenefit(m.customer_id, m.relation, True, total, member_pools, tuple(rules))


# --- what-if -------------------------------------------------------------------------------------------------


def what_if(
    policy: FamilyPolicy,
    members: tuple[MemberFacts, ...] | list[MemberFacts],
    d: date,
    *,
    join: MemberFacts | None = None,
    leave: int | None = None,
) -> WhatIf:
    """The group's benefit on ``d`` as it is, and if ``join`` joined (proof verified) or ``leave`` left that day."""
    members = list(members)
    before = benefits(policy, members, d)
    changed = list(members)
    subject_ko, subject_en = "", ""
    if leave is not None:
        changed = [replace(m, left_on=d) if m.customer_id == leave and m.in_group_on(d) else m for m in changed]
        relation = next((m.relation for m in members if m.customer_id == leave and m.in_group_on(d)), None)
        if relation is not None:
            ko, en = policy.relation_label(relation)
            subject_ko = particle(ko, "이", "가") + " 나가시면"
            subject_en = "if the representative leaves" if relation == SELF else f"if your {en} leaves"
    if join is not None:
        changed.append(replace(join, joined_on=d, verified_on=d, left_on=None))
        ko, en = policy.relation_label(join.relation)
        subject_ko, subject_en = particle(ko, "이", "가") + " 함께하시면", f"if your {en} joins"
    after = benefits(policy, changed, d)
    return WhatIf(before, after, *_what_if_message(before, after, subject_ko, subject_en))


def _what_if_message(before: GroupBenefit, after: GroupBenefit, subject_ko: str, subject_en: str) -> tuple[str, str]:
    if not subject_ko:
        return "바뀌는 것이 없습니다.", "Nothing changes."
    if not after.eligibility.eligible:
        reasons_ko = " ".join(p.message_ko for p in after.eligibility.problems)
        reasons_en = " ".join(p.message_en for p in after.eligibility.problems)
        return (
            f"{subject_ko} 가족결합 조건을 채우지 못합니다. {reasons_ko}",
            f"{subject_en[0].upper()}{subject_en[1:]}, the group would not qualify. {reasons_en}",
        )
    b, a = before.amounts.savings_bonus_pp, after.amounts.savings_bonus_pp
    if a == b:
        rate_ko = f"적금 우대금리는 연 +{fmt_decimal(a)}%p 그대로입니다"
    else:
        direction = "올라갑니다" if a > b else "내려갑니다"
        rate_ko = f"적금 우대금리가 연 +{fmt_decimal(b)}%p에서 +{fmt_decimal(a)}%p로 {direction}"
    rate_en = f"your savings bonus {'becomes' if a != b else 'stays at'} +{fmt_decimal(a)}%p" + (
        f" (now +{fmt_decimal(b)}%p)" if a != b else ""
    )
    db, da = before.amounts.card_discount_pct, after.amounts.card_discount_pct
    card_ko = f" 카드 할인은 {fmt_decimal(db)}%에서 {fmt_decimal(da)}%로 바뀝니다." if da != db else ""
    card_en = f", and the card discount {fmt_decimal(da)}% (now {fmt_decimal(db)}%)" if da != db else ""
    return f"{subject_ko} {rate_ko}.{card_ko}", f"{subject_en[0].upper()}{subject_en[1:]}, {rate_en}{card_en}."
