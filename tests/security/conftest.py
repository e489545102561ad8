"""Fixtures of the identity tests (tests/security/auth_fixtures.py), available to every test here."""

from tests.security.auth_fixtures import auth_client, auth_db  # noqa: F401
