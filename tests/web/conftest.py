"""Web page fixtures: a real uvicorn server on a free port over a small loaded database (SQLite), demo
users of every role, Debian's Chromium driven by Playwright, and a signed-in page helper.

Playwright's own browser download does not work here; the tests use the system Chromium
(``apt-get install chromium``; scripts/test.sh installs it when it can). Without it the browser tests
skip with the reason. ``CARDWISE_CHROMIUM`` may point at another binary.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.db.models import Card
from cardwise.db.types import utcnow
from tests.auth_helpers import create_user, token_for
from tests.conftest import TEST_PAN_KEY
from tests.db_fixtures import loaded_database

PASSWORD = "correct horse battery 9"
REPORT_MONTH = date(2023, 9, 1)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # without these the closed network here makes chromium hang
    "--disable-component-update",
    "--disable-sync",
]
# The committed screenshots are refreshed only on request (CARDWISE_UPDATE_SCREENSHOTS=1), so a test run
# leaves the working tree clean; otherwise they go to a temporary folder.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("CARDWISE_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "cardwise-screenshots"
)


def chromium_path() -> str | None:
    explicit = os.environ.get("CARDWISE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Site:
    """The running site and who can sign in to it (every user's password is :data:`PASSWORD`)."""

    base_url: str
    settings: Settings
    engine: Engine
    customer_id: int  # the demo customer: several open cards, a spend report, a family group
    users: dict[str, str] = field(default_factory=dict)  # role -> username

    def token(self, *roles: str, customer_id: int | None = None) -> str:
        """A bearer token the server accepts (e.g. the payment switch's)."""
        return token_for(*roles, customer_id=customer_id, settings=self.settings, ttl=timedelta(hours=2))

    def open_cards(self, customer_id: int | None = None) -> list[Card]:
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(Card)
                    .where(Card.customer_id == (customer_id or self.customer_id), Card.closed_on.is_(None))
                    .order_by(Card.card_id)
                )
            )


def _demo_customer(engine: Engine) -> int:
    """A customer with at least two open cards and a stored spend report."""
    from cardwise.recommend.models import CustomerRecommendation

    with Session(engine) as session:
        cid = session.scalar(
            select(Card.customer_id)
            .where(Card.closed_on.is_(None), Card.customer_id.in_(select(CustomerRecommendation.customer_id)))
            .group_by(Card.customer_id)
            .having(func.count() >= 2)
            .order_by(Card.customer_id)
            .limit(1)
        )
    assert cid is not None, "the small lake has no customer with two cards and a report"
    return int(cid)


def _family_group(settings: Settings, engine: Engine, customer_id: int) -> None:
    from cardwise.family import service as family
    from cardwise.family.policy import cached_policy

    with Session(engine) as session:
        family.create_group(
            session, cached_policy(settings.family_policy_path), customer_id=customer_id, name="우리 가족", now=utcnow()
        )
        session.commit()


class _Server:
    """uvicorn in a thread (signal handlers stay with the main thread)."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web-test-server", daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, small_lake: Path) -> Iterator[Site]:
    from cardwise.api import create_app
    from cardwise.recommend.jobs import run_month

    with ExitStack() as stack:
        data_dir = tmp_path_factory.mktemp("webvar")
        (data_dir / "lake").symlink_to(small_lake, target_is_directory=True)
        url, engine = loaded_database("sqlite", data_dir, small_lake, stack)
        settings = Settings(
            environment="test",
            database_url=url,
            data_dir=data_dir,
            pan_hmac_key=TEST_PAN_KEY,
            scheduler_enabled=False,
        )
        run_month(settings, REPORT_MONTH)  # the spend reports and best cards the customer pages show
        customer_id = _demo_customer(engine)
        users = {
            "customer": "demo.customer",
            "agent": "demo.agent",
            "admin": "demo.admin",
            "analyst": "demo.analyst",
            "auditor": "demo.auditor",
        }
        for role, name in users.items():
            create_user(engine, name, PASSWORD, [role], customer_id=customer_id if role == "customer" else None)
        _family_group(settings, engine, customer_id)
        port = free_port()
        stack.enter_context(_Server(create_app(settings), port))
        yield Site(
            base_url=f"http://localhost:{port}", settings=settings, engine=engine, customer_id=customer_id, users=users
        )


# --- the browser ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: apt-get install chromium (scripts/test.sh does it as root), or set CARDWISE_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=60_000)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(base_url=site.base_url, viewport={"width": 1280, "height": 900}, locale="ko-KR")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page: Any, username: str, password: str = PASSWORD, next_path: str | None = None) -> None:
    """Through the login form, as a person would; waits for the page after it."""
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    assert "/login" not in page.url, f"sign-in as {username} failed: {page.url}"


@pytest.fixture
def customer_page(page: Any, site: Site) -> Any:
    """A page signed in as the demo customer."""
    sign_in(page, site.users["customer"])
    return page


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG (under docs/screenshots/ with CARDWISE_UPDATE_SCREENSHOTS=1: docs/web.md shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
