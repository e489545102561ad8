"""Identities: users with roles, their sessions and refresh tokens, and every login attempt.

A customer's user is linked to ``customers.customer_id``; staff (agents, administrators, analysts,
auditors) and service users (the payment ``switch``, the ``ingest`` collector) have none. Passwords
are kept as argon2id hashes only; refresh tokens as SHA-256 digests only (they are 256-bit random
values, so a slow hash adds nothing).

Services here take an explicit session and flush; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from cardwise.core.errors import Conflict, Invalid, NotFound
from cardwise.db.base import Base
from cardwise.db.models import Customer
from cardwise.db.types import UTCDateTime, utcnow
from cardwise.privacy.masking import mask_pii

_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, 64 MiB, p=4): ~0.15 s here
_DUMMY_HASH: str | None = None

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
MIN_PASSWORD = 10


class User(Base):
    __tablename__ = "users"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    # A customer's login disappears with the customer (erasure), never points at someone else.
    customer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customers.customer_id", ondelete="CASCADE"), unique=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthSession(Base):
    """One sign-in: a refresh-token family (API) or a page session (cookie). Revoking it ends both."""

    __tablename__ = "auth_sessions"
    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.user_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "api" or "cookie"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_auth_sessions_user", "user_id"),)


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), ForeignKey("auth_sessions.session_id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # rotated: a second use is a theft signal

    __table_args__ = (Index("ix_refresh_tokens_session", "session_id"),)


class LoginAttempt(Base):
    """Every attempt, known user or not (the security team's record; the lock itself is on ``users``)."""

    __tablename__ = "login_attempts"
    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.user_id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_ip: Mapped[str | None] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(16))  # ok, bad_password, unknown_user, locked, disabled

    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)


# --- passwords -----------------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def burn_dummy_verify(password: str) -> None:
    """Spend the time of one real verification, so an unknown username answers as slowly as a known one."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("dummy-password-for-timing")
    verify_password(_DUMMY_HASH, password)


# --- roles ---------------------------------------------------------------------------------------------------------

CUSTOMER_ROLE = "customer"


@dataclass(frozen=True, slots=True)
class UserOut:
    user_id: int
    username: str
    roles: tuple[str, ...]
    customer_id: int | None
    active: bool
    locked_until: datetime | None
    failed_count: int
    last_login_at: datetime | None


def _out(u: User) -> UserOut:
    return UserOut(
        user_id=u.user_id,
        username=u.username,
        roles=tuple(u.roles),
        customer_id=u.customer_id,
        active=u.active,
        locked_until=u.locked_until,
        failed_count=u.failed_count,
        last_login_at=u.last_login_at,
    )


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_password_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise Invalid("a password has at most 256 characters")
    if normalize_username(username) in password.lower():
        raise Invalid("a password must not contain the username")


def _validate_roles(roles: list[str], customer_id: int | None) -> list[str]:
    from cardwise.security.permissions import load_permissions

    known = load_permissions().roles
    clean = sorted({r.strip().lower() for r in roles if r.strip()})
    if not clean:
        raise Invalid("a user needs at least one role")
    unknown = [r for r in clean if r not in known]
    if unknown:
        raise Invalid(f"unknown role(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if (CUSTOMER_ROLE in clean) != (customer_id is not None):
        raise Invalid("the customer role goes with a customer id, and a customer id with the customer role")
    if CUSTOMER_ROLE in clean and len(clean) > 1:
        raise Invalid("a customer's user has no staff role")
    return clean


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    customer_id: int | None = None,
    now: datetime | None = None,
) -> UserOut:
    name = normalize_username(username)
    if not USERNAME.match(name):
        raise Invalid("a username has 3-64 characters: lowercase letters, digits and . _ @ -")
    if mask_pii(name) != name:  # usernames are logged: no card, resident or phone numbers, no e-mail addresses
        raise Invalid("a username must not be a card, resident registration or phone number or an e-mail address")
    clean = _validate_roles(roles, customer_id)
    check_password_strength(password, name)
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found")
    if session.scalar(select(User.user_id).where(User.username == name)) is not None:
        raise Conflict(f"user {name} exists")
    if customer_id is not None and session.scalar(select(User.user_id).where(User.customer_id == customer_id)):
        raise Conflict(f"customer {customer_id} already has a user")
    at = now or utcnow()
    user = User(
        username=name,
        password_hash=hash_password(password),
        roles=clean,
        customer_id=customer_id,
        active=True,
        failed_count=0,
        password_changed_at=at,
        created_at=at,
    )
    session.add(user)
    session.flush()
    return _out(user)


def get_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def _require(session: Session, username: str) -> User:
    user = get_by_username(session, username)
    if user is None:
        raise NotFound(f"user {normalize_username(username)} not found")
    return user


def list_users(session: Session, *, role: str | None = None) -> list[UserOut]:
    users = session.scalars(select(User).order_by(User.user_id)).all()
    return [_out(u) for u in users if role is None or role in u.roles]


def set_password(session: Session, *, username: str, password: str, now: datetime | None = None) -> UserOut:
    """New password; every session of the user ends (a changed password must lock out a thief)."""
    user = _require(session, username)
    check_password_strength(password, user.username)
    at = now or utcnow()
    user.password_hash = hash_password(password)
    user.password_changed_at = at
    user.failed_count = 0
    user.locked_until = None
    revoke_sessions(session, user_id=user.user_id, reason="password_changed", now=at)
    session.flush()
    return _out(user)


def unlock(session: Session, *, username: str) -> UserOut:
    user = _require(session, username)
    user.failed_count = 0
    user.locked_until = None
    session.flush()
    return _out(user)


def set_active(session: Session, *, username: str, active: bool, now: datetime | None = None) -> UserOut:
    user = _require(session, username)
    user.active = active
    if not active:
        revoke_sessions(session, user_id=user.user_id, reason="disabled", now=now or utcnow())
    session.flush()
    return _out(user)


def revoke_sessions(session: Session, *, user_id: int, reason: str, now: datetime) -> int:
    rows = session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    ).all()
    for s in rows:
        s.revoked_at, s.revoked_reason = now, reason
    return len(rows)


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)
