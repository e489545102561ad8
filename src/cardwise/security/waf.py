"""The firewall in front of every route (P1): rate limits, body size, injection and script patterns.

A pure ASGI middleware (no BaseHTTPMiddleware: no extra task, no response wrapping), so the authorization
hot path pays a few tens of microseconds (bench/waf.py). In order, for each HTTP request:

1. the client address: the TCP peer, or the right-most X-Forwarded-For entry that is not a trusted proxy;
2. the account: ``customer:<cid>`` or ``user:<sub>`` of a Bearer JWT whose signature verifies with
   ``settings.jwt_secret`` (or a previous secret), so a forged token cannot exhaust someone else's bucket
   (an unverifiable token only counts against its address; the auth layer answers 401), else the interim
   gateway headers (``customer:<X-Customer-Id>``, ``agent:<X-Actor-Id>``);
3. rate limits (moving windows, ``limits``; in memory per process or in Redis for every worker) → 429;
4. scanner user agents, then the path and query against the patterns → 403 with a reference id;
5. the body: over ``body.max_bytes`` → 413 (Content-Length or counted while reading); a JSON body is parsed
   and each string and key inspected (so JSON syntax and escapes neither hide nor fake an attack), forms
   by value, other text raw; binary types are not inspected → 403.

Every refusal is a security event (``waf_blocked``, ``rate_limited``, ``body_too_large``) through
:func:`cardwise.security.events.emit`, carrying the same reference id as the answer, so support can find it.
The middleware also binds the app's security-event store for the request (see ``events.bound_store``).
"""

from __future__ import annotations

import ipaddress
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import jwt
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from cardwise.config import Settings
from cardwise.security import events
from cardwise.security.events import EventStore
from cardwise.security.waf_rules import CompiledRules, Match, cached_rules

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/", "multipart/form-data")
_MAX_FRAGMENT = 80


def reference_id() -> str:
    return uuid.uuid4().hex[:16]


@lru_cache(maxsize=8192)
def _jwt_account(token: str, keys: tuple[str, ...], algorithm: str) -> str | None:
    """``customer:<cid>`` or ``user:<sub>`` of a bearer JWT; None when it does not verify (with keys)."""
    claims: dict[str, Any] | None = None
    try:
        if not keys:
            claims = jwt.decode(token, options={"verify_signature": False})
        for key in keys:  # the current secret first, then the ones still accepted while rotating
            try:
                claims = jwt.decode(token, key, algorithms=[algorithm], options={"verify_aud": False})
                break
            except jwt.InvalidSignatureError:
                continue
    except jwt.PyJWTError:
        return None
    if not claims or claims.get("sub") is None:
        return None
    cid = claims.get("cid")
    if isinstance(cid, int) or (isinstance(cid, str) and cid.isdigit()):
        return f"customer:{int(cid)}"
    return f"user:{str(claims['sub'])[:120]}"


def _storage(url: str) -> Any:
    """The limits library's async storage for ``url`` (memory://, redis://…); Redis through redis-py's asyncio
    client, the one dependency the platform has for it."""
    url = url if url.startswith("async+") else f"async+{url}"
    if url.startswith(("async+redis", "async+rediss")):
        return storage_from_string(url, implementation="redispy")
    return storage_from_string(url)


class AccountAddresses:
    """Which addresses each account used within a window, in this process (bounded, least recent first out)."""

    def __init__(self, threshold: int, window_seconds: int, max_accounts: int) -> None:
        self.threshold, self.window, self.max_accounts = threshold, window_seconds, max_accounts
        self._seen: OrderedDict[str, dict[str, float]] = OrderedDict()

    def see(self, account: str, ip: str, now: float) -> int | None:
        """Record a use; the number of distinct addresses when it has just reached the threshold, else None."""
        ips = self._seen.get(account)
        if ips is None:
            ips = self._seen[account] = {}
            if len(self._seen) > self.max_accounts:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(account)
        if ip in ips:
            ips[ip] = now
            return None
        for old in [a for a, t in ips.items() if t < now - self.window]:
            del ips[old]
        ips[ip] = now
        return len(ips) if len(ips) == self.threshold else None


class FirewallMiddleware:
    def __init__(
        self, app: ASGIApp, *, settings: Settings, store: EventStore | None = None, rules: CompiledRules | None = None
    ) -> None:
        self.app = app
        self.enabled = settings.waf_enabled
        self.store = store
        self.rules = rules or cached_rules(settings.waf_rules_path)
        self.limiter = MovingWindowRateLimiter(_storage(settings.waf_storage_url))
        secret = getattr(settings, "jwt_secret", None)
        self.jwt_keys: tuple[str, ...] = tuple(k for k in [secret, *getattr(settings, "jwt_previous_secrets", [])] if k)
        self.jwt_algorithm: str = getattr(settings, "jwt_algorithm", None) or "HS256"
        aa = self.rules.spec.account_addresses
        self.addresses = AccountAddresses(aa.threshold, aa.window_seconds, aa.max_accounts)
        self._exempt = tuple(self.rules.spec.exempt_paths)
        self._uninspected = tuple(self.rules.spec.uninspected_bodies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = events.bind_store(self.store)
        try:
            if self.enabled:
                await self._filter(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            events.unbind_store(token)

    # --- identity ------------------------------------------------------------------------------------------

    def client_ip(self, scope: Scope, forwarded_for: str | None) -> str:
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not forwarded_for or not self._trusted(peer):
            return str(peer)
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            if not self._trusted(hop):
                return hop[:45]
        return str(peer)

    def _trusted(self, addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in self.rules.trusted_proxies)

    def account(self, headers: dict[bytes, bytes]) -> str | None:
        auth = headers.get(b"authorization")
        if auth and auth[:7].lower() == b"bearer ":
            found = _jwt_account(auth[7:].decode("latin-1").strip(), self.jwt_keys, self.jwt_algorithm)
            if found is not None:
                return found
        customer = headers.get(b"x-customer-id")
        if customer and customer.strip().isdigit():
            return f"customer:{int(customer)}"
        actor = headers.get(b"x-actor-id")
        if actor and len(actor) <= 64:
            return f"agent:{actor.decode('latin-1').strip()}"
        return None

    # --- the filter ----------------------------------------------------------------------------------------

    async def _filter(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[bytes, bytes] = {}
        for k, v in scope.get("headers") or ():
            headers[k] = v  # header names are lower case in ASGI
        forwarded = headers.get(b"x-forwarded-for")
        ip = self.client_ip(scope, forwarded.decode("latin-1") if forwarded else None)
        account = self.account(headers)
        state = scope.setdefault("state", {})
        state["client_ip"], state["account"] = ip, account
        method, path = scope["method"], scope["path"]
        ctx = _Context(ip, account, method, path)

        if not path.startswith(self._exempt):
            for rule, item in self.rules.limits:
                if not rule.applies(method, path):
                    continue
                key = ip if rule.key == "ip" else account
                if key is None:
                    continue
                if not await self.limiter.hit(item, rule.id, key):
                    stats = await self.limiter.get_window_stats(item, rule.id, key)
                    retry = max(1, int(stats.reset_time - time.time()) + 1)
                    await self._refuse(send, 429, "rate_limited", ctx, {"rule": rule.id, "limit": rule.limit}, retry)
                    return

        ua = headers.get(b"user-agent")
        match = self.rules.inspect_user_agent(ua.decode("latin-1")) if ua else None
        match = match or self.rules.inspect("path", path)
        if match is None and scope.get("query_string"):
            match = self.rules.inspect("query", scope["query_string"].decode("latin-1"))
        if match is not None:
            await self._block(send, ctx, match)
            return

        if account is not None:
            n = self.addresses.see(account, ip, time.monotonic())
            if n is not None:
                events.emit(
                    "account_many_addresses",
                    outcome="unknown",
                    client_ip=ip,
                    user=account,
                    detail={"addresses": n, "window_seconds": self.addresses.window},
                )

        length = headers.get(b"content-length")
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if method not in _BODY_METHODS or not has_body:
            await self.app(scope, receive, send)
            return
        limit = self.rules.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            await self._too_large(send, ctx, int(length))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send, ctx, size)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        match = None if self._uninspected and path.startswith(self._uninspected) else self._inspect_body(ctype, body)
        if match is not None:
            await self._block(send, ctx, match)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _inspect_body(self, ctype: str, body: bytes) -> Match | None:
        if not body or (not ctype.startswith(_TEXT_TYPES) and ctype):
            return None  # binary uploads are not text the patterns could judge
        text = body.decode("utf-8", errors="replace")
        if ctype.startswith("application/json") or (not ctype and text.lstrip()[:1] in ("{", "[")):
            try:
                doc = json.loads(text)
            except ValueError:
                return self.rules.inspect("body", text)  # the view answers 422; still no attack through
            return self._inspect_json(doc)
        if ctype.startswith("application/x-www-form-urlencoded"):
            for k, v in parse_qsl(text, keep_blank_values=True):
                found = self.rules.inspect("body", k) or self.rules.inspect("body", v)
                if found is not None:
                    return found
            return None
        return self.rules.inspect("body", text)

    def _inspect_json(self, doc: Any) -> Match | None:
        stack = [doc]
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                found = self.rules.inspect("body", value)
                if found is not None:
                    return found
            elif isinstance(value, dict):
                for k, v in value.items():
                    found = self.rules.inspect("body", k)
                    if found is not None:
                        return found
                    if not isinstance(v, int | float | bool) and v is not None:
                        stack.append(v)
            elif isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, str | dict | list))
        return None

    # --- answers -------------------------------------------------------------------------------------------

    async def _block(self, send: Send, ctx: _Context, match: Match) -> None:
        detail = {
            "rule": match.rule_id,
            "category": match.category,
            "target": match.target,
            "fragment": match.fragment[:_MAX_FRAGMENT],
        }
        await self._refuse(send, 403, "waf_blocked", ctx, detail)

    async def _too_large(self, send: Send, ctx: _Context, size: int) -> None:
        await self._refuse(send, 413, "body_too_large", ctx, {"bytes": size, "limit": self.rules.max_body_bytes})

    async def _refuse(
        self, send: Send, status: int, kind: str, ctx: _Context, detail: dict[str, Any], retry_after: int | None = None
    ) -> None:
        ref = reference_id()
        events.emit(
            kind,
            outcome="failure",
            client_ip=ctx.ip,
            user=ctx.account,
            detail={"reference": ref, "method": ctx.method, "path": ctx.path[:200], **detail},
        )
        message = _MESSAGES[status]
        if status == 413:
            message = message.format(limit=self.rules.max_body_bytes)
        elif status == 429:
            message = message.format(retry=retry_after)
        payload = json.dumps({"detail": message, "reference": ref}, ensure_ascii=False).encode()
        out_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"x-cardwise-reference", ref.encode()),
        ]
        if retry_after is not None:
            out_headers.append((b"retry-after", str(retry_after).encode()))
        if status == 413:
            out_headers.append((b"connection", b"close"))  # the rest of the body is not read
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": payload})


class _Context:
    __slots__ = ("account", "ip", "method", "path")

    def __init__(self, ip: str, account: str | None, method: str, path: str) -> None:
        self.ip, self.account, self.method, self.path = ip, account, method, path


_MESSAGES = {
    403: (
        "보안 정책에 의해 요청이 차단되었습니다. 문의하실 때 참조 번호를 알려 주세요. "
        "(The request was blocked by the firewall; quote the reference when you contact us.)"
    ),
    413: "요청 본문이 너무 큽니다 (the body is larger than {limit:,} bytes).",
    429: "요청이 너무 많습니다. {retry}초 후에 다시 시도해 주세요. (Too many requests; retry after {retry} s.)",
}
