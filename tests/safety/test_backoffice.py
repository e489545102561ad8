"""The back office's reads (S8, S10): the payment log's keyset pages and filters on both sources, anomaly
alerts and their customers, the safety service's users with their declines."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.core.errors import Invalid
from cardwise.db.models import Card, Merchant
from cardwise.lake.store import connect
from cardwise.notify.service import enqueue
from cardwise.safety import backoffice as bo
from cardwise.safety.models import Authorization, CardControl
from cardwise.safety.rules import SEOUL
from tests.safety.conftest import LoadedDb

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(db: LoadedDb) -> Iterator[Session]:
    """Rows added here are flushed, read by the services in the same transaction and rolled back."""
    with Session(db.engine) as s:
        yield s
        s.rollback()


def _seed(session: Session, n: int = 130) -> list[Authorization]:
    cards = session.execute(select(Card).where(Card.closed_on.is_(None)).order_by(Card.card_id).limit(4)).scalars()
    merchants = session.execute(select(Merchant).order_by(Merchant.merchant_id).limit(3)).scalars()
    pairs = list(itertools.product(list(cards), list(merchants)))
    rows = []
    for i in range(n):
        card, merchant = pairs[i % len(pairs)]
        rows.append(
            Authorization(
                idempotency_key=f"bo-test-{i}-{card.card_id}",
                request_hash="0" * 64,
                card_id=card.card_id,
                merchant_id=merchant.merchant_id,
                amount_krw=1_000 * (i + 1),
                requested_at=T0 - timedelta(minutes=i // 3),  # three rows per minute: ties the keyset must break
                channel="offline",
                contactless=False,
                approved=i % 5 != 0,
                reasons=[] if i % 5 else [{"code": "CATEGORY_BLOCKED", "message_ko": "차단", "message_en": "blocked"}],
                created_at=T0,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def _walk(session: Session, f: bo.PaymentFilter, lake: Path | None = None) -> list[bo.PaymentRow]:
    seen: list[bo.PaymentRow] = []
    cursor = None
    for _ in range(1000):
        page = bo.payment_log(session, f, cursor=cursor, lake=lake)
        assert len(page.rows) <= f.page_size
        seen += page.rows
        if page.next_cursor is None:
            return seen
        assert len(page.rows) == f.page_size
        cursor = page.next_cursor
    raise AssertionError("paging did not end")


def _expected(rows: list[Authorization], keep: Callable[[Authorization], bool] = lambda a: True) -> list[int]:
    chosen = sorted((a for a in rows if keep(a)), key=lambda a: (a.requested_at, a.authorization_id), reverse=True)
    return [a.authorization_id for a in chosen]


def _window() -> bo.PaymentFilter:
    return bo.PaymentFilter(start=date(2024, 3, 9), end=date(2024, 3, 10), page_size=17)


def test_keyset_pages_cover_every_row_once_newest_first(session: Session) -> None:
    rows = _seed(session)
    seen = _walk(session, _window())
    assert [r.row_id for r in seen] == _expected(rows)
    assert all(r.last4 and len(r.last4) == 4 for r in seen)
    assert all(r.at.tzinfo is not None for r in seen)


def test_filters_on_the_live_log(session: Session) -> None:
    rows = _seed(session)
    base = _window()
    declined = _walk(session, bo.PaymentFilter(**{**base.__dict__, "decision": "declined"}))
    assert [r.row_id for r in declined] == _expected(rows, lambda a: not a.approved)
    assert all(r.reason_codes == ("CATEGORY_BLOCKED",) for r in declined)
    approved = _walk(session, bo.PaymentFilter(**{**base.__dict__, "decision": "approved"}))
    assert len(approved) + len(declined) == len(rows)

    card = session.get(Card, rows[1].card_id)
    assert card is not None
    by_customer = _walk(session, bo.PaymentFilter(**{**base.__dict__, "customer_id": card.customer_id}))
    assert {r.row_id for r in by_customer} >= {a.authorization_id for a in rows if a.card_id == card.card_id}
    by_token = _walk(session, bo.PaymentFilter(**{**base.__dict__, "card": card.token}))
    assert [r.row_id for r in by_token] == _expected(rows, lambda a: a.card_id == card.card_id)
    by_last4 = _walk(session, bo.PaymentFilter(**{**base.__dict__, "card": card.last4}))
    assert {r.row_id for r in by_token} <= {r.row_id for r in by_last4}

    merchant = session.get(Merchant, rows[0].merchant_id)
    assert merchant is not None
    by_merchant = _walk(session, bo.PaymentFilter(**{**base.__dict__, "merchant": str(merchant.merchant_id)}))
    assert [r.row_id for r in by_merchant] == _expected(rows, lambda a: a.merchant_id == merchant.merchant_id)
    by_name = _walk(session, bo.PaymentFilter(**{**base.__dict__, "merchant": merchant.name}))
    assert {r.row_id for r in by_merchant} <= {r.row_id for r in by_name}
    by_category = _walk(session, bo.PaymentFilter(**{**base.__dict__, "category": merchant.category_code}))
    assert {r.row_id for r in by_merchant} <= {r.row_id for r in by_category}
    assert all(r.category_code == merchant.category_code for r in by_category)

    amounts = _walk(session, bo.PaymentFilter(**{**base.__dict__, "min_amount": 10_000, "max_amount": 20_000}))
    assert sorted(r.amount_krw for r in amounts) == list(range(10_000, 20_001, 1_000))
    # A Seoul day: 2024-03-10 21:00 KST is 12:00 UTC, so only rows of the last 9 hours of that day show.
    one_day = _walk(session, bo.PaymentFilter(start=date(2024, 3, 10), end=date(2024, 3, 10), page_size=50))
    assert all(r.at.astimezone(SEOUL).date() == date(2024, 3, 10) for r in one_day)
    assert len(one_day) == len(rows)  # 130 rows over 43 minutes, all that day in Seoul
    assert _walk(session, bo.PaymentFilter(start=date(2024, 3, 11), end=date(2024, 3, 12))) == []
    assert bo.payment_log(session, bo.PaymentFilter(card="0000", customer_id=-1)).rows == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": date(2024, 3, 2), "end": date(2024, 3, 1)},
        {"min_amount": 5, "max_amount": 1},
        {"card": "12345"},
        {"card": "4111111111111111"},  # a full card number is never a filter
        {"page_size": 0},
    ],
)
def test_a_bad_filter_is_refused_with_a_reason(kwargs: dict[str, object]) -> None:
    with pytest.raises(Invalid):
        bo.PaymentFilter(**kwargs)  # type: ignore[arg-type]


def test_a_damaged_cursor_is_refused(session: Session) -> None:
    with pytest.raises(Invalid):
        bo.payment_log(session, bo.PaymentFilter(), cursor="not-a-cursor!")


def test_the_lake_log_pages_across_month_partitions(session: Session, small_lake: Path) -> None:
    con = connect(small_lake)
    try:
        customer, months = con.execute(
            "SELECT customer_id, count(DISTINCT month) FROM transactions GROUP BY 1 ORDER BY 2 DESC, count(*) LIMIT 1"
        ).fetchone() or (0, 0)
        expected = [
            r[0]
            for r in con.execute(
                "SELECT transaction_id FROM transactions WHERE customer_id = $c ORDER BY ts DESC, transaction_id DESC",
                {"c": customer},
            ).fetchall()
        ]
    finally:
        con.close()
    assert months >= 3
    f = bo.PaymentFilter(source="lake", customer_id=customer, page_size=7)
    seen = _walk(session, f, small_lake)
    assert [r.row_id for r in seen] == expected
    first = bo.payment_log(session, f, lake=small_lake)
    # The newest partitions only, as many as the page needed, not the whole table.
    assert first.months_read == tuple(bo.lake_months(small_lake)[: len(first.months_read)])
    assert len(first.months_read) < len(bo.lake_months(small_lake))
    assert bo.payment_log(session, bo.PaymentFilter(source="lake", decision="declined"), lake=small_lake).rows == []


def test_the_lake_log_prunes_to_the_date_range(session: Session, small_lake: Path) -> None:
    months = bo.lake_months(small_lake)
    assert months == sorted(months, reverse=True) and len(months) >= 6
    month = months[2]
    day = date.fromisoformat(month + "-15")
    page = bo.payment_log(session, bo.PaymentFilter(source="lake", start=day, end=day, page_size=30), lake=small_lake)
    assert page.months_read == (month,)
    assert page.rows and all(r.at.date() == day for r in page.rows)
    con = duckdb.connect()
    assert [r.row_id for r in page.rows] == [
        r[0]
        for r in con.execute(
            f"SELECT transaction_id FROM read_parquet('{small_lake}/transactions/*/*.parquet') "
            "WHERE ts::DATE = $d ORDER BY ts DESC, transaction_id DESC LIMIT 30",
            {"d": day},
        ).fetchall()
    ]


def test_anomaly_alerts_and_the_customers_they_went_to(session: Session) -> None:
    rows = _seed(session, 12)
    for a in rows[:5]:
        card = session.get(Card, a.card_id)
        assert card is not None
        enqueue(
            session,
            dedupe_key=f"anomaly:test:{a.authorization_id}",
            customer_id=card.customer_id,
            kind="anomaly_alert",
            subject="s",
            body="b",
            payload={"authorization_id": a.authorization_id, "card_id": a.card_id, "codes": ["UNUSUAL_AMOUNT_Z"]},
        )
    session.flush()
    alerts, nxt = bo.anomaly_alerts(session, limit=3)
    assert len(alerts) == 3 and nxt is not None
    more, _ = bo.anomaly_alerts(session, before_id=nxt, limit=50)
    ours = [x for x in alerts + more if x.authorization_id in {a.authorization_id for a in rows[:5]}]
    assert len(ours) == 5
    assert all(x.amount_krw and x.last4 and x.merchant_name and x.codes == ("UNUSUAL_AMOUNT_Z",) for x in ours)
    ids = [x.message_id for x in alerts + more]
    assert ids == sorted(ids, reverse=True)
    customers = {c.customer_id: c.alerts for c in bo.alerted_customers(session, limit=500)}
    first = session.get(Card, rows[0].card_id)
    assert first is not None and customers[first.customer_id] >= 1
    mine, _ = bo.anomaly_alerts(session, customer_id=first.customer_id)
    assert mine and all(x.customer_id == first.customer_id for x in mine)


def test_safety_users_with_their_rules_and_declines(session: Session) -> None:
    rows = _seed(session, 40)
    card_ids = sorted({a.card_id for a in rows})
    for c in card_ids[:3]:
        session.merge(
            CardControl(
                card_id=c,
                allowed_regions=["11"],
                blocked_windows=[{"days": [0], "start": "01:00", "end": "05:00"}],
                blocked_categories=["BAR", "CASINO"],
                max_amount_krw=None,
                block_online=True,
                block_overseas=False,
                block_contactless=False,
                updated_at=T0,
            )
        )
    session.flush()
    users: list[bo.SafetyUser] = []
    after = None
    while True:
        page, after = bo.safety_users(session, after_card=after, limit=2)
        users += page
        if after is None:
            break
    mine = {u.card_id: u for u in users if u.card_id in card_ids[:3]}
    assert set(mine) == set(card_ids[:3])
    for c, u in mine.items():
        assert u.regions == 1 and u.windows == 1 and u.categories == 2 and u.blocks == ("online",)
        assert u.declines == sum(1 for a in rows if a.card_id == c and not a.approved)
    assert [u.card_id for u in users] == sorted(u.card_id for u in users)
    counts = bo.safety_counts(session)
    assert counts["cards_with_rules"] >= 3 and counts["declined"] >= sum(1 for a in rows if not a.approved)
