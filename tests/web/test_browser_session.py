"""Sign in, the language switch, sign out, in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import PASSWORD, Site, sign_in

pytestmark = pytest.mark.browser


def test_login_page_korean_then_english(page: Any, site: Site) -> None:
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.locator("h1").inner_text() == "로그인"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Sign in"
    page.get_by_role("link", name="한국어").click()
    page.wait_for_url("**/login")
    assert page.locator("h1").inner_text() == "로그인"


def test_wrong_password_shows_the_form_again(page: Any, site: Site) -> None:
    page.goto("/login")
    page.locator("#username").fill(site.users["auditor"])
    page.locator("#password").fill("not the password")
    page.locator("form[action='/login'] button[type=submit]").click()
    alert = page.get_by_role("alert")
    assert "맞지 않거나" in alert.inner_text()
    assert page.locator("#username").input_value() == site.users["auditor"]
    assert page.locator("#username").get_attribute("aria-invalid") == "true"


def test_a_page_without_session_goes_to_login_and_back(page: Any, site: Site) -> None:
    page.goto("/my/cards")
    assert "/login?next=/my/cards" in page.url
    page.locator("#username").fill(site.users["customer"])
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    assert page.url.endswith("/my/cards")


def test_sign_out_ends_the_session(page: Any, site: Site) -> None:
    sign_in(page, site.users["customer"])
    page.get_by_role("button", name="로그아웃").click()
    page.wait_for_url("**/login")
    page.goto("/my/cards")
    assert "/login" in page.url
