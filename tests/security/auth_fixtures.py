"""Fixtures for the identity tests: a loaded database per back end with real users, and an HTTPS client
(the session cookie is ``Secure``, so the client must speak https for the cookie to come back)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.models import Card, Customer
from tests.auth_helpers import create_user
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import DB_PARAMS, loaded_database

PASSWORD = "correct horse battery 9"
BASE_URL = "https://testserver"


@dataclass
class AuthDb:
    url: str
    engine: Engine
    settings: Settings
    customers: list[int]  # customers with at least one open card, in id order
    _names: Iterator[int] = field(default_factory=itertools.count)
    _next_customer: Iterator[int] = field(default_factory=lambda: itertools.count())

    def username(self, prefix: str = "user") -> str:
        return f"{prefix}{next(self._names)}"

    def fresh_customer(self) -> int:
        """A customer no test has used yet and without a user (each has at most one)."""
        from cardwise.security.users import User

        with Session(self.engine) as s:
            taken = set(s.scalars(select(User.customer_id).where(User.customer_id.is_not(None))))
        while (cid := self.customers[next(self._next_customer)]) in taken:
            pass
        return cid

    def user(self, *roles: str, customer_id: int | None = None, prefix: str = "user") -> str:
        """A real user with :data:`PASSWORD`; returns the username."""
        name = self.username(prefix)
        create_user(self.engine, name, PASSWORD, list(roles), customer_id=customer_id)
        return name

    def customer_user(self) -> tuple[str, int]:
        cid = self.fresh_customer()
        return self.user("customer", customer_id=cid, prefix="cust"), cid


@pytest.fixture(scope="session", params=DB_PARAMS)
def auth_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, small_lake: Path
) -> Iterator[AuthDb]:
    with ExitStack() as stack:
        url, engine = loaded_database(request.param, tmp_path_factory.mktemp("auth"), small_lake, stack)
        with engine.connect() as conn:
            customers = list(
                conn.scalars(
                    select(Customer.customer_id)
                    .where(Customer.customer_id.in_(select(Card.customer_id).where(Card.closed_on.is_(None))))
                    .order_by(Customer.customer_id)
                )
            )
        settings = Settings(
            environment="test",
            database_url=url,
            data_dir=tmp_path_factory.mktemp("var"),
            pan_hmac_key=TEST_PAN_KEY,
            scheduler_enabled=False,
            lockout_threshold=3,
            lockout_base_seconds=60,
            lockout_max_seconds=600,
        )
        yield AuthDb(url=url, engine=engine, settings=settings, customers=customers)


@pytest.fixture
def auth_client(auth_db: AuthDb) -> Iterator[TestClient]:
    with TestClient(create_app(auth_db.settings), base_url=BASE_URL) as c:
        yield c


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, object]:
    r = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def event_count(kind: str, outcome: str = "failure") -> float:
    """How many security events of a kind this process has emitted (the Prometheus counter)."""
    return REGISTRY.get_sample_value("cardwise_security_events_total", {"kind": kind, "outcome": outcome}) or 0.0
