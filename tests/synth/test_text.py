"""Synthetic Korean texts: deterministic, topical, varied, and free of PII once masked."""

from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np
import pytest

from cardwise.privacy.masking import COMPOUND_SURNAMES, luhn_valid, mask_pii
from cardwise.synth.text import (
    MEMO_KINDS,
    TOPIC_LABELS_EN,
    TOPIC_LABELS_KO,
    TRANSCRIPT_TOPICS,
    korean_name,
    merchant_name,
    mobile_phone,
    render_memo,
    render_transcript,
    romanized_email,
)

CATEGORY_CODES = (
    "KOREAN", "JAPANESE", "WESTERN", "CHINESE", "BAKERY", "CAFE", "FASTFOOD", "BAR", "KARAOKE", "DEPT_STORE",
    "HYPERMARKET", "SUPERMARKET", "CONVENIENCE", "HOUSEHOLD", "BUTCHER", "PRODUCE", "CLOTHING", "FASHION_ACC",
    "JEWELRY", "OPTICIAN", "CINEMA", "FITNESS", "GOLF", "BOOKSTORE", "HOBBY", "SPORTS_GOODS", "FLORIST",
    "HOTEL", "TRAVEL_AGENCY", "AIRLINE", "DUTY_FREE", "TRANSIT", "TAXI", "HAIR_SALON", "BEAUTY_SERVICE",
    "COSMETICS", "LAUNDRY", "INTERIOR", "TELECOM", "INSURANCE", "UTILITIES", "ACADEMY", "LANGUAGE_SCHOOL",
    "KINDERGARTEN", "HOSPITAL", "CLINIC", "DENTAL", "PHARMACY", "APPLIANCE", "FURNITURE", "CAR_SALES",
    "CAR_REPAIR", "GAS_STATION", "ONLINE_MALL", "DIGITAL_CONTENT", "PET", "BABY",
)  # fmt: skip

# Words a topic classifier must be able to learn from (compared with spaces removed: STT drops spaces).
TOPIC_VOCABULARY: dict[str, tuple[str, ...]] = {
    "complaint": ("불만", "불친절", "민원", "수수료", "화가 나서"),
    "cancellation_intent": ("해지", "탈회", "다른 카드사"),
    "card_loan_inquiry": ("카드론", "장기카드대출", "한도", "금리", "급하게"),
    "lost_card": ("분실", "도난", "정지"),
    "benefit_question": ("할인", "적립", "전월실적"),
    "payment_inquiry": ("결제일", "청구서", "할부", "연체"),
    "limit_increase": ("한도 상향",),
    "address_change": ("주소 변경", "이사"),
}
REAL_BRANDS = (
    "이마트", "홈플러스", "롯데", "신세계", "현대백화점", "코스트코", "스타벅스", "쿠팡", "GS25", "CU",
    "세븐일레븐", "올리브영", "다이소", "교보", "CGV", "메가박스", "대한항공", "아시아나", "파리바게뜨",
    "뚜레쥬르", "SK", "S-Oil", "KT", "삼성",
)  # fmt: skip


def _luhn_pan(rng: np.random.Generator) -> str:
    body = "9440" + "".join(map(str, rng.integers(0, 10, 11).tolist()))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def _flat(s: str) -> str:
    return s.replace(" ", "")


def _transcript_inputs(seed: int, n: int) -> list[tuple[str, str, str, str, str | None, int | None]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        gender = "F" if i % 2 else "M"
        topic = TRANSCRIPT_TOPICS[i % len(TRANSCRIPT_TOPICS)]
        category = ("커피전문점", "편의점", None)[i % 3]
        amount = int(rng.integers(1, 3000)) * 1000 if i % 4 else None
        out.append((topic, korean_name(rng, gender), mobile_phone(rng), _luhn_pan(rng), category, amount))
    return out


def _render_many(seed: int, n: int) -> list[tuple[str, str, str, str]]:
    """(topic, name, phone digits, pan, raw text) for n transcripts."""
    rng = np.random.default_rng(seed + 1)
    rows = []
    for topic, name, phone, pan, category, amount in _transcript_inputs(seed, n):
        raw = render_transcript(
            rng,
            topic,
            customer_name=name,
            phone=phone,
            card_number=pan,
            category_name_ko=category,
            amount_krw=amount,
        )
        rows.append((topic, name, phone, pan, raw))
    return rows


# --- determinism --------------------------------------------------------------------------------------------


def test_same_seed_same_texts_and_different_seed_different_texts() -> None:
    def draw(seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        name = korean_name(rng, "F")
        return [
            name,
            romanized_email(rng, name),
            mobile_phone(rng),
            render_transcript(rng, "lost_card", customer_name=name, phone="010-2345-6789", card_number=_luhn_pan(rng)),
            render_memo(rng, "rent", counterpart_name=name, month=5),
            merchant_name(rng, "CAFE", "강남구"),
        ]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_draw_count_is_fixed_so_streams_stay_aligned() -> None:
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    render_transcript(a, "complaint", customer_name="김민수", phone="010-2345-6789", card_number="4532015112830366")
    render_transcript(b, "address_change", customer_name="이서", phone="010-9876-5432", card_number="4111111111111111")
    assert a.random() == b.random()


# --- names, e-mails, phones ---------------------------------------------------------------------------------


def test_korean_names_follow_surname_frequencies() -> None:
    rng = np.random.default_rng(11)
    names = [korean_name(rng, "F" if i % 2 else "M") for i in range(20_000)]
    assert all(2 <= len(n) <= 4 and re.fullmatch(r"[가-힣]+", n) for n in names)
    surnames = Counter(n[:2] if n[:2] in COMPOUND_SURNAMES and len(n) >= 3 else n[0] for n in names)
    assert 0.19 < surnames["김"] / len(names) < 0.24
    assert 0.13 < surnames["이"] / len(names) < 0.17
    assert 0.07 < surnames["박"] / len(names) < 0.10
    assert Counter(len(n) for n in names)[3] / len(names) > 0.9  # mostly two-syllable given names
    assert len(set(names)) > 3_000


def test_gendered_given_names_differ_and_gender_is_checked() -> None:
    rng = np.random.default_rng(5)
    female = Counter(korean_name(rng, "F")[-1] for _ in range(2000))
    male = Counter(korean_name(rng, "M")[-1] for _ in range(2000))
    assert female.most_common(1)[0][0] != male.most_common(1)[0][0]
    with pytest.raises(ValueError):
        korean_name(rng, "X")


def test_emails_use_reserved_domains_and_phones_are_mobile() -> None:
    rng = np.random.default_rng(2)
    for _ in range(500):
        email = romanized_email(rng, korean_name(rng, "M"))
        assert re.fullmatch(r"[a-z][a-z0-9.]*@example\.(com|net)", email), email
        assert re.fullmatch(r"010-[2-9][0-9]{3}-[0-9]{4}", mobile_phone(rng))
    assert romanized_email(np.random.default_rng(0), "남궁민수").split("@")[0].count("namgung") <= 1


# --- transcripts --------------------------------------------------------------------------------------------


def test_topic_labels_cover_every_topic() -> None:
    assert set(TOPIC_LABELS_KO) == set(TOPIC_LABELS_EN) == set(TRANSCRIPT_TOPICS) == set(TOPIC_VOCABULARY)
    assert len(TRANSCRIPT_TOPICS) == 8


@pytest.mark.parametrize("topic", TRANSCRIPT_TOPICS)
def test_transcripts_carry_their_topic_vocabulary_and_vary(topic: str) -> None:
    rng = np.random.default_rng(21)
    texts = [
        render_transcript(rng, topic, customer_name="정하늘", phone="010-3456-7890", card_number="4532015112830366")
        for _ in range(200)
    ]
    vocabulary = [_flat(w) for w in TOPIC_VOCABULARY[topic]]
    for text in texts:
        assert any(w in _flat(text) for w in vocabulary), text
    # every listed word shows up somewhere, so a model sees the whole vocabulary
    assert all(any(w in _flat(t) for t in texts) for w in vocabulary)
    assert len(set(texts)) > 150
    first_customer_lines = {t.split("\n")[1] for t in texts}
    assert len(first_customer_lines) >= 4


def test_transcript_shape() -> None:
    for _, _, _, _, raw in _render_many(seed=4, n=400):
        lines = raw.split("\n")
        assert 4 <= len(lines) <= 12
        assert all(line.startswith(("상담사: ", "고객: ")) for line in lines)
        assert lines[0].startswith("상담사: ")
        assert any(line.startswith("고객: ") for line in lines)


def test_raw_transcripts_contain_pii_as_stt_would() -> None:
    rows = _render_many(seed=6, n=400)
    assert sum(name in raw for _, name, _, _, raw in rows) > 250
    assert sum(re.sub(r"\D", "", phone) in re.sub(r"[ -]", "", raw) for _, _, phone, _, raw in rows) > 250
    assert any(pan in re.sub(r"[ -]", "", raw) for _, _, _, pan, raw in rows)


def test_unknown_topic_is_rejected() -> None:
    with pytest.raises(ValueError):
        render_transcript(np.random.default_rng(0), "weather", customer_name="김민수", phone="010", card_number="1")


_RRN = re.compile(r"(?<![0-9])[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[ -]?[0-9]{7}(?![0-9])")


def test_masked_transcripts_hold_no_pii_and_mask_only_the_name() -> None:
    for _, name, phone, pan, raw in _render_many(seed=9, n=600):
        masked = mask_pii(raw)
        flat = re.sub(r"[ .-]", "", masked)
        for run in re.findall(r"[0-9]{13,19}", flat):
            assert not luhn_valid(run), masked
        assert pan not in flat and pan[:12] not in flat
        assert not _RRN.search(masked)
        assert re.sub(r"\D", "", phone) not in flat
        assert phone[4:8] not in masked  # the middle block is what the mask hides
        assert name not in masked, masked
        # No false positives: only the given name is masked, plus at most the first syllable of a copula
        # where the split is ambiguous ("임희예요": 임희 + 예요 or 임희예 + 요; the masker masks more).
        given = len(name) - (2 if name[:2] in COMPOUND_SURNAMES and len(name) >= 3 else 1)
        k = raw.count(name)
        assert k * given <= masked.count("○") <= k * (given + 1), masked


def test_transcripts_are_fast() -> None:
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    for _ in range(5_000):
        render_transcript(
            rng,
            "payment_inquiry",
            customer_name="김민수",
            phone="010-2345-6789",
            card_number="4532015112830366",
        )
    assert time.perf_counter() - start < 2.0


# --- memos --------------------------------------------------------------------------------------------------


def test_memos_are_short_and_cover_every_kind() -> None:
    rng = np.random.default_rng(8)
    assert len(MEMO_KINDS) == 11
    for kind in MEMO_KINDS:
        memos = {render_memo(rng, kind, counterpart_name=n, month=m) for n in ("남궁민수", None) for m in range(1, 13)}
        assert all(0 < len(m) <= 20 for m in memos), memos
        assert len(memos) >= 3
    named = [render_memo(rng, "gift_wedding", counterpart_name="박지은", month=3) for _ in range(100)]
    assert any("박지은" in m for m in named) and any("축의금" in m for m in named)
    anonymous = [render_memo(rng, "gift_wedding", counterpart_name=None, month=3) for _ in range(100)]
    assert not any("None" in m for m in anonymous)
    assert "5월" in "".join(render_memo(rng, "rent", counterpart_name=None, month=5) for _ in range(50))


def test_memo_arguments_are_checked() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        render_memo(rng, "bribe", counterpart_name=None, month=1)
    with pytest.raises(ValueError):
        render_memo(rng, "rent", counterpart_name=None, month=13)


# --- merchants ----------------------------------------------------------------------------------------------


def test_every_category_has_fictional_names_at_home_and_abroad() -> None:
    rng = np.random.default_rng(12)
    assert len(CATEGORY_CODES) == 57
    for code in CATEGORY_CODES:
        home = {merchant_name(rng, code, "강남구") for _ in range(40)}
        abroad = {merchant_name(rng, code, "도쿄") for _ in range(20)}
        assert all(n and "{" not in n for n in home | abroad)
        tokens = {tok for n in home | abroad for tok in n.split()}
        assert not any(tok.startswith(REAL_BRANDS) for tok in tokens), home
        assert len(home) >= 2
        if code != "AIRLINE":
            assert any(re.search(r"[가-힣]", n) for n in home)
            assert all(n.isascii() for n in abroad), abroad
    assert any(n.endswith("강남점") for n in (merchant_name(rng, "CONVENIENCE", "강남구") for _ in range(10)))


def test_unknown_category_is_rejected() -> None:
    with pytest.raises(ValueError):
        merchant_name(np.random.default_rng(0), "CASINO", "강남구")


def test_merchant_names_are_fast() -> None:
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for i in range(20_000):
        merchant_name(rng, CATEGORY_CODES[i % 57], "마포구" if i % 10 else "뉴욕")
    assert time.perf_counter() - start < 2.0  # loose guard; ~0.05 s on a laptop
