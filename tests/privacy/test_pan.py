"""Card-number tokens: keyed, deterministic, never the number itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardwise.privacy.masking import luhn_valid
from cardwise.privacy.pan import last_four, luhn_check_digit, masked, tokenize_pan


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_check_digit_makes_a_luhn_valid_number(partial: str) -> None:
    assert luhn_valid(partial + str(luhn_check_digit(partial)))


def test_token_is_keyed_and_stable() -> None:
    pan = "9440 0323 6869 8530"
    assert tokenize_pan(pan, "k1") == tokenize_pan("9440032368698530", "k1")
    assert tokenize_pan(pan, "k1") != tokenize_pan(pan, "k2")
    token = tokenize_pan(pan, "k1")
    assert len(token) == 32 and "9440" not in token and "8530" not in token


def test_last_four_and_mask() -> None:
    assert last_four("9440-0323-6869-8530") == "8530"
    assert masked("8530") == "****-****-****-8530"


def test_not_a_card_number() -> None:
    with pytest.raises(ValueError, match="12 to 19 digits"):
        tokenize_pan("1234", "k")
