"""The VOC keyword dictionary (VOC 키워드 사전): call topics, keyword groups, sentiment, memo kinds.

Entries are lemmas as the morphological analyzer returns them (verb and adjective stems without 다,
prefixes joined to their noun: 불친절, 탈회) or two adjacent lemmas written with a space ("다른 카드사",
"못 내"). Card-company call centres keep such dictionaries by hand and extend them from the keywords
of unclassified calls; the weights say how strongly a word points to a topic. The dictionary is data:
changing it changes :data:`LEXICON_VERSION`, so cached text signals are recomputed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

# Card-company compounds the analyzer's general dictionary splits ("카드론" → 카드 + 론): added to it as
# user nouns, the usual way of adapting a Korean analyzer to a domain.
USER_NOUNS: Final[tuple[str, ...]] = (
    "카드론", "장기카드대출", "단기카드대출", "현금서비스", "리볼빙", "전월실적", "적립률", "결제일", "청구서",
    "청구지", "배송지", "명세서", "재발급", "금융감독원", "금감원", "불친절", "탈회", "카드사", "연회비",
    "엔빵", "더치페이", "곗돈", "계모임", "빌린돈", "알바비", "가스비", "수도세", "전기세", "관리비", "축의금",
    "돌잔치", "학원비", "교습비",
)  # fmt: skip

# Call topics (the lake's eight, so the detector can be checked against its ground truth) with the
# words that point to each. Words the agent says count half (see text.py).
TOPIC_WORDS: Final[dict[str, dict[str, float]]] = {
    "complaint": {
        "민원": 2.0, "불만": 2.0, "불친절": 2.0, "불쾌": 2.0, "항의": 2.0, "따지": 1.5, "화 나": 1.5,
        "중복": 1.0, "환불": 1.0, "돌려주": 1.0, "수수료": 0.5, "금감원": 2.0, "금융감독원": 2.0, "사과": 1.0,
        "재발 방지": 1.0, "책임자": 1.0,
    },
    "cancellation_intent": {
        "해지": 2.0, "탈회": 2.0, "갈아타": 2.0, "다른 카드사": 2.0, "옮기": 1.0, "안 쓰": 1.0, "삭제": 0.5,
        "소멸": 0.5, "캐시백 이벤트": 0.5,
    },
    "card_loan_inquiry": {
        "카드론": 2.0, "장기카드대출": 2.0, "대출": 1.5, "현금서비스": 1.5, "급전": 1.5, "목돈": 1.0,
        "금리": 1.0, "중도상환": 1.0, "상환": 1.0, "급하": 0.5,
    },
    "lost_card": {
        "분실": 2.0, "도난": 2.0, "잃어버리": 2.0, "정지": 1.0, "재발급": 1.0, "지갑": 1.0, "부정 사용": 1.0,
        "없어지": 1.0,
    },
    "benefit_question": {
        "혜택": 1.5, "할인": 1.5, "적립": 1.5, "포인트": 1.0, "전월실적": 1.5, "실적": 1.0, "적립률": 1.5,
    },
    "payment_inquiry": {
        "청구서": 1.5, "결제일": 2.0, "명세서": 1.0, "할부": 1.0, "연체": 1.5, "잔액": 1.0, "카드 값": 1.5,
        "청구": 1.0, "일시불": 1.0, "이월": 1.0,
    },
    "limit_increase": {"한도": 1.5, "상향": 2.0, "증액": 2.0, "소득": 1.0, "초과": 0.5},
    "address_change": {"주소": 2.0, "이사": 2.0, "배송지": 1.0, "청구지": 1.0, "자택": 1.0},
}  # fmt: skip
TOPICS: Final[tuple[str, ...]] = tuple(TOPIC_WORDS)
UNKNOWN_TOPIC: Final = "unknown"
MIN_TOPIC_SCORE: Final = 1.0  # below this a call has no detectable topic

# Mentions counted in the customer's own words: the signals a risk model reads beside the topic.
KEYWORD_GROUPS: Final[dict[str, frozenset[str]]] = {
    "complaint": frozenset({"민원", "불만", "불친절", "항의", "금감원", "금융감독원", "따지"}),
    "churn_intent": frozenset({"해지", "탈회", "갈아타", "안 쓰", "옮기"}),
    "competitor": frozenset({"다른 카드사", "타사", "다른 카드"}),
    "loan": frozenset({"카드론", "대출", "장기카드대출", "현금서비스", "급전", "목돈"}),
    "payment_worry": frozenset({"연체", "못 내", "못 갚", "잔액 부족", "신용점수", "부족"}),
    "refund": frozenset({"환불", "돌려주", "환급"}),
}

# Sentiment-like signals: words of displeasure and of thanks in the customer's lines.
NEGATIVE_WORDS: Final[frozenset[str]] = frozenset(
    {
        "화", "화 나", "짜증", "불쾌", "불친절", "실망", "불만", "불편", "걱정", "불안", "억울", "황당", "답답",
        "최악", "속상", "어이없", "너무하", "불쾌하", "이상하", "따지",
    }
)  # fmt: skip
POSITIVE_WORDS: Final[frozenset[str]] = frozenset(
    {"감사", "고맙", "좋", "만족", "친절", "다행", "편하", "최고", "도움"}
)  # fmt: skip

# Nouns never shown as a call's keywords: the call centre's own vocabulary.
STOP_NOUNS: Final[frozenset[str]] = frozenset(
    {
        "고객", "카드", "상담사", "번호", "전화", "확인", "이번", "달", "때문", "정도", "내용", "부분", "말씀",
        "본인", "성함", "연락처", "휴대폰", "휴대전화", "전화번호", "카드번호", "업무", "처리", "안내", "문자",
        "고객센터", "카드와이즈", "카드와이즈카드", "감사", "수고", "인식", "불가", "원", "월", "일", "뒷자리",
        "끝자리", "자리", "거", "것", "요", "네", "예", "혹시", "잠시", "먼저", "조회", "진행", "접수", "완료",
        "품질", "향상", "녹음", "통화", "이름",
    }
)  # fmt: skip

# Transfer memo kinds (적요), in priority order: the first kind with a word in the memo wins.
MEMO_WORDS: Final[dict[str, frozenset[str]]] = {
    "urgent_loan": frozenset({"급전", "빌리", "갚", "빌린돈"}),
    "loan_interest": frozenset({"이자", "대출이자"}),
    "rent": frozenset({"월세", "집세", "방세"}),
    "salary": frozenset({"급여", "알바비", "월급", "인건비"}),
    "allowance": frozenset({"용돈"}),
    "utility": frozenset({"관리비", "가스비", "전기세", "수도세", "공과금", "전기요금", "통신비"}),
    "gift": frozenset({"축의금", "결혼", "돌잔치", "출산", "백일", "축하", "선물"}),
    "dues": frozenset({"회비", "곗돈", "계모임", "모임", "산악회", "동창회비"}),
    "tuition": frozenset({"학원", "학원비", "교습비", "영어학원", "피아노"}),
    "split_bill": frozenset(
        {"N빵", "엔빵", "더치페이", "점심", "저녁", "점심값", "저녁값", "택시비", "커피값", "회식비"}
    ),
}
MEMO_KINDS: Final[tuple[str, ...]] = tuple(MEMO_WORDS)
MEMO_OTHER: Final = "other"


def _version() -> str:
    blob = json.dumps(
        {
            "user_nouns": USER_NOUNS,
            "topics": TOPIC_WORDS,
            "groups": {k: sorted(v) for k, v in KEYWORD_GROUPS.items()},
            "neg": sorted(NEGATIVE_WORDS),
            "pos": sorted(POSITIVE_WORDS),
            "stop": sorted(STOP_NOUNS),
            "memo": {k: sorted(v) for k, v in MEMO_WORDS.items()},
            "min": MIN_TOPIC_SCORE,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


LEXICON_VERSION: Final = _version()
