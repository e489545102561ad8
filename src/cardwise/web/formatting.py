"""Korean formats for amounts, days and moments (the same in both languages: the data is Korean)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
DAY_NAMES = {"ko": ("월", "화", "수", "목", "금", "토", "일"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def won(amount: int | float | None) -> str:
    """₩1,234,000 (rounded to whole won; negative amounts as -₩1,000)."""
    if amount is None:
        return "-"
    value = round(amount)
    return f"-₩{-value:,}" if value < 0 else f"₩{value:,}"


def day(value: date | datetime | str | None) -> str:
    """2023.10.31 (a moment is shown as its day in Seoul)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = seoul(value).date()
    return f"{value:%Y.%m.%d}"


def month(value: date | str | None) -> str:
    """2023.10"""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return value[:7].replace("-", ".")
    return f"{value:%Y.%m}"


def seoul(value: datetime) -> datetime:
    if value.tzinfo is None:  # stored moments are UTC
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(SEOUL)


def moment(value: datetime | None) -> str:
    """2023.10.31 14:05, Seoul time."""
    if value is None:
        return "-"
    return f"{seoul(value):%Y.%m.%d %H:%M}"


def card(last4: str | None) -> str:
    """•••• 1234: only the last four digits of a card ever reach a page."""
    digits = "".join(ch for ch in str(last4 or "") if ch.isdigit())[-4:]
    return f"•••• {digits or '????'}"


def pct(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.{digits}f}%"


def days_label(days: Any, lang: str) -> str:
    names = DAY_NAMES.get(lang, DAY_NAMES["ko"])
    return ", ".join(names[int(d)] for d in sorted(days))
