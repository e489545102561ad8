"""Authentication: password login with lockout, JWT access tokens, rotating refresh tokens, page sessions
(signed cookie) and their CSRF tokens. docs/security.md describes the whole scheme.

- Access tokens: HS256 JWTs (``typ=access``), ``settings.access_token_minutes`` long, verified without a
  database read (the authorization hot path stays a pure CPU check). Roles are re-read at each refresh.
- Refresh tokens: 256-bit random values, stored as SHA-256 digests, single use; a second use of a rotated
  token is treated as theft and ends the whole sign-in (the session and every token of it).
- Page sessions: an HS256 JWT (``typ=session``) in a ``Secure; HttpOnly; SameSite=Lax`` cookie, checked
  against ``auth_sessions`` on every request so logout and disabling a user take effect at once. Unsafe
  methods that authenticate by cookie need the session's CSRF token (synchronizer token derived from the
  session id with the key, so nothing more is stored).
- Lockout: ``lockout_threshold`` failures in a row lock the account for ``lockout_base_seconds``, doubling
  with each further failure up to ``lockout_max_seconds``. While locked even the right password fails,
  with the same answer as a wrong one; unknown users spend a dummy hash, so answers do not tell which
  usernames exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.privacy.masking import mask_pii
from cardwise.security.events import emit
from cardwise.security.users import (
    USERNAME,
    AuthSession,
    LoginAttempt,
    RefreshToken,
    User,
    burn_dummy_verify,
    get_by_username,
    hash_password,
    needs_rehash,
    normalize_username,
    verify_password,
)

ISSUER = "cardwise"
AUDIENCE = "cardwise"
ALGORITHM = "HS256"
SESSION_COOKIE = "cardwise_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LEEWAY_SECONDS = 5
TokenType = Literal["access", "session"]
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

LOGIN_FAILED_KO = "아이디 또는 비밀번호가 맞지 않거나 계정이 잠시 잠겼습니다"
LOGIN_FAILED_EN = "wrong username or password, or the account is locked for a while"


class LoginFailed(Exception):
    """One answer for every failure: wrong password, unknown user, locked, disabled."""


class TokenInvalid(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- keys and JWTs -----------------------------------------------------------------------------------------------


def key_id(secret: str) -> str:
    """A short public fingerprint of a key, put in the token header so rotation can pick the key."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def _keys(settings: Settings) -> dict[str, str]:
    keys = {key_id(s): s for s in settings.jwt_previous_secrets}
    keys[key_id(settings.jwt_secret)] = settings.jwt_secret
    return keys


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: int
    username: str
    roles: frozenset[str]
    customer_id: int | None
    session_id: str | None
    expires_at: datetime


def mint_token(
    settings: Settings,
    *,
    typ: TokenType,
    user_id: int,
    username: str,
    roles: frozenset[str] | list[str] | tuple[str, ...],
    customer_id: int | None,
    session_id: str | None,
    now: datetime,
    ttl: timedelta | None = None,
) -> str:
    if ttl is None:
        ttl = (
            timedelta(minutes=settings.access_token_minutes)
            if typ == "access"
            else timedelta(hours=settings.session_hours)
        )
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "typ": typ,
        "name": username,
        "roles": sorted(roles),
        "cid": customer_id,
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM, headers={"kid": key_id(settings.jwt_secret)})


# Verified tokens, so a client reusing its token (the payment switch sends thousands a second) costs a dict
# lookup instead of a full verification (~0.1 ms here). Keyed with the key set, so dropping a key drops its
# tokens; the expiry is still checked on every hit.
_VERIFIED: dict[tuple[str, str, str], Claims] = {}
_VERIFIED_MAX = 10_000


def decode_token(settings: Settings, token: str, *, typ: TokenType) -> Claims:
    """The token's claims if it is ours, of this type, unexpired and well formed; TokenInvalid otherwise."""
    if len(token) > 4096:
        raise TokenInvalid("too long")
    cache_key = (token, typ, "|".join(sorted(_keys(settings))))
    hit = _VERIFIED.get(cache_key)
    if hit is not None:
        if hit.expires_at.timestamp() + LEEWAY_SECONDS > time.time():
            return hit
        _VERIFIED.pop(cache_key, None)
        raise TokenInvalid("expired")
    claims = _verify(settings, token, typ)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()  # crude but bounded; a miss only costs one verification
    _VERIFIED[cache_key] = claims
    return claims


def _verify(settings: Settings, token: str, typ: TokenType) -> Claims:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenInvalid("malformed") from None
    key = _keys(settings).get(str(header.get("kid", "")))
    if key is None:
        raise TokenInvalid("unknown key")
    try:
        # algorithms pinned: "none" and any other algorithm are refused by PyJWT before the signature.
        data = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "typ", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenInvalid("expired") from None
    except jwt.PyJWTError as exc:
        raise TokenInvalid(type(exc).__name__) from None
    if data.get("typ") != typ:
        raise TokenInvalid("wrong type")
    sub, roles, cid, sid, name = data.get("sub"), data.get("roles"), data.get("cid"), data.get("sid"), data.get("name")
    if not isinstance(sub, str) or not sub.isdigit() or len(sub) > 18:
        raise TokenInvalid("bad subject")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) and _ROLE.match(r) for r in roles):
        raise TokenInvalid("bad roles")
    if cid is not None and (not isinstance(cid, int) or isinstance(cid, bool) or cid <= 0):
        raise TokenInvalid("bad customer id")
    if sid is not None and (not isinstance(sid, str) or len(sid) > 32):
        raise TokenInvalid("bad session id")
    if not isinstance(name, str) or len(name) > 64:
        raise TokenInvalid("bad name")
    return Claims(
        user_id=int(sub),
        username=name,
        roles=frozenset(roles),
        customer_id=cid,
        session_id=sid,
        expires_at=datetime.fromtimestamp(int(data["exp"]), tz=UTC),
    )


# --- login and lockout -------------------------------------------------------------------------------------------


def lock_seconds(settings: Settings, failed_count: int) -> int:
    """How long the account is locked after ``failed_count`` failures in a row (0: not locked)."""
    if failed_count < settings.lockout_threshold:
        return 0
    doublings = min(failed_count - settings.lockout_threshold, 30)  # bounded: no huge powers
    return int(min(settings.lockout_base_seconds * 2**doublings, settings.lockout_max_seconds))


def _is_service(user: User) -> bool:
    from cardwise.security.permissions import load_permissions

    return load_permissions().is_service(frozenset(user.roles))


def _attempt(
    session: Session, username: str, user: User | None, ip: str | None, ok: bool, why: str, now: datetime
) -> None:
    session.add(
        LoginAttempt(
            username=username[:64],
            user_id=user.user_id if user else None,
            at=now,
            client_ip=(ip or None) and ip[:45],
            succeeded=ok,
            reason=why,
        )
    )


def authenticate(
    session: Session, settings: Settings, *, username: str, password: str, client_ip: str | None, now: datetime
) -> User:
    """The user, if the password is right and the account usable. Otherwise records the failure (flushes;
    the caller commits it) and raises LoginFailed."""
    name = normalize_username(username)
    user = get_by_username(session, name) if USERNAME.match(name) else None
    # What was typed may be a card or resident number (a user confusing the fields): never stored or logged.
    shown = user.username if user is not None else mask_pii(name)[:64]

    def fail(why: str) -> LoginFailed:
        _attempt(session, shown, user, client_ip, False, why, now)
        session.flush()
        emit("login_failed", client_ip=client_ip, user=shown, detail={"reason": why})
        return LoginFailed(why)

    if user is None:
        burn_dummy_verify(password)
        raise fail("unknown_user")
    if not user.active:
        burn_dummy_verify(password)
        raise fail("disabled")
    if user.locked_until is not None and user.locked_until > now:
        burn_dummy_verify(password)  # the right password does not open a locked account either
        raise fail("locked")
    if not verify_password(user.password_hash, password):
        # One atomic increment: concurrent guesses cannot each read the same count and skip the lock.
        count = session.execute(
            update(User)
            .where(User.user_id == user.user_id)
            .values(failed_count=User.failed_count + 1)
            .returning(User.failed_count)
        ).scalar_one()
        user.failed_count = count
        seconds = 0 if _is_service(user) else lock_seconds(settings, count)
        if seconds:
            user.locked_until = now + timedelta(seconds=seconds)
            emit(
                "account_locked",
                client_ip=client_ip,
                user=name,
                detail={"failed_count": count, "locked_seconds": seconds},
            )
        raise fail("bad_password")
    user.failed_count = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _attempt(session, name, user, client_ip, True, "ok", now)
    session.flush()
    emit("login_succeeded", outcome="success", client_ip=client_ip, user=name)
    return user


# --- token pairs and refresh ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str | None
    session_id: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session: Session, auth: AuthSession, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(session_id=auth.session_id, token_hash=_digest(token), issued_at=now, expires_at=auth.expires_at)
    )
    return token


def _access(settings: Settings, user: User, session_id: str, now: datetime) -> str:
    return mint_token(
        settings,
        typ="access",
        user_id=user.user_id,
        username=user.username,
        roles=user.roles,
        customer_id=user.customer_id,
        session_id=session_id,
        now=now,
    )


def start_session(
    session: Session, settings: Settings, user: User, *, kind: Literal["api", "cookie"], now: datetime
) -> AuthSession:
    lifetime = timedelta(days=settings.refresh_token_days) if kind == "api" else timedelta(hours=settings.session_hours)
    auth = AuthSession(
        session_id=secrets.token_hex(16), user_id=user.user_id, kind=kind, created_at=now, expires_at=now + lifetime
    )
    session.add(auth)
    session.flush()
    return auth


def issue_tokens(session: Session, settings: Settings, user: User, *, now: datetime) -> TokenPair:
    """A new sign-in: an access token, and a refresh token unless the user is a service (which simply
    authenticates again, as in OAuth2's client-credentials grant)."""
    auth = start_session(session, settings, user, kind="api", now=now)
    refresh = None if _is_service(user) else _new_refresh(session, auth, now)
    session.flush()
    return TokenPair(
        _access(settings, user, auth.session_id, now), settings.access_token_minutes * 60, refresh, auth.session_id
    )


def refresh(
    session: Session, settings: Settings, *, refresh_token: str, client_ip: str | None, now: datetime
) -> TokenPair:
    """Rotate: the presented token is spent, a new pair comes back. A spent token presented again ends the
    sign-in (the thief and the owner both have to log in again). Flushes; the caller commits, also on error."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token)))
    if row is None:
        raise _invalid("unknown refresh token", client_ip, None)
    auth = session.get(AuthSession, row.session_id)
    user = session.get(User, auth.user_id) if auth is not None else None
    if auth is None or user is None:
        raise _invalid("unknown refresh token", client_ip, None)
    if auth.revoked_at is not None:
        raise _invalid("session ended", client_ip, user.username)
    # Spent atomically: of two concurrent refreshes with the same token, one wins and the other is a reuse.
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_id == row.token_id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .returning(RefreshToken.token_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if spent is None:
        auth.revoked_at, auth.revoked_reason = now, "refresh_reuse"
        session.flush()
        raise _invalid("refresh token reused; the sign-in is ended", client_ip, user.username)
    if row.expires_at <= now or auth.expires_at <= now:
        raise _invalid("refresh token expired", client_ip, user.username)
    if not user.active:
        raise _invalid("user disabled", client_ip, user.username)
    new = _new_refresh(session, auth, now)
    session.flush()
    return TokenPair(
        _access(settings, user, auth.session_id, now), settings.access_token_minutes * 60, new, auth.session_id
    )


def _invalid(reason: str, client_ip: str | None, username: str | None) -> TokenInvalid:
    emit("token_invalid", client_ip=client_ip, user=username, detail={"reason": reason, "token": "refresh"})
    return TokenInvalid(reason)


def end_session(session: Session, *, session_id: str, now: datetime, reason: str = "logout") -> bool:
    auth = session.get(AuthSession, session_id)
    if auth is None or auth.revoked_at is not None:
        return False
    auth.revoked_at, auth.revoked_reason = now, reason
    session.flush()
    return True


def session_alive(session: Session, *, session_id: str, user_id: int, now: datetime) -> bool:
    """A page session is usable: not ended, not expired, its user active."""
    row = session.execute(
        select(AuthSession.revoked_at, AuthSession.expires_at, User.active)
        .join(User, User.user_id == AuthSession.user_id)
        .where(AuthSession.session_id == session_id, AuthSession.user_id == user_id)
    ).one_or_none()
    return row is not None and row[0] is None and row[1] > now and bool(row[2])


# --- CSRF ----------------------------------------------------------------------------------------------------------


def csrf_token_for(settings: Settings, session_id: str) -> str:
    """The session's synchronizer token: derived, not stored; unguessable without the key."""
    mac = hmac.new(settings.jwt_secret.encode(), f"csrf|{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_valid(settings: Settings, session_id: str, presented: str | None) -> bool:
    if not presented or len(presented) > 100:
        return False
    return hmac.compare_digest(presented.encode(), csrf_token_for(settings, session_id).encode())
