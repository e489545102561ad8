"""``cardwise users …`` and the demo users, against a real migrated database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cardwise.cli import app
from cardwise.security.auth_cli import DEMO_SERVICES, DEMO_STAFF, ensure_demo_users
from tests.security.auth_fixtures import AuthDb

runner = CliRunner()


@contextmanager
def _logging_kept() -> Iterator[None]:
    """The CLI sets up logging on the runner's captured stderr, closed after each call: put back what was."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
        for handler in before:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


def _env(auth_db: AuthDb) -> dict[str, str]:
    return {
        "CARDWISE_DATABASE_URL": auth_db.url,
        "CARDWISE_DATA_DIR": str(auth_db.settings.data_dir),
        "CARDWISE_ENVIRONMENT": "test",
        "CARDWISE_LOCKOUT_THRESHOLD": "3",
    }


def _cli(auth_db: AuthDb, *args: str, stdin: str | None = None) -> tuple[int, str]:
    with _logging_kept():
        result = runner.invoke(app, list(args), env=_env(auth_db), input=stdin)
    return result.exit_code, result.output


def _status(client: TestClient, username: str, password: str) -> int:
    return client.post("/v1/auth/token", data={"username": username, "password": password}).status_code


def test_users_commands(auth_client: TestClient, auth_db: AuthDb) -> None:
    name = auth_db.username("cli")
    code, out = _cli(
        auth_db, "users", "create", name, "--role", "analyst", "--password-stdin", stdin="first pass 123\n"
    )
    assert code == 0, out
    assert _status(auth_client, name, "first pass 123") == 200
    code, out = _cli(auth_db, "users", "list", "--role", "analyst")
    assert code == 0 and name in out and "first pass" not in out
    # Mistakes end in one line and exit code 2.
    code, out = _cli(auth_db, "users", "create", name, "--role", "analyst", "--password-stdin", stdin="x y z 12345\n")
    assert code == 2 and "exists" in out and "Traceback" not in out
    code, out = _cli(
        auth_db, "users", "create", "x2" + name, "-r", "wizard", "--password-stdin", stdin="long enough 1\n"
    )
    assert code == 2 and "unknown role" in out
    code, out = _cli(auth_db, "users", "create", "x3" + name, "-r", "agent", "--password-stdin", stdin="short\n")
    assert code == 2 and "at least 10" in out
    # The password is never an argument: a prompt (hidden, typed twice) or stdin.
    code, out = _cli(auth_db, "users", "set-password", name, stdin="second pass 456\nsecond pass 456\n")
    assert code == 0, out
    assert _status(auth_client, name, "first pass 123") == 401 and _status(auth_client, name, "second pass 456") == 200
    for _ in range(3):
        _status(auth_client, name, "wrong password 1")
    assert _status(auth_client, name, "second pass 456") == 401
    assert _cli(auth_db, "users", "unlock", name)[0] == 0
    assert _status(auth_client, name, "second pass 456") == 200
    assert _cli(auth_db, "users", "disable", name)[0] == 0
    assert _status(auth_client, name, "second pass 456") == 401
    assert _cli(auth_db, "users", "enable", name)[0] == 0
    assert _status(auth_client, name, "second pass 456") == 200
    code, out = _cli(auth_db, "users", "unlock", "nobody-at-all")
    assert code == 2 and "not found" in out


def test_demo_users_are_made_once_and_can_sign_in(auth_client: TestClient, auth_db: AuthDb) -> None:
    settings = auth_db.settings.model_copy(update={"demo_password": "demo password 2024"})
    ensure_demo_users(settings)
    ensure_demo_users(settings)  # the second start finds them and changes nothing
    for name, _role in DEMO_STAFF + DEMO_SERVICES:
        assert _status(auth_client, name, "demo password 2024") == 200, name
    code, out = _cli(auth_db, "users", "list", "--role", "customer")
    customers = [line for line in out.splitlines() if "customer" in line and "│" in line]
    assert code == 0 and sum("customer" in line.split("│")[1] for line in customers) >= 3
