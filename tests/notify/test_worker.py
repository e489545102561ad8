"""The outbox worker against a real SMTP server (aiosmtpd) and a real HTTP SMS gateway."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cardwise.db.types import utcnow
from cardwise.notify.channels import ConsoleChannel, EmailChannel, SmsWebhookChannel
from cardwise.notify.models import Delivery, OutboxMessage
from cardwise.notify.service import enqueue
from cardwise.notify.worker import claim, run_once
from tests.safety.conftest import LoadedDb


class Inbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        msg = message_from_bytes(envelope.content)
        body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
        self.messages.append(
            {"to": envelope.rcpt_tos[0], "key": msg["X-Cardwise-Key"], "subject": str(msg["Subject"]), "body": body}
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port after starting, so it needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Gateway:
    """A local SMS gateway that fails the first ``fail_first`` calls per key and records the rest."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls: dict[str, int] = {}
        self.accepted: list[tuple[str, dict[str, str]]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                key = self.headers["Idempotency-Key"]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.calls[key] = gateway.calls.get(key, 0) + 1
                ok = gateway.calls[key] > gateway.fail_first
                if ok:
                    gateway.accepted.append((key, body))
                self.send_response(200 if ok else 503)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _queue(db: LoadedDb, customer: int, channel: str, n: int) -> list[str]:
    keys = [f"test:{uuid.uuid4().hex}" for _ in range(n)]
    with Session(db.engine) as s:
        for k in keys:
            enqueue(
                s,
                dedupe_key=k,
                customer_id=customer,
                kind="test",
                subject="[cardwise] 알림",
                body=f"테스트 알림 {k}",
                channel=channel,
            )
            enqueue(s, dedupe_key=k, customer_id=customer, kind="test", subject="dup", body="dup", channel=channel)
        s.commit()
    return keys


def _set_past(db: LoadedDb, keys: list[str], column: str) -> None:
    """Move a message's backoff or lease into the past, instead of sleeping through it."""
    with Session(db.engine) as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(keys))
            .values({column: utcnow() - timedelta(seconds=1)})
        )
        s.commit()


def _drain(db: LoadedDb, channels: dict) -> None:  # type: ignore[type-arg]
    for _ in range(20):
        if run_once(db.engine, channels, batch=1000).claimed == 0:
            return


def _status(db: LoadedDb, keys: list[str]) -> dict[str, str]:
    with Session(db.engine) as s:
        rows = s.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.status).where(OutboxMessage.dedupe_key.in_(keys))
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_email_is_delivered_once_through_real_smtp(
    db: LoadedDb, card: tuple[int, str, int], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    keys = _queue(db, card[2], "email", 3)
    channels = {
        "email": EmailChannel("127.0.0.1", port, "cardwise <no-reply@cardwise.example>"),
        "console": ConsoleChannel(),
    }
    _drain(db, channels)
    _drain(db, channels)  # a second pass finds nothing to send
    got = [m for m in inbox.messages if m["key"] in keys]
    assert sorted(m["key"] for m in got) == sorted(keys)
    assert all(m["to"].endswith("@example.com") or m["to"].endswith("@example.net") for m in got)
    assert all("테스트 알림" in m["body"] for m in got)
    assert set(_status(db, keys).values()) == {"sent"}


def test_sms_gateway_failures_are_retried_with_backoff(db: LoadedDb, card: tuple[int, str, int]) -> None:
    gw = Gateway(fail_first=2)
    try:
        keys = _queue(db, card[2], "sms", 2)
        channels = {"sms": SmsWebhookChannel(gw.url), "console": ConsoleChannel()}
        _drain(db, channels)
        assert set(_status(db, keys).values()) == {"pending"}  # failed once, waiting for its backoff
        for _ in range(3):  # let the backoff pass
            _set_past(db, keys, "next_attempt_at")
            _drain(db, channels)
        assert set(_status(db, keys).values()) == {"sent"}
        assert sorted(k for k, _ in gw.accepted if k in keys) == sorted(keys)
        assert all(body["to"].startswith("010-") for k, body in gw.accepted if k in keys)
        with Session(db.engine) as s:
            attempts = (
                s.execute(
                    select(Delivery.ok)
                    .join(OutboxMessage)
                    .where(OutboxMessage.dedupe_key == keys[0])
                    .order_by(Delivery.delivery_id)
                )
                .scalars()
                .all()
            )
        assert attempts == [False, False, True]
    finally:
        gw.close()


def test_a_message_is_given_up_after_max_attempts(db: LoadedDb, card: tuple[int, str, int]) -> None:
    gw = Gateway(fail_first=100)
    try:
        keys = _queue(db, card[2], "sms", 1)
        channels = {"sms": SmsWebhookChannel(gw.url), "console": ConsoleChannel()}
        for _ in range(3):
            _set_past(db, keys, "next_attempt_at")
            run_once(db.engine, channels, max_attempts=3)
        assert _status(db, keys) == {keys[0]: "dead"}
    finally:
        gw.close()


def test_a_claim_left_by_a_dead_worker_is_taken_over(db: LoadedDb, card: tuple[int, str, int]) -> None:
    gw = Gateway()
    try:
        keys = _queue(db, card[2], "sms", 1)
        with Session(db.engine) as s:  # a worker claims the message and dies before delivering it
            claimed = claim(s, now=utcnow(), batch=10_000)
        assert claimed
        channels = {"sms": SmsWebhookChannel(gw.url), "console": ConsoleChannel()}
        run_once(db.engine, channels)
        assert _status(db, keys) == {keys[0]: "sending"}  # still leased to the dead worker
        _set_past(db, keys, "lease_until")
        _drain(db, channels)
        assert _status(db, keys) == {keys[0]: "sent"}
        assert [k for k, _ in gw.accepted].count(keys[0]) == 1
    finally:
        gw.close()
