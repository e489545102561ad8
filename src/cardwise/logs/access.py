"""Service-usage logs (L1): one ECS line per HTTP request, and cookie/session lines.

Pure ASGI, outermost, so refusals by the firewall are logged with their status too. The request line
carries ``http.request.method``, ``url.path``, ``http.response.status_code``, ``event.duration`` (ns),
``source.ip`` (as the firewall resolved it), ``user_agent.original`` and, when the caller is known,
``user.name`` and ``user.id`` (the customer id: erasure and retention purge lines by it). The query string is
not logged (it may carry search terms about a person); neither are headers, bodies or cookie values.

Cookies (the seed's "cookie" logs): when a response sets or clears a cookie, one more line with
``event.action`` ``cookie_set`` / ``cookie_cleared`` and the cookie's name (never its value). A session
module can log explicit session lines with :func:`session_event`.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from cardwise.logging import get_logger
from cardwise.security.waf import ASGIApp, Message, Receive, Scope, Send

log = get_logger("cardwise.access")
session_log = get_logger("cardwise.session")


def user_fields(principal: Any = None, account: str | None = None) -> dict[str, str]:
    """``user.id`` / ``user.name`` from the request's principal (set by the auth layer on
    ``request.state.principal``) or, before authentication, the firewall's account key."""
    fields: dict[str, str] = {}
    customer_id = getattr(principal, "customer_id", None)
    if customer_id is not None:
        fields["user.id"] = str(customer_id)
    name = getattr(principal, "audit_name", None) or account
    if name:
        fields["user.name"] = str(name)[:128]
        if "user.id" not in fields and str(name).startswith("customer:") and str(name)[9:].isdigit():
            fields["user.id"] = str(name)[9:]
    return fields


def session_event(
    action: str,
    *,
    client_ip: str | None = None,
    principal: Any = None,
    account: str | None = None,
    session_ref: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An ECS line for a session or cookie event (``session_created``, ``session_ended``, ``cookie_set`` …).

    ``session_ref`` must be a reference (e.g. a hash prefix of the session id), never the cookie value."""
    fields: dict[str, Any] = {
        "event.kind": "event",
        "event.category": "session",
        "event.action": action,
        "event.dataset": "cardwise.session",
        **user_fields(principal, account),
    }
    if client_ip:
        fields["source.ip"] = client_ip
    if session_ref:
        fields["cardwise.session_ref"] = session_ref[:64]
    if detail:
        fields["cardwise.detail"] = detail
    session_log.info("session: %s", action, extra=fields)


def _cookie(header: bytes) -> tuple[str, bool]:
    """The name of a Set-Cookie header's cookie and whether the header clears it."""
    text = header.decode("latin-1")
    name = text.split("=", 1)[0].strip()[:64]
    attrs = text.lower()
    cleared = (
        "max-age=0" in attrs.replace(" ", "")
        or "expires=thu, 01 jan 1970" in attrs
        or text.split(";")[0].endswith(("=", '=""'))
    )
    return name, cleared


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter_ns()
        status = 500
        cookies: list[tuple[str, bool]] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for k, v in message.get("headers") or ():
                    if k.lower() == b"set-cookie":
                        cookies.append(_cookie(v))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._log(scope, status, time.perf_counter_ns() - start, cookies)

    @staticmethod
    def _log(scope: Scope, status: int, duration_ns: int, cookies: list[tuple[str, bool]]) -> None:
        state: MutableMapping[str, Any] = scope.get("state") or {}
        ip = state.get("client_ip") or (scope.get("client") or ("unknown",))[0]
        users = user_fields(state.get("principal"), state.get("account"))
        path = scope.get("path", "")
        fields: dict[str, Any] = {
            "event.kind": "event",
            "event.category": "web",
            "event.action": "http_request",
            "event.dataset": "cardwise.access",
            "event.outcome": "success" if status < 400 else "failure",
            "event.duration": duration_ns,
            "http.request.method": scope.get("method", ""),
            "url.path": path[:500],
            "http.response.status_code": status,
            "source.ip": str(ip),
            **users,
        }
        for k, v in scope.get("headers") or ():
            if k == b"user-agent":
                fields["user_agent.original"] = v.decode("latin-1")[:300]
                break
        log.info("%s %s %d", fields["http.request.method"], fields["url.path"], status, extra=fields)
        for name, cleared in cookies:
            session_event(
                "cookie_cleared" if cleared else "cookie_set",
                client_ip=str(ip),
                detail={"cookie_name": name},
                principal=state.get("principal"),
                account=state.get("account"),
            )
