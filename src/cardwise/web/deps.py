"""Who may see a page. The identity is the auth layer's page session (cookie, CSRF on unsafe methods);
a visitor without a usable session is sent to the login page instead of getting a 401."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from starlette.datastructures import FormData
from starlette.requests import Request

from cardwise.security.permissions import has_permission
from cardwise.security.principal import LoginRequired, Principal, principal_from_cookie
from cardwise.web.i18n import Lang, request_lang, set_lang


def _next_path(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def page_lang(request: Request) -> Lang:
    """Sets the request's language before the view runs (code that translates, e.g. chart titles or
    category names, sees it; the sync view inherits the context). Every page router depends on it."""
    lang = request_lang(request)
    set_lang(lang)
    return lang


async def page_principal(request: Request) -> Principal:
    """The signed-in person; no session, or an ended or expired one: 303 to ``/login?next=…``. A POST
    without the session's CSRF token is a 403 (the error page)."""
    await page_lang(request)
    try:
        principal = await principal_from_cookie(request, request.app.state.settings)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise LoginRequired(_next_path(request) if request.method == "GET" else "/home") from None
        raise
    if principal is None:
        raise LoginRequired(_next_path(request) if request.method == "GET" else "/home")
    return principal


PageUser = Annotated[Principal, Depends(page_principal)]


class PageForbidden(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=403, detail="forbidden")


async def customer_principal(principal: PageUser) -> Principal:
    if principal.customer_id is None or "customer" not in principal.roles:
        raise PageForbidden()
    return principal


CustomerUser = Annotated[Principal, Depends(customer_principal)]


def page_permission(*permissions: str) -> Any:
    """A dependency: the signed-in person if they hold one of ``permissions``; the 403 page otherwise."""

    async def dependency(principal: PageUser) -> Principal:
        if not any(has_permission(principal, p) for p in permissions):
            raise PageForbidden()
        return principal

    return Depends(dependency)


async def _form(request: Request) -> FormData:
    return await request.form()  # parsed once; the CSRF check has usually read it already


PageForm = Annotated[FormData, Depends(_form)]
