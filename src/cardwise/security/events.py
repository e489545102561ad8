"""Security events: one call for everything a security team wants to see (logins, lockouts, blocked
requests, permission denials, data-subject actions).

Every event is a JSON log line with ECS field names (``event.*``, ``source.ip``, ``user.name``) on the
``cardwise.security`` logger and a Prometheus counter. Persistence and alarms on abnormal access are
added on top of :func:`emit` (issue 11); callers only ever use :func:`emit`.
"""

from __future__ import annotations

from typing import Any, Literal

from prometheus_client import Counter

from cardwise.logging import get_logger

log = get_logger("cardwise.security")

Outcome = Literal["success", "failure", "unknown"]

SECURITY_EVENTS = Counter("cardwise_security_events", "Security events by kind and outcome", ["kind", "outcome"])


def emit(
    kind: str,
    *,
    outcome: Outcome = "failure",
    client_ip: str | None = None,
    user: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one security event (``kind`` e.g. ``login_failed``, ``account_locked``, ``waf_blocked``)."""
    SECURITY_EVENTS.labels(kind=kind, outcome=outcome).inc()
    fields: dict[str, Any] = {
        "event.kind": "event",
        "event.category": "authentication" if kind.startswith(("login", "account", "token")) else "web",
        "event.action": kind,
        "event.outcome": outcome,
    }
    if client_ip:
        fields["source.ip"] = client_ip
    if user:
        fields["user.name"] = user
    if detail:
        fields["cardwise.detail"] = detail
    log.warning("security event: %s", kind, extra=fields)
