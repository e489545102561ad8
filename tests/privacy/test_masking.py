"""The PII masker on tricky Korean texts: PAN and RRN must never survive, amounts and dates must."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardwise.privacy.masking import (
    COMPOUND_SURNAMES,
    SINGLE_SURNAMES,
    PiiMatch,
    find_pii,
    luhn_valid,
    mask_pii,
)

# (raw text, expected masked text)
CASES: list[tuple[str, str]] = [
    # cards: separators, none, Amex, particles glued to the digits, 19 digits, STT grouping
    ("카드번호는 9440032368698530이고요", "카드번호는 ****-****-****-8530이고요"),  # not Luhn-valid: context
    ("카드 4532015112830366 분실했어요", "카드 ****-****-****-0366 분실했어요"),
    ("번호 4532015112830366요", "번호 ****-****-****-0366요"),  # Luhn-valid, no keyword
    ("4532-0151-1283-0366으로 결제", "****-****-****-0366으로 결제"),
    ("4532 0151 1283 0366 입니다", "****-****-****-0366 입니다"),
    ("1234-5678-1234-5678이요", "****-****-****-5678이요"),  # 4-4-4-4 layout, Luhn ignored
    ("아멕스 3782 822463 10005 입니다", "아멕스 ****-****-****-0005 입니다"),
    ("아멕스는 378282246310005", "아멕스는 ****-****-****-0005"),
    ("번호가 4532 015112 830366 맞나요", "번호가 ****-****-****-0366 맞나요"),
    ("4111-1111-1111-1111-003 카드", "****-****-****-1003 카드"),  # 19-digit PAN, Luhn-valid
    ("4532 0151 1283 0366 10시에 결제", "****-****-****-0366 10시에 결제"),  # trailing time kept
    # resident registration numbers, including post-2020 ones whose old check digit fails
    ("주민번호 900101-1234567", "주민번호 ******-*******"),
    ("주민번호는 0501014123456이에요", "주민번호는 ******-*******이에요"),
    ("201231 3987654 맞습니다", "******-******* 맞습니다"),
    ("211015-4000000", "******-*******"),
    ("주민번호 뒷자리는 1234567이요", "주민번호 뒷자리는 *******이요"),
    # phones
    ("010-1234-5678로 연락주세요", "010-****-5678로 연락주세요"),
    ("번호는 01012345678입니다", "번호는 010****5678입니다"),
    ("010 1234 5678", "010 **** 5678"),
    ("010.1234.5678", "010.****.5678"),
    ("02-123-4567", "02-***-4567"),
    ("031-1234-5678로 걸어주세요", "031-****-5678로 걸어주세요"),
    ("+82 10-1234-5678", "+82 10-****-5678"),
    ("011-234-5678", "011-***-5678"),
    # accounts
    ("계좌 110-123-456789", "계좌 ***-***-**6789"),
    ("1002-123-456789로 보내주세요", "****-***-**6789로 보내주세요"),
    ("352-1234-5678-93", "***-****-**78-93"),
    ("계좌번호는 110123456789입니다", "계좌번호는 ********6789입니다"),
    # e-mail
    ("kim.minsu@example.com 으로 보내주세요", "k***@example.com 으로 보내주세요"),
    ("메일은minsu90@example.net이에요", "메일은m***@example.net이에요"),
    # names in address forms
    ("김민수 고객님 안녕하세요", "김○○ 고객님 안녕하세요"),
    ("김민수님 확인되었습니다", "김○○님 확인되었습니다"),
    ("박지은 씨가 전화했어요", "박○○ 씨가 전화했어요"),
    ("이서연회원님", "이○○회원님"),
    ("최현우 고객 요청 건", "최○○ 고객 요청 건"),
    ("남궁민수 회원님", "남궁○○ 회원님"),
    ("선우진 고객님", "선우○ 고객님"),
    ("제 이름은 김민구요", "제 이름은 김○○요"),
    ("제 이름은 김진입니다", "제 이름은 김○입니다"),
    ("저는 박지은이고요", "저는 박○○이고요"),
    ("본인 최현우입니다", "본인 최○○입니다"),
    (
        "상담사: 성함이 어떻게 되세요?\n고객: 네, 이서연이에요.",
        "상담사: 성함이 어떻게 되세요?\n고객: 네, 이○○이에요.",
    ),
    # negatives: amounts, dates, times, order numbers, business numbers, titles, ordinary words
    ("1,234,567원 결제됐어요", "1,234,567원 결제됐어요"),
    ("50,000원이요", "50,000원이요"),
    ("3만 5천원", "3만 5천원"),
    ("3만원", "3만원"),
    ("2023년 10월 5일 14시 30분", "2023년 10월 5일 14시 30분"),
    ("2023-10-05 14:30", "2023-10-05 14:30"),
    ("주문번호 20231005", "주문번호 20231005"),
    ("대표번호 1588-1234", "대표번호 1588-1234"),
    (
        "결제일은 매달 1일, 5일, 10일, 14일, 15일, 21일, 25일 중에서",
        "결제일은 매달 1일, 5일, 10일, 14일, 15일, 21일, 25일 중에서",
    ),
    (
        "선생님 고객님 우리 고객님 신규 고객 사장님 마음씨",
        "선생님 고객님 우리 고객님 신규 고객 사장님 마음씨",
    ),
    ("본인 명의로 본인 인증을 하셨나요? 본인이세요?", "본인 명의로 본인 인증을 하셨나요? 본인이세요?"),
    ("저는 정말 화가 나서요", "저는 정말 화가 나서요"),
    ("사랑합니다 고객님", "사랑합니다 고객님"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[c[0][:20] for c in CASES])
def test_corpus(raw: str, expected: str) -> None:
    assert mask_pii(raw) == expected
    assert mask_pii(expected) == expected  # idempotent


def test_find_pii_reports_kinds_and_spans_without_values() -> None:
    text = "김민수 고객님, 카드 4532-0151-1283-0366, 주민번호 900101-1234567, 010-1234-5678, a@example.com"
    found = find_pii(text)
    assert [m.kind for m in found] == ["name", "card", "rrn", "phone", "email"]
    assert [text[m.start : m.end] for m in found] == [
        "김민수",
        "4532-0151-1283-0366",
        "900101-1234567",
        "010-1234-5678",
        "a@example.com",
    ]
    assert set(PiiMatch.__dataclass_fields__) == {"kind", "start", "end"}
    with pytest.raises(AttributeError):
        found[0].kind = "card"  # type: ignore[misc]


def test_find_pii_is_empty_for_plain_text() -> None:
    assert find_pii("이번 달 결제 금액은 52,000원입니다.") == []


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4532015112830366", True),
        ("378282246310005", True),
        ("4111111111111111", True),
        ("4532015112830367", False),
        ("9440032368698530", False),
        ("", False),
        ("4532-0151", False),
        ("４５３２", False),  # full-width digits are not ASCII digits
    ],
)
def test_luhn_valid(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


# --- properties -------------------------------------------------------------------------------------------

_HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
_hangul_text = st.text(alphabet=st.one_of(_HANGUL, st.sampled_from(" .,?")), max_size=30)


@st.composite
def _luhn_16(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet="0123456789", min_size=15, max_size=15))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def _layout(number: str, style: int) -> str:
    groups = [number[i : i + 4] for i in range(0, 16, 4)]
    return (number, "-".join(groups), " ".join(groups))[style]


@settings(max_examples=300, deadline=None)
@given(prefix=_hangul_text, suffix=_hangul_text, number=_luhn_16(), style=st.integers(0, 2))
def test_luhn_valid_pan_in_hangul_text_is_truncated(prefix: str, suffix: str, number: str, style: int) -> None:
    masked = mask_pii(prefix + _layout(number, style) + suffix)
    flat = re.sub(r"[ -]", "", masked)
    for i in range(len(number) - 7):
        assert number[i : i + 8] not in masked
        assert number[i : i + 8] not in flat
    assert "****-****-****-" + number[-4:] in masked


_FRAGMENTS = (
    "김민수 고객님", "제 이름은 이서연입니다", "4532015112830366", "4532-0151-1283-0366", "900101-1234567",
    "010-1234-5678", "01012345678", "110-123-456789", "kim@example.com", "50,000원", "2023년 10월 5일",
    "카드번호는 ", "계좌 ", "뒷자리는 ", " ", "-", "님", "씨", "고객", "이고요", "입니다", "1234", "0", "9",
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(_FRAGMENTS), st.text(alphabet="0123456789 -+@.가나다김이박님씨요", max_size=6)),
        max_size=12,
    ).map("".join)
)
def test_masking_is_idempotent(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once) == once


_SURNAME_CHARS = frozenset("".join(SINGLE_SURNAMES) + "".join(COMPOUND_SURNAMES))
_NO_SURNAME = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3).filter(lambda c: c not in _SURNAME_CHARS)
# Address words and intro phrases whose own words do not start with a surname syllable ("이름은" does:
# "이름은 고객님" is a surname-initial word in an address form, so it is left out).
_SAFE_WORDS = ("고객님", "님", "씨", "고객", "회원님", "저는 ", "본인 ", "입니다", "요", "감사합니다", "카드")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.one_of(_NO_SURNAME, st.sampled_from(" .,!?~abcXYZ")), max_size=8),
            st.sampled_from(_SAFE_WORDS),
        ),
        max_size=10,
    ).map("".join)
)
def test_text_without_digits_or_addressed_names_is_unchanged(text: str) -> None:
    assert mask_pii(text) == text


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(0, 10**10),
    year=st.integers(1990, 2030),
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_amounts_dates_and_times_are_kept(amount: int, year: int, month: int, day: int, hour: int, minute: int) -> None:
    text = (
        f"{year}년 {month}월 {day}일 {hour}시 {minute}분에 {amount:,}원 결제, "
        f"{year}-{month:02d}-{day:02d} {hour}:{minute:02d}"
    )
    assert mask_pii(text) == text
