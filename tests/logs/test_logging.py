"""Logs are ECS JSON lines, on stderr and in rotating files, and never carry a card or resident number,
a password or a token."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardwise.logging import configure_logging, log_file_name, redact
from cardwise.logs.access import session_event
from tests.auth_helpers import as_customer
from tests.security.waf_fixtures import client_for, make_settings, migrated


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(h)
        h.close()
    root.setLevel(level)


def lines_of(log_dir: Path) -> list[dict]:
    out = []
    for f in sorted(log_dir.glob("*.jsonl")):
        out += [json.loads(x) for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    return out


def test_json_and_redacted(capsys: pytest.CaptureFixture[str], restore_root: None) -> None:
    configure_logging("INFO", "json")
    log = logging.getLogger("cardwise.test")
    log.info("card %s used", "9440 0323 6869 8530", extra={"customer.rrn": "900101-1234567"})
    log.warning("plain message")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    assert lines[0]["log.level"] == "info" and lines[0]["log"]["logger"] == "cardwise.test"
    assert lines[0]["ecs.version"] and lines[0]["@timestamp"].endswith("Z")
    assert "9440 0323 6869 8530" not in lines[0]["message"] and lines[0]["message"].endswith("8530 used")
    assert "1234567" not in json.dumps(lines[0])
    assert lines[1]["message"] == "plain message"


def test_files_rotate_and_keep_the_jsonl_suffix(tmp_path: Path, restore_root: None) -> None:
    configure_logging("INFO", "json", log_dir=tmp_path, max_bytes=2_000, backups=3)
    log = logging.getLogger("cardwise.rotation")
    for i in range(60):
        log.info("line %d 한글", i)
    names = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    base = log_file_name()
    assert base in names and base.replace(".jsonl", ".1.jsonl") in names and len(names) == 4
    docs = lines_of(tmp_path)
    assert len(docs) < 60 and all(d["log"]["logger"] == "cardwise.rotation" for d in docs)  # older ones rotated out
    assert "한글" in (tmp_path / base).read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_secrets_are_never_written(tmp_path: Path, restore_root: None) -> None:
    configure_logging("INFO", "json", log_dir=tmp_path)
    log = logging.getLogger("cardwise.secrets")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
    log.info(
        "header Authorization: Bearer %s",
        jwt,
        extra={"http.request.headers": {"authorization": f"Bearer {jwt}", "cookie": "cw_session=abc"},
               "cardwise.body": {"username": "kim", "password": "hunter2-long", "new_password": "x"}},
    )  # fmt: skip
    try:
        raise ValueError("card 4111 1111 1111 1111 declined")
    except ValueError:
        log.exception("payment failed")
    text = "\n".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.jsonl"))
    for secret in (jwt, "hunter2", "cw_session=abc", "4111 1111 1111 1111"):
        assert secret not in text
    first, second = lines_of(tmp_path)
    assert first["cardwise"]["body"]["username"] == "kim" and first["cardwise"]["body"]["password"] == "[REDACTED]"
    assert second["error"]["message"].endswith("1111 declined") and second["error"]["type"] == "ValueError"


def test_redact_keeps_structure() -> None:
    assert redact({"a": ["010-1234-5678", 3], "token": "t", "card_token": None}) == {
        "a": ["010-****-5678", 3],
        "token": "[REDACTED]",
        "card_token": None,
    }


def test_access_lines_carry_the_ecs_request_fields_and_the_customer(tmp_path: Path, restore_root: None) -> None:
    settings = migrated(make_settings(tmp_path / "var"))
    configure_logging("INFO", "json", log_dir=settings.log_dir)
    with client_for(settings) as (_, c):
        c.get("/healthz", headers={"user-agent": "pytest-agent"})
        c.get("/v1/customers/42/single-view", headers=as_customer(42, settings))
        c.get("/healthz", params={"q": "<script>"})
    docs = lines_of(settings.log_dir)
    access = [d for d in docs if d.get("event", {}).get("dataset") == "cardwise.access"]
    assert [
        (d["http"]["request"]["method"], d["url"]["path"], d["http"]["response"]["status_code"]) for d in access
    ] == [
        ("GET", "/healthz", 200),
        ("GET", "/v1/customers/42/single-view", access[1]["http"]["response"]["status_code"]),
        ("GET", "/healthz", 403),
    ]
    assert access[0]["user_agent"]["original"] == "pytest-agent" and access[0]["event"]["duration"] > 0
    assert access[1]["user"] == {"id": "42", "name": "customer:42"}
    assert access[2]["event"]["outcome"] == "failure"
    blocked = [d for d in docs if d.get("event", {}).get("action") == "waf_blocked"]
    assert len(blocked) == 1 and blocked[0]["event"]["dataset"] == "cardwise.security"
    assert blocked[0]["source"]["ip"] == "testclient"


def test_session_and_cookie_lines(tmp_path: Path, restore_root: None) -> None:
    configure_logging("INFO", "json", log_dir=tmp_path)
    session_event("session_created", client_ip="192.0.2.1", account="customer:7", session_ref="ab12")
    (doc,) = lines_of(tmp_path)
    assert doc["event"]["action"] == "session_created" and doc["event"]["category"] == "session"
    assert doc["user"] == {"id": "7", "name": "customer:7"} and doc["cardwise"]["session_ref"] == "ab12"
