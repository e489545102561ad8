"""Card numbers: tokenised with a keyed HMAC, only the last four digits kept (PCI DSS 3.4).

A plain hash of a 16-digit number can be brute-forced from its BIN and last four; a keyed HMAC
cannot without the key, so the token and the truncated number are not linkable.
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_HEX_CHARS = 32


def tokenize_pan(pan: str, key: str) -> str:
    digits = "".join(ch for ch in pan if ch.isdigit())
    if not 12 <= len(digits) <= 19:
        raise ValueError("a card number has 12 to 19 digits")
    return hmac.new(key.encode(), digits.encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX_CHARS]


def last_four(pan: str) -> str:
    digits = "".join(ch for ch in pan if ch.isdigit())
    return digits[-4:]


def luhn_check_digit(partial: str) -> int:
    """The digit that makes ``partial + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # positions that get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def masked(last4: str) -> str:
    return f"****-****-****-{last4}"
