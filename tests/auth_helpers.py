"""Credentials for API tests: bearer tokens minted with the app's key, and real users when a test needs one.

Access tokens are verified without a database read, so a token minted here is exactly what
``POST /v1/auth/token`` would hand out for such a user. Tests about signing in itself create real
users (:func:`create_user`) and go through the endpoints.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.db.types import utcnow
from cardwise.security.auth import mint_token
from cardwise.security.users import UserOut
from cardwise.security.users import create_user as _create_user

# Long enough for a whole test session; the tokens' lifetime is tested in tests/security.
TEST_TTL = timedelta(hours=12)


@cache
def _default_settings() -> Settings:
    # The key the tests' Settings objects get (the default, or CARDWISE_JWT_SECRET when set).
    return Settings(environment="test")


def token_for(
    *roles: str,
    customer_id: int | None = None,
    username: str | None = None,
    user_id: int = 1,
    settings: Settings | None = None,
    ttl: timedelta = TEST_TTL,
    session_id: str | None = None,
) -> str:
    name = username or (f"customer-{customer_id}" if customer_id is not None else f"{'-'.join(roles)}-test")
    return mint_token(
        settings or _default_settings(),
        typ="access",
        user_id=user_id,
        username=name,
        roles=frozenset(roles or ("customer",)),
        customer_id=customer_id,
        session_id=session_id,
        now=utcnow(),
        ttl=ttl,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_customer(customer_id: int, settings: Settings | None = None) -> dict[str, str]:
    """Headers of the signed-in customer ``customer_id``."""
    return bearer(token_for("customer", customer_id=customer_id, user_id=100_000 + customer_id, settings=settings))


def as_staff(*roles: str, actor: str | None = None, settings: Settings | None = None) -> dict[str, str]:
    """Headers of a staff or service user with ``roles`` (agent, admin, analyst, auditor, switch, ingest)."""
    return bearer(token_for(*roles, username=actor, settings=settings))


def create_user(
    engine: Engine, username: str, password: str, roles: list[str], customer_id: int | None = None
) -> UserOut:
    """A real user (argon2 hash and all), committed."""
    with Session(engine) as session:
        user = _create_user(session, username=username, password=password, roles=roles, customer_id=customer_id)
        session.commit()
    return user
