"""The masker on the forms it used to miss: numbers read out in Korean digit words, landlines without
separators, names outside an address form (memos, account holders, kin, agents). Each case states the
exact masked text; the negatives are ordinary words that look like names or numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardwise.privacy.masking import find_pii, luhn_valid, mask_pii
from cardwise.synth.text import MEMO_KINDS, korean_name, render_memo

DIGIT_WORDS = "공일이삼사오육칠팔구"

CASES: list[tuple[str, str]] = [
    # names next to what a transfer is for, or a memo that is only a name
    ("정유민 용돈", "정○○ 용돈"),
    ("축의금 김민수", "축의금 김○○"),
    ("김민수 결혼축하", "김○○ 결혼축하"),
    ("이서연", "이○○"),
    ("남궁민수 월세", "남궁○○ 월세"),
    ("김솔월세", "김○월세"),
    ("박아름솔 이자", "박○○○ 이자"),
    # names after a role or a kin word
    ("예금주 박지은으로 되어 있어요", "예금주 박○○으로 되어 있어요"),
    ("예금주는 최현우입니다", "예금주는 최○○입니다"),
    ("제 남편 김민수 명의로 된 카드예요", "제 남편 김○○ 명의로 된 카드예요"),
    ("딸 이서연이 쓰는 가족카드요", "딸 이○○이 쓰는 가족카드요"),
    ("상담사 김민지였습니다", "상담사 김○○였습니다"),
    ("저는 상담원 박하늘입니다", "저는 상담원 박○○입니다"),
    # numbers read out in digit words (with 에 for the dash, mixed with digits)
    ("전화번호는 공일공 일이삼사 오육칠팔이에요", "전화번호는 010-****-5678이에요"),
    ("공일공에 이삼사오에 육칠팔구요", "010-****-6789요"),
    ("010 일이삼사 5678로 주세요", "010-****-5678로 주세요"),
    ("집 번호는 공이 삼사오 육칠팔구", "집 번호는 02-***-6789"),
    ("카드번호 사오삼이 공일오일 일이팔삼 공삼육육", "카드번호 ****-****-****-0366"),
    ("카드번호는 구사사공공삼이삼육팔육구팔오삼공이고요", "카드번호는 ****-****-****-8530이고요"),
    ("주민번호 구공공일공일 일이삼사오육칠", "주민번호 ******-*******"),
    ("계좌번호는 일일공 일이삼 사오육칠팔구입니다", "계좌번호는 ***-***-**6789입니다"),
    # landlines without separators or with the area code in brackets
    ("0212345678로 전화주세요", "02****5678로 전화주세요"),
    ("021234567", "02***4567"),
    ("0311234567", "031***4567"),
    ("03112345678", "031****5678"),
    ("(02) 123-4567", "(02) ***-4567"),
    # a resident number with spaces around the dash; an account after a bank's name
    ("900101 - 1234567", "******-*******"),
    ("신한 110 123 456789로 보내주세요", "신한 *** *** **6789로 보내주세요"),
    ("카카오뱅크 3333 01 2345678", "카카오뱅크 **** ** ***5678"),
]

NEGATIVES: list[str] = [
    # memo words and kin that look like names
    "용돈", "이자", "전기세", "방세", "모임회비", "엄마 용돈", "할머니 용돈", "부모님 용돈", "5월 월세",
    "인건비", "백일선물", "이자 입금", "관리비", "축의금", "결혼 축하해", "빌린돈 갚음", "급하게 빌린거",
    "돌잔치", "출산축하", "곗돈", "엔빵", "N빵", "저녁값 N빵", "수학학원비", "산악회 회비", "아빠용돈",
    "동창회비", "계모임", "피아노 학원비", "전기세 이체", "모임비", "가스비", "할부 이자", "이모 용돈",
    # role and kin words followed by ordinary words
    "남편 명의로", "제 딸이 쓰는 카드요", "예금주 확인 부탁드립니다", "예금주는 본인입니다",
    "상담사 연결해 주세요", "아들 이번에 결혼해요", "딸 정말 고마워", "남편 지금 옆에 있어요",
    # digit words inside ordinary speech, positional numbers, service numbers
    "고객님 이사 가세요?", "이사 일이 많아서요", "오일 교환", "영업일 기준 삼일에서 오일",
    "일일 한도 오십만 원", "대표번호 1588-1234", "1544 1234", "사 개월 할부요", "이번 달 이사 이사일 이일",
    "일억 이천삼백사십오만 육천칠백팔십구 원", "구십구 점 구 퍼센트",
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[c[0][:20] for c in CASES])
def test_tricky_corpus(raw: str, expected: str) -> None:
    assert mask_pii(raw) == expected
    assert mask_pii(expected) == expected


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_words_are_kept(text: str) -> None:
    assert find_pii(text) == []


def _words(digits: str) -> str:
    return "".join(DIGIT_WORDS[int(d)] for d in digits)


@st.composite
def _spoken_card(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet="0123456789", min_size=15, max_size=15))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@settings(max_examples=200, deadline=None)
@given(
    number=_spoken_card(),
    sep=st.sampled_from([" ", "", "에 ", "-"]),
    tail=st.sampled_from(["이요", "입니다", "요", ""]),
)
def test_card_read_out_in_digit_words_is_masked(number: str, sep: str, tail: str) -> None:
    spoken = sep.join(_words(number[i : i + 4]) for i in range(0, 16, 4))
    masked = mask_pii(f"카드번호는 {spoken}{tail}")
    assert masked == f"카드번호는 ****-****-****-{number[-4:]}{tail}"


@settings(max_examples=200, deadline=None)
@given(
    middle=st.text(alphabet="0123456789", min_size=4, max_size=4),
    last=st.text(alphabet="0123456789", min_size=4, max_size=4),
    sep=st.sampled_from([" ", "", "에 ", "에"]),
    tail=st.sampled_from(["이에요", "이고요", "입니다", "로 주세요", ""]),
)
def test_mobile_read_out_in_digit_words_is_masked(middle: str, last: str, sep: str, tail: str) -> None:
    spoken = sep.join((_words("010"), _words(middle), _words(last)))
    assert mask_pii(f"번호는 {spoken}{tail}") == f"번호는 010-****-{last}{tail}"


@pytest.mark.parametrize("kind", MEMO_KINDS)
def test_generated_memos_never_keep_the_counterpart_name(kind: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(150):
        name = korean_name(rng, "F" if rng.random() < 0.5 else "M")
        memo = render_memo(rng, kind, counterpart_name=name, month=int(rng.integers(1, 13)))
        assert name not in mask_pii(memo), memo
