"""Stored security events, alarms on abnormal access and the back-office read endpoint (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cardwise.db.engine import make_engine
from cardwise.db.migrate import upgrade
from cardwise.notify.models import OutboxMessage
from cardwise.security import events
from cardwise.security.alarms import AlarmEvaluator, dedupe_key, window_start
from cardwise.security.events import EventRecord, EventStore, emit
from cardwise.security.events_models import SecurityAlarm, SecurityEvent
from cardwise.security.waf_rules import AlarmRule
from tests.auth_helpers import as_customer, as_staff
from tests.db_fixtures import DB_PARAMS, temporary_schema
from tests.security.waf_fixtures import client_for, make_settings

FAILED = AlarmRule(
    id="failed_logins_account", description="로그인 실패", kinds=["login_failed"], group_by="user", threshold=3,
    window_seconds=300,
)  # fmt: skip
MANY_IPS = AlarmRule(
    id="account_many_addresses", description="여러 주소", kinds=["login_succeeded"], group_by="user",
    distinct="source_ip", threshold=3, window_seconds=600,
)  # fmt: skip


@pytest.fixture(params=DB_PARAMS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        u = f"sqlite:///{tmp_path / 'cardwise.db'}"
        upgrade(u)
        yield u
        return
    with temporary_schema() as u:
        upgrade(u)
        yield u


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    e = make_engine(url)
    yield e
    e.dispose()


def _alarm_total(kind: str) -> float:
    return REGISTRY.get_sample_value("cardwise_security_alarms_total", {"kind": kind}) or 0.0


def test_emit_stores_events_and_one_alarm_per_window(engine: Engine) -> None:
    store = EventStore(lambda: engine, on_batch=AlarmEvaluator([FAILED]))
    before = _alarm_total("failed_logins_account")
    with events.bound_store(store):
        for _ in range(7):  # threshold 3: one alarm, however long the burst in the same window
            emit("login_failed", client_ip="198.51.100.7", user="kim", detail={"reason": "password"})
            store.flush()
        emit("login_failed", client_ip="198.51.100.7", user="lee")  # another account, below its threshold
    store.close()
    with Session(engine) as s:
        rows = s.scalars(select(SecurityEvent).order_by(SecurityEvent.event_id)).all()
        alarms = s.scalars(select(SecurityAlarm)).all()
        outbox = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "security_alarm")).all()
    assert len(rows) == 8 and rows[0].user_name == "kim" and rows[0].detail == {"reason": "password"}
    assert [(a.rule, a.subject, a.observed, a.threshold) for a in alarms] == [("failed_logins_account", "kim", 3, 3)]
    assert len(outbox) == 1 and outbox[0].dedupe_key == alarms[0].dedupe_key
    assert outbox[0].channel == "console" and "로그인 실패" in outbox[0].body and "threshold 3" in outbox[0].body
    assert _alarm_total("failed_logins_account") == before + 1


def test_two_processes_seeing_the_same_burst_raise_one_alarm(engine: Engine) -> None:
    now = datetime.now(UTC)
    batch = [EventRecord("login_failed", "failure", now, "192.0.2.1", "park") for _ in range(3)]
    EventStore(lambda: engine).write(batch)
    first, second = AlarmEvaluator([FAILED], alarm_email="sec@cardwise.example"), AlarmEvaluator([FAILED])
    assert len(first.evaluate(engine, batch, now=now)) == 1
    assert second.evaluate(engine, batch, now=now) == []  # the unique dedupe key: the other process was first
    with Session(engine) as s:
        msg = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "security_alarm")).one()
    assert msg.channel == "email" and msg.payload["to_email"] == "sec@cardwise.example"
    # The next window is a new alarm window.
    later = now + timedelta(seconds=300)
    assert window_start(later, 300) != window_start(now, 300)
    EventStore(lambda: engine).write([EventRecord("login_failed", "failure", later, "192.0.2.1", "park")] * 3)
    assert len(second.evaluate(engine, batch, now=later)) == 1


def test_distinct_addresses_and_the_window(engine: Engine) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(seconds=900)  # outside the 600 s window: does not count
    rows = [EventRecord("login_succeeded", "success", old, f"203.0.113.{i}", "choi") for i in range(5)]
    rows += [EventRecord("login_succeeded", "success", now, "203.0.113.50", "choi") for _ in range(4)]
    EventStore(lambda: engine).write(rows)
    ev = AlarmEvaluator([MANY_IPS])
    assert ev.evaluate(engine, rows, now=now) == []  # 1 distinct address now, not 9 events
    more = [EventRecord("login_succeeded", "success", now, f"203.0.113.{i}", "choi") for i in (51, 52)]
    EventStore(lambda: engine).write(more)
    (alarm,) = ev.evaluate(engine, more, now=now)
    assert alarm.observed == 3 and alarm.subject == "choi"
    assert alarm.dedupe_key == dedupe_key("account_many_addresses", "choi", window_start(now, 600))
    assert "choi" not in alarm.dedupe_key  # the key does not spread the account name


def test_back_office_events_endpoint(url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", url)
    with client_for(settings) as (app, c):
        store = app.state.security_events
        with events.bound_store(store):
            emit("login_failed", client_ip="192.0.2.9", user="customer:42")
            emit("permission_denied", client_ip="192.0.2.9", user="customer:42", detail={"path": "/x"})
        assert c.get("/healthz", params={"q": "<script>"}).status_code == 403
        store.flush()
        staff = as_staff("admin", settings=settings)
        page = c.get("/v1/backoffice/security/events", headers=staff).json()
        assert page["total"] == 3 and [i["kind"] for i in page["items"]][-1] == "login_failed"
        only = c.get("/v1/backoffice/security/events", params={"kind": "waf_blocked"}, headers=staff).json()
        assert only["total"] == 1 and only["items"][0]["detail"]["rule"] == "xss-script"
        paged = c.get("/v1/backoffice/security/events", params={"limit": 1, "offset": 1}, headers=staff).json()
        assert len(paged["items"]) == 1 and paged["items"][0]["kind"] == "permission_denied"
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert c.get("/v1/backoffice/security/events", params={"since": future}, headers=staff).json()["total"] == 0
        assert c.get("/v1/backoffice/security/events", params={"since": "yesterday"}, headers=staff).status_code == 422
        assert c.get("/v1/backoffice/security/events", params={"kind": "DROP;"}, headers=staff).status_code == 422
        assert c.get("/v1/backoffice/security/events").status_code == 401
        assert c.get("/v1/backoffice/security/events", headers=as_customer(42, settings)).status_code == 403
        assert c.get("/v1/backoffice/security/alarms", headers=staff).json() == []
