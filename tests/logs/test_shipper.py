"""The log shipper against a small real HTTP server that speaks OpenSearch's _bulk and index-template APIs."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cardwise.config import Settings
from cardwise.logging import configure_logging
from cardwise.logs.shipper import STATE_FILE, ShipError, client_for, index_template, ship_job, ship_once
from cardwise.scheduler import job
from tests.auth_helpers import as_customer
from tests.security.waf_fixtures import client_for as app_client
from tests.security.waf_fixtures import make_settings, migrated

ROOT = Path(__file__).resolve().parents[2]


class FakeSearch:
    """Enough of OpenSearch: PUT _index_template/<name>, POST _bulk (index ops), documents kept by index and id."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.bulk_requests = 0
        self.ops = 0
        self.refuse_next = 0  # refuse this many documents of the next bulk (item status 429)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("content-length", "0")))

            def do_PUT(self) -> None:
                if self.path.startswith("/_index_template/"):
                    outer.templates[self.path.rsplit("/", 1)[1]] = json.loads(self._body())
                    self._reply(200, {"acknowledged": True})
                else:
                    self._reply(404, {"error": "no such endpoint"})

            def do_POST(self) -> None:
                if not self.path.startswith("/_bulk"):
                    self._reply(404, {"error": "no such endpoint"})
                    return
                lines = [json.loads(x) for x in self._body().splitlines() if x.strip()]
                outer.bulk_requests += 1
                items, errors = [], False
                for action, doc in zip(lines[::2], lines[1::2], strict=True):
                    meta = action["index"]
                    outer.ops += 1
                    if outer.refuse_next > 0:
                        outer.refuse_next -= 1
                        errors = True
                        items.append({"index": {**meta, "status": 429, "error": {"type": "es_rejected_execution"}}})
                        continue
                    created = (meta["_index"], meta["_id"]) not in outer.docs
                    outer.docs[(meta["_index"], meta["_id"])] = doc
                    items.append({"index": {**meta, "status": 201 if created else 200, "result": "created"}})
                self._reply(200, {"took": 1, "errors": errors, "items": items})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def search() -> Iterator[FakeSearch]:
    s = FakeSearch()
    yield s
    s.close()


def append(path: Path, *docs: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")


def doc(i: int, day: str = "2023-09-01") -> dict[str, Any]:
    return {"@timestamp": f"{day}T00:00:{i % 60:02d}.000Z", "log.level": "info", "message": f"line {i}"}


def test_exactly_once_across_runs_rotation_and_failures(tmp_path: Path, search: FakeSearch) -> None:
    client = client_for(search.url)
    live = tmp_path / "cardwise.h.1.jsonl"
    append(live, *(doc(i) for i in range(5)))
    with live.open("a") as fh:
        fh.write('{"@timestamp": "2023-09-01T00:01')  # being written: waits for the next run
    r = ship_once(tmp_path, client)
    assert r.documents == 5 and set(search.templates) == {"cardwise-logs"}
    assert {k[0] for k in search.docs} == {"cardwise-logs-2023.09.01"}
    # Nothing new: nothing sent.
    assert ship_once(tmp_path, client).documents == 0 and search.ops == 5
    # The line completes, the file is rotated and a new one starts: each line reaches the index once.
    with live.open("a") as fh:
        fh.write(':00.000Z", "message": "line 5"}\n')
    live.rename(tmp_path / "cardwise.h.1.1.jsonl")
    append(live, doc(6, "2023-09-02"), doc(7, "2023-09-02"))
    assert ship_once(tmp_path, client).documents == 3 and search.ops == 8
    assert len(search.docs) == 8 and ("cardwise-logs-2023.09.02" in {k[0] for k in search.docs})
    # The engine refuses part of a batch: nothing of it is recorded, the next run sends it again, and the
    # deterministic ids make the resent documents overwrite instead of doubling.
    append(live, doc(8), doc(9))
    search.refuse_next = 1
    with pytest.raises(ShipError, match="1 documents refused"):
        ship_once(tmp_path, client)
    assert ship_once(tmp_path, client).documents == 2
    assert len(search.docs) == 10 and search.ops == 12
    # A restart (a new client, the state file on disk) ships nothing twice.
    assert ship_once(tmp_path, client_for(search.url)).documents == 0
    assert json.loads((tmp_path / STATE_FILE).read_text())["offsets"]


def test_unparsable_lines_are_kept_and_tagged(tmp_path: Path, search: FakeSearch) -> None:
    (tmp_path / "cardwise.h.2.jsonl").write_text(json.dumps(doc(1)) + "\nnot json\n", encoding="utf-8")
    r = ship_once(tmp_path, client_for(search.url))
    assert r.documents == 2 and r.unparsed == 1
    assert any(d.get("tags") == ["cardwise_unparsed"] for d in search.docs.values())


def test_the_job_and_the_cli_use_the_setting(tmp_path: Path, search: FakeSearch) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, opensearch_url=search.url, log_index_prefix="cw")
    settings.log_dir.mkdir(parents=True)
    append(settings.log_dir / "cardwise.h.3.jsonl", doc(1))
    assert job("ship_logs").fn(settings)["documents"] == 1
    assert {k[0] for k in search.docs} == {"cw-2023.09.01"} and search.templates["cardwise-logs"]["index_patterns"] == [
        "cw-*"
    ]
    assert ship_job(Settings(environment="test", data_dir=tmp_path)) is None  # not configured: nothing


def _leaves(d: dict[str, Any], prefix: str = "") -> set[str]:
    """Field paths of a document; dotted keys ("log.level") are paths too, as OpenSearch reads them."""
    out: set[str] = set()
    for k, v in d.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out |= _leaves(v, path + ".")
        else:
            out.add(path)
    return out


def _mapped(mappings: dict[str, Any], path: str) -> bool:
    props: dict[str, Any] = mappings["properties"]
    parts = path.split(".")
    for i, part in enumerate(parts):
        field = props.get(part)
        if field is None:
            return False
        if field.get("type") == "flat_object":
            return True  # free-form detail objects (cardwise.*)
        if i == len(parts) - 1:
            return "type" in field
        props = field.get("properties", {})
    return False


def test_index_template_covers_every_field_the_platform_emits(tmp_path: Path) -> None:
    """Access, security, session, alarm and error lines, as really written, are all mapped by the template."""
    root = logging.getLogger()
    before = list(root.handlers)
    settings = migrated(make_settings(tmp_path / "var"))
    configure_logging("INFO", "json", log_dir=settings.log_dir)
    try:
        from cardwise.logs.access import session_event

        with app_client(settings) as (_, c):
            c.get("/healthz", headers={"user-agent": "ua"})
            c.get("/v1/customers/1/single-view", headers=as_customer(1, settings))
            c.get("/healthz", params={"q": "<script>"})
        session_event("session_created", client_ip="192.0.2.1", account="customer:1", session_ref="x")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("cardwise.test").exception("failed")
    finally:
        for h in [h for h in root.handlers if h not in before]:
            root.removeHandler(h)
            h.close()
    docs = [json.loads(x) for f in settings.log_dir.glob("*.jsonl") for x in f.read_text().splitlines()]
    loggers = ("cardwise.access", "cardwise.sec", "cardwise.session", "cardwise.test")
    ours = [d for d in docs if d.get("log", {}).get("logger", "").startswith(loggers)]
    fields = set().union(*(_leaves(d) for d in ours))
    assert {"event.duration", "http.response.status_code", "user.id", "source.ip", "error.stack_trace"} <= fields
    mappings = index_template()["template"]["mappings"]
    assert sorted(f for f in fields if not _mapped(mappings, f)) == []


def test_deploy_files_match_the_package() -> None:
    packaged = index_template()
    deployed = json.loads((ROOT / "deploy/opensearch/index-template.json").read_text())
    assert deployed == packaged
    conf = (ROOT / "deploy/logstash/cardwise.conf").read_text()
    assert "/data/logs/*.jsonl" in conf and "codec => json" in conf and "cardwise-logs-%{+YYYY.MM.dd}" in conf
