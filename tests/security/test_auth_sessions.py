"""Page sessions: the cookie's attributes, CSRF on unsafe methods, logout, and the page dependency."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.ingest.models import EventInbox
from cardwise.security.principal import PagePrincipal, csrf_input
from tests.auth_helpers import bearer
from tests.security.auth_fixtures import BASE_URL, PASSWORD, AuthDb, login


def _sign_in(client: TestClient, username: str) -> str:
    r = client.post("/v1/auth/session", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def test_the_session_cookie_is_secure_httponly_lax(auth_client: TestClient, auth_db: AuthDb) -> None:
    name, cid = auth_db.customer_user()
    r = auth_client.post("/v1/auth/session", data={"username": name, "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("cardwise_session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/", "Max-Age=28800"):
        assert attribute.lower() in cookie.lower(), attribute
    me = auth_client.get("/v1/auth/me").json()
    assert me["via"] == "cookie" and me["customer_id"] == cid and me["csrf_token"] == r.json()["csrf_token"]
    wrong = auth_client.post("/v1/auth/session", data={"username": name, "password": "wrong password 1"})
    assert wrong.status_code == 401


def test_unsafe_methods_by_cookie_need_the_csrf_token(auth_client: TestClient, auth_db: AuthDb) -> None:
    name, cid = auth_db.customer_user()
    token = _sign_in(auth_client, name)
    body = {"events": [{"ts": "2023-10-01T10:00:00+09:00", "event_type": "page_view", "page": "/cards",
                        "session_id": "s-1", "cookie_id": "c-1", "device": "web", "ip": "10.1.2.3"}]}  # fmt: skip
    assert auth_client.get("/v1/auth/me").status_code == 200  # safe methods need no token
    missing = auth_client.post("/v1/events", json=body)
    assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
    assert auth_client.post("/v1/events", json=body, headers={"X-CSRF-Token": token[:-2] + "xx"}).status_code == 403
    ok = auth_client.post("/v1/events", json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["accepted"] == 1, ok.text
    with Session(auth_db.engine) as s:  # a customer's events are stored as theirs
        assert s.scalars(select(EventInbox.customer_id).where(EventInbox.cookie_id == "c-1")).all() == [cid]
    other = {"events": [{**body["events"][0], "customer_id": cid + 1}]}
    refused = auth_client.post("/v1/events", json=other, headers={"X-CSRF-Token": token})
    assert refused.status_code == 422 and "not the signed-in customer" in refused.text
    # Another session's token does not fit this session.
    other_name, _ = auth_db.customer_user()
    with TestClient(create_app(auth_db.settings), base_url=BASE_URL) as other:
        other_token = _sign_in(other, other_name)
    assert auth_client.post("/v1/events", json=body, headers={"X-CSRF-Token": other_token}).status_code == 403
    # A form post carries it as a field.
    assert auth_client.post("/v1/auth/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert auth_client.post("/v1/auth/logout", data={"csrf_token": token}).status_code == 204
    # Logged out: the cookie is cleared and the session is over even if the old cookie is replayed.
    assert auth_client.get("/v1/auth/me").status_code == 401


def test_a_replayed_cookie_after_logout_is_refused(auth_client: TestClient, auth_db: AuthDb) -> None:
    name = auth_db.user("agent")
    token = _sign_in(auth_client, name)
    cookie = auth_client.cookies["cardwise_session"]
    assert auth_client.post("/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    with TestClient(create_app(auth_db.settings), base_url=BASE_URL) as thief:
        thief.cookies.set("cardwise_session", cookie)
        r = thief.get("/v1/auth/me")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_bearer_calls_need_no_csrf_and_a_cross_site_sign_in_is_refused(
    auth_client: TestClient, auth_db: AuthDb
) -> None:
    name, _ = auth_db.customer_user()
    access = str(login(auth_client, name)["access_token"])
    body = {"events": []}
    assert auth_client.post("/v1/events", json=body, headers=bearer(access)).status_code == 200
    r = auth_client.post(
        "/v1/auth/session",
        data={"username": name, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403 and "set-cookie" not in r.headers
    same = auth_client.post(
        "/v1/auth/session", data={"username": name, "password": PASSWORD}, headers={"Origin": BASE_URL}
    )
    assert same.status_code == 200


def test_the_page_dependency_redirects_visitors_and_renders_the_csrf_field(auth_db: AuthDb) -> None:
    app = create_app(auth_db.settings)

    @app.get("/test-page")
    def page(request: Request, principal: PagePrincipal) -> HTMLResponse:
        return HTMLResponse(f"<form method=post>{csrf_input(request, principal)}</form>")

    @app.post("/test-page")
    def submit(principal: PagePrincipal) -> dict[str, str | None]:
        return {"user": principal.actor_id}

    name = auth_db.user("agent")
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        visitor = client.get("/test-page")
        assert visitor.status_code == 303 and visitor.headers["location"] == "/login?next=/test-page"
        # A bearer token is not a page session.
        assert client.get("/test-page", headers=bearer(str(login(client, name)["access_token"]))).status_code == 303
        token = _sign_in(client, name)
        html = client.get("/test-page").text
        assert f'name="csrf_token" value="{token}"' in html
        assert client.post("/test-page", data={"x": "1"}).status_code == 403
        assert client.post("/test-page", data={"csrf_token": token}).json() == {"user": name}
