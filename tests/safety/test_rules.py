"""The pure authorization rules, with properties over generated purchases and controls."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardwise.safety.rules import SEOUL, CardControls, CardState, Purchase, TimeWindow, evaluate

FRI = datetime(2023, 10, 6, tzinfo=SEOUL)  # a Friday


def purchase(**kw: object) -> Purchase:
    base: dict[str, object] = dict(
        amount_krw=10_000,
        category_code="CAFE",
        region_code="11680",
        province_code="11",
        channel="offline",
        contactless=False,
        at=FRI.replace(hour=12),
    )
    base.update(kw)
    return Purchase(**base)  # type: ignore[arg-type]


def test_no_controls_approves() -> None:
    d = evaluate(purchase(), CardControls(), CardState())
    assert d.approved and d.reasons == ()


def test_every_matching_rule_is_reported() -> None:
    controls = CardControls(
        allowed_regions=frozenset({"26"}),
        blocked_categories=frozenset({"CAFE"}),
        max_amount_krw=5_000,
        block_contactless=True,
    )
    d = evaluate(purchase(contactless=True), controls, CardState())
    assert not d.approved
    assert d.codes == ("REGION_NOT_ALLOWED", "CATEGORY_BLOCKED", "AMOUNT_OVER_LIMIT", "CONTACTLESS_BLOCKED")
    assert all(r.message_ko and r.message_en for r in d.reasons)
    assert "5,000원" in d.reasons[2].message_ko


def test_province_allows_its_districts_and_overseas_is_a_region() -> None:
    seoul_only = CardControls(allowed_regions=frozenset({"11"}))
    assert evaluate(purchase(region_code="11680"), seoul_only, CardState()).approved
    assert not evaluate(purchase(region_code="26", province_code="26"), seoul_only, CardState()).approved
    abroad = purchase(region_code="XX", province_code=None, channel="overseas")
    assert not evaluate(abroad, seoul_only, CardState()).approved
    assert evaluate(abroad, CardControls(allowed_regions=frozenset({"11", "XX"})), CardState()).approved
    gangnam_only = CardControls(allowed_regions=frozenset({"11680"}))
    assert not evaluate(purchase(region_code="11440"), gangnam_only, CardState()).approved


def test_window_crossing_midnight() -> None:
    night = TimeWindow(days=frozenset({4}), start=time(22, 0), end=time(6, 0))  # Friday 22:00 .. Saturday 06:00
    controls = CardControls(blocked_windows=(night,))
    at = lambda d, h, m=0: datetime(2023, 10, d, h, m, tzinfo=SEOUL)  # noqa: E731
    assert evaluate(purchase(at=at(6, 21, 59)), controls, CardState()).approved
    assert not evaluate(purchase(at=at(6, 22, 0)), controls, CardState()).approved
    assert not evaluate(purchase(at=at(7, 5, 59)), controls, CardState()).approved  # Saturday early morning
    assert evaluate(purchase(at=at(7, 6, 0)), controls, CardState()).approved
    assert evaluate(purchase(at=at(5, 23, 0)), controls, CardState()).approved  # Thursday night is not blocked


def test_time_is_judged_in_seoul() -> None:
    controls = CardControls(blocked_windows=(TimeWindow(frozenset(range(7)), time(0, 0), time(6, 0)),))
    # 18:30 UTC on Thursday is 03:30 on Friday in Seoul.
    utc = datetime(2023, 10, 5, 18, 30, tzinfo=UTC)
    assert evaluate(purchase(at=utc), controls, CardState()).codes == ("TIME_BLOCKED",)
    with pytest.raises(ValueError, match="time zone"):
        evaluate(purchase(at=datetime(2023, 10, 5, 12)), controls, CardState())


def test_pause_suspends_controls_but_not_the_lock() -> None:
    controls = CardControls(blocked_categories=frozenset({"CAFE"}))
    assert evaluate(purchase(), controls, CardState(paused=True)).approved
    d = evaluate(purchase(), controls, CardState(paused=True, locked=True))
    assert d.codes == ("CARD_LOCKED",)


def test_closed_and_expired_cards() -> None:
    assert evaluate(purchase(), CardControls(), CardState(active=False)).codes == ("CARD_CLOSED",)
    assert evaluate(purchase(), CardControls(), CardState(expires_on=date(2023, 10, 5))).codes == ("CARD_EXPIRED",)
    assert evaluate(purchase(), CardControls(), CardState(expires_on=date(2023, 10, 6))).approved


# --- properties ---------------------------------------------------------------------------------------

categories = st.sampled_from(["CAFE", "KOREAN", "JEWELRY", "ONLINE_MALL", "GAS_STATION"])
regions = st.sampled_from([("11680", "11"), ("11440", "11"), ("26", "26"), ("41", "41"), ("XX", None)])
moments = st.datetimes(min_value=datetime(2022, 10, 1), max_value=datetime(2023, 10, 31)).map(
    lambda d: d.replace(tzinfo=SEOUL)
)
minute_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
windows = st.builds(TimeWindow, st.frozensets(st.integers(0, 6), min_size=1), minute_times, minute_times)


@st.composite
def purchases(draw: st.DrawFn) -> Purchase:
    region, province = draw(regions)
    return Purchase(
        amount_krw=draw(st.integers(100, 10_000_000)),
        category_code=draw(categories),
        region_code=region,
        province_code=province,
        channel="overseas" if region == "XX" else draw(st.sampled_from(["offline", "online"])),
        contactless=draw(st.booleans()),
        at=draw(moments),
    )


controls_st = st.builds(
    CardControls,
    allowed_regions=st.none() | st.frozensets(st.sampled_from(["11", "11680", "26", "41", "XX"])),
    blocked_windows=st.lists(windows, max_size=3).map(tuple),
    blocked_categories=st.frozensets(categories),
    max_amount_krw=st.none() | st.integers(1_000, 5_000_000),
    block_online=st.booleans(),
    block_overseas=st.booleans(),
    block_contactless=st.booleans(),
)
states = st.builds(
    CardState,
    active=st.booleans(),
    locked=st.booleans(),
    paused=st.booleans(),
    expires_on=st.none() | st.dates(date(2022, 1, 1), date(2026, 1, 1)),
)


@given(purchases(), controls_st, states)
def test_same_input_same_decision(p: Purchase, c: CardControls, s: CardState) -> None:
    assert evaluate(p, c, s) == evaluate(p, c, s)


@given(purchases(), controls_st, states)
def test_locked_card_always_declines(p: Purchase, c: CardControls, s: CardState) -> None:
    locked = CardState(active=s.active, locked=True, expires_on=s.expires_on, paused=s.paused)
    d = evaluate(p, c, locked)
    assert not d.approved and "CARD_LOCKED" in d.codes


@given(purchases(), controls_st, st.integers(1, 10_000_000))
def test_larger_amount_never_turns_a_limit_decline_into_approval(p: Purchase, c: CardControls, extra: int) -> None:
    d = evaluate(p, c, CardState())
    bigger = evaluate(Purchase(**{**p.__dict__, "amount_krw": p.amount_krw + extra}), c, CardState())
    if not d.approved:
        assert not bigger.approved
    if "AMOUNT_OVER_LIMIT" in d.codes:
        assert "AMOUNT_OVER_LIMIT" in bigger.codes


@given(purchases(), states)
def test_empty_rule_set_only_issuer_blocks(p: Purchase, s: CardState) -> None:
    d = evaluate(p, CardControls(), s)
    assert set(d.codes) <= {"CARD_LOCKED", "CARD_CLOSED", "CARD_EXPIRED"}
    assert d.approved == (s.active and not s.locked and (s.expires_on is None or p.at.date() <= s.expires_on))


@given(purchases(), controls_st)
def test_pause_never_declines_more(p: Purchase, c: CardControls) -> None:
    assert set(evaluate(p, c, CardState(paused=True)).codes) <= set(evaluate(p, c, CardState()).codes)


@given(windows, moments)
def test_window_membership_matches_a_minute_by_minute_definition(w: TimeWindow, at: datetime) -> None:
    # Independent definition: walk back from `at` to find the window's last start.
    t = at.replace(second=0, microsecond=0)
    minutes = (w.end.hour * 60 + w.end.minute) - (w.start.hour * 60 + w.start.minute)
    length = minutes if minutes > 0 else minutes + 24 * 60  # start == end: the whole day
    inside = False
    for back in range(0, length):
        s = t - timedelta(minutes=back)
        if s.weekday() in w.days and (s.hour, s.minute) == (w.start.hour, w.start.minute):
            inside = True
            break
    assert w.contains(t) == inside
