"""Sign in and out, the language switch, the start page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm

from cardwise.deps import SessionDep, SettingsDep
from cardwise.security import auth_views
from cardwise.security.principal import principal_from_cookie
from cardwise.web.deps import PageUser, page_lang
from cardwise.web.i18n import LANG_COOKIE, N_, as_lang
from cardwise.web.nav import home_for
from cardwise.web.templating import COOKIE_MAX_AGE, TEXT_SIZE_COOKIE, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_lang)])


def safe_next(value: str | None, default: str = "/home") -> str:
    """Only a path on this site (no scheme, no host, no //evil.example) is followed after a redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


@router.get("/home")
def home(request: Request, principal: PageUser) -> Response:
    target = home_for(principal)
    if target is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "home.html", principal=principal, title=N_("Home"))


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    try:
        principal = await principal_from_cookie(request, request.app.state.settings)
    except HTTPException:
        principal = None  # an ended session: sign in again
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", title=N_("Sign in"), next=safe_next(next), error=None, username="")


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/home",
) -> Response:
    """The auth layer's session sign-in (same checks, lockout and cookie); on failure the form again."""
    target = safe_next(next)
    if not username.strip() or not password:
        return render(
            request,
            "login.html",
            status_code=422,
            title=N_("Sign in"),
            next=target,
            username=username,
            error=N_("Enter your username and password."),
        )
    holder = Response()
    form = OAuth2PasswordRequestForm(username=username, password=password, scope="")
    try:
        auth_views.start_session(request, holder, form, session, settings)
    except HTTPException as exc:
        failed = N_("Wrong username or password, or the account is locked for a while.")
        refused = N_("Sign-in from another site was refused.")
        return render(
            request,
            "login.html",
            status_code=exc.status_code,
            title=N_("Sign in"),
            next=target,
            username=username,
            error=refused if exc.status_code == 403 else failed,
        )
    out = RedirectResponse(target, status_code=303)
    for value in holder.headers.getlist("set-cookie"):
        out.headers.append("set-cookie", value)
    return out


@router.post("/logout")
def logout(request: Request, principal: PageUser, session: SessionDep, settings: SettingsDep) -> Response:
    ended = auth_views.logout(principal, session, settings)
    out = RedirectResponse("/login", status_code=303)
    for value in ended.headers.getlist("set-cookie"):
        out.headers.append("set-cookie", value)
    return out


@router.get("/lang/{code}")
def switch_language(code: str, next: str | None = None) -> Response:
    lang = as_lang(code)
    out = RedirectResponse(safe_next(next, "/home"), status_code=303)
    if lang is not None:
        out.set_cookie(LANG_COOKIE, lang, max_age=COOKIE_MAX_AGE, path="/", samesite="lax")
    return out


@router.get("/display/{size}")
def switch_text_size(size: str, next: str | None = None) -> Response:
    """Larger type for every page (the family pages always use it)."""
    out = RedirectResponse(safe_next(next, "/home"), status_code=303)
    if size in ("large", "normal"):
        out.set_cookie(TEXT_SIZE_COOKIE, size, max_age=COOKIE_MAX_AGE, path="/", samesite="lax")
    return out
