"""POST /v1/events and /v1/voc/transcripts: validation per event, size limits, masking, then the lake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardwise.api import create_app
from cardwise.db.models import Customer
from cardwise.ingest.exporter import export_once
from cardwise.lake.store import connect
from tests.auth_helpers import as_staff
from tests.ingest.conftest import IngestEnv


@pytest.fixture
def client(env: IngestEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings), headers=as_staff("ingest")) as c:
        yield c


def event(i: int, **over: object) -> dict[str, object]:
    return {
        "customer_id": None,
        "ts": f"2023-11-03T12:00:{i % 60:02d}+09:00",
        "event_type": "page_view",
        "page": "/cards",
        "session_id": f"s{i}",
        "cookie_id": "c1",
        "device": "web",
        "ip": "192.0.2.10",
        **over,
    }


def test_a_malformed_event_is_rejected_alone_and_the_rest_reach_the_lake(client: TestClient, env: IngestEnv) -> None:
    batch = [event(i) for i in range(5)]
    batch[2] = event(2, event_type="teleport")
    batch[4] = event(4, ip="not-an-ip", extra="x")
    r = client.post("/v1/events", json={"events": batch})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 3
    assert [x["index"] for x in body["rejected"]] == [2, 4]
    assert any("event_type" in e for e in body["rejected"][0]["errors"])
    assert any("ip" in e for e in body["rejected"][1]["errors"]) and any(
        "extra" in e for e in body["rejected"][1]["errors"]
    )
    export_once(env.engine, env.settings.lake_dir, lag=timedelta(0))
    con = connect(env.settings.lake_dir)
    rows = con.execute("SELECT client_ts, received_at FROM event_log ORDER BY event_id").fetchall()
    con.close()
    assert len(rows) == 3
    assert str(rows[0][0]) == "2023-11-03 12:00:00" and rows[0][1] > rows[0][0]  # Seoul wall-clock times


def test_limits_and_shapes(client: TestClient) -> None:
    assert client.post("/v1/events", json={"events": [event(i) for i in range(1_001)]}).status_code == 413
    huge = json.dumps({"events": [event(0, page="/" + "a" * 150)] * 900})
    assert len(huge) < 1_048_576  # within the byte limit: accepted
    assert client.post("/v1/events", content=huge, headers={"content-type": "application/json"}).status_code == 200
    big = json.dumps({"events": [], "padding": "x" * 1_100_000})
    assert client.post("/v1/events", content=big, headers={"content-type": "application/json"}).status_code == 413
    assert client.post("/v1/events", json={"events": [event(0, device="fax")]}).status_code == 422
    assert client.post("/v1/events", json=[event(0)]).status_code == 422
    r = client.post("/v1/events", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not JSON" in r.json()["detail"]


def test_transcripts_are_masked_before_storage(client: TestClient, env: IngestEnv) -> None:
    with env.engine.connect() as conn:
        cid = conn.execute(select(Customer.customer_id).limit(1)).scalar_one()
    text = "고객: 제 번호는 010-1234-5678 이고 카드번호는 4111 1111 1111 1111 입니다."
    r = client.post(
        "/v1/voc/transcripts",
        json={"customer_id": cid, "started_at": "2023-11-03T10:00:00+09:00", "channel": "phone", "text": text},
    )
    assert r.status_code == 201, r.text
    assert r.json()["masked"] is True
    assert (
        client.post(
            "/v1/voc/transcripts",
            json={
                "customer_id": 99_999_999,
                "started_at": "2023-11-03T10:00:00+09:00",
                "channel": "phone",
                "text": "x",
            },
        ).status_code
        == 404
    )
    assert (
        client.post("/v1/voc/transcripts", json={"customer_id": cid, "channel": "phone", "text": "x"}).status_code
        == 422
    )
    export_once(env.engine, env.settings.lake_dir, lag=timedelta(0))
    con = connect(env.settings.lake_dir)
    stored = con.execute("SELECT text FROM transcript_log").fetchall()[0][0]
    con.close()
    assert "1234-5678" not in stored and "4111 1111" not in stored and "1111 1111 1111" not in stored
