"""Local log queries: DuckDB over the files, the back-office endpoint (fixed filters) and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cardwise.cli import app as cli
from cardwise.logs.access import _cookie
from cardwise.logs.query import LogFilter, run_sql, search
from tests.auth_helpers import as_customer, as_staff
from tests.security.waf_fixtures import client_for, make_settings


def write_lines(log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    docs = [
        {"@timestamp": "2023-09-01T00:00:00.000Z", "log.level": "info", "message": "GET /healthz 200",
         "event": {"action": "http_request", "dataset": "cardwise.access", "duration": 1500},
         "http": {"request": {"method": "GET"}, "response": {"status_code": 200}}, "url": {"path": "/healthz"},
         "source": {"ip": "192.0.2.1"}, "log": {"logger": "cardwise.access"}},
        {"@timestamp": "2023-09-02T00:00:00.000Z", "log.level": "warning", "message": "security event: login_failed",
         "event": {"action": "login_failed", "dataset": "cardwise.security", "outcome": "failure"},
         "user": {"id": "42", "name": "customer:42"}, "log": {"logger": "cardwise.security"}},
        {"@timestamp": "2023-09-03T00:00:00.000Z", "log.level": "info", "message": "100% done_ok",
         "log": {"logger": "cardwise.jobs"}},
    ]  # fmt: skip
    text = "\n".join(json.dumps(d) for d in docs) + "\n" + '{"@timestamp": "2023-09-04T00:0'  # a half-written line
    (log_dir / "cardwise.host.1.jsonl").write_text(text, encoding="utf-8")
    (log_dir / "cardwise.host.1.1.jsonl").write_text(json.dumps(docs[0] | {"message": "rotated"}) + "\n")


def test_sql_over_the_logs_view(tmp_path: Path) -> None:
    write_lines(tmp_path)
    names, rows = run_sql(tmp_path, "SELECT action, count(*) AS n FROM logs GROUP BY 1 ORDER BY 1 NULLS LAST")
    assert names == ["action", "n"] and rows == [("http_request", 2), ("login_failed", 1), (None, 1)]
    _, rows = run_sql(tmp_path, "SELECT status, duration_ns, path, user_id FROM logs WHERE message = 'rotated'")
    assert rows == [(200, 1500, "/healthz", None)]
    assert run_sql(tmp_path / "none", "SELECT count(*) FROM logs")[1] == [(0,)]


def test_search_filters_are_parameters(tmp_path: Path) -> None:
    write_lines(tmp_path)
    assert [r["action"] for r in search(tmp_path, LogFilter(user_id="42"))] == ["login_failed"]
    since = datetime(2023, 9, 2, 9, 0, tzinfo=UTC) - timedelta(hours=9)  # 09:00 KST = 00:00 UTC
    assert [r["message"] for r in search(tmp_path, LogFilter(since=since))] == [
        "100% done_ok",
        "security event: login_failed",
    ]
    assert [r["message"] for r in search(tmp_path, LogFilter(q="100%"))] == ["100% done_ok"]
    assert [r["message"] for r in search(tmp_path, LogFilter(q="%"))] == ["100% done_ok"]  # % is literal
    assert [r["message"] for r in search(tmp_path, LogFilter(q="_ok"))] == ["100% done_ok"]
    assert search(tmp_path, LogFilter(q="' OR 1=1 --")) == []
    assert len(search(tmp_path, LogFilter(limit=2))) == 2


def test_back_office_logs_endpoint(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    write_lines(settings.log_dir)
    with client_for(settings) as (_, c):
        staff = as_staff("admin", settings=settings)
        r = c.get("/v1/backoffice/logs", params={"kind": "login_failed"}, headers=staff)
        assert r.status_code == 200 and [x["user_id"] for x in r.json()] == ["42"]
        r = c.get("/v1/backoffice/logs", params={"dataset": "cardwise.access", "limit": 1}, headers=staff)
        assert len(r.json()) == 1 and r.json()[0]["path"] == "/healthz"
        assert c.get("/v1/backoffice/logs", params={"since": "2023-09-02"}, headers=staff).status_code == 422
        assert c.get("/v1/backoffice/logs", params={"kind": "x; drop"}, headers=staff).status_code == 422
        assert c.get("/v1/backoffice/logs", params={"limit": 10_000}, headers=staff).status_code == 422
        assert c.get("/v1/backoffice/logs", headers=as_customer(42, settings)).status_code == 403


def test_cli_logs_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARDWISE_DATA_DIR", str(tmp_path / "var"))
    write_lines(tmp_path / "var" / "logs")
    r = CliRunner().invoke(cli, ["logs", "query", "SELECT user_id FROM logs WHERE action = 'login_failed'"])
    assert r.exit_code == 0, r.output
    assert "42" in r.output
    r = CliRunner().invoke(cli, ["logs", "query", "SELECT nope FROM logs"])
    assert r.exit_code == 2 and "query failed" in r.output
    r = CliRunner().invoke(cli, ["logs", "ship"])
    assert r.exit_code == 2 and "CARDWISE_OPENSEARCH_URL" in r.output


def test_set_cookie_parsing() -> None:
    assert _cookie(b"cw_session=abc; HttpOnly; Path=/") == ("cw_session", False)
    assert _cookie(b'cw_session=""; Max-Age=0; Path=/') == ("cw_session", True)
