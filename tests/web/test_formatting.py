from __future__ import annotations

from datetime import UTC, date, datetime

from cardwise.web.formatting import card, day, days_label, moment, month, pct, won


def test_won() -> None:
    assert won(1234000) == "₩1,234,000"
    assert won(0) == "₩0"
    assert won(-1500) == "-₩1,500"
    assert won(999.6) == "₩1,000"
    assert won(None) == "-"


def test_days_and_moments_in_seoul() -> None:
    assert day(date(2023, 10, 31)) == "2023.10.31"
    assert day("2023-10-31") == "2023.10.31"
    # 2023-10-31 16:30 UTC is already 1 November in Seoul (UTC+9)
    assert day(datetime(2023, 10, 31, 16, 30, tzinfo=UTC)) == "2023.11.01"
    assert moment(datetime(2023, 10, 31, 5, 5, tzinfo=UTC)) == "2023.10.31 14:05"
    assert moment(datetime(2023, 10, 31, 5, 5)) == "2023.10.31 14:05"  # naive = UTC as stored
    assert month("2023-09-01") == "2023.09"


def test_card_shows_only_four_digits() -> None:
    assert card("1234") == "•••• 1234"
    assert card("4111111111111111") == "•••• 1111"  # a full number never gets through
    assert card(None) == "•••• ????"


def test_pct_and_days() -> None:
    assert pct(0.256) == "26%"
    assert pct(0.256, 1) == "25.6%"
    assert days_label([5, 0], "ko") == "월, 토"
    assert days_label([5, 0], "en") == "Mon, Sat"
