"""The ``YYYY-MM`` month parameter of the monthly results' APIs (marketing, recommendations, VOC)."""

from __future__ import annotations

import re
from datetime import date

from cardwise.core.errors import Invalid

# Year 1000 and later: year 0000 made date() raise, a 500 the fuzzer found.
MONTH_PATTERN = r"^([1-9]\d{3})-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


def parse_month(value: str | None) -> date | None:
    """The first day of ``value``'s month; None when absent. The query pattern already refuses a bad
    value over HTTP; the check stays for direct calls."""
    if value is None:
        return None
    m = _MONTH.match(value)
    if m is None:
        raise Invalid("month must look like 2023-09")
    return date(int(m.group(1)), int(m.group(2)), 1)
