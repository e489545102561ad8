"""Back office, agent single view and analyst portal in a real browser (Debian's Chromium): the charts render
with the local Plotly, the payment log pages, the cluster e-mails are queued once, an analyst query shows
rows, a forbidden table is refused, the CSV downloads masked; accessibility on each page; screenshots."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardwise.db.models import Card, Merchant
from cardwise.lake.store import connect
from cardwise.notify.models import OutboxMessage
from cardwise.safety.anomaly import train
from cardwise.safety.clusters import run_clusters, save_run
from cardwise.safety.models import Authorization
from cardwise.safety.reports import refresh_distribution
from tests.web.a11y import audit, tab_until
from tests.web.conftest import Site, screenshot, sign_in

pytestmark = pytest.mark.browser
T0 = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def reports(site: Site, small_lake: Path) -> list[str]:
    """Two saved cluster runs and an anomaly score distribution in the site's data directory."""
    reports_dir = site.settings.data_dir / "reports"
    con = connect(small_lake)
    try:
        ids = []
        for start, end in ((date(2023, 4, 1), date(2023, 7, 1)), (date(2023, 7, 1), date(2023, 10, 1))):
            run = run_clusters(con, start=start, end=end, seed=0, k_range=range(2, 6))
            ids.append(save_run(run, reports_dir)[0])
        refresh_distribution(con, train(con, start=date(2022, 10, 1), end=date(2023, 4, 1), seed=1), reports_dir)
    finally:
        con.close()
    return ids


@pytest.fixture(scope="module")
def payments(site: Site) -> list[int]:
    """75 authorizations on the demo customer's cards, a minute apart, every fifth declined."""
    with Session(site.engine) as session:
        cards = list(session.scalars(select(Card.card_id).where(Card.customer_id == site.customer_id)))
        merchant = session.scalar(select(Merchant.merchant_id).order_by(Merchant.merchant_id).limit(1))
        rows = [
            Authorization(
                idempotency_key=f"web-bo-{i}",
                request_hash="0" * 64,
                card_id=cards[i % len(cards)],
                merchant_id=merchant,
                amount_krw=10_000 + i,
                requested_at=T0 - timedelta(minutes=i),
                channel="offline",
                contactless=False,
                approved=i % 5 != 0,
                reasons=[] if i % 5 else [{"code": "CATEGORY_BLOCKED", "message_ko": "차단", "message_en": "blocked"}],
                created_at=T0,
            )
            for i in range(75)
        ]
        session.add_all(rows)
        session.commit()
        return [r.authorization_id for r in rows]


def _mails(site: Site) -> int:
    with Session(site.engine) as session:
        kind = OutboxMessage.kind == "cluster_recommendation"
        return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(kind)) or 0)


def _charts_rendered(page: Any, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('.chart[data-rendered=\"1\"]').length >= {count}")
    assert page.locator(".chart .main-svg").count() >= count  # Plotly drew into every chart


def test_cluster_charts_render_and_the_mails_are_queued_once(page: Any, site: Site, reports: list[str]) -> None:
    sign_in(page, site.users["agent"], next_path="/backoffice/clusters")
    assert page.url.endswith("/backoffice/clusters")
    _charts_rendered(page, 3)  # PCA, elbow, the two runs compared
    assert page.locator("table[aria-labelledby=profiles-title] tbody tr").count() >= 2
    assert page.locator("#compare-title").is_visible()
    audit(page)
    screenshot(page, "backoffice-clusters")
    before = _mails(site)
    page.get_by_role("button", name="이 실행의 추천 메일 보내기").click()
    status = page.locator("p[role=status]")
    queued = int(status.inner_text().split(":")[1].split("(")[0].strip().replace(",", ""))
    assert queued > 0 and _mails(site) == before + queued
    page.get_by_role("button", name="이 실행의 추천 메일 보내기").click()  # the same run again: nobody twice
    again = page.locator("p[role=status]").inner_text()
    assert int(again.split(":")[1].split("(")[0].strip().replace(",", "")) == 0
    assert _mails(site) == before + queued


def test_anomaly_distribution_chart_and_lists(page: Any, site: Site, reports: list[str]) -> None:
    sign_in(page, site.users["agent"], next_path="/backoffice/anomaly")
    _charts_rendered(page, 1)
    assert page.locator("#anomaly-chart .main-svg").count() >= 1
    audit(page)
    screenshot(page, "backoffice-anomaly")


def test_payment_log_pages_newest_first_and_filters(page: Any, site: Site, payments: list[int]) -> None:
    sign_in(page, site.users["agent"], next_path="/backoffice/payments")
    page.locator("#customer").fill(str(site.customer_id))
    page.locator("#start").fill("2024-05-19")
    page.locator("#end").fill("2024-05-20")
    page.get_by_role("button", name="검색").click()
    first = page.locator("table[aria-labelledby=results-title] tbody tr")
    assert first.count() == 50
    first_rows = first.all_inner_texts()
    audit(page)
    screenshot(page, "backoffice-payments")
    page.locator("#next-page").click()
    second = page.locator("table[aria-labelledby=results-title] tbody tr")
    assert second.count() == 25  # 75 in all: the rest, none twice
    assert not set(second.all_inner_texts()) & set(first_rows)
    assert page.locator("#next-page").count() == 0
    assert "•••• " in first_rows[0] and "₩" in first_rows[0]
    page.locator("#first-page").click()
    assert page.locator("table[aria-labelledby=results-title] tbody tr").all_inner_texts() == first_rows
    page.select_option("#decision", "declined")
    page.get_by_role("button", name="검색").click()
    assert page.locator("table[aria-labelledby=results-title] tbody tr").count() == 15
    page.locator("#min").fill("abc")
    page.get_by_role("button", name="검색").click()
    assert page.locator("#filter-error").is_visible()  # bad input: the form again with the reason, never a 500


def test_agent_single_view_on_one_page(page: Any, site: Site, payments: list[int]) -> None:
    sign_in(page, site.users["agent"], next_path=f"/agent/customers/{site.customer_id}")
    assert page.locator("#suggested-actions li").count() >= 1
    assert page.locator("table[aria-labelledby=payments-title] tbody tr").count() == 10
    for block in ("profile-title", "cards-title", "risk-title", "recs-title", "alerts-title", "lost-title"):
        assert page.locator(f"#{block}").is_visible(), block
    audit(page)
    screenshot(page, "agent-single-view")


def test_analyst_runs_a_query_sees_rows_and_a_forbidden_table_is_refused(page: Any, site: Site) -> None:
    sign_in(page, site.users["analyst"], next_path="/analyst")
    tables = page.locator("#tables summary").all_inner_texts()
    assert any("transactions" in t for t in tables)
    assert not any("call_transcripts" in t or "customer_identity" in t for t in tables)
    n = tab_until(page, "el.id === 'sql'")  # the editor is reachable by keyboard
    assert n > 0
    page.locator("#sql").fill(
        "SELECT category_code, count(*) AS n FROM transactions WHERE month = '2023-09' GROUP BY 1 ORDER BY 2 DESC"
    )
    page.locator("#run-query").click()
    rows = page.locator("#result tbody tr")
    assert rows.count() > 10
    assert page.locator("#result thead th").all_inner_texts() == ["category_code", "n"]
    audit(page)
    screenshot(page, "analyst-portal")
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["category_code", "n"] and len(parsed) == rows.count() + 1

    page.locator("#sql").fill("SELECT * FROM call_transcripts LIMIT 5")
    page.locator("#run-query").click()
    assert "권한이 없습니다" in page.locator("#query-error").inner_text()
    assert page.locator("#result").count() == 0
    page.locator("#sql").fill("CREATE TABLE x AS SELECT 1")
    page.locator("#run-query").click()
    assert "읽기 전용" in page.locator("#query-error").inner_text()


def test_the_analyst_has_no_back_office_and_the_agent_no_portal(page: Any, site: Site) -> None:
    sign_in(page, site.users["analyst"])
    response = page.goto("/backoffice/payments")
    assert response is not None and response.status == 403
    page.context.clear_cookies()
    sign_in(page, site.users["agent"])
    response = page.goto("/analyst")
    assert response is not None and response.status == 403


def test_english_switch_on_the_back_office(page: Any, site: Site, reports: list[str]) -> None:
    sign_in(page, site.users["admin"], next_path="/backoffice")
    assert page.locator("h1").inner_text() == "백오피스"
    page.goto("/backoffice?lang=en")
    assert page.locator("h1").inner_text() == "Back office"
    assert page.locator("html").get_attribute("lang") == "en"
