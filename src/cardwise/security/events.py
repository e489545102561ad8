"""Security events: one call for everything a security team wants to see (logins, lockouts, blocked
requests, permission denials, data-subject actions).

:func:`emit` does three things, and callers only ever use it:

1. a JSON log line with ECS field names (``event.*``, ``source.ip``, ``user.name``, and ``user.id`` when the
   user is a customer, ``customer:<id>``) on the ``cardwise.security`` logger;
2. a Prometheus counter ``cardwise_security_events_total{kind,outcome}``;
3. a row in ``security_events``, written by a background writer in its own short transaction (a batch of
   events per transaction), after which the alarm rules are evaluated (:mod:`cardwise.security.alarms`).

Persistence is best effort by design: it never blocks or fails the request that emitted the event (a flood
of blocked requests must not become a flood of synchronous database writes), a database error is logged
and the batch dropped, and a full queue drops the event with a counter. The log line is always written.

Which store receives the event: the app's own store while a request of that app runs (the firewall
middleware binds it for the request, so tests with several apps never mix), else the process default
installed by the server or the CLI (:func:`install_default_store`).
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from prometheus_client import Counter
from sqlalchemy import Engine, insert

from cardwise.db.types import utcnow
from cardwise.logging import get_logger, redact

log = get_logger("cardwise.security")

Outcome = Literal["success", "failure", "unknown"]

SECURITY_EVENTS = Counter("cardwise_security_events", "Security events by kind and outcome", ["kind", "outcome"])
EVENTS_DROPPED = Counter("cardwise_security_events_dropped", "Security events not stored (queue full or DB error)")

_CUSTOMER_USER = re.compile(r"^customer:(\d{1,18})$")
_AUTH_KINDS = ("login", "account", "token", "session", "password")


@dataclass(frozen=True)
class EventRecord:
    kind: str
    outcome: str
    at: datetime
    source_ip: str | None
    user_name: str | None
    detail: dict[str, Any] = field(default_factory=dict)


def ecs_fields(kind: str, outcome: str, client_ip: str | None, user: str | None) -> dict[str, Any]:
    """The ECS fields of a security event's log line."""
    fields: dict[str, Any] = {
        "event.kind": "alert" if kind.startswith("alarm") else "event",
        "event.category": "authentication" if kind.startswith(_AUTH_KINDS) else "web",
        "event.action": kind,
        "event.outcome": outcome,
        "event.dataset": "cardwise.security",
    }
    if client_ip:
        fields["source.ip"] = client_ip
    if user:
        fields["user.name"] = user
        m = _CUSTOMER_USER.match(user)
        if m:
            fields["user.id"] = m.group(1)  # the customer id: erasure and retention purge lines by it
    return fields


def emit(
    kind: str,
    *,
    outcome: Outcome = "failure",
    client_ip: str | None = None,
    user: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one security event (``kind`` e.g. ``login_failed``, ``account_locked``, ``waf_blocked``).

    ``user`` names the account (``customer:<id>`` for a customer, as :attr:`Principal.audit_name` does, or a
    login name); ``detail`` is free JSON, redacted before it is logged or stored. Never raises."""
    SECURITY_EVENTS.labels(kind=kind, outcome=outcome).inc()
    safe_detail: dict[str, Any] = redact(detail) if detail else {}
    fields = ecs_fields(kind, outcome, client_ip, user)
    if safe_detail:
        fields["cardwise.detail"] = safe_detail
    log.warning("security event: %s", kind, extra=fields)
    store = _bound.get() or _default
    if store is not None:
        store.submit(
            EventRecord(
                kind=kind[:40],
                outcome=outcome,
                at=utcnow(),
                source_ip=(client_ip or None) and client_ip[:45],
                user_name=(user or None) and user[:128],
                detail=safe_detail,
            )
        )


class EventStore:
    """Stores events in batches on a background thread; evaluates the alarm rules after each batch."""

    def __init__(
        self,
        engine_factory: Callable[[], Engine],
        *,
        on_batch: Callable[[Engine, list[EventRecord]], object] | None = None,
        max_queue: int = 10_000,
        max_batch: int = 500,
    ) -> None:
        self._engine_factory = engine_factory
        self._on_batch = on_batch
        self._queue: queue.Queue[EventRecord | None] = queue.Queue(maxsize=max_queue)
        self._max_batch = max_batch
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.stored = 0

    def submit(self, record: EventRecord) -> None:
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            EVENTS_DROPPED.inc()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cardwise-security-events", daemon=True)
                self._thread.start()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every submitted event has been written (or dropped); for tests and shutdown."""
        if self._thread is None:
            return
        done = threading.Event()

        def _wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=_wait, daemon=True).start()
        done.wait(timeout)

    def close(self) -> None:
        if self._thread is not None:
            self.flush()
            self._queue.put(None)
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.task_done()
                    stop = True
                    break
                batch.append(nxt)
            try:
                self.write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if stop:
                return

    def write(self, batch: list[EventRecord]) -> None:
        """One short transaction for the batch, then the alarms; failures are logged, never raised."""
        from cardwise.security.events_models import SecurityEvent

        try:
            engine = self._engine_factory()
            with engine.begin() as conn:
                conn.execute(
                    insert(SecurityEvent),
                    [
                        {
                            "at": r.at,
                            "kind": r.kind,
                            "outcome": r.outcome,
                            "source_ip": r.source_ip,
                            "user_name": r.user_name,
                            "detail": r.detail,
                        }
                        for r in batch
                    ],
                )
            self.stored += len(batch)
        except Exception as exc:  # the database may be down or not migrated: the log line already exists
            EVENTS_DROPPED.inc(len(batch))
            log.error(
                "security events not stored: %s",
                type(exc).__name__,
                extra={"event.action": "security_events_not_stored", "cardwise.count": len(batch)},
            )
            return
        if self._on_batch is not None:
            try:
                self._on_batch(engine, batch)
            except Exception as exc:
                log.error(
                    "security alarms not evaluated: %s",
                    type(exc).__name__,
                    extra={"event.action": "security_alarms_failed", "error.message": str(exc)[:500]},
                )


_bound: ContextVar[EventStore | None] = ContextVar("cardwise_event_store", default=None)
_default: EventStore | None = None


@contextlib.contextmanager
def bound_store(store: EventStore | None) -> Iterator[None]:
    """Events emitted inside go to ``store`` (the firewall middleware binds the app's store per request)."""
    token = _bound.set(store)
    try:
        yield
    finally:
        _bound.reset(token)


def bind_store(store: EventStore | None) -> Any:
    """Low-level form of :func:`bound_store` for ASGI code: returns the token for :func:`unbind_store`."""
    return _bound.set(store)


def unbind_store(token: Any) -> None:
    _bound.reset(token)


def install_default_store(store: EventStore | None) -> EventStore | None:
    """Set the process-wide store (server lifespan, CLI); returns the previous one."""
    global _default
    previous, _default = _default, store
    return previous


def default_store() -> EventStore | None:
    return _default
