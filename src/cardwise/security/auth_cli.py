"""``cardwise users …``: create, list, unlock and disable users; set passwords. Passwords are read with a
hidden prompt or from standard input, never from an argument (it would land in the shell history)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.config import Settings, get_settings
from cardwise.core.errors import DomainError

users_app = typer.Typer(help="Users and roles: create, list, set passwords, unlock, disable.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (one line), no prompt.")
]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """One transaction for the command; a domain error ends in one line and exit code 2."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from cardwise.db.engine import engine_for

    engine = engine_for(settings)
    try:
        with Session(engine) as session:
            yield session
            session.commit()
    except DomainError as exc:
        raise _fail(exc.message) from None
    except (OperationalError, ProgrammingError):
        raise _fail("the database is not ready: run `cardwise db upgrade`") from None
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    else:
        password = typer.prompt("password (비밀번호)", hide_input=True, confirmation_prompt=True)
    if not password:
        raise _fail("empty password")
    return password


@users_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="3-64 characters: lowercase letters, digits and . _ @ -")],
    role: Annotated[
        list[str],
        typer.Option("--role", "-r", help="customer, agent, admin, analyst, auditor, switch, ingest (repeatable)."),
    ],
    customer_id: Annotated[int | None, typer.Option(help="The customer this login belongs to (role customer).")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user with roles and a password."""
    from cardwise.security.users import create_user

    password = _read_password(password_stdin)
    with _session(get_settings()) as session:
        user = create_user(session, username=username, password=password, roles=role, customer_id=customer_id)
    console.print(f"user {user.username} created: roles {', '.join(user.roles)}")


@users_app.command("list")
def list_(role: Annotated[str | None, typer.Option(help="Only users with this role.")] = None) -> None:
    """Users, their roles, lock and last sign-in."""
    from cardwise.security.users import list_users

    with _session(get_settings()) as session:
        rows = list_users(session, role=role)
    table = Table("user", "roles", "customer", "active", "failed", "locked until", "last sign-in")
    for u in rows:
        table.add_row(
            u.username,
            ", ".join(u.roles),
            str(u.customer_id or ""),
            "yes" if u.active else "no",
            str(u.failed_count),
            u.locked_until.isoformat(timespec="seconds") if u.locked_until else "",
            u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "",
        )
    Console().print(table)


@users_app.command("set-password")
def set_password(username: str, password_stdin: PasswordStdin = False) -> None:
    """A new password; every session of the user ends and a lock is lifted."""
    from cardwise.security.users import set_password as set_pw

    password = _read_password(password_stdin)
    with _session(get_settings()) as session:
        set_pw(session, username=username, password=password)
    console.print(f"password of {username} changed; its sessions are ended")


@users_app.command("unlock")
def unlock(username: str) -> None:
    """Lift a lockout after failed sign-ins."""
    from cardwise.security.users import unlock as do_unlock

    with _session(get_settings()) as session:
        do_unlock(session, username=username)
    console.print(f"{username} unlocked")


@users_app.command("disable")
def disable(username: str) -> None:
    """Stop a user from signing in; their sessions and refresh tokens end at once."""
    from cardwise.security.users import set_active

    with _session(get_settings()) as session:
        set_active(session, username=username, active=False)
    console.print(f"{username} disabled")


@users_app.command("enable")
def enable(username: str) -> None:
    """Let a disabled user sign in again."""
    from cardwise.security.users import set_active

    with _session(get_settings()) as session:
        set_active(session, username=username, active=True)
    console.print(f"{username} enabled")


# --- the demo ------------------------------------------------------------------------------------------------------

DEMO_STAFF = [("admin", "admin"), ("agent", "agent"), ("analyst", "analyst"), ("auditor", "auditor")]
DEMO_SERVICES = [("switch", "switch"), ("ingest", "ingest")]


def ensure_demo_users(settings: Settings) -> None:
    """Demo users on first start (an admin, an agent, an analyst, an auditor, the switch and ingest services,
    three customers, one of them old enough to found a family group); their passwords are printed once
    (``CARDWISE_DEMO_PASSWORD`` sets them instead of random ones)."""
    from cardwise.db.engine import engine_for
    from cardwise.db.models import Card, Customer
    from cardwise.db.types import utcnow
    from cardwise.security.users import User, create_user

    engine = engine_for(settings)
    try:
        with Session(engine) as session:
            existing = set(session.scalars(select(User.username)))
            if "admin" in existing:
                names = ", ".join(sorted(existing)[:12])
                console.print(
                    f"demo users exist ({names}); their passwords were printed at the first start "
                    "(`cardwise users set-password NAME` sets a new one)"
                )
                return
            year = utcnow().year
            # Customers with an open card and no login yet.
            with_cards = select(Card.customer_id).where(
                Card.closed_on.is_(None),
                Card.customer_id.not_in(select(User.customer_id).where(User.customer_id.is_not(None))),
            )
            older = session.scalar(
                select(Customer.customer_id)
                .where(Customer.customer_id.in_(with_cards), Customer.birth_year <= year - 55)
                .order_by(Customer.customer_id)
                .limit(1)
            )
            others = session.scalars(
                select(Customer.customer_id)
                .where(Customer.customer_id.in_(with_cards), Customer.customer_id != (older or 0))
                .order_by(Customer.customer_id)
                .limit(2)
            ).all()
            customers = [c for c in [older, *others] if c is not None]
            made: list[tuple[str, str, str]] = []
            for name, role in DEMO_STAFF + DEMO_SERVICES:
                password = settings.demo_password or secrets.token_urlsafe(12)
                create_user(session, username=name, password=password, roles=[role])
                made.append((name, role, password))
            for cid in customers:
                name, password = f"customer{cid}", settings.demo_password or secrets.token_urlsafe(12)
                create_user(session, username=name, password=password, roles=["customer"], customer_id=cid)
                made.append((name, f"customer {cid}", password))
            session.commit()
    finally:
        engine.dispose()
    table = Table("user", "role", "password (shown once)", title="demo users (데모 사용자)")
    for row in made:
        table.add_row(*row)
    Console(stderr=True).print(table)
