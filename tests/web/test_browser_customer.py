"""The customer's pages in Chromium: a rule set on the page declines a real authorization, which then
appears on the alerts page; pause, lost report with its confirmation, the report's charts, the family
pages; accessibility on each; screenshots of the main pages (Korean) into docs/screenshots/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.db.models import Category, Merchant
from cardwise.safety.models import CardControl
from tests.web.a11y import audit, tab_until
from tests.web.conftest import Site, screenshot

pytestmark = pytest.mark.browser


def _merchant_of(site: Site, category: str | None = None) -> tuple[int, str]:
    with Session(site.engine) as session:
        q = select(Merchant.merchant_id, Merchant.category_code).where(
            Merchant.closed_on.is_(None), Merchant.channel == "offline", Merchant.country == "KR"
        )
        if category:
            q = q.where(Merchant.category_code == category)
        row = session.execute(q.order_by(Merchant.merchant_id).limit(1)).one()
        return int(row[0]), str(row[1])


def _authorize(site: Site, card_token: str, merchant_id: int, amount: int = 38_000) -> dict[str, Any]:
    """As the payment switch does: POST /v1/authorizations with its bearer token."""
    body = {
        "card_token": card_token,
        "amount_krw": amount,
        "merchant_id": merchant_id,
        "timestamp": datetime.now(UTC).isoformat(),
        "channel": "offline",
        "idempotency_key": uuid.uuid4().hex,
    }
    r = httpx.post(
        f"{site.base_url}/v1/authorizations",
        json=body,
        headers={"Authorization": f"Bearer {site.token('switch')}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_my_cards_show_last_four_only(customer_page: Any, site: Site) -> None:
    page = customer_page
    page.goto("/my/cards")
    audit(page)
    cards = site.open_cards()
    text = page.locator("main").inner_text()
    for card in cards:
        assert f"•••• {card.last4}" in text
        assert card.token not in page.content()  # the token is not shown either
    assert page.locator("nav a[aria-current=page]").inner_text() == "내 카드"
    # keyboard: the first Tab reaches the skip link, which moves focus to main
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    tab_until(page, "el.matches('a.button.primary')")
    screenshot(page, "customer-cards")


def test_block_a_category_then_a_payment_there_is_declined_and_shown(customer_page: Any, site: Site) -> None:
    page = customer_page
    card = site.open_cards()[0]
    merchant_id, category = _merchant_of(site)
    with Session(site.engine) as session:
        names = session.get(Category, category)
        assert names is not None
    assert _authorize(site, card.token, merchant_id)["approved"] is True  # no rule yet

    page.goto(f"/my/cards/{card.card_id}")
    audit(page)
    page.get_by_role("link", name="차단 업종 바꾸기").click()
    page.wait_for_url(f"**/my/cards/{card.card_id}/categories")
    audit(page)
    box = page.get_by_label(names.name_ko, exact=True)
    box.check()
    page.get_by_role("button", name="차단 업종 저장").click()
    page.wait_for_url(f"**/my/cards/{card.card_id}?saved=categories")
    assert "차단 업종을 저장했습니다." in page.get_by_role("status").inner_text()
    assert names.name_ko in page.locator("ol.steps").inner_text()
    screenshot(page, "customer-card-rules")
    with Session(site.engine) as session:
        row = session.get(CardControl, card.card_id)
        assert row is not None and category in row.blocked_categories

    decision = _authorize(site, card.token, merchant_id, amount=41_500)
    assert decision["approved"] is False
    assert any(r["code"] == "CATEGORY_BLOCKED" for r in decision["reasons"]), decision

    page.get_by_role("link", name="알림").click()
    page.wait_for_url("**/my/alerts")
    audit(page)
    first = page.locator("#declined tbody tr").first
    row_text = first.inner_text()
    assert "₩41,500" in row_text and f"•••• {card.last4}" in row_text and names.name_ko in row_text
    assert "결제 거절" in page.locator("main").inner_text()  # the message queued with the decline
    screenshot(page, "customer-alerts")

    # the same page in English: category name and reason switch language
    page.goto("/my/alerts?lang=en")
    assert page.locator("h1").inner_text() == "Alerts and declined payments"
    assert names.name_en in page.locator("#declined tbody tr").first.inner_text()
    page.get_by_role("link", name="한국어").click()
    page.wait_for_url("**/my/alerts")
    assert page.locator("h1").inner_text() == "알림과 거절된 결제"


def test_regions_and_times_forms_show_errors_then_save(customer_page: Any, site: Site) -> None:
    page = customer_page
    card = site.open_cards()[1]
    page.goto(f"/my/cards/{card.card_id}/regions")
    audit(page)
    page.get_by_label("아래에서 고른 지역에서만").check()
    page.get_by_role("button", name="사용 지역 저장").click()
    assert "지역을 하나 이상 고르세요." in page.get_by_role("alert").inner_text()
    page.get_by_label("강남구", exact=True).check()
    page.get_by_label("부산광역시", exact=True).check()
    page.get_by_role("button", name="사용 지역 저장").click()
    page.wait_for_url("**?saved=regions")
    steps = page.locator("ol.steps").inner_text()
    assert "강남구" in steps and "부산광역시" in steps

    page.goto(f"/my/cards/{card.card_id}/times")
    audit(page)
    page.get_by_role("button", name="이 차단 시간 추가").click()  # no day chosen
    assert "요일을 하나 이상 고르세요." in page.get_by_role("alert").inner_text()
    page.get_by_label("금", exact=True).check()
    page.get_by_label("토", exact=True).check()
    page.locator("#start").fill("23:00")
    page.locator("#end").fill("05:00")
    page.get_by_role("button", name="이 차단 시간 추가").click()
    page.wait_for_url("**?saved=times")
    assert "금, 토 23:00–05:00" in page.locator("ol.steps").inner_text()


def test_pause_then_lost_report_with_confirmation(customer_page: Any, site: Site) -> None:
    page = customer_page
    card = site.open_cards()[-1]
    page.goto(f"/my/cards/{card.card_id}/pause")
    audit(page)
    page.locator("#ends").fill("2020-01-01T10:00")
    page.get_by_role("button", name="일시정지 저장").click()
    assert "뒤여야 합니다" in page.get_by_role("alert").inner_text()
    page.locator("#starts").fill("2030-05-01T09:00")
    page.locator("#ends").fill("2030-05-03T18:00")
    page.get_by_role("button", name="일시정지 저장").click()
    page.wait_for_url("**?saved=pause")
    assert "2030.05.01 09:00 – 2030.05.03 18:00" in page.locator("main").inner_text()

    page.get_by_role("link", name="분실·도난 신고").click()
    audit(page)
    page.get_by_role("button", name="다음").click()  # nothing chosen
    assert "분실인지 도난인지" in page.get_by_role("alert").inner_text()
    page.get_by_label("분실", exact=True).check()
    page.get_by_role("button", name="다음").click()
    assert page.locator("h1").inner_text() == "지금 카드를 정지할까요?"
    audit(page)
    screenshot(page, "customer-lost-confirm")
    with Session(site.engine) as session:  # nothing happened before the confirmation
        from cardwise.db.models import Card

        stored = session.get(Card, card.card_id)
        assert stored is not None and stored.locked is False
    page.get_by_role("button", name="예, 카드를 정지합니다").click()
    assert page.locator("h1").inner_text() == "신고가 접수되었습니다"
    merchant_id, _ = _merchant_of(site)
    decision = _authorize(site, card.token, merchant_id)
    assert decision["approved"] is False
    page.goto("/my/cards")
    assert "정지됨 (분실·도난 신고)" in page.locator("main").inner_text()


def test_report_charts_render_with_the_local_plotly(customer_page: Any, site: Site) -> None:
    page = customer_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/my/report")
    audit(page)
    page.wait_for_selector("#chart-monthly[data-rendered='1'] .main-svg")
    page.wait_for_selector("#chart-categories[data-rendered='1'] .main-svg")
    assert page.locator("#chart-monthly g.point path").count() > 0
    assert "₩" in page.locator("main").inner_text()
    assert page.locator("#best-card h3").inner_text().strip()
    assert all(u.startswith(site.base_url) for u in requests), [u for u in requests if not u.startswith(site.base_url)]
    screenshot(page, "customer-report")


def test_family_pages_large_type_and_what_if(customer_page: Any, site: Site) -> None:
    page = customer_page
    page.goto("/my/family")
    result = audit(page, min_contrast=7.0)  # the family pages hold AAA contrast for their text
    assert result["h1"] == 1
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 22, size  # large type
    assert "우리 가족" in page.locator("main").inner_text()
    assert "나" in page.locator("table").inner_text()
    screenshot(page, "customer-family")
    page.get_by_role("link", name="가족이 더 가입하면?").click()
    audit(page, min_contrast=7.0)
    page.get_by_role("button", name="혜택 보기").click()
    assert "나와의 관계를 고르세요." in page.get_by_role("alert").inner_text()
    page.get_by_label("나와의 관계").select_option(index=1)
    page.get_by_label("태어난 해").fill("1958")
    page.get_by_role("button", name="혜택 보기").click()
    assert page.locator("#what-if-result").inner_text().strip()
    assert page.locator("table").count() == 1
    page.goto("/my/family/benefits")
    audit(page, min_contrast=7.0)
    assert "적금 우대금리" in page.locator("main").inner_text()
