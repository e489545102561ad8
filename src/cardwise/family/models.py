"""Family bundle tables: groups, memberships (history kept), invitations, proofs and the event log.

Nothing here is ever deleted: a member who leaves gets ``left_at``, a dissolved group keeps its rows,
so a benefit on any past date can be recomputed from the stored history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from cardwise.db import models as _core_tables  # noqa: F401  (the tables these reference)
from cardwise.db.base import Base
from cardwise.db.types import UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer, "sqlite")

# Group status: forming (not yet qualified), active, grace (stopped qualifying; deadline set), dissolved.
GROUP_STATUSES = ("forming", "active", "grace", "dissolved")
# Proof of relation of one membership.
PROOF_STATUSES = ("not_required", "missing", "pending", "verified", "rejected")
INVITATION_STATUSES = ("pending", "accepted", "declined", "expired", "cancelled")
DOCUMENT_STATUSES = ("pending", "verified", "rejected")


class FamilyGroup(Base):
    __tablename__ = "family_groups"
    group_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))
    representative_id: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="forming", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    forming_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    qualified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first time it qualified
    grace_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grace_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dissolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dissolved_reason: Mapped[str | None] = mapped_column(String(32))
    benefit_signature: Mapped[str | None] = mapped_column(String(64))  # the tier last told to the members
    # Bumped by every change: the UPDATE that bumps it is also the lock that serializes writers of a group.
    version: Mapped[int] = mapped_column(Integer, default=0)


class FamilyMembership(Base):
    __tablename__ = "family_memberships"
    __table_args__ = (
        # A customer is in one group at a time: at most one membership without left_at, on both back ends.
        Index(
            "ux_family_memberships_current_customer",
            "customer_id",
            unique=True,
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
    )
    membership_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("family_groups.group_id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"), index=True)  # with history
    relation: Mapped[str] = mapped_column(String(24))  # to the representative; "self" for the representative
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leave_reason: Mapped[str | None] = mapped_column(String(24))  # left, removed, dissolved
    proof_status: Mapped[str] = mapped_column(String(12))
    proof_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("family_invitations.invitation_id"))


class FamilyInvitation(Base):
    __tablename__ = "family_invitations"
    __table_args__ = (
        # Inviting the same person again while an invitation is pending returns that invitation.
        Index(
            "ux_family_invitations_pending",
            "group_id",
            "invitee_key",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    invitation_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("family_groups.group_id"), index=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"))
    # None when the phone or number matched no single customer: nobody can accept it and it expires,
    # so the representative learns nothing about whether a number belongs to a customer.
    invitee_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    invitee_key: Mapped[str] = mapped_column(String(64))  # keyed hash of the phone or customer number
    invitee_display: Mapped[str] = mapped_column(String(32))  # masked phone or the customer number
    via: Mapped[str] = mapped_column(String(12))  # phone, customer_id
    relation: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FamilyDocument(Base):
    """A proof of relation for one membership, with the back office's verification."""

    __tablename__ = "family_documents"
    __table_args__ = (
        Index(
            "ux_family_documents_one_pending",
            "membership_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    document_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("family_memberships.membership_id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[date] = mapped_column(Date)
    same_address: Mapped[bool | None] = mapped_column(Boolean)
    reference: Mapped[str] = mapped_column(String(128))  # where the scan is stored (document store key)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))


class FamilyEvent(Base):
    """The group's history: every change, who made it, when."""

    __tablename__ = "family_events"
    event_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("family_groups.group_id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.customer_id"))
    actor: Mapped[str] = mapped_column(String(64))  # customer:<id>, agent:<id>, system
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
