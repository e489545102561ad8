"""A counted load test over real HTTP: every authorization answered is recorded exactly once, and no
decline notification is lost, even when the notification worker is killed and restarted mid-run."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cardwise.db.models import Customer
from cardwise.notify.models import OutboxMessage
from cardwise.safety import service
from cardwise.safety.models import Authorization
from tests.auth_helpers import as_staff
from tests.notify.test_worker import Gateway
from tests.safety.conftest import LoadedDb, merchant_in

CLI = str(Path(sys.executable).with_name("cardwise"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str) -> None:
    for _ in range(150):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([CLI, "worker", "--interval", "0.05"], env=env, stdout=out, stderr=out)


def test_counted_load_with_a_killed_worker(db: LoadedDb, tmp_path: Path) -> None:
    cards = [next(db.cards) for _ in range(30)]
    blocked = {c[0] for c in cards[::2]}
    with Session(db.engine) as s:
        for card_id in blocked:
            service.set_controls(
                s,
                card_id=card_id,
                allowed_regions=None,
                blocked_windows=[],
                blocked_categories=["CAFE"],
                max_amount_krw=None,
                block_online=False,
                block_overseas=False,
                block_contactless=False,
            )
        s.execute(
            update(Customer).where(Customer.customer_id.in_([c[2] for c in cards])).values(preferred_channel="sms")
        )
        s.commit()
    cafe = merchant_in(db, category="CAFE", province="11")
    gateway = Gateway()
    gateway_delay = 0.01
    env = {
        **os.environ,
        "CARDWISE_DATABASE_URL": db.url,
        "CARDWISE_SCHEDULER_ENABLED": "false",
        "CARDWISE_LOG_LEVEL": "WARNING",
        "CARDWISE_SMS_WEBHOOK_URL": gateway.url,
        "CARDWISE_NOTIFY_LEASE_SECONDS": "2",
        "CARDWISE_DATA_DIR": str(db.settings.data_dir),
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = tmp_path / "processes.log"
    worker = _start_worker(env, log)
    rng = random.Random(3)
    now = datetime.now(UTC)
    keys = [f"load-{uuid.uuid4().hex}" for _ in range(240)]
    # A fifth of the requests are sent twice, as a client retries after a timeout.
    plan = [(k, rng.choice(cards)) for k in keys]
    sends = plan + [p for p in plan if rng.random() < 0.2]
    rng.shuffle(sends)
    answers: dict[str, set[int]] = {}
    try:
        _wait_healthy(base)
        with httpx.Client(base_url=base, timeout=30) as client:

            def send(item: tuple[str, tuple[int, str, int]]) -> tuple[str, int, bool]:
                key, card = item
                r = client.post(
                    "/v1/authorizations",
                    headers={"Idempotency-Key": key, **as_staff("switch")},
                    json={
                        "card_token": card[1],
                        "amount_krw": 4_500,
                        "merchant_id": cafe,
                        "timestamp": now.isoformat(),
                        "channel": "offline",
                    },
                )
                assert r.status_code == 200, r.text
                return key, r.json()["authorization_id"], r.json()["approved"]

            with ThreadPoolExecutor(max_workers=8) as pool:
                for i, (key, auth_id, _) in enumerate(pool.map(send, sends)):
                    answers.setdefault(key, set()).add(auth_id)
                    if i == len(sends) // 3:  # kill the worker mid-run, start another
                        worker.send_signal(signal.SIGKILL)
                        worker.wait()
                        worker = _start_worker(env, log)
        # Every answered key has one answer and one record.
        assert len(answers) == len(keys) and all(len(ids) == 1 for ids in answers.values())
        with Session(db.engine) as s:
            rows = s.execute(
                select(Authorization.idempotency_key, Authorization.approved, Authorization.authorization_id).where(
                    Authorization.idempotency_key.in_(keys)
                )
            ).all()
            assert len(rows) == len(keys)
            assert {r.idempotency_key: {r.authorization_id} for r in rows} == answers
            declined = [r.authorization_id for r in rows if not r.approved]
            approved = [r for r in rows if r.approved]
            assert len(declined) + len(approved) == len(keys)
            assert declined, "some cards block cafés"
            expected = {f"auth-declined:{i}" for i in declined}
            # Wait for the worker to deliver everything (leases of the killed worker run out after 2 s).
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                open_ = s.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.dedupe_key.in_(expected), OutboxMessage.status != "sent")
                ).scalar_one()
                if open_ == 0:
                    break
                time.sleep(0.2 + gateway_delay)
            statuses = dict(
                s.execute(
                    select(OutboxMessage.dedupe_key, OutboxMessage.status).where(OutboxMessage.dedupe_key.in_(expected))
                ).all()
            )
        assert set(statuses) == expected and set(statuses.values()) == {"sent"}, log.read_text()[-3000:]
        delivered = [k for k, _ in gateway.accepted if k in expected]
        assert set(delivered) == expected  # nothing lost
        # A kill between hand-over and bookkeeping may repeat a delivery; the key lets the gateway drop it.
        repeats = len(delivered) - len(set(delivered))
        assert repeats <= 8
    finally:
        worker.kill()
        server.terminate()
        server.wait(timeout=30)
        gateway.close()
