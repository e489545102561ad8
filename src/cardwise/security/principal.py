"""The caller of a request, as one small value every view can depend on.

The identity comes from a signed token (docs/security.md):

- ``Authorization: Bearer <access token>``: a JWT from ``POST /v1/auth/token`` (API clients, the payment
  switch, the pages' scripts);
- or the ``cardwise_session`` cookie set by ``POST /v1/auth/session`` (the pages); an unsafe method
  authenticated by cookie must also carry the session's CSRF token (``X-CSRF-Token`` header or a
  ``csrf_token`` form field), else 403.

No token, or a bad, expired or forged one: 401 with ``WWW-Authenticate: Bearer``. The interim gateway
headers (``X-Customer-Id``, ``X-Roles``) are no longer read. Views only use :data:`CurrentPrincipal`,
the ``require_*`` helpers, the role aliases below and the permission dependencies in
:mod:`cardwise.security.permissions`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from cardwise.config import Settings
from cardwise.db.types import utcnow
from cardwise.security.events import emit

BACK_OFFICE_ROLES = frozenset({"agent", "admin"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Only for the OpenAPI page's "Authorize" button; the token itself is read below.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    customer_id: int | None
    roles: frozenset[str] = field(default_factory=frozenset)
    actor_id: str | None = None  # the staff or service user's name, recorded in audit trails
    user_id: int | None = None
    session_id: str | None = None  # the sign-in (refresh-token family or page session)
    via: Literal["bearer", "cookie"] = "bearer"

    @property
    def is_back_office(self) -> bool:
        return bool(self.roles & BACK_OFFICE_ROLES)

    @property
    def audit_name(self) -> str:
        """How the caller is named in audit trails and event logs."""
        if self.is_back_office:
            return f"agent:{self.actor_id or 'unknown'}"
        if self.customer_id is not None:
            return f"customer:{self.customer_id}"
        return f"user:{self.actor_id}" if self.actor_id else "unknown"


def client_ip(request: Request) -> str | None:
    """The firewall's view of the caller's address (it honours trusted proxies' X-Forwarded-For)."""
    forwarded = getattr(request.state, "client_ip", None)
    if forwarded:
        return str(forwarded)
    return request.client.host if request.client else None


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


def _principal(claims: object, via: Literal["bearer", "cookie"]) -> Principal:
    from cardwise.security.auth import Claims

    assert isinstance(claims, Claims)
    return Principal(
        customer_id=claims.customer_id,
        roles=claims.roles,
        actor_id=None if claims.customer_id is not None else claims.username,
        user_id=claims.user_id,
        session_id=claims.session_id,
        via=via,
    )


def _session_alive(request: Request, session_id: str, user_id: int) -> bool:
    from sqlalchemy.orm import Session

    from cardwise.deps import get_engine
    from cardwise.security.auth import session_alive

    with Session(get_engine(request)) as session:
        return session_alive(session, session_id=session_id, user_id=user_id, now=utcnow())


async def _csrf_presented(request: Request) -> str | None:
    from cardwise.security.auth import CSRF_FIELD, CSRF_HEADER

    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)  # Starlette caches the parsed form for the view
        return value if isinstance(value, str) else None
    return None


async def principal_from_cookie(request: Request, settings: Settings, *, enforce_csrf: bool = True) -> Principal | None:
    """The page session's caller, None without a cookie; 401 for a bad or ended session, 403 for a
    missing or wrong CSRF token on an unsafe method."""
    from cardwise.security.auth import SESSION_COOKIE, TokenInvalid, csrf_valid, decode_token

    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        claims = decode_token(settings, cookie, typ="session")
    except TokenInvalid as exc:
        emit("token_invalid", client_ip=client_ip(request), detail={"reason": exc.reason, "token": "session"})
        raise _unauthorized("the session is invalid or expired; sign in again", "invalid_token") from None
    if claims.session_id is None or not await run_in_threadpool(
        _session_alive, request, claims.session_id, claims.user_id
    ):
        emit("token_invalid", client_ip=client_ip(request), user=claims.username, detail={"reason": "session ended"})
        raise _unauthorized("the session has ended; sign in again", "invalid_token")
    principal = _principal(claims, "cookie")
    if (
        enforce_csrf
        and request.method in UNSAFE_METHODS
        and not csrf_valid(settings, claims.session_id, await _csrf_presented(request))
    ):
        emit(
            "permission_denied",
            client_ip=client_ip(request),
            user=principal.audit_name,
            detail={"reason": "csrf", "method": request.method, "path": request.url.path},
        )
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong (보안 토큰이 맞지 않습니다)")
    return principal


async def current_principal(request: Request, token: Annotated[str | None, Depends(bearer_scheme)]) -> Principal:
    """The caller from the bearer token, else from the session cookie; 401 when there is neither."""
    from cardwise.security.auth import TokenInvalid, decode_token

    settings: Settings = request.app.state.settings
    if token:
        try:
            claims = decode_token(settings, token, typ="access")
        except TokenInvalid as exc:
            emit("token_invalid", client_ip=client_ip(request), detail={"reason": exc.reason, "token": "access"})
            raise _unauthorized("the access token is invalid or expired", "invalid_token") from None
        principal: Principal | None = _principal(claims, "bearer")
    else:
        principal = await principal_from_cookie(request, settings)
    if principal is None:
        raise _unauthorized("authentication required (로그인이 필요합니다)")
    request.state.principal = principal  # the access log names the user (user.id, user.name)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_customer(principal: Principal) -> int:
    """The calling customer's id; 403 for a caller who is not a customer (staff use the back office)."""
    if principal.customer_id is None:
        raise HTTPException(status_code=403, detail="this endpoint is for signed-in customers")
    return principal.customer_id


def require_back_office(principal: Principal) -> Principal:
    if not principal.is_back_office:
        raise HTTPException(status_code=403, detail="back-office role (agent or admin) required")
    return principal


def _back_office(principal: CurrentPrincipal) -> Principal:
    return require_back_office(principal)


BackOfficePrincipal = Annotated[Principal, Depends(_back_office)]


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller if they hold at least one of ``roles`` (admin always does); 403 otherwise.
    Prefer permissions (:func:`cardwise.security.permissions.allow`); roles are for coarse page areas."""
    wanted = frozenset(roles) | {"admin"}

    async def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        if not principal.roles & wanted:
            emit(
                "permission_denied",
                client_ip=client_ip(request),
                user=principal.audit_name,
                detail={"roles": sorted(roles), "method": request.method, "path": request.url.path},
            )
            raise HTTPException(status_code=403, detail=f"role {' or '.join(roles)} required (권한이 없습니다)")
        return principal

    return dependency


AdminPrincipal = Annotated[Principal, Depends(require_roles("admin"))]
AnalystPrincipal = Annotated[Principal, Depends(require_roles("analyst"))]
AuditorPrincipal = Annotated[Principal, Depends(require_roles("auditor"))]


# --- pages ---------------------------------------------------------------------------------------------------------


class LoginRequired(HTTPException):
    """Raised by :func:`current_page_principal`; the page layer may turn it into its login page."""

    def __init__(self, next_path: str) -> None:
        from urllib.parse import quote

        super().__init__(status_code=303, detail="sign in", headers={"Location": f"/login?next={quote(next_path)}"})


async def current_page_principal(request: Request) -> Principal:
    """For server-rendered pages: the caller from the session cookie (CSRF enforced on unsafe methods);
    a visitor without a session is sent to ``/login?next=…`` (303)."""
    principal = await principal_from_cookie(request, request.app.state.settings)
    if principal is None:
        raise LoginRequired(request.url.path)
    return principal


PagePrincipal = Annotated[Principal, Depends(current_page_principal)]


def csrf_token(request: Request, principal: Principal) -> str:
    """The CSRF token to put in a page's forms (hidden ``csrf_token`` field) or scripts' ``X-CSRF-Token``."""
    from cardwise.security.auth import csrf_token_for

    if principal.session_id is None:
        raise ValueError("no session")
    return csrf_token_for(request.app.state.settings, principal.session_id)


def csrf_input(request: Request, principal: Principal) -> str:
    """``<input type="hidden" name="csrf_token" value="…">`` for a form (a Markup, safe in Jinja2)."""
    from markupsafe import Markup, escape

    from cardwise.security.auth import CSRF_FIELD

    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request, principal))}">')
