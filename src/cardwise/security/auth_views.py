"""Sign-in over HTTP: OAuth2 password flow for API clients, a session cookie for the pages.

- ``POST /v1/auth/token`` (form: username, password) → access token + refresh token;
- ``POST /v1/auth/refresh`` (JSON: refresh_token) → a new pair; the old refresh token is spent;
- ``POST /v1/auth/session`` (form) → sets the page session cookie, answers the CSRF token;
- ``POST /v1/auth/logout`` → ends the caller's sign-in (and clears the cookie);
- ``GET /v1/auth/me`` → who the caller is, their permissions and lake tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from cardwise.db.types import utcnow
from cardwise.deps import SessionDep, SettingsDep
from cardwise.security import auth
from cardwise.security.permissions import allowed_lake_tables, permissions_of
from cardwise.security.principal import CurrentPrincipal, client_ip
from cardwise.security.users import User

router = APIRouter(prefix="/auth", tags=["auth"])

LoginForm = Annotated[OAuth2PasswordRequestForm, Depends()]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str | None = Field(default=None, description="Absent for service users.")


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=20, max_length=200)


class SessionOut(BaseModel):
    csrf_token: str = Field(description="Send it as X-CSRF-Token (or a csrf_token form field) on unsafe methods.")
    expires_at: datetime
    username: str
    roles: list[str]


class MeOut(BaseModel):
    user_id: int | None
    username: str | None
    customer_id: int | None
    roles: list[str]
    permissions: list[str]
    lake_tables: list[str]
    via: str
    csrf_token: str | None = None


def _login_failed() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail=f"{auth.LOGIN_FAILED_KO} ({auth.LOGIN_FAILED_EN})",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _login(request: Request, form: OAuth2PasswordRequestForm, session: SessionDep, settings: SettingsDep) -> User:
    if len(form.username) > 200 or len(form.password) > 256:
        raise _login_failed()
    try:
        user = auth.authenticate(
            session,
            settings,
            username=form.username,
            password=form.password,
            client_ip=client_ip(request),
            now=utcnow(),
        )
    except auth.LoginFailed:
        session.commit()  # the failure count and the attempt are kept, the answer stays the same
        raise _login_failed() from None
    return user


@router.post("/token", response_model=TokenOut, response_model_exclude_none=True)
def token(request: Request, form: LoginForm, session: SessionDep, settings: SettingsDep) -> TokenOut:
    """OAuth2 password grant. Every failure has the same answer (unknown user, wrong password, locked)."""
    user = _login(request, form, session, settings)
    pair = auth.issue_tokens(session, settings, user, now=utcnow())
    session.commit()
    return TokenOut(access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token)


@router.post("/refresh", response_model=TokenOut, response_model_exclude_none=True)
def refresh(request: Request, body: RefreshIn, session: SessionDep, settings: SettingsDep) -> TokenOut:
    """Spend a refresh token for a new pair. A token used twice ends its whole sign-in."""
    try:
        pair = auth.refresh(
            session, settings, refresh_token=body.refresh_token, client_ip=client_ip(request), now=utcnow()
        )
    except auth.TokenInvalid as exc:
        session.commit()  # a detected reuse has revoked the sign-in: keep that
        raise HTTPException(
            status_code=401, detail=f"refresh refused: {exc.reason}", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    session.commit()
    return TokenOut(access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token)


def _same_origin(request: Request) -> bool:
    """Login CSRF: a browser sends Origin on a cross-site form post; it must name this host."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


@router.post("/session", response_model=SessionOut)
def start_session(
    request: Request, response: Response, form: LoginForm, session: SessionDep, settings: SettingsDep
) -> SessionOut:
    """Sign in for the pages: sets the ``cardwise_session`` cookie (Secure, HttpOnly, SameSite=Lax)."""
    if not _same_origin(request):
        raise HTTPException(status_code=403, detail="cross-site sign-in refused")
    user = _login(request, form, session, settings)
    now = utcnow()
    started = auth.start_session(session, settings, user, kind="cookie", now=now)
    cookie = auth.mint_token(
        settings,
        typ="session",
        user_id=user.user_id,
        username=user.username,
        roles=user.roles,
        customer_id=user.customer_id,
        session_id=started.session_id,
        now=now,
    )
    session.commit()
    response.set_cookie(
        auth.SESSION_COOKIE,
        cookie,
        max_age=settings.session_hours * 3600,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return SessionOut(
        csrf_token=auth.csrf_token_for(settings, started.session_id),
        expires_at=started.expires_at,
        username=user.username,
        roles=sorted(user.roles),
    )


@router.post("/logout", status_code=204)
def logout(principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep) -> Response:
    """End the caller's sign-in: its refresh tokens stop working, the page session ends. An access token
    already handed out stays valid until it expires (at most ``access_token_minutes``)."""
    if principal.session_id is not None:
        auth.end_session(session, session_id=principal.session_id, now=utcnow())
        session.commit()
    out = Response(status_code=204)
    if principal.via == "cookie":
        out.delete_cookie(auth.SESSION_COOKIE, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax")
    return out


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal, settings: SettingsDep) -> MeOut:
    """The caller: roles, permissions, lake tables (and the CSRF token of a page session)."""
    return MeOut(
        user_id=principal.user_id,
        username=principal.actor_id,
        customer_id=principal.customer_id,
        roles=sorted(principal.roles),
        permissions=sorted(permissions_of(principal)),
        lake_tables=sorted(allowed_lake_tables(principal)),
        via=principal.via,
        csrf_token=auth.csrf_token_for(settings, principal.session_id)
        if principal.via == "cookie" and principal.session_id
        else None,
    )
