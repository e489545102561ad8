"""Family bundle services: groups, invitations, memberships, proofs, re-checks, grace and dissolution.

Services take an explicit session and flush; the request (or job) commits, so a state change, its
history event and its notifications are stored together or not at all. Every write to a group first
bumps the group's ``version`` with an UPDATE: on PostgreSQL that locks the row, on SQLite it takes
the write lock before anything is read, so writers of one group are serialized and nothing is decided
on a stale read. The database enforces the invariant that matters most on its own: a customer has at
most one membership without ``left_at`` (a partial unique index), whatever runs concurrently.

Who may do what (callers that are not members get NotFound, so a group's existence is not revealed):
members read their group; the representative invites, removes, cancels and dissolves; a member or
the representative uploads that member's proof; the back office verifies proofs and may remove.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cardwise.core.errors import Conflict, DomainError, Invalid, NotFound
from cardwise.db.engine import session_scope
from cardwise.db.models import Customer
from cardwise.family import rules
from cardwise.family.models import FamilyDocument, FamilyEvent, FamilyGroup, FamilyInvitation, FamilyMembership
from cardwise.family.policy import PLACEHOLDERS, SELF, FamilyPolicy
from cardwise.family.rules import SEOUL, GroupBenefit, MemberFacts
from cardwise.logging import get_logger
from cardwise.notify.models import CustomerContact
from cardwise.notify.service import enqueue
from cardwise.privacy.crypto import phone_index

log = get_logger("cardwise.family")

SYSTEM = "system"
OPEN_STATUSES = ("forming", "active", "grace")


class Forbidden(DomainError):
    """The caller is in the group but this action is not theirs (e.g. only the representative invites)."""

    status_code = 403


# --- small helpers --------------------------------------------------------------------------------------------


def seoul_date(at: datetime) -> date:
    return at.astimezone(SEOUL).date()


def _months_before(d: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter): 2024-05-31 - 3 → 2024-02-29."""
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


_PHONE = re.compile(r"^01[016789][0-9]{7,8}$")


def normalize_phone(raw: str) -> str:
    """A Korean mobile number in the stored form (010-1234-5678); ValueError otherwise."""
    digits = re.sub(r"[\s.()\-]", "", raw)
    if digits.startswith("+82"):
        digits = digits[3:]
        digits = digits if digits.startswith("0") else "0" + digits
    if not _PHONE.match(digits):
        raise ValueError("not a Korean mobile number (010-1234-5678)")
    return f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"


def mask_phone(phone: str) -> str:
    """010-1234-5678 → 010-****-5678."""
    head, _, rest = phone.partition("-")
    middle, _, last = rest.partition("-")
    return f"{head}-{'*' * len(middle)}-{last}"


def mask_name(name: str | None) -> str:
    """김민수 → 김○○ (family members recognise each other; nobody else learns the name)."""
    if not name:
        return "○○○"
    return name[0] + "○" * (len(name) - 1)


def invitee_key(secret: bytes, via: str, value: str) -> str:
    """A keyed hash of whom an invitation is for: invitations are matched without storing the phone."""
    return hmac.new(secret, f"{via}:{value}".encode(), hashlib.sha256).hexdigest()


def derive_invite_secret(master: str) -> bytes:
    """A key of its own for invitation hashes, derived from the platform's keyed-hash secret."""
    return hmac.new(master.encode(), b"cardwise/family/invitee/v1", hashlib.sha256).digest()


def _fmt_day_ko(d: date) -> str:
    return f"{d.year}년 {d.month}월 {d.day}일"


# --- reading --------------------------------------------------------------------------------------------------


def current_membership(session: Session, customer_id: int) -> FamilyMembership | None:
    return session.execute(
        select(FamilyMembership).where(FamilyMembership.customer_id == customer_id, FamilyMembership.left_at.is_(None))
    ).scalar_one_or_none()


def members_of(session: Session, group_id: int, *, current_only: bool = True) -> list[FamilyMembership]:
    q = select(FamilyMembership).where(FamilyMembership.group_id == group_id)
    if current_only:
        q = q.where(FamilyMembership.left_at.is_(None))
    return list(session.execute(q.order_by(FamilyMembership.membership_id)).scalars())


def _pairs(rows: Iterable[Any]) -> dict[Any, Any]:
    return {row[0]: row[1] for row in rows}


def _group_or_404(session: Session, group_id: int) -> FamilyGroup:
    group = session.get(FamilyGroup, group_id)
    if group is None:
        raise NotFound("family group not found")
    return group


def readable_group(session: Session, group_id: int, customer_id: int) -> tuple[FamilyGroup, FamilyMembership]:
    """The group and the caller's membership: current members, and the last members of a dissolved group.

    Anyone else gets the same 404 as for a group that does not exist."""
    group = session.get(FamilyGroup, group_id)
    if group is not None:
        mine = session.execute(
            select(FamilyMembership)
            .where(FamilyMembership.group_id == group_id, FamilyMembership.customer_id == customer_id)
            .order_by(FamilyMembership.membership_id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if mine is not None and (mine.left_at is None or mine.leave_reason == "dissolved"):
            return group, mine
    raise NotFound("family group not found")


def facts(session: Session, group_id: int) -> list[MemberFacts]:
    """Every membership of the group (history included) as the pure rules' facts."""
    memberships = members_of(session, group_id, current_only=False)
    if not memberships:
        return []
    ids = {m.customer_id for m in memberships}
    births = _pairs(
        session.execute(select(Customer.customer_id, Customer.birth_year).where(Customer.customer_id.in_(ids)))
    )
    # Earlier stints of the same customers: in this group they always count, elsewhere by the policy.
    stints = session.execute(
        select(
            FamilyMembership.customer_id,
            FamilyMembership.group_id,
            FamilyMembership.joined_at,
            FamilyMembership.left_at,
        ).where(FamilyMembership.customer_id.in_(ids), FamilyMembership.left_at.is_not(None))
    ).all()
    out = []
    for m in memberships:
        joined = seoul_date(m.joined_at)
        here = elsewhere = 0
        for cid, gid, start, left in stints:
            if cid == m.customer_id and left is not None and left <= m.joined_at:
                stint = max(0, (seoul_date(left) - seoul_date(start)).days)
                if gid == group_id:
                    here += stint
                else:
                    elsewhere += stint
        out.append(
            MemberFacts(
                customer_id=m.customer_id,
                birth_year=int(births[m.customer_id]),
                relation=m.relation,
                joined_on=joined,
                left_on=seoul_date(m.left_at) if m.left_at is not None else None,
                verified_on=seoul_date(m.proof_verified_at) if m.proof_verified_at is not None else None,
                prior_days=here,
                prior_days_elsewhere=elsewhere,
            )
        )
    return out


def group_benefits(session: Session, policy: FamilyPolicy, group_id: int, on: date) -> GroupBenefit:
    return rules.benefits(policy, facts(session, group_id), on)


# --- locking, history, notifications --------------------------------------------------------------------------


def _lock(session: Session, group_id: int) -> FamilyGroup:
    """Serialize writers of one group (see the module docstring) and return it freshly read."""
    result = session.execute(
        update(FamilyGroup)
        .where(FamilyGroup.group_id == group_id)
        .values(version=FamilyGroup.version + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 0:
        raise NotFound("family group not found")
    group = session.get(FamilyGroup, group_id, populate_existing=True)
    assert group is not None
    return group


def _open(group: FamilyGroup) -> None:
    if group.status == "dissolved":
        raise Conflict("this family group has been dissolved")


def _event(
    session: Session,
    group: FamilyGroup,
    kind: str,
    *,
    actor: str,
    now: datetime,
    customer_id: int | None = None,
    **detail: Any,
) -> FamilyEvent:
    event = FamilyEvent(group_id=group.group_id, kind=kind, customer_id=customer_id, actor=actor, at=now, detail=detail)
    session.add(event)
    session.flush()
    return event


def _notify(
    session: Session,
    policy: FamilyPolicy,
    group: FamilyGroup,
    kind: str,
    recipients: Iterable[int],
    *,
    key: str,
    **values: Any,
) -> int:
    """Queue the policy's message ``kind`` to each recipient, once per ``key`` and recipient."""
    template = policy.notifications[kind]
    context = dict.fromkeys(PLACEHOLDERS, "")
    context.update(group_name=group.name, **{k: str(v) for k, v in values.items()})
    sent = 0
    for customer_id in sorted(set(recipients)):
        enqueue(
            session,
            dedupe_key=f"family:{group.group_id}:{key}:{customer_id}",
            customer_id=customer_id,
            kind=f"family_{kind}",
            subject=template.subject_ko.format_map(context),
            body=template.body_ko.format_map(context),
            payload={
                "group_id": group.group_id,
                "event": kind,
                "subject_en": template.subject_en.format_map(context),
                "body_en": template.body_en.format_map(context),
            },
        )
        sent += 1
    return sent


def _relation_values(policy: FamilyPolicy, relation: str) -> dict[str, str]:
    ko, en = policy.relation_label(relation)
    return {"relation_ko": ko, "relation_en": en}


def _current_ids(session: Session, group_id: int) -> list[int]:
    return [m.customer_id for m in members_of(session, group_id)]


def _reason_values(problems: Sequence[rules.Problem]) -> dict[str, str]:
    return {
        "reason_ko": ", ".join(p.short_ko or p.message_ko for p in problems),
        "reason_en": ", ".join(p.short_en or p.message_en for p in problems),
    }


# --- re-checking a group --------------------------------------------------------------------------------------


@dataclass
class Recheck:
    status_before: str
    status_after: str
    benefit: GroupBenefit | None = None
    notices: int = 0


def recheck(session: Session, policy: FamilyPolicy, group: FamilyGroup, *, now: datetime, actor: str) -> Recheck:
    """Re-evaluate a locked group today: start, grace, requalification, tier changes, their notifications."""
    before = group.status
    out = Recheck(before, before)
    if group.status == "dissolved":
        return out
    current = _current_ids(session, group.group_id)
    if not current:
        dissolve(session, policy, group, reason="empty", now=now, actor=actor)
        out.status_after = group.status
        return out
    today = seoul_date(now)
    benefit = group_benefits(session, policy, group.group_id, today)
    out.benefit = benefit
    elig = benefit.eligibility
    money = {
        "savings_bonus_pp": rules.fmt_decimal(benefit.amounts.savings_bonus_pp),
        "card_discount_pct": rules.fmt_decimal(benefit.amounts.card_discount_pct),
        "members": benefit.members_counted,
    }
    if elig.eligible and group.status in ("forming", "grace"):
        first = group.qualified_at is None
        group.status = "active"
        group.grace_started_at = group.grace_deadline = None
        if first:
            group.qualified_at = now
        kind = "qualified" if first else "requalified"
        event = _event(session, group, kind, actor=actor, now=now, signature=benefit.signature)
        out.notices += _notify(session, policy, group, kind, current, key=f"e{event.event_id}", **money)
    elif not elig.eligible and group.status == "active":
        group.status = "grace"
        group.grace_started_at = now
        group.grace_deadline = now + timedelta(days=policy.grace_days)
        deadline = seoul_date(group.grace_deadline)
        event = _event(
            session,
            group,
            "grace_started",
            actor=actor,
            now=now,
            deadline=group.grace_deadline.isoformat(),
            problems=[p.code for p in elig.problems],
        )
        out.notices += _notify(
            session,
            policy,
            group,
            "grace",
            current,
            key=f"e{event.event_id}",
            deadline=_fmt_day_ko(deadline),
            **_reason_values(elig.problems),
        )
    elif (
        group.status == "active"
        and before == "active"
        and group.benefit_signature is not None
        and benefit.signature != group.benefit_signature
    ):
        event = _event(
            session,
            group,
            "tier_changed",
            actor=actor,
            now=now,
            before=group.benefit_signature,
            after=benefit.signature,
        )
        counted = list(elig.counted)
        out.notices += _notify(session, policy, group, "tier_changed", counted, key=f"e{event.event_id}", **money)
    if group.status in ("active", "grace"):
        group.benefit_signature = benefit.signature
    out.status_after = group.status
    return out


def dissolve(
    session: Session, policy: FamilyPolicy, group: FamilyGroup, *, reason: str, now: datetime, actor: str
) -> int:
    """End a (locked) group: memberships closed, pending invitations cancelled, everyone told once."""
    if group.status == "dissolved":
        return 0
    members = members_of(session, group.group_id)
    for m in members:
        m.left_at, m.leave_reason = now, "dissolved"
    session.execute(
        update(FamilyInvitation)
        .where(FamilyInvitation.group_id == group.group_id, FamilyInvitation.status == "pending")
        .values(status="cancelled", responded_at=now)
        .execution_options(synchronize_session=False)
    )
    group.status, group.dissolved_at, group.dissolved_reason = "dissolved", now, reason
    group.grace_deadline = None
    _event(session, group, "dissolved", actor=actor, now=now, reason=reason)
    session.flush()
    ko, en = DISSOLVE_REASONS.get(reason, (reason, reason))
    return _notify(
        session,
        policy,
        group,
        "dissolved",
        [m.customer_id for m in members],
        key="dissolved",
        reason_ko=ko,
        reason_en=en,
    )


DISSOLVE_REASONS = {
    "grace_expired": ("유예기간 안에 조건을 다시 채우지 못함", "the grace period ended without the group qualifying"),
    "never_qualified": ("정해진 기간 안에 가족결합 조건을 채우지 못함", "the group never qualified in time"),
    "by_representative": ("대표자가 해지함", "the representative ended it"),
    "empty": ("남은 가족이 없음", "no members left"),
    "by_back_office": ("고객센터에서 해지함", "ended by customer service"),
}


# --- groups ---------------------------------------------------------------------------------------------------


def _customer_or_404(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer not found")
    return customer


def _flush_or_conflict(session: Session, message: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message) from None


def create_group(session: Session, policy: FamilyPolicy, *, customer_id: int, name: str, now: datetime) -> FamilyGroup:
    """The caller founds a group and becomes its representative (the group forms until it qualifies)."""
    _customer_or_404(session, customer_id)
    mine = current_membership(session, customer_id)
    if mine is not None:
        raise Conflict(f"you are already in family group {mine.group_id}; leave it before starting another")
    group = FamilyGroup(
        name=name,
        representative_id=customer_id,
        status="forming",
        created_at=now,
        forming_deadline=now + timedelta(days=policy.forming_days),
        version=0,
    )
    session.add(group)
    session.flush()
    session.add(
        FamilyMembership(
            group_id=group.group_id,
            customer_id=customer_id,
            relation=SELF,
            joined_at=now,
            proof_status="not_required",
            proof_verified_at=now,
        )
    )
    _flush_or_conflict(session, "you are already in a family group; leave it before starting another")
    actor = f"customer:{customer_id}"
    _event(session, group, "created", actor=actor, now=now, customer_id=customer_id)
    recheck(session, policy, group, now=now, actor=actor)
    return group


def _writable(session: Session, group_id: int, customer_id: int) -> tuple[FamilyGroup, FamilyMembership]:
    """Lock the group for a customer's change: 404 unless they are a current member; 409 once dissolved."""
    group = _lock(session, group_id)
    mine = session.execute(
        select(FamilyMembership).where(
            FamilyMembership.group_id == group_id,
            FamilyMembership.customer_id == customer_id,
            FamilyMembership.left_at.is_(None),
        )
    ).scalar_one_or_none()
    if mine is None:
        raise NotFound("family group not found")
    _open(group)
    return group, mine


def _representative_only(group: FamilyGroup, customer_id: int) -> None:
    if group.representative_id != customer_id:
        raise Forbidden("only the group's representative can do this")


# --- invitations ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitee:
    via: str  # phone, customer_id
    value: str  # canonical phone (010-1234-5678) or the customer number


def _resolve(session: Session, invitee: Invitee) -> int | None:
    """The one customer an invitation is for, or None (unknown or ambiguous number: nobody can accept)."""
    if invitee.via == "phone":
        ids = (
            # Phones are encrypted at rest: matched by their keyed blind index, never by decrypting rows.
            session.execute(
                select(CustomerContact.customer_id)
                .where(CustomerContact.phone_index == phone_index(invitee.value))
                .limit(2)
            )
            .scalars()
            .all()
        )
        return int(ids[0]) if len(ids) == 1 else None
    customer_id = int(invitee.value)
    return customer_id if session.get(Customer, customer_id) is not None else None


def _display(invitee: Invitee) -> str:
    if invitee.via == "phone":
        return mask_phone(invitee.value)
    return "고객번호 ****" + invitee.value[-4:]


def _expire_overdue(session: Session, group_id: int, now: datetime) -> None:
    session.execute(
        update(FamilyInvitation)
        .where(
            FamilyInvitation.group_id == group_id,
            FamilyInvitation.status == "pending",
            FamilyInvitation.expires_at <= now,
        )
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )


def _check_room(
    session: Session, policy: FamilyPolicy, group_id: int, relation: str, *, pending_too: bool, exclude: int | None
) -> None:
    current = members_of(session, group_id)
    pending: list[FamilyInvitation] = []
    if pending_too:
        pending = list(
            session.execute(
                select(FamilyInvitation).where(
                    FamilyInvitation.group_id == group_id,
                    FamilyInvitation.status == "pending",
                    FamilyInvitation.invitation_id != (exclude or 0),
                )
            ).scalars()
        )
    if len(current) + len(pending) >= policy.members.max:
        extra = " (pending invitations included)" if pending else ""
        raise Conflict(f"the group is full: at most {policy.members.max} members{extra}")
    limit = policy.relations[relation].max_count
    if limit is not None:
        same = sum(m.relation == relation for m in current) + sum(i.relation == relation for i in pending)
        if same >= limit:
            name = policy.relations[relation].name_en
            raise Conflict(f"a group can have at most {limit} {name} member(s)")


def invite(
    session: Session,
    policy: FamilyPolicy,
    *,
    group_id: int,
    customer_id: int,
    relation: str,
    invitee: Invitee,
    secret: bytes,
    now: datetime,
) -> tuple[FamilyInvitation, bool]:
    """The representative invites someone by phone or customer number; (invitation, newly created).

    The answer is the same whether or not the number belongs to a customer: an invitation that matches
    nobody simply expires, so invitations cannot be used to find out who is a customer."""
    if relation not in policy.relations:
        raise Invalid(f"unknown relation {relation!r}; allowed: {', '.join(policy.relations)}")
    group, _ = _writable(session, group_id, customer_id)
    _representative_only(group, customer_id)
    _expire_overdue(session, group_id, now)
    target = _resolve(session, invitee)
    if target == customer_id:
        raise Invalid("you cannot invite yourself")
    if target is not None and target in _current_ids(session, group_id):
        raise Conflict("this person is already a member of the group")
    key = invitee_key(secret, invitee.via, invitee.value)
    existing = session.execute(
        select(FamilyInvitation).where(
            FamilyInvitation.group_id == group_id,
            FamilyInvitation.invitee_key == key,
            FamilyInvitation.status == "pending",
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.relation != relation:
            raise Conflict("this person already has a pending invitation with another relation; cancel it first")
        return existing, False
    _check_room(session, policy, group_id, relation, pending_too=True, exclude=None)
    recent = session.execute(
        select(func.count())
        .select_from(FamilyInvitation)
        .where(FamilyInvitation.group_id == group_id, FamilyInvitation.created_at > now - timedelta(days=1))
    ).scalar_one()
    if recent >= policy.invitations_per_day:
        # Each invitation may send a message to someone else's phone: a group cannot be used to spam.
        raise Conflict(f"at most {policy.invitations_per_day} invitations a day; please try again tomorrow")
    invitation = FamilyInvitation(
        group_id=group_id,
        invited_by=customer_id,
        invitee_customer_id=target,
        invitee_key=key,
        invitee_display=_display(invitee),
        via=invitee.via,
        relation=relation,
        status="pending",
        created_at=now,
        expires_at=now + timedelta(days=policy.invitation_valid_days),
    )
    session.add(invitation)
    _flush_or_conflict(session, "this person already has a pending invitation")
    actor = f"customer:{customer_id}"
    event = _event(
        session, group, "invited", actor=actor, now=now, invitation_id=invitation.invitation_id, relation=relation
    )
    if target is not None:
        _notify(
            session,
            policy,
            group,
            "invited",
            [target],
            key=f"e{event.event_id}",
            deadline=_fmt_day_ko(seoul_date(invitation.expires_at)),
            **_relation_values(policy, relation),
        )
    return invitation, True


def my_invitations(session: Session, customer_id: int, now: datetime) -> list[tuple[FamilyInvitation, FamilyGroup]]:
    rows = session.execute(
        select(FamilyInvitation, FamilyGroup)
        .join(FamilyGroup, FamilyGroup.group_id == FamilyInvitation.group_id)
        .where(
            FamilyInvitation.invitee_customer_id == customer_id,
            FamilyInvitation.status == "pending",
            FamilyInvitation.expires_at > now,
        )
        .order_by(FamilyInvitation.invitation_id)
    )
    return [(inv, group) for inv, group in rows]


def _my_invitation(session: Session, invitation_id: int, customer_id: int, now: datetime) -> FamilyInvitation:
    """Lock the invitation's group and return the invitation, if it is addressed to the caller (else 404)."""
    inv = session.get(FamilyInvitation, invitation_id)
    if inv is None or inv.invitee_customer_id != customer_id:
        raise NotFound("invitation not found")
    group = _lock(session, inv.group_id)
    session.refresh(inv)
    if inv.status != "pending":
        raise Conflict(f"this invitation is already {inv.status}")
    if inv.expires_at <= now:
        raise Conflict("this invitation has expired; ask for a new one")
    _open(group)
    return inv


def _carried_proof(
    session: Session, policy: FamilyPolicy, group_id: int, customer_id: int, relation: str, today: date
) -> bool:
    """A member who rejoins keeps a verified proof of the same relation while the document is still recent."""
    proof_name = policy.relations[relation].proof
    if proof_name == "none":
        return True
    proof = policy.proofs[proof_name]
    issued = session.execute(
        select(func.max(FamilyDocument.issued_on))
        .join(FamilyMembership, FamilyMembership.membership_id == FamilyDocument.membership_id)
        .where(
            FamilyMembership.group_id == group_id,
            FamilyMembership.customer_id == customer_id,
            FamilyMembership.relation == relation,
            FamilyDocument.kind == proof_name,
            FamilyDocument.status == "verified",
        )
    ).scalar_one_or_none()
    return issued is not None and issued >= _months_before(today, proof.valid_months)


def accept(
    session: Session, policy: FamilyPolicy, *, invitation_id: int, customer_id: int, now: datetime
) -> FamilyMembership:
    """The invited customer joins, in their own account. A proof of relation is then needed to count."""
    inv = _my_invitation(session, invitation_id, customer_id, now)
    group = _group_or_404(session, inv.group_id)
    if inv.relation not in policy.relations:
        raise Conflict(f"the relation {inv.relation!r} is no longer part of the bundle policy")
    mine = current_membership(session, customer_id)
    if mine is not None:
        raise Conflict("you are already in a family group; leave it before joining another")
    _check_room(session, policy, group.group_id, inv.relation, pending_too=False, exclude=inv.invitation_id)
    proof_name = policy.relations[inv.relation].proof
    carried = proof_name != "none" and _carried_proof(
        session, policy, group.group_id, customer_id, inv.relation, seoul_date(now)
    )
    verified = proof_name == "none" or carried
    membership = FamilyMembership(
        group_id=group.group_id,
        customer_id=customer_id,
        relation=inv.relation,
        joined_at=now,
        proof_status="not_required" if proof_name == "none" else "verified" if carried else "missing",
        proof_verified_at=now if verified else None,
        invitation_id=inv.invitation_id,
    )
    inv.status, inv.responded_at = "accepted", now
    session.add(membership)
    _flush_or_conflict(session, "you are already in a family group; leave it before joining another")
    actor = f"customer:{customer_id}"
    event = _event(
        session,
        group,
        "joined",
        actor=actor,
        now=now,
        customer_id=customer_id,
        relation=inv.relation,
        invitation_id=inv.invitation_id,
        proof_carried_over=carried,
    )
    current = _current_ids(session, group.group_id)
    values = _relation_values(policy, inv.relation)
    others = [c for c in current if c != customer_id]
    _notify(session, policy, group, "joined", others, key=f"e{event.event_id}", members=len(current), **values)
    if not verified:
        proof = policy.proofs[proof_name]
        _notify(
            session,
            policy,
            group,
            "proof_needed",
            [customer_id],
            key=f"e{event.event_id}",
            proof_ko=proof.name_ko,
            proof_en=proof.name_en,
        )
    recheck(session, policy, group, now=now, actor=actor)
    return membership


def decline(session: Session, *, invitation_id: int, customer_id: int, now: datetime) -> FamilyInvitation:
    inv = _my_invitation(session, invitation_id, customer_id, now)
    inv.status, inv.responded_at = "declined", now
    group = _group_or_404(session, inv.group_id)
    _event(session, group, "declined", actor=f"customer:{customer_id}", now=now, invitation_id=inv.invitation_id)
    return inv


def cancel_invitation(
    session: Session, *, group_id: int, invitation_id: int, customer_id: int, now: datetime
) -> FamilyInvitation:
    group, _ = _writable(session, group_id, customer_id)
    _representative_only(group, customer_id)
    inv = session.get(FamilyInvitation, invitation_id, populate_existing=True)
    if inv is None or inv.group_id != group_id:
        raise NotFound("invitation not found")
    if inv.status != "pending":
        raise Conflict(f"this invitation is already {inv.status}")
    inv.status, inv.responded_at = "cancelled", now
    _event(
        session, group, "invitation_cancelled", actor=f"customer:{customer_id}", now=now, invitation_id=invitation_id
    )
    return inv


# --- leaving ----------------------------------------------------------------------------------------------------


def _end_membership(
    session: Session,
    policy: FamilyPolicy,
    group: FamilyGroup,
    membership: FamilyMembership,
    *,
    reason: str,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> None:
    membership.left_at, membership.leave_reason = now, reason
    session.flush()
    extra = {"note": note} if note else {}
    event = _event(
        session,
        group,
        reason,
        actor=actor,
        now=now,
        customer_id=membership.customer_id,
        relation=membership.relation,
        **extra,
    )
    remaining = _current_ids(session, group.group_id)
    values = _relation_values(policy, membership.relation)
    _notify(session, policy, group, "left", remaining, key=f"e{event.event_id}", members=len(remaining), **values)
    if reason == "removed":
        _notify(session, policy, group, "removed", [membership.customer_id], key=f"e{event.event_id}")
    recheck(session, policy, group, now=now, actor=actor)


def leave(
    session: Session,
    policy: FamilyPolicy,
    *,
    group_id: int,
    customer_id: int,
    new_representative_id: int | None,
    now: datetime,
) -> FamilyGroup:
    """The caller leaves. A representative with others still in the group names a successor first."""
    group, mine = _writable(session, group_id, customer_id)
    actor = f"customer:{customer_id}"
    if group.representative_id == customer_id:
        others = [m for m in members_of(session, group_id) if m.customer_id != customer_id]
        if others:
            if new_representative_id is None:
                raise Invalid(
                    "the representative must name a new representative (new_representative_customer_id) "
                    "before leaving, or dissolve the group"
                )
            successor = next((m for m in others if m.customer_id == new_representative_id), None)
            if successor is None:
                raise Invalid("the new representative must be another current member of the group")
            if successor.proof_verified_at is None:
                raise Invalid("the new representative's proof of relation must be verified first")
            group.representative_id = successor.customer_id
            _event(
                session,
                group,
                "representative_changed",
                actor=actor,
                now=now,
                customer_id=successor.customer_id,
                previous=customer_id,
            )
    elif new_representative_id is not None:
        raise Invalid("only the representative names a new representative")
    _end_membership(session, policy, group, mine, reason="left", actor=actor, now=now)
    return group


def remove_member(
    session: Session,
    policy: FamilyPolicy,
    *,
    group_id: int,
    member_id: int,
    actor_customer_id: int | None,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> FamilyGroup:
    """The representative (``actor_customer_id``) or the back office (None) removes a member."""
    if actor_customer_id is not None:
        group, _ = _writable(session, group_id, actor_customer_id)
        _representative_only(group, actor_customer_id)
    else:
        group = _lock(session, group_id)
        _open(group)
    if member_id == group.representative_id:
        raise Invalid("the representative cannot be removed; they leave (naming a successor) or dissolve the group")
    target = next((m for m in members_of(session, group_id) if m.customer_id == member_id), None)
    if target is None:
        raise NotFound("member not found in this group")
    _end_membership(session, policy, group, target, reason="removed", actor=actor, now=now, note=note)
    return group


def dissolve_by_representative(
    session: Session, policy: FamilyPolicy, *, group_id: int, customer_id: int, now: datetime
) -> FamilyGroup:
    group, _ = _writable(session, group_id, customer_id)
    _representative_only(group, customer_id)
    dissolve(session, policy, group, reason="by_representative", now=now, actor=f"customer:{customer_id}")
    return group


# --- proofs -----------------------------------------------------------------------------------------------------


def submit_document(
    session: Session,
    policy: FamilyPolicy,
    *,
    group_id: int,
    member_id: int,
    customer_id: int,
    kind: str,
    issued_on: date,
    same_address: bool | None,
    reference: str,
    now: datetime,
) -> FamilyDocument:
    """A member's proof of relation, uploaded by the member or by the representative on their behalf."""
    group, _ = _writable(session, group_id, customer_id)
    if customer_id not in (member_id, group.representative_id):
        raise Forbidden("only the member or the representative can send this member's documents")
    target = next((m for m in members_of(session, group_id) if m.customer_id == member_id), None)
    if target is None:
        raise NotFound("member not found in this group")
    if target.proof_status in ("not_required", "verified"):
        raise Conflict(f"this member's proof is already {target.proof_status.replace('_', ' ')}")
    if target.proof_status == "pending":
        raise Conflict("a document for this member is already being reviewed")
    if target.relation not in policy.relations:
        raise Conflict(f"the relation {target.relation!r} is no longer part of the bundle policy")
    needed = policy.relations[target.relation].proof
    if kind != needed:
        proof = policy.proofs.get(needed)
        label = f"{proof.name_en} ({needed})" if proof else needed
        raise Invalid(f"a {policy.relation_label(target.relation)[1]} proves the relation with a {label}")
    proof = policy.proofs[needed]
    today = seoul_date(now)
    if issued_on > today:
        raise Invalid("issued_on cannot be in the future")
    if issued_on < _months_before(today, proof.valid_months):
        raise Invalid(f"the {proof.name_en} must have been issued within the last {proof.valid_months} months")
    if proof.same_address and not same_address:
        raise Invalid(f"the {proof.name_en} must show the same address as the representative")
    doc = FamilyDocument(
        membership_id=target.membership_id,
        kind=kind,
        issued_on=issued_on,
        same_address=same_address,
        reference=reference,
        submitted_by=customer_id,
        submitted_at=now,
        status="pending",
    )
    target.proof_status = "pending"
    session.add(doc)
    _flush_or_conflict(session, "a document for this member is already being reviewed")
    _event(
        session,
        group,
        "proof_submitted",
        actor=f"customer:{customer_id}",
        now=now,
        customer_id=member_id,
        document_id=doc.document_id,
        document_kind=kind,
    )
    return doc


def review_document(
    session: Session,
    policy: FamilyPolicy,
    *,
    document_id: int,
    decision: str,
    note: str | None,
    reviewer: str,
    now: datetime,
) -> FamilyDocument:
    """The back office verifies or rejects a proof; the group is re-checked at once."""
    doc = session.get(FamilyDocument, document_id)
    if doc is None:
        raise NotFound("document not found")
    membership = session.get(FamilyMembership, doc.membership_id)
    assert membership is not None
    group = _lock(session, membership.group_id)
    session.refresh(doc)
    session.refresh(membership)
    if doc.status != "pending":
        raise Conflict(f"this document is already {doc.status}")
    if membership.left_at is not None:
        raise Conflict("the member has left the group; the document no longer needs a decision")
    if decision == "rejected" and not (note and note.strip()):
        raise Invalid("a rejection needs a note the customer can act on")
    doc.status, doc.reviewed_by, doc.reviewed_at, doc.note = decision, reviewer, now, note
    proof = policy.proofs.get(doc.kind)
    values = {"proof_ko": proof.name_ko if proof else doc.kind, "proof_en": proof.name_en if proof else doc.kind}
    if decision == "verified":
        membership.proof_status, membership.proof_verified_at = "verified", now
    else:
        membership.proof_status = "rejected"
    session.flush()
    event = _event(
        session,
        group,
        f"proof_{decision}",
        actor=reviewer,
        now=now,
        customer_id=membership.customer_id,
        document_id=doc.document_id,
    )
    if decision == "verified":
        _notify(session, policy, group, "proof_verified", [membership.customer_id], key=f"e{event.event_id}", **values)
        recheck(session, policy, group, now=now, actor=reviewer)
    else:
        _notify(
            session,
            policy,
            group,
            "proof_rejected",
            [membership.customer_id],
            key=f"e{event.event_id}",
            reason_ko=note or "",
            reason_en=note or "",
            **values,
        )
    return doc


def list_documents(
    session: Session, *, status: str | None, limit: int, offset: int
) -> list[tuple[FamilyDocument, FamilyMembership]]:
    q = select(FamilyDocument, FamilyMembership).join(
        FamilyMembership, FamilyMembership.membership_id == FamilyDocument.membership_id
    )
    if status is not None:
        q = q.where(FamilyDocument.status == status)
    if status == "pending":
        q = q.where(FamilyMembership.left_at.is_(None))
    q = q.order_by(FamilyDocument.submitted_at, FamilyDocument.document_id).limit(limit).offset(offset)
    return [(doc, membership) for doc, membership in session.execute(q)]


# --- what-if and pending items ------------------------------------------------------------------------------------


def what_if(
    session: Session,
    policy: FamilyPolicy,
    *,
    group_id: int,
    on: date,
    join_relation: str | None,
    join_birth_year: int | None,
    join_prior_years: float,
    leave_customer_id: int | None,
) -> rules.WhatIf:
    members = facts(session, group_id)
    join = None
    if join_relation is not None:
        if join_relation not in policy.relations:
            raise Invalid(f"unknown relation {join_relation!r}; allowed: {', '.join(policy.relations)}")
        if join_birth_year is None:
            raise Invalid("birth_year is needed to simulate a new member")
        join = MemberFacts(
            customer_id=-1,
            birth_year=join_birth_year,
            relation=join_relation,
            joined_on=on,
            prior_days_elsewhere=round(join_prior_years * rules.DAYS_PER_YEAR),
        )
    if leave_customer_id is not None and not any(
        m.customer_id == leave_customer_id and m.in_group_on(on) for m in members
    ):
        raise Invalid("the member to simulate leaving is not in the group on that date")
    if join is None and leave_customer_id is None:
        raise Invalid("say who would join (relation and birth_year) or who would leave (leave_customer_id)")
    return rules.what_if(policy, members, on, join=join, leave=leave_customer_id)


@dataclass
class PendingItem:
    code: str
    message_ko: str
    message_en: str
    action: str | None = None  # what the family page offers: upload_proof, remind, none
    due: datetime | None = None


@dataclass
class MemberPending:
    customer_id: int | None
    invitation_id: int | None
    display_name: str
    relation: str
    relation_ko: str
    items: list[PendingItem] = field(default_factory=list)


def pending_items(
    session: Session, policy: FamilyPolicy, *, group: FamilyGroup, now: datetime
) -> tuple[list[PendingItem], list[MemberPending]]:
    """What is still to do, per member, so the representative can help (F4): one short line each."""
    today = seoul_date(now)
    group_items: list[PendingItem] = []
    benefit = group_benefits(session, policy, group.group_id, today)
    if group.status == "grace" and group.grace_deadline is not None:
        deadline = seoul_date(group.grace_deadline)
        for p in benefit.eligibility.problems:
            group_items.append(
                PendingItem(
                    p.code,
                    f"{_fmt_day_ko(deadline)}까지 해결해 주세요: {p.message_ko}",
                    f"Fix by {deadline.isoformat()}: {p.message_en}",
                    "invite" if p.code in ("TOO_FEW_MEMBERS", "NO_OLDER_MEMBER") else None,
                    group.grace_deadline,
                )
            )
    elif group.status == "forming":
        for p in benefit.eligibility.problems:
            group_items.append(
                PendingItem(
                    p.code,
                    f"가족결합을 시작하려면: {p.message_ko}",
                    f"To start the bundle: {p.message_en}",
                    "invite" if p.code in ("TOO_FEW_MEMBERS", "NO_OLDER_MEMBER") else None,
                    group.forming_deadline,
                )
            )
    members = members_of(session, group.group_id)
    names = _names(session, [m.customer_id for m in members])
    out: list[MemberPending] = []
    for m in members:
        ko, _ = policy.relation_label(m.relation)
        entry = MemberPending(m.customer_id, None, mask_name(names.get(m.customer_id)), m.relation, ko)
        needed = policy.relations[m.relation].proof if m.relation in policy.relations else "none"
        proof = policy.proofs.get(needed)
        proof_ko = proof.name_ko if proof else ""
        proof_en = proof.name_en if proof else ""
        if m.proof_status == "missing":
            entry.items.append(
                PendingItem(
                    "PROOF_MISSING",
                    f"{particle_obj(proof_ko)} 올려 주세요. 대표자가 대신 올릴 수 있습니다.",
                    f"Upload a {proof_en}; the representative can do it for them.",
                    "upload_proof",
                )
            )
        elif m.proof_status == "pending":
            entry.items.append(
                PendingItem(
                    "PROOF_UNDER_REVIEW",
                    "보내 주신 서류를 확인하고 있습니다. 기다려 주세요.",
                    "The document is being checked.",
                )
            )
        elif m.proof_status == "rejected":
            note = session.execute(
                select(FamilyDocument.note)
                .where(FamilyDocument.membership_id == m.membership_id, FamilyDocument.status == "rejected")
                .order_by(FamilyDocument.document_id.desc())
                .limit(1)
            ).scalar_one_or_none()
            entry.items.append(
                PendingItem(
                    "PROOF_REJECTED",
                    f"서류를 다시 올려 주세요. 사유: {note or '-'}",
                    f"Upload the document again. Reason: {note or '-'}",
                    "upload_proof",
                )
            )
        out.append(entry)
    invitations = session.execute(
        select(FamilyInvitation)
        .where(
            FamilyInvitation.group_id == group.group_id,
            FamilyInvitation.status == "pending",
            FamilyInvitation.expires_at > now,
        )
        .order_by(FamilyInvitation.invitation_id)
    ).scalars()
    for inv in invitations:
        ko, _ = policy.relation_label(inv.relation)
        until = seoul_date(inv.expires_at)
        out.append(
            MemberPending(
                None,
                inv.invitation_id,
                inv.invitee_display,
                inv.relation,
                ko,
                [
                    PendingItem(
                        "INVITATION_PENDING",
                        f"초대를 수락하시기를 기다리고 있습니다({_fmt_day_ko(until)}까지).",
                        f"Waiting for the invitation to be accepted (until {until.isoformat()}).",
                        "remind",
                        inv.expires_at,
                    )
                ],
            )
        )
    return group_items, out


def particle_obj(word: str) -> str:
    return rules.particle(word, "을", "를") if word else "서류를"


def _names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return _pairs(
        session.execute(
            select(CustomerContact.customer_id, CustomerContact.name).where(CustomerContact.customer_id.in_(ids))
        )
    )


def display_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    return {cid: mask_name(name) for cid, name in _names(session, ids).items()}


def history(session: Session, group_id: int, *, limit: int = 200) -> list[FamilyEvent]:
    return list(
        session.execute(
            select(FamilyEvent)
            .where(FamilyEvent.group_id == group_id)
            .order_by(FamilyEvent.at, FamilyEvent.event_id)
            .limit(limit)
        ).scalars()
    )


def pending_invitations(session: Session, group_id: int, now: datetime) -> list[FamilyInvitation]:
    return list(
        session.execute(
            select(FamilyInvitation)
            .where(
                FamilyInvitation.group_id == group_id,
                FamilyInvitation.status == "pending",
                FamilyInvitation.expires_at > now,
            )
            .order_by(FamilyInvitation.invitation_id)
        ).scalars()
    )


# --- the daily job ------------------------------------------------------------------------------------------------


@dataclass
class DailySummary:
    invitations_expired: int = 0
    groups_checked: int = 0
    entered_grace: int = 0
    qualified: int = 0  # started, or qualified again after grace
    dissolved: int = 0
    notices: int = 0
    errors: int = 0


def check_group(session: Session, policy: FamilyPolicy, group_id: int, *, now: datetime) -> tuple[str, str, int]:
    """Re-check one group now; dissolve it when its grace or forming period is over. (before, after, notices)."""
    group = _lock(session, group_id)
    before = group.status
    if before == "dissolved":
        return before, before, 0
    result = recheck(session, policy, group, now=now, actor=SYSTEM)
    notices = result.notices
    if group.status == "grace" and group.grace_deadline is not None and group.grace_deadline <= now:
        notices += dissolve(session, policy, group, reason="grace_expired", now=now, actor=SYSTEM)
    elif group.status == "forming" and group.forming_deadline <= now:
        notices += dissolve(session, policy, group, reason="never_qualified", now=now, actor=SYSTEM)
    return before, group.status, notices


def run_daily(engine: Engine, policy: FamilyPolicy, *, now: datetime) -> DailySummary:
    """Expire invitations, then re-check every open group, each in its own transaction (so one bad group
    cannot hold up the others). Safe to run twice: a second run finds nothing left to do."""
    summary = DailySummary()
    with session_scope(engine) as session:
        expired = session.execute(
            update(FamilyInvitation)
            .where(FamilyInvitation.status == "pending", FamilyInvitation.expires_at <= now)
            .values(status="expired")
            .execution_options(synchronize_session=False)
        )
        summary.invitations_expired = int(getattr(expired, "rowcount", 0) or 0)
        ids = list(
            session.execute(
                select(FamilyGroup.group_id).where(FamilyGroup.status.in_(OPEN_STATUSES)).order_by(FamilyGroup.group_id)
            ).scalars()
        )
    for group_id in ids:
        try:
            with session_scope(engine) as session:
                before, after, notices = check_group(session, policy, group_id, now=now)
        except Exception:
            summary.errors += 1
            log.exception("family group re-check failed", extra={"family.group_id": group_id})
            continue
        summary.groups_checked += 1
        summary.notices += notices
        if after == "dissolved":
            summary.dissolved += 1
        elif after == "grace" and before != "grace":
            summary.entered_grace += 1
        elif after == "active" and before in ("grace", "forming"):
            summary.qualified += 1
    return summary
