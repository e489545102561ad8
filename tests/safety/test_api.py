"""The authorization service and card controls over real HTTP (TestClient) on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardwise.db.models import Card
from cardwise.notify.models import OutboxMessage
from cardwise.safety import service
from cardwise.safety.models import Authorization, CardEvent, CardPause
from cardwise.safety.rules import SEOUL
from tests.safety.conftest import LoadedDb, merchant_in, new_key

NOON = datetime(2023, 11, 3, 12, 0, tzinfo=SEOUL)  # a Friday


def auth(
    client: TestClient,
    token: str,
    merchant: int,
    *,
    amount: int = 12_000,
    at: datetime = NOON,
    channel: str = "offline",
    key: str | None = None,
    **extra: object,
) -> dict:
    body = {
        "card_token": token,
        "amount_krw": amount,
        "merchant_id": merchant,
        "timestamp": at.isoformat(),
        "channel": channel,
        **extra,
    }
    r = client.post("/v1/authorizations", json=body, headers={"Idempotency-Key": key or new_key()})
    assert r.status_code == 200, r.text
    return r.json()


def count(db: LoadedDb, model: type, *where: object) -> int:
    with Session(db.engine) as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def test_card_without_rules_is_approved(client: TestClient, db: LoadedDb, card: tuple[int, str, int]) -> None:
    out = auth(client, card[1], merchant_in(db, category="CAFE", province="11"))
    assert out["decision"] == "APPROVED" and out["reasons"] == [] and len(out["card_last4"]) == 4
    assert count(db, Authorization, Authorization.card_id == card[0]) == 1


def test_same_key_same_answer_one_record(client: TestClient, db: LoadedDb, card: tuple[int, str, int]) -> None:
    m, key = merchant_in(db, category="CAFE", province="11"), new_key()
    first = auth(client, card[1], m, key=key)
    again = auth(client, card[1], m, key=key)
    assert again["authorization_id"] == first["authorization_id"] and again["replayed"] and not first["replayed"]
    assert count(db, Authorization, Authorization.idempotency_key == key) == 1
    other = client.post(
        "/v1/authorizations",
        headers={"Idempotency-Key": key},
        json={
            "card_token": card[1],
            "amount_krw": 99_000,
            "merchant_id": m,
            "timestamp": NOON.isoformat(),
            "channel": "offline",
        },
    )
    assert other.status_code == 409 and "different request" in other.json()["detail"]


def test_concurrent_retries_create_one_record(db: LoadedDb, card: tuple[int, str, int]) -> None:
    m, key = merchant_in(db, category="KOREAN", province="11"), new_key()
    req = service.AuthorizationRequest(
        idempotency_key=key, card_token=card[1], amount_krw=30_000, merchant_id=m, at=NOON, channel="offline"
    )

    def attempt(_: int) -> int:
        with Session(db.engine) as s:
            result = service.authorize(s, req)
            s.commit()
            return result.authorization_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(attempt, range(16)))
    assert len(ids) == 1
    assert count(db, Authorization, Authorization.idempotency_key == key) == 1


def test_rules_decline_with_reasons_and_queue_a_message(
    client: TestClient, db: LoadedDb, card: tuple[int, str, int]
) -> None:
    card_id, token, customer = card
    r = client.put(
        f"/v1/cards/{card_id}/controls",
        json={
            "allowed_regions": ["11"],
            "blocked_categories": ["JEWELRY"],
            "max_amount_krw": 500_000,
            "blocked_windows": [{"days": [4], "start": "22:00", "end": "06:00"}],
            "block_overseas": True,
        },
    )
    assert r.status_code == 200, r.text
    assert client.get(f"/v1/cards/{card_id}/controls").json()["blocked_categories"] == ["JEWELRY"]
    jewelry_busan = merchant_in(db, category="JEWELRY", province="26")
    out = auth(client, token, jewelry_busan, amount=900_000)
    assert out["decision"] == "DECLINED"
    assert [x["code"] for x in out["reasons"]] == ["REGION_NOT_ALLOWED", "CATEGORY_BLOCKED", "AMOUNT_OVER_LIMIT"]
    with Session(db.engine) as s:
        msg = s.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"auth-declined:{out['authorization_id']}")
        ).scalar_one()
    assert msg.customer_id == customer and "거절" in msg.body and "900,000원" in msg.body
    # Friday 23:30 in Seoul is inside the window that crosses midnight; Saturday 06:30 is not.
    seoul_cafe = merchant_in(db, category="CAFE", province="11")
    late = auth(client, token, seoul_cafe, at=datetime(2023, 11, 3, 23, 30, tzinfo=SEOUL))
    assert [x["code"] for x in late["reasons"]] == ["TIME_BLOCKED"]
    assert auth(client, token, seoul_cafe, at=datetime(2023, 11, 4, 6, 30, tzinfo=SEOUL))["approved"]
    # The same instant given in UTC is judged in Seoul time.
    assert not auth(client, token, seoul_cafe, at=datetime(2023, 11, 3, 14, 30, tzinfo=UTC))["approved"]


def test_pause_suspends_rules_but_a_lost_report_locks(
    client: TestClient, db: LoadedDb, card: tuple[int, str, int]
) -> None:
    card_id, token, _ = card
    client.put(f"/v1/cards/{card_id}/controls", json={"blocked_categories": ["CAFE"]})
    cafe = merchant_in(db, category="CAFE", province="11")
    now = datetime.now(UTC)
    assert not auth(client, token, cafe, at=now)["approved"]
    r = client.post(
        f"/v1/cards/{card_id}/pauses",
        json={"starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()},
    )
    assert r.status_code == 201 and r.json()["status"] == "active"
    assert auth(client, token, cafe, at=now)["approved"]
    assert not auth(client, token, cafe, at=now + timedelta(hours=3))["approved"]  # after the pause
    report = client.post(f"/v1/cards/{card_id}/lost-report", json={"kind": "stolen"})
    assert report.status_code == 201
    locked = auth(client, token, cafe, at=now)
    assert [x["code"] for x in locked["reasons"]] == ["CARD_LOCKED"]
    # The back office closes the report and reissues: the old card is closed, the new one keeps the rules.
    listed = client.get("/v1/backoffice/lost-reports", params={"status": "open"}).json()
    assert report.json()["report_id"] in [x["report_id"] for x in listed]
    closed = client.post(f"/v1/backoffice/lost-reports/{report.json()['report_id']}/close", json={"reissue": True})
    assert closed.status_code == 200 and closed.json()["resolution"] == "reissued"
    new_id = closed.json()["replacement_card_id"]
    assert client.get(f"/v1/cards/{new_id}/controls").json()["blocked_categories"] == ["CAFE"]
    with Session(db.engine) as s:
        new_card = s.get(Card, new_id)
        assert new_card is not None and new_card.token != token and not new_card.locked
        kinds = [e.kind for e in s.execute(select(CardEvent).where(CardEvent.card_id == card_id)).scalars()]
    assert {"controls_changed", "pause_scheduled", "pause_started", "locked", "reissued"} <= set(kinds)
    assert [x["code"] for x in auth(client, token, cafe, at=now)["reasons"]][:1] == ["CARD_LOCKED"]


def test_found_card_is_unlocked(client: TestClient, db: LoadedDb, card: tuple[int, str, int]) -> None:
    card_id, token, _ = card
    rid = client.post(f"/v1/cards/{card_id}/lost-report", json={"kind": "lost"}).json()["report_id"]
    again = client.post(f"/v1/cards/{card_id}/lost-report", json={"kind": "lost"}).json()["report_id"]
    assert again == rid  # one open report per card
    client.post(f"/v1/backoffice/lost-reports/{rid}/close", json={"reissue": False})
    assert auth(client, token, merchant_in(db, category="CAFE", province="11"))["approved"]
    assert client.post(f"/v1/backoffice/lost-reports/{rid}/close", json={"reissue": False}).status_code == 409


def test_scheduler_switches_pauses_and_records_it(db: LoadedDb, card: tuple[int, str, int]) -> None:
    card_id = card[0]
    now = datetime.now(UTC)
    with Session(db.engine) as s:
        pause = service.create_pause(
            s, card_id=card_id, starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(minutes=65), now=now
        )
        s.commit()
        assert pause.status == "scheduled"
        assert service.switch_pauses(s, now=now + timedelta(minutes=6)) == [(pause.pause_id, "active")]
        assert service.switch_pauses(s, now=now + timedelta(minutes=7)) == []
        assert service.switch_pauses(s, now=now + timedelta(minutes=66)) == [(pause.pause_id, "ended")]
        s.commit()
        keys = set(
            s.execute(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(f"pause-%:{pause.pause_id}"))
            ).scalars()
        )
        assert keys == {f"pause-active:{pause.pause_id}", f"pause-ended:{pause.pause_id}"}
        assert s.get(CardPause, pause.pause_id).status == "ended"  # type: ignore[union-attr]


def test_bad_input_is_rejected_and_nothing_written(
    client: TestClient, db: LoadedDb, card: tuple[int, str, int]
) -> None:
    card_id, token, _ = card
    m = merchant_in(db, category="CAFE", province="11")
    before = count(db, Authorization)
    good = {
        "card_token": token,
        "amount_krw": 1000,
        "merchant_id": m,
        "timestamp": NOON.isoformat(),
        "channel": "offline",
    }
    cases = [
        ({**good, "card_token": "f" * 32}, 404, "unknown card"),
        ({**good, "merchant_id": 10**9}, 404, "merchant"),
        ({**good, "amount_krw": -5}, 422, "greater than 0"),
        ({**good, "amount_krw": "lots"}, 422, "integer"),
        ({**good, "timestamp": "2023-11-03T12:00:00"}, 422, "timezone"),
        ({**good, "channel": "telepathy"}, 422, "offline"),
        ({**good, "surprise": 1}, 422, "Extra inputs"),
    ]
    for body, status, text in cases:
        r = client.post("/v1/authorizations", json=body, headers={"Idempotency-Key": new_key()})
        assert r.status_code == status, (body, r.text)
        assert text.lower() in r.text.lower()
    no_key = client.post("/v1/authorizations", json=good)
    assert no_key.status_code == 422 and "idempotency key" in no_key.json()["detail"]
    assert count(db, Authorization) == before
    for controls, text in [
        ({"blocked_categories": ["NOPE"]}, "unknown category codes: NOPE"),
        ({"allowed_regions": ["99"]}, "unknown region codes: 99"),
        ({"blocked_windows": [{"days": [9], "start": "22:00", "end": "06:00"}]}, "days are 0"),
        ({"blocked_windows": [{"days": [1], "start": "25:00", "end": "06:00"}]}, "HH:MM"),
    ]:
        r = client.put(f"/v1/cards/{card_id}/controls", json=controls)
        assert r.status_code == 422 and text in r.text, r.text
    assert client.get("/v1/cards/999999999/controls").status_code == 404
    bad_pause = client.post(
        f"/v1/cards/{card_id}/pauses",
        json={"starts_at": NOON.isoformat(), "ends_at": (NOON - timedelta(hours=1)).isoformat()},
    )
    assert bad_pause.status_code == 422


def test_merchant_search(client: TestClient, db: LoadedDb) -> None:
    by_cat = client.get("/v1/merchants/search", params={"category": "CAFE", "region": "11", "limit": 5}).json()
    assert 0 < len(by_cat) <= 5 and all(m["category_code"] == "CAFE" for m in by_cat)
    assert all(m["region_code"].startswith("11") for m in by_cat)
    name_part = by_cat[0]["name"][:2]
    by_name = client.get("/v1/merchants/search", params={"q": name_part}).json()
    assert by_name and all(name_part in m["name"] for m in by_name)
    near = client.get("/v1/merchants/search", params={"lat": 37.5172, "lon": 127.0473, "radius_km": 2}).json()
    assert near and all(m["distance_km"] <= 2 for m in near)
    assert [m["distance_km"] for m in near] == sorted(m["distance_km"] for m in near)
    assert client.get("/v1/merchants/search", params={"category": "NOPE"}).status_code == 422
    assert client.get("/v1/merchants/search", params={"radius_km": 3}).status_code == 422
