"""The family service with a controlled clock, on SQLite and PostgreSQL: grace and dissolution with
their notifications, forming deadlines, expiring invitations, tenure tiers over time, concurrent
accepts, and the database's own guard against a customer in two groups."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cardwise.core.errors import Conflict
from cardwise.db.engine import session_scope
from cardwise.db.types import utcnow
from cardwise.family import service
from cardwise.family.models import FamilyGroup, FamilyInvitation, FamilyMembership
from cardwise.family.policy import FamilyPolicy, MemberLimits, load_policy
from cardwise.notify.models import OutboxMessage
from tests.conftest import TEST_PAN_KEY
from tests.family.conftest import FamilyDb

POLICY = load_policy()
SECRET = service.derive_invite_secret(TEST_PAN_KEY)


def _with_max(n: int) -> FamilyPolicy:
    return POLICY.model_copy(update={"members": MemberLimits(min=2, max=n)})


def _group(db: FamilyDb, rep: int, now: datetime) -> int:
    with session_scope(db.engine) as s:
        return service.create_group(s, POLICY, customer_id=rep, name="테스트 가족", now=now).group_id


def _invite(
    db: FamilyDb, gid: int, rep: int, who: int, relation: str, now: datetime, policy: FamilyPolicy = POLICY
) -> int:
    with session_scope(db.engine) as s:
        inv, _ = service.invite(
            s,
            policy,
            group_id=gid,
            customer_id=rep,
            relation=relation,
            invitee=service.Invitee("customer_id", str(who)),
            secret=SECRET,
            now=now,
        )
        return inv.invitation_id


def _join(db: FamilyDb, gid: int, rep: int, who: int, relation: str, now: datetime) -> None:
    inv = _invite(db, gid, rep, who, relation, now)
    with session_scope(db.engine) as s:
        service.accept(s, POLICY, invitation_id=inv, customer_id=who, now=now)
    with session_scope(db.engine) as s:
        doc = service.submit_document(
            s,
            POLICY,
            group_id=gid,
            member_id=who,
            customer_id=rep,
            kind="family_relation_certificate",
            issued_on=service.seoul_date(now),
            same_address=None,
            reference="docs/x.pdf",
            now=now,
        )
    with session_scope(db.engine) as s:
        service.review_document(
            s, POLICY, document_id=doc.document_id, decision="verified", note=None, reviewer="agent:t", now=now
        )


def _check(db: FamilyDb, gid: int, now: datetime) -> tuple[str, str, int]:
    with session_scope(db.engine) as s:
        return service.check_group(s, POLICY, gid, now=now)


def _status(db: FamilyDb, gid: int) -> FamilyGroup:
    with Session(db.engine) as s:
        g = s.get(FamilyGroup, gid)
        assert g is not None
        return g


def _messages(db: FamilyDb, kind: str, customer_id: int | None = None) -> list[OutboxMessage]:
    q = select(OutboxMessage).where(OutboxMessage.kind == kind)
    if customer_id is not None:
        q = q.where(OutboxMessage.customer_id == customer_id)
    with Session(db.engine) as s:
        return list(s.execute(q.order_by(OutboxMessage.message_id)).scalars())


def test_grace_then_dissolution_with_notifications_once(db: FamilyDb) -> None:
    t0 = utcnow()
    rep, grandma, son = next(db.younger), next(db.older), next(db.younger)
    gid = _group(db, rep, t0)
    _join(db, gid, rep, grandma, "grandparent", t0)
    _join(db, gid, rep, son, "sibling", t0)
    assert _status(db, gid).status == "active"
    with session_scope(db.engine) as s:
        service.leave(s, POLICY, group_id=gid, customer_id=grandma, new_representative_id=None, now=t0 + timedelta(1))
    g = _status(db, gid)
    assert g.status == "grace" and g.grace_deadline == t0 + timedelta(days=31)
    assert {m.customer_id for m in _messages(db, "family_grace")} >= {rep, son}
    # Inside the grace period nothing more happens; after it, the group dissolves, once.
    assert _check(db, gid, t0 + timedelta(days=20)) == ("grace", "grace", 0)
    before, after, notices = _check(db, gid, t0 + timedelta(days=31, seconds=1))
    assert (before, after, notices) == ("grace", "dissolved", 2)
    assert _check(db, gid, t0 + timedelta(days=32)) == ("dissolved", "dissolved", 0)
    g = _status(db, gid)
    assert g.dissolved_reason == "grace_expired"
    for who in (rep, son):
        (msg,) = _messages(db, "family_dissolved", who)
        assert "유예기간" in msg.body
    assert _messages(db, "family_dissolved", grandma) == []
    with Session(db.engine) as s:
        rows = s.execute(select(FamilyMembership).where(FamilyMembership.group_id == gid)).scalars().all()
        assert sorted(m.leave_reason or "" for m in rows) == ["dissolved", "dissolved", "left"]
        assert all(m.left_at is not None for m in rows)
        # History kept: the benefit while the group was active is still what it was.
        past = service.group_benefits(s, POLICY, gid, service.seoul_date(t0))
        assert past.eligibility.eligible and past.members_counted == 3
        kinds = [e.kind for e in service.history(s, gid)]
    assert kinds[0] == "created" and kinds[-3:] == ["left", "grace_started", "dissolved"]


def test_a_group_that_never_qualifies_is_closed_after_its_forming_period(db: FamilyDb) -> None:
    t0 = utcnow()
    rep = next(db.younger)
    gid = _group(db, rep, t0)
    _invite(db, gid, rep, next(db.younger), "sibling", t0)
    assert _check(db, gid, t0 + timedelta(days=59)) == ("forming", "forming", 0)
    assert _check(db, gid, t0 + timedelta(days=60, seconds=1)) == ("forming", "dissolved", 1)
    assert _status(db, gid).dissolved_reason == "never_qualified"
    with Session(db.engine) as s:
        statuses = s.execute(select(FamilyInvitation.status).where(FamilyInvitation.group_id == gid)).scalars().all()
    assert statuses == ["cancelled"]


def test_an_expired_invitation_cannot_be_accepted(db: FamilyDb) -> None:
    t0 = utcnow()
    rep, son = next(db.older), next(db.younger)
    gid = _group(db, rep, t0)
    inv = _invite(db, gid, rep, son, "child", t0)
    with pytest.raises(Conflict, match="expired"), session_scope(db.engine) as s:
        service.accept(s, POLICY, invitation_id=inv, customer_id=son, now=t0 + timedelta(days=7, seconds=1))
    # Inviting again after expiry gives a fresh invitation.
    assert _invite(db, gid, rep, son, "child", t0 + timedelta(days=8)) != inv


def test_tenure_tier_reached_over_time_is_announced(db: FamilyDb) -> None:
    t0 = utcnow()
    rep, spouse = next(db.older), next(db.older)
    gid = _group(db, rep, t0)
    _join(db, gid, rep, spouse, "spouse", t0)
    # Two members: 3 member-years (the first tenure tier) after about a year and a half.
    assert _check(db, gid, t0 + timedelta(days=300))[2] in (0, 2)  # a 70th birthday year may change the tier
    notices_before = len(_messages(db, "family_tier_changed", rep))
    _check(db, gid, t0 + timedelta(days=560))
    with Session(db.engine) as s:
        b = service.group_benefits(s, POLICY, gid, service.seoul_date(t0 + timedelta(days=560)))
    assert b.tenure_tier == 3
    assert len(_messages(db, "family_tier_changed", rep)) == notices_before + 1
    _check(db, gid, t0 + timedelta(days=561))  # nothing new the next day
    assert len(_messages(db, "family_tier_changed", rep)) == notices_before + 1


def test_concurrent_accepts_never_put_a_customer_in_two_groups(db: FamilyDb) -> None:
    t0 = utcnow()
    target = next(db.younger)
    invitations = []
    for _ in range(2):
        rep = next(db.older)
        gid = _group(db, rep, t0)
        invitations.append(_invite(db, gid, rep, target, "child", t0))
    barrier = threading.Barrier(2)

    def accept(invitation_id: int) -> str:
        barrier.wait()
        try:
            with session_scope(db.engine) as s:
                service.accept(s, POLICY, invitation_id=invitation_id, customer_id=target, now=utcnow())
        except Conflict as exc:
            return exc.message
        return "joined"

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(accept, invitations))
    assert results[0] == "joined" and "already in a family group" in results[1], results
    with Session(db.engine) as s:
        current = s.execute(
            select(func.count())
            .select_from(FamilyMembership)
            .where(FamilyMembership.customer_id == target, FamilyMembership.left_at.is_(None))
        ).scalar_one()
    assert current == 1


def test_concurrent_accepts_respect_the_last_free_place(db: FamilyDb) -> None:
    t0 = utcnow()
    rep, a, b = next(db.older), next(db.younger), next(db.younger)
    gid = _group(db, rep, t0)
    roomy = _with_max(3)
    invitations = [(_invite(db, gid, rep, who, "child", t0, roomy), who) for who in (a, b)]
    tight = _with_max(2)  # the policy changed: one free place left for two invitations
    barrier = threading.Barrier(2)

    def accept(item: tuple[int, int]) -> str:
        barrier.wait()
        try:
            with session_scope(db.engine) as s:
                service.accept(s, tight, invitation_id=item[0], customer_id=item[1], now=utcnow())
        except Conflict as exc:
            return exc.message
        return "joined"

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(accept, invitations))
    assert results[0] == "joined" and "full" in results[1], results
    with Session(db.engine) as s:
        assert len(service.members_of(s, gid)) == 2


def test_the_database_refuses_a_second_current_membership(db: FamilyDb) -> None:
    t0 = utcnow()
    rep, other = next(db.older), next(db.older)
    gid = _group(db, rep, t0)
    other_gid = _group(db, other, t0)
    with pytest.raises(IntegrityError), session_scope(db.engine) as s:
        s.add(
            FamilyMembership(
                group_id=other_gid, customer_id=rep, relation="sibling", joined_at=t0, proof_status="missing"
            )
        )
        s.flush()
    # A past membership does not count: history rows with left_at are free.
    with session_scope(db.engine) as s:
        s.add(
            FamilyMembership(
                group_id=other_gid,
                customer_id=rep,
                relation="sibling",
                joined_at=t0 - timedelta(days=90),
                left_at=t0 - timedelta(days=30),
                leave_reason="left",
                proof_status="verified",
            )
        )
    with Session(db.engine) as s:
        assert service.current_membership(s, rep).group_id == gid  # type: ignore[union-attr]


def test_run_daily_is_safe_to_repeat(db: FamilyDb) -> None:
    t0 = utcnow()
    rep = next(db.younger)
    gid = _group(db, rep, t0)
    inv = _invite(db, gid, rep, next(db.younger), "sibling", t0)
    later = t0 + timedelta(days=61)
    first = service.run_daily(db.engine, POLICY, now=later)
    assert first.errors == 0 and first.invitations_expired >= 1 and first.dissolved >= 1
    again = service.run_daily(db.engine, POLICY, now=later)
    assert again.dissolved == 0 and again.invitations_expired == 0 and again.entered_grace == 0
    with Session(db.engine) as s:
        assert s.get(FamilyInvitation, inv).status == "expired"  # type: ignore[union-attr]
    assert _status(db, gid).status == "dissolved"
    assert len(_messages(db, "family_dissolved", rep)) == 1


def test_invitations_are_limited_per_day(db: FamilyDb) -> None:
    t0 = utcnow()
    rep, target = next(db.older), next(db.younger)
    gid = _group(db, rep, t0)
    for i in range(POLICY.invitations_per_day):
        inv = _invite(db, gid, rep, target, "child", t0 + timedelta(minutes=i))
        with session_scope(db.engine) as s:
            service.cancel_invitation(s, group_id=gid, invitation_id=inv, customer_id=rep, now=t0)
    with pytest.raises(Conflict, match="invitations a day"):
        _invite(db, gid, rep, target, "child", t0 + timedelta(hours=1))
    assert _invite(db, gid, rep, target, "child", t0 + timedelta(days=1, hours=1)) > inv
