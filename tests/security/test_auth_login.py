"""Signing in over HTTP and in the service: lockout with backoff, refresh rotation and reuse detection,
logout, disabled users, service users; on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cardwise.db.types import utcnow
from cardwise.security import auth, users
from cardwise.security.users import AuthSession, LoginAttempt, User
from tests.auth_helpers import bearer
from tests.security.auth_fixtures import PASSWORD, AuthDb, event_count, login


def _token(client: TestClient, username: str, password: str) -> int:
    return client.post("/v1/auth/token", data={"username": username, "password": password}).status_code


def test_login_gives_a_working_access_token_and_a_refresh_token(auth_client: TestClient, auth_db: AuthDb) -> None:
    client = auth_client
    name, cid = auth_db.customer_user()
    before = event_count("login_succeeded", "success")
    body = login(client, name.upper())  # usernames are case-insensitive
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60 and body["refresh_token"]
    me = client.get("/v1/auth/me", headers=bearer(str(body["access_token"]))).json()
    assert me["customer_id"] == cid and me["roles"] == ["customer"] and me["via"] == "bearer"
    assert "cards.own" in me["permissions"] and "cards.read" not in me["permissions"] and me["lake_tables"] == []
    assert event_count("login_succeeded", "success") == before + 1


def test_every_failure_has_the_same_answer_and_is_recorded(auth_client: TestClient, auth_db: AuthDb) -> None:
    client = auth_client
    name = auth_db.user("agent")
    wrong = client.post("/v1/auth/token", data={"username": name, "password": "wrong password 1"})
    unknown = client.post("/v1/auth/token", data={"username": "nobody-here", "password": "wrong password 1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() and "잠" in wrong.json()["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert client.post("/v1/auth/token", data={"username": name}).status_code == 422  # no password: a 422
    with Session(auth_db.engine) as s:
        reasons = s.scalars(
            select(LoginAttempt.reason)
            .where(LoginAttempt.username.in_([name, "nobody-here"]))
            .order_by(LoginAttempt.at)
        ).all()
    assert sorted(reasons) == ["bad_password", "unknown_user"]
    # A card number typed as the username is not stored (nor logged) in clear.
    assert _token(client, "4111111111111111", "wrong password 1") == 401
    with Session(auth_db.engine) as s:
        stored = s.scalars(select(LoginAttempt.username).where(LoginAttempt.username.like("%1111"))).all()
    assert stored and all("41111111" not in u for u in stored)


def test_unknown_users_take_about_as_long_as_known_ones(auth_client: TestClient, auth_db: AuthDb) -> None:
    """Timing must not tell which usernames exist: an unknown user spends a dummy argon2 verification."""
    client = auth_client
    name = auth_db.user("agent")

    def took(username: str) -> float:
        t = time.perf_counter()
        assert _token(client, username, "wrong password 1") == 401
        return time.perf_counter() - t

    took("warm-up-unknown")  # the dummy hash is made once per process
    known = sorted(took(name) for _ in range(2))[0]
    unknown = sorted(took(f"ghost{i}") for i in range(2))[0]
    # Without the dummy hash an unknown user answered in ~2 ms against ~150 ms; allow for a busy machine.
    assert unknown > 0.4 * known, (known, unknown)
    with Session(auth_db.engine) as s:  # two wrong passwords did not lock (threshold is 3 here)
        s.execute(update(User).where(User.username == name).values(failed_count=0))
        s.commit()


def test_lockout_backs_off_exponentially_and_is_capped(auth_db: AuthDb) -> None:
    settings = auth_db.settings  # threshold 3, 60 s doubling, capped at 600 s
    name = auth_db.user("agent")
    t0 = utcnow()

    def attempt(password: str, at: timedelta) -> bool:
        with Session(auth_db.engine) as s:
            try:
                auth.authenticate(s, settings, username=name, password=password, client_ip="10.0.0.9", now=t0 + at)
                ok = True
            except auth.LoginFailed:
                ok = False
            s.commit()
        return ok

    def locked_for(at: timedelta) -> float:
        with Session(auth_db.engine) as s:
            until = s.scalar(select(User.locked_until).where(User.username == name))
        return 0.0 if until is None else (until - (t0 + at)).total_seconds()

    locks_before = event_count("account_locked")
    for i in range(2):
        assert not attempt("wrong password 1", timedelta(seconds=i))
    assert locked_for(timedelta(seconds=1)) <= 0
    assert not attempt("wrong password 1", timedelta(seconds=2))
    assert locked_for(timedelta(seconds=2)) == 60
    assert event_count("account_locked") == locks_before + 1
    assert not attempt(PASSWORD, timedelta(seconds=30))  # locked: the right password fails too
    assert not attempt("wrong password 1", timedelta(seconds=63))  # 4th failure: 120 s
    assert locked_for(timedelta(seconds=63)) == 120
    at = timedelta(seconds=63)
    expected = [240, 480, 600, 600]  # doubling, then the cap
    for seconds in expected:
        at += timedelta(seconds=locked_for(at) + 1)
        assert not attempt("wrong password 1", at)
        assert locked_for(at) == seconds
    at += timedelta(seconds=601)
    assert attempt(PASSWORD, at)  # the lock has run out: the right password works and resets the count
    with Session(auth_db.engine) as s:
        user = s.scalar(select(User).where(User.username == name))
        assert user is not None and user.failed_count == 0 and user.locked_until is None
        reasons = s.scalars(select(LoginAttempt.reason).where(LoginAttempt.username == name)).all()
    assert reasons.count("locked") == 1 and reasons.count("ok") == 1 and reasons.count("bad_password") == 8


def test_lockout_over_http_and_unlock(auth_client: TestClient, auth_db: AuthDb) -> None:
    client = auth_client
    name = auth_db.user("auditor")
    for _ in range(3):
        assert _token(client, name, "wrong password 1") == 401
    assert _token(client, name, PASSWORD) == 401  # locked
    with Session(auth_db.engine) as s:
        users.unlock(s, username=name)
        s.commit()
    assert _token(client, name, PASSWORD) == 200


def test_service_users_are_not_locked_and_get_no_refresh_token(auth_client: TestClient, auth_db: AuthDb) -> None:
    """An attacker must not be able to lock the payment switch out by guessing its password."""
    client = auth_client
    name = auth_db.user("switch", prefix="switch")
    for _ in range(5):
        assert _token(client, name, "wrong password 1") == 401
    body = login(client, name)
    assert "refresh_token" not in body
    me = client.get("/v1/auth/me", headers=bearer(str(body["access_token"]))).json()
    assert me["permissions"] == ["anomaly.score", "authorizations.decide"]


def test_refresh_rotates_and_a_reused_token_ends_the_sign_in(auth_client: TestClient, auth_db: AuthDb) -> None:
    client = auth_client
    name = auth_db.user("analyst")
    first = login(client, name)
    r = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    reuse_before = event_count("token_invalid")
    # The first token again (a thief replaying it, or the owner after a theft): refused, and the whole
    # sign-in ends, so the token handed out by the rotation stops working as well.
    assert client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert event_count("token_invalid") >= reuse_before + 2
    with Session(auth_db.engine) as s:
        reasons = s.scalars(
            select(AuthSession.revoked_reason)
            .join(User, User.user_id == AuthSession.user_id)
            .where(User.username == name)
        ).all()
        stored = s.scalar(
            select(func.count())
            .select_from(auth.RefreshToken)
            .where(auth.RefreshToken.token_hash == first["refresh_token"])
        )
    assert reasons == ["refresh_reuse"]
    assert stored == 0  # only digests are stored
    assert client.post("/v1/auth/refresh", json={"refresh_token": "x" * 43}).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": "short"}).status_code == 422


def test_logout_ends_refresh_and_password_change_ends_every_session(auth_client: TestClient, auth_db: AuthDb) -> None:
    client = auth_client
    name = auth_db.user("agent")
    a, b = login(client, name), login(client, name)
    assert client.post("/v1/auth/logout", headers=bearer(str(a["access_token"]))).status_code == 204
    assert client.post("/v1/auth/refresh", json={"refresh_token": a["refresh_token"]}).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": b["refresh_token"]}).status_code == 200
    assert client.post("/v1/auth/logout").status_code == 401
    with Session(auth_db.engine) as s:
        users.set_password(s, username=name, password="a new long password 2")
        s.commit()
    assert client.post("/v1/auth/refresh", json={"refresh_token": b["refresh_token"]}).status_code == 401
    assert _token(client, name, PASSWORD) == 401 and _token(client, name, "a new long password 2") == 200


def test_a_disabled_user_can_neither_sign_in_nor_refresh(auth_client: TestClient, auth_db: AuthDb) -> None:
    client = auth_client
    name = auth_db.user("agent")
    pair = login(client, name)
    with Session(auth_db.engine) as s:
        users.set_active(s, username=name, active=False)
        s.commit()
    assert _token(client, name, PASSWORD) == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_user_rules(auth_db: AuthDb) -> None:
    from cardwise.core.errors import Conflict, Invalid, NotFound

    cid = auth_db.fresh_customer()
    with Session(auth_db.engine) as s:
        for kwargs, error in [
            ({"roles": ["agent"], "password": "short"}, Invalid),
            ({"roles": ["agent"], "password": "has-bob7-in-it-long"}, Invalid),  # contains the username
            ({"roles": ["wizard"]}, Invalid),
            ({"roles": ["customer"]}, Invalid),  # a customer role needs a customer id
            ({"roles": ["agent"], "customer_id": cid}, Invalid),
            ({"roles": ["customer", "agent"], "customer_id": cid}, Invalid),
            ({"roles": ["customer"], "customer_id": 10**15}, NotFound),
            ({"roles": ["agent"], "username": "4111111111111111"}, Invalid),  # usernames are logged
            ({"roles": ["agent"], "username": "kim@example.com"}, Invalid),
        ]:
            args = {"username": "bob7", "password": PASSWORD, **kwargs}
            with pytest.raises(error):
                users.create_user(s, **args)  # type: ignore[arg-type]
        with pytest.raises(Invalid):
            users.create_user(s, username="x", password=PASSWORD, roles=["agent"])
        users.create_user(s, username=f"bob-{cid}", password=PASSWORD, roles=["customer"], customer_id=cid)
        with pytest.raises(Conflict):
            users.create_user(s, username=f"BOB-{cid}", password=PASSWORD, roles=["agent"])
        with pytest.raises(Conflict):
            users.create_user(s, username=f"bob2-{cid}", password=PASSWORD, roles=["customer"], customer_id=cid)
        stored = s.scalar(select(User.password_hash).where(User.username == f"bob-{cid}"))
        assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
        s.rollback()
