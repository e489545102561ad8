"""Properties of the pure family-bundle rules (Hypothesis), for the default policy and its variants:
a group is never valid without its older member; benefits never fall when someone joins (the longer
their tenure, the better); leaving and rejoining is consistent; the past does not change."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cardwise.family.policy import FamilyPolicy, load_policy
from cardwise.family.rules import (
    MemberFacts,
    benefits,
    eligibility,
    fmt_decimal,
    particle,
    qualified_days,
    what_if,
)

DEFAULT = load_policy()


def _variant(mode: str, carry_over: bool = True) -> FamilyPolicy:
    tenure = DEFAULT.benefits.tenure.model_copy(update={"mode": mode, "carry_over": carry_over})
    return DEFAULT.model_copy(update={"benefits": DEFAULT.benefits.model_copy(update={"tenure": tenure})})


POLICIES = {"summed": DEFAULT, "group": _variant("group"), "no-carry-over": _variant("summed", carry_over=False)}
policies = st.sampled_from(list(POLICIES.values()))
RELATIONS = ("child", "sibling", "grandchild", "grandparent", "cohabitant", "in_law", "parent", "spouse")

START = date(2016, 1, 1)
days = st.integers(0, 365 * 12).map(lambda k: START + timedelta(days=k))
births = st.integers(1940, 2008)


@st.composite
def groups(draw: st.DrawFn, *, settled: bool = False, size: int | None = None) -> list[MemberFacts]:
    """A representative and members. ``settled``: nobody leaves and proofs are verified on joining."""
    policy_max = DEFAULT.members.max
    founded = draw(days)
    members = [
        MemberFacts(
            1, draw(births), "self", founded, verified_on=founded, prior_days_elsewhere=draw(st.integers(0, 4000))
        )
    ]
    n = size if size is not None else draw(st.integers(0, policy_max - 1))
    used: dict[str, int] = {}
    for i in range(n):
        relation = draw(st.sampled_from(RELATIONS))
        limit = DEFAULT.relations[relation].max_count
        if limit is not None and used.get(relation, 0) >= limit:
            relation = "child"
        used[relation] = used.get(relation, 0) + 1
        joined = founded + timedelta(days=draw(st.integers(0, 2000)))
        verified: date | None = joined
        left: date | None = None
        if not settled:
            verified = draw(st.one_of(st.none(), st.integers(0, 120).map(lambda k, j=joined: j + timedelta(days=k))))
            left = draw(st.one_of(st.none(), st.integers(1, 3000).map(lambda k, j=joined: j + timedelta(days=k))))
        elsewhere = draw(st.integers(0, 4000))
        members.append(MemberFacts(i + 2, draw(births), relation, joined, left, verified, 0, elsewhere))
    return members


def newcomer(customer_id: int, birth_year: int, relation: str, on: date, elsewhere: int) -> MemberFacts:
    """Someone joining on ``on`` (proof verified that day) after ``elsewhere`` days in other groups."""
    return MemberFacts(customer_id, birth_year, relation, on, None, on, prior_days_elsewhere=elsewhere)


def room_for(policy: FamilyPolicy, members: list[MemberFacts], relation: str, on: date) -> bool:
    """Would the service let one more member with ``relation`` join on ``on``?"""
    current = [m for m in members if m.in_group_on(on)]
    limit = policy.relations[relation].max_count
    same = sum(m.relation == relation for m in current)
    return len(current) < policy.members.max and (limit is None or same < limit)


# --- F1: every group includes a middle-aged or older member -------------------------------------------------------


@given(policy=policies, members=groups(), on=days)
def test_a_group_is_never_valid_without_its_older_member(
    policy: FamilyPolicy, members: list[MemberFacts], on: date
) -> None:
    result = eligibility(policy, members, on)
    counted = [m for m in members if m.counted_on(on)]
    if result.eligible:
        assert any(m.age_on(on) >= policy.age.threshold for m in counted)
        assert policy.members.min <= len(counted) <= policy.members.max
    without_older = [m for m in members if m.age_on(on) < policy.age.threshold]
    check = eligibility(policy, without_older, on)
    assert not check.eligible and "NO_OLDER_MEMBER" in {p.code for p in check.problems}
    # …and a group that does not qualify earns nothing at all.
    b = benefits(policy, without_older, on)
    assert b.amounts.savings_bonus_pp == 0 and b.amounts.card_discount_pct == 0 and not b.point_pooling


@given(members=groups(), on=days)
def test_older_member_who_leaves_takes_qualification_with_them(members: list[MemberFacts], on: date) -> None:
    counted = [m for m in members if m.counted_on(on)]
    older = [m for m in counted if m.age_on(on) >= DEFAULT.age.threshold]
    assume(len(older) == 1)
    leaving = older[0]
    after = [replace(m, left_on=on) if m is leaving else m for m in members]
    assert not eligibility(DEFAULT, after, on).eligible


# --- F2/F3: benefits grow with size and tenure and never fall on a join ---------------------------------------------


@given(
    policy=policies,
    members=groups(),
    on=days,
    birth=births,
    relation=st.sampled_from(RELATIONS),
    prior=st.integers(0, 20_000),
)
def test_benefits_never_decrease_when_a_member_joins(
    policy: FamilyPolicy, members: list[MemberFacts], on: date, birth: int, relation: str, prior: int
) -> None:
    assume(room_for(policy, members, relation, on))
    before = benefits(policy, members, on)
    after = benefits(policy, [*members, newcomer(99, birth, relation, on, prior)], on)
    assert after.amounts.dominates(before.amounts), (before.rules, after.rules)
    assert after.point_pooling >= before.point_pooling
    assert after.members_counted == before.members_counted + 1
    if before.eligibility.eligible:
        assert after.eligibility.eligible


@given(
    policy=policies,
    members=groups(),
    on=days,
    birth=births,
    relation=st.sampled_from(RELATIONS),
    shorter=st.integers(0, 10_000),
    extra=st.integers(0, 10_000),
)
def test_a_member_with_longer_tenure_gives_at_least_as_much(
    policy: FamilyPolicy, members: list[MemberFacts], on: date, birth: int, relation: str, shorter: int, extra: int
) -> None:
    assume(room_for(policy, members, relation, on))
    with_short = benefits(policy, [*members, newcomer(99, birth, relation, on, shorter)], on)
    with_long = benefits(policy, [*members, newcomer(99, birth, relation, on, shorter + extra)], on)
    assert with_long.amounts.dominates(with_short.amounts)
    assert with_long.tenure_days >= with_short.tenure_days


@given(policy=policies, members=groups(settled=True), first=days, later=st.integers(0, 365 * 40))
def test_benefits_never_fall_while_nobody_leaves(
    policy: FamilyPolicy, members: list[MemberFacts], first: date, later: int
) -> None:
    """Tenure and ages only grow: with the same members, a later day gives at least as much."""
    then = benefits(policy, members, first)
    now = benefits(policy, members, first + timedelta(days=later))
    assert now.amounts.dominates(then.amounts)
    assert now.tenure_days >= then.tenure_days


def test_size_and_tenure_tiers_of_the_default_policy() -> None:
    d0 = date(2020, 1, 1)
    rep = MemberFacts(1, 1960, "self", d0, verified_on=d0)
    kids = [MemberFacts(i, 1990, "child", d0, verified_on=d0) for i in (2, 3, 4, 5)]
    savings = [benefits(DEFAULT, [rep, *kids[:k]], d0).amounts.savings_bonus_pp for k in range(5)]
    assert savings == [Decimal(0), Decimal("0.1"), Decimal("0.2"), Decimal("0.3"), Decimal("0.3")]
    # Summed tenure: 3 members × 3.4 years ≥ 10 member-years → +0.2%p on top of the 3-member +0.2%p.
    later = benefits(DEFAULT, [rep, *kids[:2]], d0 + timedelta(days=365 * 3 + 200))
    assert later.tenure_tier == 10 and later.amounts.savings_bonus_pp == Decimal("0.4")
    assert [r.code for r in later.rules] == ["SIZE_TIER", "TENURE_TIER", "POINT_POOLING"]
    # A member aged 70 or over adds +0.2%p: 0.3 (6 members) + 0.5 (30+ member-years) + 0.2 = the +1.0%p cap.
    grandma = MemberFacts(9, 1948, "parent", d0, verified_on=d0)
    far = benefits(DEFAULT, [rep, grandma, *kids], d0 + timedelta(days=365 * 8))
    assert far.age_tier == 70 and far.tenure_tier == 30 and far.amounts.savings_bonus_pp == Decimal("1.0")
    caps = DEFAULT.benefits.caps.model_copy(update={"savings_bonus_pp": Decimal("0.5")})
    low_cap = DEFAULT.model_copy(update={"benefits": DEFAULT.benefits.model_copy(update={"caps": caps})})
    capped = benefits(low_cap, [rep, grandma, *kids], d0 + timedelta(days=365 * 8))
    assert capped.amounts.savings_bonus_pp == Decimal("0.5") and capped.rules[-2].code == "CAP"


# --- leaving and rejoining ---------------------------------------------------------------------------------------


@st.composite
def leave_and_rejoin(draw: st.DrawFn) -> tuple[FamilyPolicy, list[MemberFacts], int, date, date]:
    policy = draw(policies)
    members = draw(groups(settled=True, size=draw(st.integers(1, 5))))
    index = draw(st.integers(1, len(members) - 1))
    m = members[index]
    left = m.joined_on + timedelta(days=draw(st.integers(0, 2000)))
    back = left + timedelta(days=draw(st.integers(0, 400)))
    return policy, members, index, left, back


def _split(members: list[MemberFacts], index: int, left: date, back: date) -> list[MemberFacts]:
    m = members[index]
    first = replace(m, left_on=left)
    again = replace(m, joined_on=back, verified_on=back, prior_days=m.prior_days + (left - m.joined_on).days)
    return [*members[:index], first, again, *members[index + 1 :]]


@given(case=leave_and_rejoin(), probe=st.integers(-100, 5000))
def test_leaving_and_rejoining_the_same_day_changes_nothing(
    case: tuple[FamilyPolicy, list[MemberFacts], int, date, date], probe: int
) -> None:
    policy, members, index, left, _ = case
    split = _split(members, index, left, left)
    on = left + timedelta(days=probe)
    a, b = benefits(policy, members, on), benefits(policy, split, on)
    assert (a.signature, a.tenure_days, a.members_counted) == (b.signature, b.tenure_days, b.members_counted)
    assert a.eligibility.eligible == b.eligibility.eligible


@given(case=leave_and_rejoin(), probe=st.integers(0, 5000))
def test_a_gap_costs_exactly_its_days_and_nothing_else(
    case: tuple[FamilyPolicy, list[MemberFacts], int, date, date], probe: int
) -> None:
    policy, members, index, left, back = case
    split = _split(members, index, left, back)
    on = back + timedelta(days=probe)
    stayed, returned = members[index], split[index + 1]
    carry = policy.benefits.tenure.carry_over
    # The member's own tenure after returning: everything but the gap, whatever the policy carries over.
    assert returned.tenure_days(on, carry_over=carry) == stayed.tenure_days(on, carry_over=carry) - (back - left).days
    # Once back, the group qualifies exactly as if they had never left, and never earns more for leaving.
    a, b = benefits(policy, members, on), benefits(policy, split, on)
    assert a.eligibility.eligible == b.eligibility.eligible and a.members_counted == b.members_counted
    assert a.amounts.dominates(b.amounts)
    assert a.tenure_days >= b.tenure_days


# --- history and what-if ---------------------------------------------------------------------------------------


@given(policy=policies, members=groups(), on=days, later=st.integers(1, 3000), birth=births)
def test_what_happens_later_never_changes_an_earlier_day(
    policy: FamilyPolicy, members: list[MemberFacts], on: date, later: int, birth: int
) -> None:
    """Benefits on a past day are recomputed from history: later joins and leaves do not rewrite them."""
    before = benefits(policy, members, on)
    future = on + timedelta(days=later)
    changed = [replace(m, left_on=future) if m.left_on is None or m.left_on > future else m for m in members]
    changed.append(newcomer(99, birth, "child", future, 500))
    after = benefits(policy, changed, on)
    assert (before.signature, before.tenure_days, before.rules) == (after.signature, after.tenure_days, after.rules)


@given(
    policy=policies,
    members=groups(),
    on=days,
    birth=births,
    relation=st.sampled_from(RELATIONS),
    prior=st.integers(0, 5000),
)
def test_what_if_matches_the_real_join(
    policy: FamilyPolicy, members: list[MemberFacts], on: date, birth: int, relation: str, prior: int
) -> None:
    candidate = MemberFacts(99, birth, relation, on, prior_days_elsewhere=prior)
    result = what_if(policy, members, on, join=candidate)
    real = benefits(policy, [*members, newcomer(99, birth, relation, on, prior)], on)
    assert result.after.signature == real.signature and result.after.rules == real.rules
    assert result.before == benefits(policy, members, on)
    assert result.message_ko and result.message_en


@given(members=groups(), on=days, step=st.integers(0, 2000))
def test_group_tenure_counts_qualified_days_only(members: list[MemberFacts], on: date, step: int) -> None:
    policy = POLICIES["group"]
    first = min(m.joined_on for m in members)
    q1 = qualified_days(policy, members, on)
    q2 = qualified_days(policy, members, on + timedelta(days=step))
    assert 0 <= q1 <= max(0, (on - first).days) and q1 <= q2 <= q1 + step


def test_what_if_message_in_plain_korean() -> None:
    d0 = date(2024, 3, 1)
    rep = MemberFacts(1, 1962, "self", d0, verified_on=d0)
    wife = MemberFacts(2, 1964, "spouse", d0, verified_on=d0)
    out = what_if(DEFAULT, [rep, wife], d0, join=MemberFacts(3, 1995, "child", d0))
    assert out.message_ko == (
        "자녀가 함께하시면 적금 우대금리가 연 +0.1%p에서 +0.2%p로 올라갑니다. 카드 할인은 0.5%에서 1%로 바뀝니다."
    )
    assert out.message_en.startswith("If your child joins, your savings bonus becomes +0.2%p (now +0.1%p)")
    same = what_if(DEFAULT, [rep, wife], d0, leave=2)
    assert same.message_ko.startswith("배우자가 나가시면 가족결합 조건을 채우지 못합니다.")


@pytest.mark.parametrize(
    ("word", "expected"),
    [("자녀", "자녀가"), ("배우자", "배우자가"), ("동거인", "동거인이"), ("인척(사위)", "인척(사위)이(가)")],
)
def test_particles(word: str, expected: str) -> None:
    assert particle(word, "이", "가") == expected


def test_rates_are_written_as_people_write_them() -> None:
    assert [fmt_decimal(Decimal(x)) for x in ("0.30", "1.00", "0", "2.5")] == ["0.3", "1", "0", "2.5"]


@settings(max_examples=50)
@given(members=groups(), on=days)
def test_every_member_in_the_group_is_explained(members: list[MemberFacts], on: date) -> None:
    b = benefits(DEFAULT, members, on)
    shown = {m.customer_id for m in b.members}
    assert shown == {m.customer_id for m in members if m.in_group_on(on)}
    for m in b.members:
        assert m.rules and all(r.message_ko and r.message_en for r in m.rules)
        assert m.amounts == (b.amounts if m.counted and b.eligibility.eligible else type(b.amounts)())
