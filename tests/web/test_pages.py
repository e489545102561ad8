"""The pages over HTTP without a browser (TestClient), on SQLite and PostgreSQL: sign-in, ownership,
CSRF, form errors shown on the form, the lost-report confirmation step, masking, HTML vs JSON errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.models import Card
from cardwise.notify.models import OutboxMessage
from cardwise.safety.models import CardControl
from tests.auth_helpers import create_user
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, loaded_database
from tests.web.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class PagesDb:
    engine: Engine
    settings: Settings
    customer: int
    other_card: int  # a card of another customer

    def cards(self) -> list[Card]:
        with Session(self.engine) as s:
            return list(
                s.scalars(
                    select(Card)
                    .where(Card.customer_id == self.customer, Card.closed_on.is_(None))
                    .order_by(Card.card_id)
                )
            )


@pytest.fixture(scope="module", params=DB_PARAMS)
def pages_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, small_lake: Path
) -> Iterator[PagesDb]:
    with ExitStack() as stack:
        url, engine = loaded_database(request.param, tmp_path_factory.mktemp("pages"), small_lake, stack)
        with Session(engine) as s:
            owners = list(
                s.scalars(
                    select(Card.customer_id)
                    .where(Card.closed_on.is_(None))
                    .group_by(Card.customer_id)
                    .having(func.count() >= 2)
                    .order_by(Card.customer_id)
                    .limit(2)
                )
            )
            other_card = s.scalar(select(Card.card_id).where(Card.customer_id == owners[1]).limit(1))
        create_user(engine, "page.customer", PASSWORD, ["customer"], customer_id=owners[0])
        create_user(engine, "page.agent", PASSWORD, ["agent"])
        settings = Settings(
            environment="test",
            database_url=url,
            data_dir=tmp_path_factory.mktemp("pagesvar"),
            pan_hmac_key=TEST_PAN_KEY,
            scheduler_enabled=False,
        )
        yield PagesDb(engine=engine, settings=settings, customer=owners[0], other_card=int(other_card or 0))


def _client(db: PagesDb) -> TestClient:
    return TestClient(create_app(db.settings), base_url="https://testserver")


def _signed_in(db: PagesDb, username: str = "page.customer") -> TestClient:
    client = _client(db)
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD, "next": "/home"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    assert "cardwise_session=" in r.headers["set-cookie"]
    return client


def _csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def test_sign_in_lands_on_my_cards_and_shows_only_last_four(pages_db: PagesDb) -> None:
    client = _signed_in(pages_db)
    r = client.get("/home", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my/cards"
    page = client.get("/my/cards")
    assert page.status_code == 200 and '<html lang="ko">' in page.text
    for card in pages_db.cards():
        assert f"•••• {card.last4}" in page.text
        assert card.token not in page.text
    assert not re.search(r"(?<![\d.])\d{15,16}(?![\d.])", page.text)  # nothing that looks like a card number


def test_wrong_password_shows_the_form_with_the_message(pages_db: PagesDb) -> None:
    r = _client(pages_db).post("/login", data={"username": "page.customer", "password": "nope nope nope"})
    assert r.status_code == 401
    assert 'role="alert"' in r.text and "아이디 또는 비밀번호가 맞지 않거나" in r.text
    assert 'value="page.customer"' in r.text


def test_next_cannot_leave_the_site(pages_db: PagesDb) -> None:
    r = _client(pages_db).post(
        "/login",
        data={"username": "page.customer", "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/home"


def test_another_customers_card_is_not_found(pages_db: PagesDb) -> None:
    client = _signed_in(pages_db)
    r = client.get(f"/my/cards/{pages_db.other_card}")
    assert r.status_code == 404 and "페이지를 찾을 수 없습니다" in r.text and "<h1>" in r.text
    assert client.get("/my/cards/0").status_code == 422  # malformed id: the HTML error page, not JSON
    assert "text/html" in client.get("/my/cards/0").headers["content-type"]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(pages_db: PagesDb) -> None:
    client = _signed_in(pages_db)
    card = pages_db.cards()[0]
    r = client.post(f"/my/cards/{card.card_id}/categories", data={"category": "BAR"})
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]
    with Session(pages_db.engine) as s:
        row = s.get(CardControl, card.card_id)
        assert row is None or "BAR" not in row.blocked_categories


def test_bad_input_shows_the_form_again(pages_db: PagesDb) -> None:
    client = _signed_in(pages_db)
    card = pages_db.cards()[0]
    token = _csrf(client, f"/my/cards/{card.card_id}/categories")
    r = client.post(f"/my/cards/{card.card_id}/categories", data={"csrf_token": token, "category": "NOT_A_CATEGORY"})
    assert r.status_code == 422 and "알 수 없는 업종입니다." in r.text and "<form" in r.text
    r = client.post(
        f"/my/cards/{card.card_id}/times", data={"csrf_token": token, "day": "4", "start": "25:00", "end": "06:00"}
    )
    assert r.status_code == 422 and "HH:MM" in r.text
    r = client.post(f"/my/cards/{card.card_id}/pause", data={"csrf_token": token, "starts": "soon", "ends": "later"})
    assert r.status_code == 422 and "날짜와 시각" in r.text
    r = client.post(f"/my/cards/{card.card_id}/regions", data={"csrf_token": token, "scope": "only", "region": "99"})
    assert r.status_code == 422 and "알 수 없는 지역입니다." in r.text
    with Session(pages_db.engine) as s:
        assert s.get(CardControl, card.card_id) is None  # none of it was stored


def test_rules_saved_on_the_pages_are_the_cards_controls(pages_db: PagesDb) -> None:
    client = _signed_in(pages_db)
    card = pages_db.cards()[0]
    token = _csrf(client, f"/my/cards/{card.card_id}")
    r = client.post(
        f"/my/cards/{card.card_id}/regions",
        data={"csrf_token": token, "scope": "only", "region": ["11680", "26"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.post(
        f"/my/cards/{card.card_id}/times",
        data={"csrf_token": token, "day": ["4", "5"], "start": "22:00", "end": "06:00"},
    )
    client.post(f"/my/cards/{card.card_id}/categories", data={"csrf_token": token, "category": ["BAR", "KARAOKE"]})
    with Session(pages_db.engine) as s:
        row = s.get(CardControl, card.card_id)
        assert row is not None
        assert row.allowed_regions == ["11680", "26"]
        assert row.blocked_windows == [{"days": [4, 5], "start": "22:00", "end": "06:00"}]
        assert row.blocked_categories == ["BAR", "KARAOKE"]
    page = client.get(f"/my/cards/{card.card_id}?lang=en").text
    assert "Gangnam-gu" in page and "Fri, Sat 22:00–06:00" in page


def test_lost_report_needs_the_confirmation(pages_db: PagesDb) -> None:
    client = _signed_in(pages_db)
    card = pages_db.cards()[-1]
    token = _csrf(client, f"/my/cards/{card.card_id}/lost")
    r = client.post(f"/my/cards/{card.card_id}/lost", data={"csrf_token": token, "kind": "stolen"})
    assert r.status_code == 200 and "지금 카드를 정지할까요?" in r.text
    with Session(pages_db.engine) as s:
        stored = s.get(Card, card.card_id)
        assert stored is not None and stored.locked is False
    r = client.post(f"/my/cards/{card.card_id}/lost", data={"csrf_token": token, "kind": "stolen", "confirm": "yes"})
    assert r.status_code == 200 and "신고가 접수되었습니다" in r.text
    with Session(pages_db.engine) as s:
        stored = s.get(Card, card.card_id)
        assert stored is not None and stored.locked is True
        kinds = set(s.scalars(select(OutboxMessage.kind).where(OutboxMessage.customer_id == pages_db.customer)))
        assert "card_locked" in kinds


def test_staff_cannot_open_customer_pages_and_visitors_go_to_login(pages_db: PagesDb) -> None:
    r = _signed_in(pages_db, "page.agent").get("/my/cards")
    assert r.status_code == 403 and "이 화면을 볼 권한이 없습니다" in r.text
    r = _client(pages_db).get("/my/alerts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/my/alerts"


def test_report_without_a_run_says_so(pages_db: PagesDb) -> None:
    r = _signed_in(pages_db).get("/my/report")
    assert r.status_code == 200 and "리포트가 아직 준비되지 않았습니다" in r.text


def test_the_api_keeps_its_json_errors(pages_db: PagesDb) -> None:
    client = _client(pages_db)
    r = client.get("/v1/cards/1/controls")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/json")
    r = client.get("/v1/nothing-here", headers={"accept": "text/html"})
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}


def test_logout_ends_the_session(pages_db: PagesDb) -> None:
    client = _signed_in(pages_db)
    token = _csrf(client, "/my/cards")
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/my/cards", follow_redirects=False).status_code == 303
