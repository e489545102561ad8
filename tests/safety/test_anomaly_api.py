"""POST /v1/anomaly over HTTP with a model trained on the small lake."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from cardwise.api import create_app
from cardwise.lake.store import connect
from cardwise.safety.anomaly import save, train
from cardwise.safety.rules import SEOUL
from tests.auth_helpers import as_staff
from tests.safety.conftest import LoadedDb

SWITCH = as_staff("switch")


@pytest.fixture(scope="module")
def trained(small_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("anomaly-data")
    con = connect(small_lake)
    try:
        save(train(con, start=date(2022, 10, 1), end=date(2023, 4, 1), seed=1), data_dir / "models")
    finally:
        con.close()
    return data_dir


def _usual(small_lake: Path, customer: int) -> tuple[str, str, int, int]:
    """The customer's most frequent category and region, median amount and most frequent hour."""
    con = connect(small_lake)
    try:
        row = con.execute(
            """SELECT mode(category_code), mode(region_code), median(amount_krw)::BIGINT, mode(hour(ts))
               FROM transactions WHERE customer_id = ? AND NOT is_fraud AND channel = 'offline'""",
            [customer],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return row[0], row[1], int(row[2]), int(row[3])


def _homebody(small_lake: Path) -> int:
    """A customer who never bought jewellery or paid abroad, with plenty of history."""
    con = connect(small_lake)
    try:
        row = con.execute(
            """SELECT customer_id FROM transactions GROUP BY customer_id
               HAVING count(*) FILTER (WHERE category_code = 'JEWELRY' OR channel = 'overseas') = 0
                  AND count(*) > 100
               ORDER BY customer_id LIMIT 1"""
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def test_usual_purchase_is_n_and_unusual_is_y(db: LoadedDb, trained: Path, small_lake: Path) -> None:
    client = TestClient(create_app(db.settings.model_copy(update={"data_dir": trained})), headers=SWITCH)
    customer = _homebody(small_lake)
    with db.engine.connect() as conn:
        token = (
            conn.execute(text("SELECT token FROM cards WHERE customer_id = :c ORDER BY card_id"), {"c": customer})
            .scalars()
            .first()
        )
    card = (0, str(token), customer)
    category, region, amount, hour = _usual(small_lake, customer)
    usual = client.post(
        "/v1/anomaly",
        json={
            "card_token": card[1],
            "category_code": category,
            "region_code": region,
            "amount_krw": amount,
            "timestamp": datetime(2023, 11, 8, hour, 10, tzinfo=SEOUL).isoformat(),
        },
    )
    assert usual.status_code == 200, usual.text
    assert usual.json()["anomaly"] == "N"
    odd = client.post(
        "/v1/anomaly",
        json={
            "card_token": card[1],
            "category_code": "JEWELRY",
            "region_code": "XX",
            "amount_krw": 9_000_000,
            "channel": "overseas",
            "timestamp": datetime(2023, 11, 8, 3, 30, tzinfo=SEOUL).isoformat(),
        },
    )
    assert odd.status_code == 200, odd.text
    body = odd.json()
    assert body["anomaly"] == "Y", (customer, body)
    assert body["score"] > body["threshold"] > usual.json()["score"]
    codes = {r["code"] for r in body["reasons"]}
    assert "UNUSUAL_AMOUNT_Z" in codes and all(r["message_ko"] for r in body["reasons"])
    bad = client.post(
        "/v1/anomaly",
        json={
            "card_token": card[1],
            "category_code": "NOPE",
            "region_code": "11",
            "amount_krw": 1000,
            "timestamp": datetime(2023, 11, 8, 12, tzinfo=SEOUL).isoformat(),
        },
    )
    assert bad.status_code == 422 and "unknown category code" in bad.text
    unknown = client.post(
        "/v1/anomaly",
        json={
            "card_token": "f" * 32,
            "category_code": "CAFE",
            "region_code": "11",
            "amount_krw": 1000,
            "timestamp": datetime(2023, 11, 8, 12, tzinfo=SEOUL).isoformat(),
        },
    )
    assert unknown.status_code == 404


def test_without_a_model_the_answer_says_how_to_train(db: LoadedDb, card: tuple[int, str, int], tmp_path: Path) -> None:
    client = TestClient(create_app(db.settings.model_copy(update={"data_dir": tmp_path})), headers=SWITCH)
    r = client.post(
        "/v1/anomaly",
        json={
            "card_token": card[1],
            "category_code": "CAFE",
            "region_code": "11",
            "amount_krw": 1000,
            "timestamp": datetime(2023, 11, 8, 12, tzinfo=SEOUL).isoformat(),
        },
    )
    assert r.status_code == 503 and "cardwise safety train" in r.json()["detail"]


def test_approved_but_unusual_authorization_alerts_the_customer(db: LoadedDb, trained: Path, small_lake: Path) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from cardwise.notify.models import OutboxMessage
    from tests.safety.conftest import merchant_in, new_key

    customer = _homebody(small_lake)
    with db.engine.connect() as conn:
        token = (
            conn.execute(
                text("SELECT token FROM cards WHERE customer_id = :c AND closed_on IS NULL ORDER BY card_id"),
                {"c": customer},
            )
            .scalars()
            .first()
        )
    category, region, amount, hour = _usual(small_lake, customer)
    with TestClient(create_app(db.settings.model_copy(update={"data_dir": trained})), headers=SWITCH) as client:

        def pay(merchant: int, amount_krw: int, at: datetime, channel: str) -> dict:
            r = client.post(
                "/v1/authorizations",
                headers={"Idempotency-Key": new_key()},
                json={
                    "card_token": token,
                    "amount_krw": amount_krw,
                    "merchant_id": merchant,
                    "timestamp": at.isoformat(),
                    "channel": channel,
                },
            )
            assert r.status_code == 200, r.text
            return r.json()

        usual = pay(
            merchant_in(db, category=category, province=region[:2]),
            amount,
            datetime(2023, 11, 9, hour, 5, tzinfo=SEOUL),
            "offline",
        )
        odd = pay(merchant_in(db, overseas=True), 9_000_000, datetime(2023, 11, 9, 3, 40, tzinfo=SEOUL), "overseas")
    assert usual["approved"] and not usual["anomaly_alert"]
    assert odd["approved"] and odd["anomaly_alert"]
    with Session(db.engine) as s:
        keys = set(
            s.execute(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.in_(
                        [f"anomaly:{usual['authorization_id']}", f"anomaly:{odd['authorization_id']}"]
                    )
                )
            ).scalars()
        )
        alert = s.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"anomaly:{odd['authorization_id']}")
        ).scalar_one()
    assert keys == {f"anomaly:{odd['authorization_id']}"}
    assert alert.kind == "anomaly_alert" and "승인되었습니다" in alert.body and "9,000,000원" in alert.body
