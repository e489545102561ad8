"""Korean text signals: inflected forms count as their lemma, the customer's words count, masking comes
first, and a transcript with nothing usable gives zeros rather than an error."""

from __future__ import annotations

import pytest

from cardwise.voc.lexicon import LEXICON_VERSION, TOPICS, UNKNOWN_TOPIC
from cardwise.voc.text import (
    EMPTY_LINE,
    TextAnalyzer,
    analyze_transcript,
    default_analyzer,
    memo_kind,
    normalize,
    split_speakers,
)


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return default_analyzer()


def test_speakers_and_unlabelled_lines() -> None:
    text = "상담사: 무엇을 도와드릴까요?\n고객: 해지하려고요.\n\n그냥 안 쓸 것 같아서요"
    assert split_speakers(text) == [
        (True, "무엇을 도와드릴까요?"),
        (False, "해지하려고요."),
        (False, "그냥 안 쓸 것 같아서요"),
    ]


@pytest.mark.parametrize(
    ("text", "topic", "group"),
    [
        ("고객: 불친절한 응대 때문에 정식으로 민원 제기하려고 전화했습니다. 너무 화가 나요.", "complaint", "complaint"),
        ("고객: 카드 해지하려고 전화했어요. 다른 카드사로 갈아타려고요.", "cancellation_intent", "churn_intent"),
        ("고객: 급하게 돈이 필요해서 그런데요, 카드론 한도가 얼마나 나와요?", "card_loan_inquiry", "loan"),
        ("고객: 이번 달 카드값을 못 낼 것 같아서요, 연체될까 봐 걱정돼요.", "payment_inquiry", "payment_worry"),
        ("고객: 지갑을 잃어버렸어요. 카드 분실 신고 좀 해 주세요.", "lost_card", None),
        ("고객: 이번에 이사해서 청구서 주소 변경하려고요.", "address_change", None),
    ],
)
def test_topics_and_mentions(analyzer: TextAnalyzer, text: str, topic: str, group: str | None) -> None:
    s = analyze_transcript(analyzer, text)
    assert s.topic == topic
    assert s.usable
    if group is not None:
        assert s.mentions[group] >= 1


@pytest.mark.parametrize("phrase", ["해지하려고요", "해지해 주세요", "해지 접수 부탁드려요", "탈회하고 싶어요"])
def test_inflected_forms_count_as_their_lemma(analyzer: TextAnalyzer, phrase: str) -> None:
    assert analyze_transcript(analyzer, f"고객: {phrase}").mentions["churn_intent"] == 1


def test_agent_words_weigh_half_and_are_not_the_customers_mentions(analyzer: TextAnalyzer) -> None:
    agent = analyze_transcript(analyzer, "상담사: 민원 접수해 드리겠습니다.")
    customer = analyze_transcript(analyzer, "고객: 민원 접수해 주세요.")
    assert agent.scores["complaint"] == customer.scores["complaint"] / 2
    assert agent.mentions["complaint"] == 0 and customer.mentions["complaint"] == 1


def test_sentiment_runs_from_displeasure_to_thanks(analyzer: TextAnalyzer) -> None:
    angry = analyze_transcript(analyzer, "고객: 정말 불쾌하고 짜증나요. 실망했어요.")
    glad = analyze_transcript(analyzer, "고객: 친절하게 알려 주셔서 감사합니다. 정말 고맙습니다.")
    assert angry.negative >= 3 and angry.sentiment < -0.5
    assert glad.positive >= 2 and glad.sentiment > 0.5


@pytest.mark.parametrize("text", ["", "   ", "...", "음 어 음", "[인식 불가]", None, "상담사:\n고객:"])
def test_no_usable_text_gives_zeros(analyzer: TextAnalyzer, text: str | None) -> None:
    s = analyze_transcript(analyzer, text)
    assert s.topic == UNKNOWN_TOPIC
    assert not s.usable
    assert set(s.scores) == set(TOPICS) and not any(s.scores.values())
    assert not any(s.mentions.values()) and s.sentiment == 0.0 and s.keywords == ()


def test_personal_data_is_masked_before_analysis(analyzer: TextAnalyzer) -> None:
    text = "고객: 제 이름은 김민수입니다. 카드번호는 4532015112830366이고 번호는 010-1234-5678이에요. 해지해 주세요."
    s = analyze_transcript(analyzer, text)
    assert s.mentions["churn_intent"] == 1
    assert not any("민수" in k for k in s.keywords)
    seen = " ".join(analyzer._cache)  # what the morphological analyzer was given
    assert "민수" not in seen and "4532" not in seen and "1234" not in seen and "5678" not in seen


def test_normalize_collapses_numbers_and_masked_spans() -> None:
    assert normalize("김○○ 고객님, 52,000원 결제 010-****-5678") == "○  고객님, 0원 결제 0"
    assert normalize("") == ""


@pytest.mark.parametrize(
    ("memo", "kind"),
    [
        ("정○○ 용돈", "allowance"),
        ("빌린돈 갚음", "urgent_loan"),
        ("급전", "urgent_loan"),
        ("10월분 이자", "loan_interest"),
        ("대출이자", "loan_interest"),
        ("엔빵", "split_bill"),
        ("저녁값N빵", "split_bill"),
        ("가스비", "utility"),
        ("계모임", "dues"),
        ("5월 월세", "rent"),
        ("축의금 김○○", "gift"),
        ("고마워", "other"),
    ],
)
def test_memo_kinds(analyzer: TextAnalyzer, memo: str, kind: str) -> None:
    assert memo_kind(analyzer.lines([memo])[0], memo) == kind


def test_empty_line_and_version() -> None:
    assert EMPTY_LINE.units() == frozenset()
    assert len(LEXICON_VERSION) == 12
