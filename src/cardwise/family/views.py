"""Family bundle HTTP API (customers) and its back office (agents and admins).

The caller comes from :data:`cardwise.security.principal.CurrentPrincipal`, checked against
``security/permissions.yaml`` (``family.member`` for customers, ``backoffice.read``/``backoffice.write`` for the
back office). A customer who is not in a group gets 404 for it, exactly as for a group that does not exist;
a member doing the representative's job gets 403.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.core.errors import Invalid, NotFound
from cardwise.db.models import Customer
from cardwise.db.types import utcnow
from cardwise.deps import SessionDep, SettingsDep
from cardwise.family import service
from cardwise.family.models import FamilyDocument, FamilyGroup, FamilyInvitation, FamilyMembership
from cardwise.family.policy import FamilyPolicy, PolicyError, cached_policy
from cardwise.family.schemas import (
    BackOfficeGroupOut,
    BenefitsOut,
    DocumentIn,
    DocumentOut,
    EventOut,
    GroupIn,
    GroupOut,
    InvitationIn,
    InvitationOut,
    LeaveIn,
    MemberOut,
    MemberPendingOut,
    MembershipHistoryOut,
    MyInvitationOut,
    PendingItemOut,
    PendingOut,
    ProblemOut,
    RemoveIn,
    ReviewIn,
    WhatIfIn,
    WhatIfOut,
)
from cardwise.logging import get_logger
from cardwise.security.permissions import allow
from cardwise.security.principal import Principal, require_customer

log = get_logger("cardwise.family")

router = APIRouter(tags=["family bundle"])
backoffice = APIRouter(prefix="/backoffice", tags=["back office"])

# Identifiers in paths: positive and within a 64-bit column, so an absurd number is a 422, not a database error.
Id = Annotated[int, Path(gt=0, le=2**63 - 1)]

STATUS_KO = {"forming": "가족을 모으는 중", "active": "혜택 받는 중", "grace": "조건 확인 필요", "dissolved": "해지됨"}
_MIN_DAY, _MAX_DAY = date(2000, 1, 1), date(2100, 12, 31)


def policy_for(request: Request, settings: SettingsDep) -> FamilyPolicy:
    try:
        return cached_policy(settings.family_policy_path)
    except PolicyError as exc:  # the file changed under a running server: say so in the log, not to callers
        log.error("family policy unusable", extra={"family.policy_error": str(exc)})
        raise HTTPException(status_code=503, detail="the family bundle is unavailable (policy file invalid)") from None


def _secret(settings: SettingsDep) -> bytes:
    return service.derive_invite_secret(settings.pan_hmac_key)


def _day(value: date | None) -> date:
    day = value or service.seoul_date(utcnow())
    if not _MIN_DAY <= day <= _MAX_DAY:
        raise Invalid(f"date must lie between {_MIN_DAY} and {_MAX_DAY}")
    return day


# --- building responses -----------------------------------------------------------------------------------------


def _invitation_out(policy: FamilyPolicy, inv: FamilyInvitation) -> InvitationOut:
    return InvitationOut(
        invitation_id=inv.invitation_id,
        group_id=inv.group_id,
        relation=inv.relation,
        relation_ko=policy.relation_label(inv.relation)[0] if inv.relation in policy.relations else inv.relation,
        invitee=inv.invitee_display,
        via=inv.via,
        status=inv.status,
        created_at=inv.created_at,
        expires_at=inv.expires_at,
    )


def _group_out(session: Session, policy: FamilyPolicy, group: FamilyGroup, viewer: int | None) -> GroupOut:
    now = utcnow()
    today = service.seoul_date(now)
    benefit = service.group_benefits(session, policy, group.group_id, today)
    counted = set(benefit.eligibility.counted)
    members = service.members_of(session, group.group_id)
    names = service.display_names(session, [m.customer_id for m in members])
    births = {
        cid: year
        for cid, year in session.execute(
            select(Customer.customer_id, Customer.birth_year).where(
                Customer.customer_id.in_([m.customer_id for m in members])
            )
        )
    }
    is_rep = viewer is None or viewer == group.representative_id
    return GroupOut(
        group_id=group.group_id,
        name=group.name,
        status=group.status,
        status_ko=STATUS_KO.get(group.status, group.status),
        representative_customer_id=group.representative_id,
        created_at=group.created_at,
        forming_deadline=group.forming_deadline if group.status == "forming" else None,
        qualified_at=group.qualified_at,
        grace_deadline=group.grace_deadline,
        dissolved_at=group.dissolved_at,
        dissolved_reason=group.dissolved_reason,
        eligible=benefit.eligibility.eligible,
        problems=[ProblemOut.of(p) for p in benefit.eligibility.problems],
        members=[
            MemberOut(
                customer_id=m.customer_id,
                display_name=names.get(m.customer_id, service.mask_name(None)),
                relation=m.relation,
                relation_ko=policy.relation_label(m.relation)[0] if m.relation in (*policy.relations, "self") else "",
                is_representative=m.customer_id == group.representative_id,
                joined_at=m.joined_at,
                proof_status=m.proof_status,
                counted=m.customer_id in counted,
                older_member=today.year - int(births[m.customer_id]) >= policy.age.threshold,
            )
            for m in members
        ],
        invitations=[_invitation_out(policy, i) for i in service.pending_invitations(session, group.group_id, now)]
        if is_rep and group.status != "dissolved"
        else [],
    )


def _document_out(doc: FamilyDocument, membership: FamilyMembership) -> DocumentOut:
    return DocumentOut(
        document_id=doc.document_id,
        group_id=membership.group_id,
        customer_id=membership.customer_id,
        relation=membership.relation,
        kind=doc.kind,
        issued_on=doc.issued_on,
        same_address=doc.same_address,
        reference=doc.reference,
        status=doc.status,
        submitted_at=doc.submitted_at,
        reviewed_by=doc.reviewed_by,
        reviewed_at=doc.reviewed_at,
        note=doc.note,
    )


def _event_out(e: object) -> EventOut:
    return EventOut.model_validate(e, from_attributes=True)


Policy = Annotated[FamilyPolicy, Depends(policy_for)]
# The caller, checked against permissions.yaml; groups and invitations are then scoped to them by the service.
Member = Annotated[Principal, allow("family.member")]
BackOfficeReader = Annotated[Principal, allow("backoffice.read")]
BackOfficeWriter = Annotated[Principal, allow("backoffice.write")]


# --- customers ----------------------------------------------------------------------------------------------------


@router.get("/family-policy")
def get_policy(policy: Policy) -> dict[str, object]:
    """The bundle's rules in force: age threshold, sizes, relations and proofs, tiers, texts. Public on
    purpose (no personal data): the product page shows it before anyone signs in."""
    return policy.model_dump(mode="json")


@router.post("/family-groups", response_model=GroupOut, status_code=201)
def create_group(body: GroupIn, principal: Member, session: SessionDep, policy: Policy) -> GroupOut:
    """Start a family group; the caller becomes its representative."""
    me = require_customer(principal)
    group = service.create_group(session, policy, customer_id=me, name=body.name, now=utcnow())
    session.commit()
    return _group_out(session, policy, group, me)


@router.get("/family-groups/mine", response_model=GroupOut)
def my_group(principal: Member, session: SessionDep, policy: Policy) -> GroupOut:
    """The caller's current group (404 when they are in none)."""
    me = require_customer(principal)
    mine = service.current_membership(session, me)
    if mine is None:
        raise NotFound("you are not in a family group")
    group = session.get(FamilyGroup, mine.group_id)
    assert group is not None
    return _group_out(session, policy, group, me)


@router.get("/family-groups/{group_id}", response_model=GroupOut)
def get_group(group_id: Id, principal: Member, session: SessionDep, policy: Policy) -> GroupOut:
    me = require_customer(principal)
    group, _ = service.readable_group(session, group_id, me)
    return _group_out(session, policy, group, me)


@router.post("/family-groups/{group_id}/invitations", response_model=InvitationOut, status_code=201)
def invite(
    group_id: Id,
    body: InvitationIn,
    response: Response,
    principal: Member,
    session: SessionDep,
    settings: SettingsDep,
    policy: Policy,
) -> InvitationOut:
    """The representative invites by phone or customer number. The answer never tells whether the number
    belongs to a customer; inviting the same person again returns the pending invitation (200)."""
    me = require_customer(principal)
    invitee = (
        service.Invitee("phone", body.phone)
        if body.phone is not None
        else service.Invitee("customer_id", str(body.customer_id))
    )
    inv, created = service.invite(
        session,
        policy,
        group_id=group_id,
        customer_id=me,
        relation=body.relation,
        invitee=invitee,
        secret=_secret(settings),
        now=utcnow(),
    )
    session.commit()
    if not created:
        response.status_code = 200
    return _invitation_out(policy, inv)


@router.delete("/family-groups/{group_id}/invitations/{invitation_id}", response_model=InvitationOut)
def cancel_invitation(
    group_id: Id, invitation_id: Id, principal: Member, session: SessionDep, policy: Policy
) -> InvitationOut:
    me = require_customer(principal)
    inv = service.cancel_invitation(
        session, group_id=group_id, invitation_id=invitation_id, customer_id=me, now=utcnow()
    )
    session.commit()
    return _invitation_out(policy, inv)


@router.get("/family-invitations", response_model=list[MyInvitationOut])
def my_invitations(principal: Member, session: SessionDep, policy: Policy) -> list[MyInvitationOut]:
    """Invitations waiting for the caller's answer."""
    me = require_customer(principal)
    rows = service.my_invitations(session, me, utcnow())
    names = service.display_names(session, [g.representative_id for _, g in rows])
    return [
        MyInvitationOut(
            invitation_id=inv.invitation_id,
            group_id=group.group_id,
            group_name=group.name,
            representative_name=names.get(group.representative_id, service.mask_name(None)),
            relation=inv.relation,
            relation_ko=policy.relation_label(inv.relation)[0] if inv.relation in policy.relations else inv.relation,
            expires_at=inv.expires_at,
        )
        for inv, group in rows
    ]


@router.post("/family-invitations/{invitation_id}/accept", response_model=GroupOut)
def accept(invitation_id: Id, principal: Member, session: SessionDep, policy: Policy) -> GroupOut:
    """Join the group, in one's own account. The proof of relation is then uploaded (by the member or the
    representative) and verified by the back office before the member counts."""
    me = require_customer(principal)
    membership = service.accept(session, policy, invitation_id=invitation_id, customer_id=me, now=utcnow())
    session.commit()
    group = session.get(FamilyGroup, membership.group_id)
    assert group is not None
    return _group_out(session, policy, group, me)


@router.post("/family-invitations/{invitation_id}/decline", response_model=MyInvitationOut)
def decline(invitation_id: Id, principal: Member, session: SessionDep, policy: Policy) -> MyInvitationOut:
    me = require_customer(principal)
    inv = service.decline(session, invitation_id=invitation_id, customer_id=me, now=utcnow())
    session.commit()
    group = session.get(FamilyGroup, inv.group_id)
    assert group is not None
    names = service.display_names(session, [group.representative_id])
    return MyInvitationOut(
        invitation_id=inv.invitation_id,
        group_id=group.group_id,
        group_name=group.name,
        representative_name=names.get(group.representative_id, service.mask_name(None)),
        relation=inv.relation,
        relation_ko=policy.relation_label(inv.relation)[0] if inv.relation in policy.relations else inv.relation,
        expires_at=inv.expires_at,
    )


@router.post("/family-groups/{group_id}/leave", response_model=GroupOut)
def leave(
    group_id: Id, principal: Member, session: SessionDep, policy: Policy, body: LeaveIn | None = None
) -> GroupOut:
    """Leave the group. The group is re-checked at once: one that no longer qualifies enters its grace period."""
    me = require_customer(principal)
    group = service.leave(
        session,
        policy,
        group_id=group_id,
        customer_id=me,
        new_representative_id=body.new_representative_customer_id if body else None,
        now=utcnow(),
    )
    session.commit()
    return _group_out(session, policy, group, me)


@router.delete("/family-groups/{group_id}/members/{customer_id}", response_model=GroupOut)
def remove_member(group_id: Id, customer_id: Id, principal: Member, session: SessionDep, policy: Policy) -> GroupOut:
    """The representative removes a member."""
    me = require_customer(principal)
    group = service.remove_member(
        session,
        policy,
        group_id=group_id,
        member_id=customer_id,
        actor_customer_id=me,
        actor=principal.audit_name,
        now=utcnow(),
    )
    session.commit()
    return _group_out(session, policy, group, me)


@router.post("/family-groups/{group_id}/dissolve", response_model=GroupOut)
def dissolve(group_id: Id, principal: Member, session: SessionDep, policy: Policy) -> GroupOut:
    """The representative ends the group for everyone (history is kept)."""
    me = require_customer(principal)
    group = service.dissolve_by_representative(session, policy, group_id=group_id, customer_id=me, now=utcnow())
    session.commit()
    return _group_out(session, policy, group, me)


@router.post("/family-groups/{group_id}/members/{customer_id}/documents", response_model=DocumentOut, status_code=201)
def submit_document(
    group_id: Id,
    customer_id: Id,
    body: DocumentIn,
    principal: Member,
    session: SessionDep,
    policy: Policy,
) -> DocumentOut:
    """A member's proof of relation, sent by the member or by the representative for them."""
    me = require_customer(principal)
    doc = service.submit_document(
        session,
        policy,
        group_id=group_id,
        member_id=customer_id,
        customer_id=me,
        kind=body.kind,
        issued_on=body.issued_on,
        same_address=body.same_address,
        reference=body.reference,
        now=utcnow(),
    )
    session.commit()
    membership = session.get(FamilyMembership, doc.membership_id)
    assert membership is not None
    return _document_out(doc, membership)


@router.get("/family-groups/{group_id}/benefits", response_model=BenefitsOut)
def benefits(
    group_id: Id,
    principal: Member,
    session: SessionDep,
    policy: Policy,
    on: Annotated[date | None, Query(alias="date", description="Any day (default: today in Korea).")] = None,
) -> BenefitsOut:
    """The group's and each member's benefit on a date, with the rules that produced them."""
    me = require_customer(principal)
    service.readable_group(session, group_id, me)
    day = _day(on)
    return BenefitsOut.of(group_id, policy.version, service.group_benefits(session, policy, group_id, day))


@router.post("/family-groups/{group_id}/what-if", response_model=WhatIfOut)
def what_if(group_id: Id, body: WhatIfIn, principal: Member, session: SessionDep, policy: Policy) -> WhatIfOut:
    """ "If your daughter joins, your savings bonus becomes …": the benefit now and after a join or a leave."""
    me = require_customer(principal)
    group, mine = service.readable_group(session, group_id, me)
    if mine.left_at is not None:
        raise NotFound("family group not found")
    day = _day(body.on)
    result = service.what_if(
        session,
        policy,
        group_id=group_id,
        on=day,
        join_relation=body.join.relation if body.join else None,
        join_birth_year=body.join.birth_year if body.join else None,
        join_prior_years=body.join.prior_tenure_years if body.join else 0.0,
        leave_customer_id=body.leave_customer_id,
    )
    return WhatIfOut(
        message_ko=result.message_ko,
        message_en=result.message_en,
        before=BenefitsOut.of(group.group_id, policy.version, result.before),
        after=BenefitsOut.of(group.group_id, policy.version, result.after),
    )


@router.get("/family-groups/{group_id}/pending", response_model=PendingOut)
def pending(group_id: Id, principal: Member, session: SessionDep, policy: Policy) -> PendingOut:
    """For the representative: what each member still has to do (proofs, invitations), one short line each,
    so a family member can help the older members (F4)."""
    me = require_customer(principal)
    group, mine = service.readable_group(session, group_id, me)
    if mine.left_at is not None:
        raise NotFound("family group not found")
    if group.representative_id != me:
        raise service.Forbidden("only the representative sees every member's pending items")
    group_items, members = service.pending_items(session, policy, group=group, now=utcnow())

    def item(i: service.PendingItem) -> PendingItemOut:
        return PendingItemOut(code=i.code, message_ko=i.message_ko, message_en=i.message_en, action=i.action, due=i.due)

    return PendingOut(
        group_id=group.group_id,
        status=group.status,
        status_ko=STATUS_KO.get(group.status, group.status),
        group_items=[item(i) for i in group_items],
        members=[
            MemberPendingOut(
                customer_id=m.customer_id,
                invitation_id=m.invitation_id,
                display_name=m.display_name,
                relation=m.relation,
                relation_ko=m.relation_ko,
                items=[item(i) for i in m.items],
            )
            for m in members
        ],
    )


@router.get("/family-groups/{group_id}/history", response_model=list[EventOut])
def group_history(group_id: Id, principal: Member, session: SessionDep) -> list[EventOut]:
    """Everything that happened to the group, oldest first."""
    me = require_customer(principal)
    service.readable_group(session, group_id, me)
    return [_event_out(e) for e in service.history(session, group_id)]


# --- back office ----------------------------------------------------------------------------------------------------


@backoffice.get("/family-documents", response_model=list[DocumentOut])
def list_documents(
    principal: BackOfficeReader,
    session: SessionDep,
    status: Annotated[str | None, Query(pattern="^(pending|verified|rejected)$")] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,  # a larger offset overflowed the database: 500
) -> list[DocumentOut]:
    """Proofs of relation to review (pending ones of current members by default), oldest first."""
    return [_document_out(d, m) for d, m in service.list_documents(session, status=status, limit=limit, offset=offset)]


@backoffice.post("/family-documents/{document_id}/review", response_model=DocumentOut)
def review_document(
    document_id: Id, body: ReviewIn, principal: BackOfficeWriter, session: SessionDep, policy: Policy
) -> DocumentOut:
    """Verify or reject a proof; the member is told, and the group re-checked at once."""
    doc = service.review_document(
        session,
        policy,
        document_id=document_id,
        decision=body.decision,
        note=body.note,
        reviewer=principal.audit_name,
        now=utcnow(),
    )
    session.commit()
    membership = session.get(FamilyMembership, doc.membership_id)
    assert membership is not None
    return _document_out(doc, membership)


@backoffice.get("/family-groups/{group_id}", response_model=BackOfficeGroupOut)
def backoffice_group(
    group_id: Id, principal: BackOfficeReader, session: SessionDep, policy: Policy
) -> BackOfficeGroupOut:
    """A group with its whole history: memberships (past ones too), documents and events."""
    group = session.get(FamilyGroup, group_id)
    if group is None:
        raise NotFound("family group not found")
    memberships = service.members_of(session, group_id, current_only=False)
    by_id = {m.membership_id: m for m in memberships}
    docs = session.execute(
        select(FamilyDocument).where(FamilyDocument.membership_id.in_(list(by_id))).order_by(FamilyDocument.document_id)
    ).scalars()
    return BackOfficeGroupOut(
        group=_group_out(session, policy, group, None),
        memberships=[MembershipHistoryOut.model_validate(m, from_attributes=True) for m in memberships],
        documents=[_document_out(d, by_id[d.membership_id]) for d in docs],
        events=[_event_out(e) for e in service.history(session, group_id, limit=1000)],
    )


@backoffice.post("/family-groups/{group_id}/members/{customer_id}/remove", response_model=GroupOut)
def backoffice_remove(
    group_id: Id,
    customer_id: Id,
    body: RemoveIn,
    principal: BackOfficeWriter,
    session: SessionDep,
    policy: Policy,
) -> GroupOut:
    """Customer service removes a member (a false relation, a request by phone …); the reason is kept."""
    group = service.remove_member(
        session,
        policy,
        group_id=group_id,
        member_id=customer_id,
        actor_customer_id=None,
        actor=principal.audit_name,
        now=utcnow(),
        note=body.reason,
    )
    session.commit()
    return _group_out(session, policy, group, None)
