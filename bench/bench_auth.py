"""Credentials for the HTTP benchmarks: a bench user in the benchmark's database, signed in over HTTP
(``POST /v1/auth/token``) like any client. Access tokens last ``CARDWISE_ACCESS_TOKEN_MINUTES`` (15 by
default), far longer than any of these runs."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.db.engine import make_engine
from cardwise.security.users import User, create_user, set_password


def bench_headers(database_url: str, base_url: str, role: str) -> dict[str, str]:
    """``Authorization`` header of a ``bench-<role>`` user (``switch`` for authorizations, ``agent`` for
    customer reads, ``ingest`` for events and transcripts), created or given a new password first."""
    username, password = f"bench-{role}", secrets.token_urlsafe(18)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            if session.scalar(select(User.user_id).where(User.username == username)) is None:
                create_user(session, username=username, password=password, roles=[role])
            else:
                set_password(session, username=username, password=password)
            session.commit()
    finally:
        engine.dispose()
    r = httpx.post(f"{base_url}/v1/auth/token", data={"username": username, "password": password}, timeout=30)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
