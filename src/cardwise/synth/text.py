"""Synthetic Korean texts for the customer-behaviour store: names, call transcripts, memos, merchants.

Seed 003 feeds call-centre transcripts and transfer memos into the marketing and VOC-risk models, so
the texts must carry topic vocabulary a text model can learn, vary in wording, and look like real
speech-to-text output (fillers, spacing slips, numbers read out). The raw texts may therefore hold
names, phone numbers and card numbers; the generator masks them with
:func:`cardwise.privacy.masking.mask_pii` before anything is written.

Every function takes a ``numpy.random.Generator`` and draws one fixed-size block of uniforms from it,
so the same generator state always yields the same text and the number of draws never depends on the
text. Pools are module-level tuples: a call is a few index look-ups and one ``str.format``, which keeps
100k merchant names well under a second.
"""

from __future__ import annotations

import bisect
from functools import cache
from itertools import accumulate
from typing import Final

import numpy as np

from cardwise.lake.schema import TOPICS
from cardwise.privacy.masking import luhn_valid

# --- names ------------------------------------------------------------------------------------------------

# Share of the population in percent (2015 census, rounded); 유 merges 柳 and 劉.
_SURNAME_WEIGHTS: Final[tuple[tuple[str, float], ...]] = (
    ("김", 21.5), ("이", 14.7), ("박", 8.4), ("최", 4.7), ("정", 4.3), ("강", 2.3), ("조", 2.1), ("윤", 2.1),
    ("장", 2.0), ("임", 1.7), ("한", 1.5), ("오", 1.5), ("서", 1.5), ("신", 1.5), ("권", 1.4), ("황", 1.4),
    ("안", 1.4), ("송", 1.4), ("전", 1.1), ("홍", 1.1), ("유", 1.1), ("고", 0.9), ("문", 0.9), ("양", 0.8),
    ("손", 0.9), ("배", 0.8), ("백", 0.7), ("허", 0.6), ("남", 0.6), ("심", 0.5), ("노", 0.6), ("하", 0.5),
    ("곽", 0.4), ("성", 0.4), ("차", 0.4), ("주", 0.4), ("우", 0.4), ("구", 0.4), ("민", 0.3), ("류", 0.3),
    ("나", 0.3), ("진", 0.3), ("지", 0.3), ("엄", 0.3), ("채", 0.3), ("원", 0.2), ("천", 0.2), ("방", 0.2),
    ("공", 0.2), ("현", 0.2), ("함", 0.2), ("변", 0.2), ("염", 0.1), ("여", 0.1), ("추", 0.1), ("도", 0.1),
    ("소", 0.1), ("석", 0.1), ("선", 0.1), ("설", 0.1), ("마", 0.1), ("길", 0.1), ("연", 0.1), ("위", 0.1),
    ("표", 0.1), ("명", 0.1), ("기", 0.1), ("반", 0.1), ("왕", 0.05), ("금", 0.05), ("옥", 0.05),
    ("육", 0.05), ("인", 0.05), ("맹", 0.05), ("제", 0.05), ("모", 0.05), ("탁", 0.05), ("국", 0.05),
    ("어", 0.04), ("은", 0.03), ("편", 0.03), ("용", 0.03), ("예", 0.03), ("경", 0.03), ("봉", 0.03),
    ("사", 0.02), ("부", 0.02), ("황보", 0.02), ("남궁", 0.02), ("제갈", 0.01), ("선우", 0.01),
    ("독고", 0.005),
)  # fmt: skip
_SURNAMES: Final = tuple(s for s, _ in _SURNAME_WEIGHTS)
_SURNAME_CDF: Final = tuple(c / sum(w for _, w in _SURNAME_WEIGHTS) for c in accumulate(w for _, w in _SURNAME_WEIGHTS))
_COMPOUND_SURNAMES: Final = frozenset(s for s in _SURNAMES if len(s) == 2)

# Given-name syllables by position; none of them is a particle or copula syllable (이, 요, 예, 고, 구), which
# keeps "김민수요" unambiguous for the masker.
_GIVEN_FIRST: Final[dict[str, tuple[str, ...]]] = {
    "F": tuple("서지민수하윤채은유다소현혜미영정선나보아주연희예경순명옥숙인진가수"),
    "M": tuple("민준서도지현승우성동재영상정진태건시주하유은윤경병종석기철광용형대인"),
}
_GIVEN_SECOND: Final[dict[str, tuple[str, ...]]] = {
    "F": tuple("연윤은아서현진영희정원민경숙주린빈우나미혜자순옥화란선애림율"),
    "M": tuple("준호우민현혁수훈진석성재원빈철규환식영기태윤범찬용택섭근일"),
}
_GIVEN_ONE: Final[dict[str, tuple[str, ...]]] = {
    "F": tuple("진솔윤희별빈설담"),
    "M": tuple("진훈혁준민윤솔결현"),
}
_GIVEN_NATIVE: Final[dict[str, tuple[str, ...]]] = {
    "F": ("빛나리", "아름솔", "하늘빛"),
    "M": ("한가람", "한빛솔", "우람찬"),
}

# Conventional passport spellings of common surnames; others follow the Revised Romanization.
_SURNAME_ROMAN: Final[dict[str, str]] = {
    "김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang", "조": "cho",
    "윤": "yoon", "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo", "신": "shin", "권": "kwon",
    "황": "hwang", "안": "ahn", "송": "song", "전": "jeon", "홍": "hong", "유": "yoo", "고": "ko",
    "문": "moon", "양": "yang", "손": "son", "배": "bae", "백": "baek", "허": "heo", "남": "nam",
    "심": "shim", "노": "noh", "하": "ha", "곽": "kwak", "성": "sung", "차": "cha", "주": "joo", "우": "woo",
    "구": "koo", "민": "min", "류": "ryu", "나": "na", "진": "jin", "지": "ji", "엄": "eom", "채": "chae",
    "원": "won", "천": "cheon", "방": "bang", "공": "kong", "현": "hyun", "함": "ham", "변": "byun",
    "염": "yeom", "여": "yeo", "추": "choo", "도": "do", "소": "so", "석": "seok", "선": "sun", "설": "seol",
    "마": "ma", "길": "gil", "연": "yeon", "위": "wi", "표": "pyo", "명": "myung", "기": "ki", "반": "ban",
    "왕": "wang", "금": "keum", "옥": "ok", "육": "yuk", "인": "in", "맹": "maeng", "제": "je", "모": "mo",
    "탁": "tak", "국": "kook", "어": "eo", "은": "eun", "편": "pyeon", "용": "yong", "예": "ye",
    "경": "kyung", "봉": "bong", "사": "sa", "부": "bu", "황보": "hwangbo", "남궁": "namgung",
    "제갈": "jegal", "선우": "sunwoo", "독고": "dokgo",
}  # fmt: skip
_RR_INITIAL: Final = (
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h",
)  # fmt: skip
_RR_VOWEL: Final = (
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu",
    "eu", "ui", "i",
)  # fmt: skip
_RR_FINAL: Final = (
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t",
    "ng", "t", "t", "k", "t", "p", "t",
)  # fmt: skip
_EMAIL_DOMAINS: Final = ("example.com", "example.net")


def _pick(pool: tuple[str, ...], u: float) -> str:
    return pool[int(u * len(pool))]


def _split_name(name: str) -> tuple[str, str]:
    cut = 2 if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES else 1
    return name[:cut], name[cut:]


def korean_name(rng: np.random.Generator, gender: str) -> str:
    """A full name: surname by census frequency, given name from the gender's syllable pools."""
    if gender not in ("F", "M"):
        raise ValueError(f"gender must be 'F' or 'M', not {gender!r}")
    u0, u1, u2, u3 = rng.random(4).tolist()
    surname = _SURNAMES[min(bisect.bisect_right(_SURNAME_CDF, u0), len(_SURNAMES) - 1)]
    if u1 < 0.04:
        return surname + _pick(_GIVEN_ONE[gender], u2)
    if u1 < 0.05 and len(surname) == 1:
        return surname + _pick(_GIVEN_NATIVE[gender], u2)
    first = _pick(_GIVEN_FIRST[gender], u2)
    seconds = _GIVEN_SECOND[gender]
    i = int(u3 * len(seconds))
    second = seconds[i] if seconds[i] != first else seconds[(i + 1) % len(seconds)]
    return surname + first + second


def _romanize_syllable(ch: str) -> str:
    code = ord(ch) - 0xAC00
    if not 0 <= code < 11172:
        return ""
    return _RR_INITIAL[code // 588] + _RR_VOWEL[(code % 588) // 28] + _RR_FINAL[code % 28]


def romanized_email(rng: np.random.Generator, name: str) -> str:
    """An address built from the romanized name, on a reserved example domain (RFC 2606)."""
    u0, u1, u2 = rng.random(3).tolist()
    surname, given = _split_name(name)
    sur = _SURNAME_ROMAN.get(surname) or "".join(_romanize_syllable(c) for c in surname) or "user"
    giv = "".join(_romanize_syllable(c) for c in given) or "kr"
    number = int(u2 * 10_000)
    style = int(u0 * 5)
    if style == 0:
        local = f"{giv}.{sur}"
    elif style == 1:
        local = f"{sur}{giv}{number % 100:02d}"
    elif style == 2:
        local = f"{sur}.{giv}{number % 1000}"
    elif style == 3:
        local = f"{giv}{number:04d}"
    else:
        local = f"{sur[0]}{''.join(_romanize_syllable(c)[:1] for c in given)}{number:04d}"
    return f"{local}@{_pick(_EMAIL_DOMAINS, u1)}"


def mobile_phone(rng: np.random.Generator) -> str:
    """A 010 mobile number; the middle block starts with 2-9 as real assignments do."""
    middle, last = rng.integers((2000, 0), (10000, 10000)).tolist()
    return f"010-{middle:04d}-{last:04d}"


# --- call-centre transcripts ------------------------------------------------------------------------------

TRANSCRIPT_TOPICS: Final[tuple[str, ...]] = TOPICS  # one list of topics, owned by the lake schema
TOPIC_LABELS_KO: Final[dict[str, str]] = {
    "complaint": "불만·민원",
    "cancellation_intent": "해지 의사",
    "card_loan_inquiry": "카드론 문의",
    "lost_card": "분실·도난 신고",
    "benefit_question": "혜택 문의",
    "payment_inquiry": "결제·청구 문의",
    "limit_increase": "한도 상향 요청",
    "address_change": "주소 변경",
}
TOPIC_LABELS_EN: Final[dict[str, str]] = {
    "complaint": "Complaint",
    "cancellation_intent": "Cancellation intent",
    "card_loan_inquiry": "Card loan inquiry",
    "lost_card": "Lost or stolen card",
    "benefit_question": "Benefit question",
    "payment_inquiry": "Payment inquiry",
    "limit_increase": "Credit limit increase",
    "address_change": "Address change",
}

_AGENT: Final = "상담사: "
_CUSTOMER: Final = "고객: "

_GREETINGS: Final = (
    "안녕하십니까, 카드와이즈 고객센터입니다. 무엇을 도와드릴까요?",
    "네, 감사합니다. 카드와이즈카드 상담사입니다. 무엇을 도와드릴까요?",
    "사랑합니다 고객님, 카드와이즈카드입니다. 어떤 업무 도와드릴까요?",
    "안녕하세요 고객님, 카드와이즈 고객센터입니다. 편하게 말씀해 주세요.",
    "네, 카드와이즈 고객센터입니다. 통화 내용은 품질 향상을 위해 녹음됩니다. 무엇을 도와드릴까요?",
)
_VERIFY_ASK: Final = (
    "네, 고객님. 먼저 본인 확인을 위해 성함과 휴대폰 번호 말씀해 주시겠어요?",
    "확인 도와드리겠습니다. 고객님 성함과 연락처를 말씀해 주세요.",
    "네, 업무 처리를 위해 본인 확인 먼저 진행하겠습니다. 성함이랑 등록된 휴대전화 번호 부탁드립니다.",
    "아 네, 본인 확인부터 할게요. 성함하고 전화번호 말씀해 주시겠어요?",
)
# {n_*}: the name with the copula form its last syllable needs (이고요/고요, 이에요/예요).
_VERIFY_ANSWER: Final = (
    "제 이름은 {name}입니다. 전화번호는 {phone}이에요.",
    "네, 저는 {n_igoyo} 번호는 {phone}입니다.",
    "{n_ieyo}. 연락처는 {phone}이요.",
    "본인 {n_igoyo}, 휴대폰 번호는 {phone}입니다.",
    "제 이름은 {n_rago} 하고요, 번호는 {phone}이에요.",
)
_VERIFY_OK: Final = (
    "네, {name} 고객님 확인되었습니다.",
    "{name} 고객님 맞으시죠? 본인 확인 감사합니다.",
    "네, 확인됐습니다. {name}님, 말씀하신 내용 좀 더 자세히 여쭤볼게요.",
    "감사합니다, {name} 고객님. 본인 확인 완료되었습니다.",
    "네 {name} 회원님, 확인 감사드립니다.",
)
# When no identification is needed the agent simply invites the customer to go on.
_AGENT_PROMPTS: Final = (
    "네, 말씀하세요.",
    "네, 어떤 부분이 궁금하신가요?",
    "아 네, 자세히 말씀해 주시겠어요?",
    "네 고객님, 어떤 내용인지 말씀해 주세요.",
)
_CARD_ASK: Final = (
    "혹시 카드번호 확인 가능하실까요?",
    "해당 카드 번호 불러주시겠어요?",
    "카드번호 알고 계시면 말씀해 주세요.",
    "조회를 위해 카드번호 16자리 말씀 부탁드립니다.",
)
_CARD_READ: Final = (
    "카드번호는 {card}이고요.",
    "네, 카드 번호 {card}요.",
    "잠시만요… 카드번호 불러드릴게요. {card} 입니다.",
    "카드 번호는 {card}입니다.",
)
_CARD_CONFIRM: Final = (
    "네, 끝자리 {last4} 카드 맞으시죠?",
    "확인됐습니다. 뒷자리 {last4}번 카드로 조회되네요.",
    "네, {last4}로 끝나는 카드 확인했습니다.",
)
_THANKS: Final = (
    "네, 감사합니다.",
    "아 네네, 알겠습니다. 수고하세요.",
    "네 고맙습니다.",
    "알겠어요, 감사합니다. 수고하세요.",
    "네, 그럼 그렇게 해 주세요. 감사합니다.",
)
_FILLERS: Final = ("음, ", "어, ", "네네, ", "아 ", "그, ", "저기요, ", "어… ", "네, 그 ")
_CITIES: Final = (
    "경기도 성남시", "부산 해운대구", "대전 유성구", "인천 연수구", "세종시", "수원 영통구", "서울 마포구",
    "대구 수성구", "광주 북구", "제주시", "청주 흥덕구", "울산 남구",
)  # fmt: skip
_DEFAULT_CATEGORIES: Final = (
    "커피전문점", "편의점", "주유소", "대형마트", "온라인쇼핑몰", "한식 음식점", "백화점", "영화관", "병원",
    "약국", "학원", "면세점", "배달앱",
)  # fmt: skip
_INSTALLMENTS: Final = ("2", "3", "5", "6", "10", "12")


class _TopicScript:
    """Alternative phrasings for each step of one topic's call."""

    __slots__ = ("closing", "follow_a", "follow_q", "opening", "problem", "response")

    def __init__(
        self,
        *,
        opening: tuple[str, ...],
        problem: tuple[str, ...],
        response: tuple[str, ...],
        follow_q: tuple[str, ...],
        follow_a: tuple[str, ...],
        closing: tuple[str, ...],
    ) -> None:
        self.opening = opening
        self.problem = problem
        self.response = response
        self.follow_q = follow_q
        self.follow_a = follow_a
        self.closing = closing


_SCRIPTS: Final[dict[str, _TopicScript]] = {
    "complaint": _TopicScript(
        opening=(
            "제가 너무 화가 나서 전화했어요. 민원 좀 넣으려고요.",
            "지난번에 상담받은 것 때문에 불만이 있어서 연락드렸어요.",
            "아니 이번 달 명세서에 수수료가 이상하게 붙어서요. 이거 좀 따져야겠어요.",
            "불친절한 응대 때문에 정식으로 민원 제기하려고 전화했습니다.",
            "솔직히 너무 불쾌해서요. 불만 접수 좀 하려고 합니다.",
        ),
        problem=(
            "지난주에 {cat}에서 {amt} 결제했는데 수수료가 따로 빠져나갔더라고요. 아무 안내도 없었고요.",
            "전에 전화했을 때 상담하시는 분이 너무 불친절하셨어요. 말도 끊고 대충 대답하시고요. "
            "화가 나서 잠도 못 잤어요.",
            "{m}월에 연회비가 두 번 청구됐어요. 몇 번을 말했는데 처리가 안 되니까 민원 넣을 수밖에 없죠.",
            "포인트 적립 된다고 해서 {cat}에서 썼는데 하나도 안 들어왔어요. 이건 불만 접수해 주셔야 될 것 같아요.",
            "ARS 연결도 30분 넘게 기다렸고요, 문자 안내랑 실제 청구 금액이 달라요. 수수료 {amt} 이건 돌려주세요.",
        ),
        response=(
            "불편을 드려 정말 죄송합니다. 말씀하신 수수료 부분 바로 확인해 보겠습니다.",
            "죄송합니다. 불친절한 응대에 대해서는 담당 부서에 전달해서 재발 방지하도록 하겠습니다.",
            "네, 충분히 이해합니다. 청구 내역 보니 중복 청구된 것으로 보여서 환불 요청드리겠습니다.",
            "많이 불쾌하셨을 것 같습니다. 해당 건은 민원으로 정식 접수해 드리겠습니다.",
        ),
        follow_q=(
            "그럼 환불은 언제쯤 되는 거예요?",
            "민원 처리 결과는 어떻게 알 수 있어요?",
            "이런 일이 또 생기면 그때는 어떻게 해야 돼요?",
        ),
        follow_a=(
            "영업일 기준 3일에서 5일 이내에 결제 계좌로 환급됩니다.",
            "처리 결과는 7일 이내에 문자로 안내드리겠습니다.",
            "민원 접수 번호를 문자로 보내드릴 테니 그 번호로 진행 상황 확인하실 수 있습니다.",
        ),
        closing=(
            "다시 한번 불편 드려 죄송합니다. 민원 처리 결과는 빠르게 안내드리겠습니다.",
            "소중한 의견 감사합니다. 수수료 환불 접수 완료되었습니다.",
            "불편하게 해 드려 죄송합니다. 말씀하신 불만 사항은 꼭 개선하겠습니다.",
            "불만 사항 접수됐고 담당자가 직접 연락드릴 예정입니다, {name} 고객님.",
        ),
    ),
    "cancellation_intent": _TopicScript(
        opening=(
            "카드 해지하려고 전화했어요.",
            "이 카드 이제 안 쓸 것 같아서요, 해지 좀 하려고요.",
            "탈회 절차가 어떻게 되는지 궁금해서요.",
            "다른 카드사로 옮길까 해서요. 해지 방법 좀 알려주세요.",
            "연회비 나오기 전에 카드 해지하려고요.",
        ),
        problem=(
            "연회비는 계속 나가는데 혜택 쓰는 게 거의 없어서요. 그냥 해지하는 게 나을 것 같아요.",
            "혜택이 자꾸 줄어서 실망했어요. 다른 카드사에서 신규 혜택 준다고 해서 해지하려고요.",
            "요즘 {cat}에서 주로 쓰는데 이 카드는 적립이 거의 안 돼요. 다른 카드사로 갈아타려고요.",
            "아예 탈회하고 싶어요. 제 정보도 다 삭제해 주시고요.",
            "다른 카드사 혜택이 훨씬 좋더라고요. 거기는 {cat} 할인도 더 많이 해 주고요.",
        ),
        response=(
            "네, 해지 전에 혹시 연회비 면제 혜택 안내드려도 될까요?",
            "아쉽네요. 지금 해지하시면 남은 포인트는 소멸되는데 괜찮으실까요?",
            "확인해 보니 이번 달 3만 원 캐시백 이벤트 대상이세요. 해지 대신 유지하시는 건 어떠세요?",
            "탈회하시면 보유하신 모든 카드가 해지되고 재가입까지 시간이 걸릴 수 있습니다. 그래도 진행할까요?",
        ),
        follow_q=(
            "포인트는 해지 전에 다 쓸 수 있나요?",
            "남은 할부는 어떻게 돼요?",
            "연회비는 환불되나요?",
        ),
        follow_a=(
            "네, 포인트는 해지 전에 결제대금 차감으로 사용하실 수 있습니다.",
            "남은 할부금은 해지 후에도 원래 결제일에 청구됩니다.",
            "연회비는 남은 기간만큼 일할 계산해서 돌려드립니다.",
        ),
        closing=(
            "네, 요청하신 카드 해지 접수 완료되었습니다.",
            "해지 처리되었고요, 확인 문자 곧 발송됩니다. 그동안 이용해 주셔서 감사합니다.",
            "탈회 신청 접수되었습니다. 처리까지 영업일 기준 1~2일 걸립니다.",
            "말씀 참고해서 더 좋은 혜택으로 찾아뵙겠습니다. 해지 접수 도와드렸습니다, {name} 고객님.",
        ),
    ),
    "card_loan_inquiry": _TopicScript(
        opening=(
            "카드론 좀 받을 수 있는지 알아보려고요.",
            "급하게 돈이 필요해서 그런데요, 장기카드대출 가능할까요?",
            "카드론 한도랑 금리 좀 알고 싶어서 전화했어요.",
            "현금서비스 말고 카드론으로 받으면 어떤지 궁금해서요.",
        ),
        problem=(
            "이번 달에 급하게 {amt} 정도 필요한데 카드론 한도가 얼마나 나와요?",
            "장기카드대출 금리가 몇 퍼센트인지, 상환 기간은 어떻게 되는지 알고 싶어요.",
            "병원비 때문에 급하게 목돈이 필요해서요. 카드론으로 {amt} 받을 수 있을까요?",
            "전에 받은 카드론이 아직 남아 있는데 추가로 더 받을 수 있나요? 한도가 궁금해요.",
        ),
        response=(
            "확인해 보니 카드론 가능 한도는 {limit}이고 금리는 연 12.9%로 안내되고 있습니다.",
            "장기카드대출은 최대 36개월까지 나눠서 상환 가능하시고 금리는 신용점수에 따라 달라집니다.",
            "네, 앱에서 바로 신청하시면 당일 입금도 가능합니다. 한도 조회는 신용점수에 영향 없습니다.",
            "현재 이용 중인 카드론 잔액이 있어서 추가 한도는 {limit}까지 가능하십니다.",
        ),
        follow_q=(
            "중도상환 수수료도 있나요?",
            "카드론 받으면 신용점수 떨어지지 않아요?",
            "오늘 바로 입금되나요? 급하게 써야 해서요.",
        ),
        follow_a=(
            "중도상환 수수료는 없습니다. 언제든 먼저 갚으셔도 됩니다.",
            "카드론 이용 시 신용점수에 일부 영향이 있을 수 있는 점 참고 부탁드립니다.",
            "신청 후 심사 완료되면 등록된 계좌로 바로 입금됩니다.",
        ),
        closing=(
            "카드론 신청 도와드렸습니다. 무리한 대출은 부담이 될 수 있으니 참고 부탁드립니다.",
            "한도와 금리 안내 문자로 보내드리겠습니다. 필요하실 때 앱에서 신청하시면 됩니다.",
            "장기카드대출 상품 설명서는 문자로 발송해 드렸습니다.",
            "대출 관련해서 더 궁금하신 점 있으시면 언제든지 연락 주세요, {name} 고객님.",
        ),
    ),
    "lost_card": _TopicScript(
        opening=(
            "카드를 잃어버린 것 같아서요. 분실 신고 좀 하려고요.",
            "지갑을 도난당했어요. 카드 빨리 정지해 주세요.",
            "어제 {cat}에서 쓰고 나서 카드가 안 보여요. 분실된 것 같아요.",
            "카드 분실 신고요. 급해요.",
            "지하철에서 지갑을 잃어버렸는데 카드도 같이 있었어요. 분실 신고 해야 될 것 같아서요.",
        ),
        problem=(
            "누가 쓴 건 아닌지 걱정돼요. 어젯밤에 {amt} 결제 문자가 왔는데 제가 쓴 게 아니에요.",
            "일단 카드 정지부터 해 주세요. 다른 사람이 쓸까 봐 불안해요.",
            "{cat}에서 마지막으로 썼는데 그 뒤로 없어졌어요. 도난인지 분실인지는 모르겠어요.",
            "가방째로 도난당해서요. 카드 전부 정지하고 재발급 받고 싶어요.",
        ),
        response=(
            "카드 바로 정지하겠습니다. 분실 신고 이후 결제는 보상 대상이고요, 부정 사용 건은 조사 요청드리겠습니다.",
            "지금 즉시 카드 정지 처리했습니다. 해외 사용도 같이 차단해 드렸습니다.",
            "네, 바로 분실 신고 접수하고 카드 사용 정지해 드리겠습니다.",
            "도난 신고 접수되었습니다. 경찰서 신고 접수증이 있으시면 보상 심사에 도움이 됩니다.",
        ),
        follow_q=(
            "재발급은 얼마나 걸려요?",
            "자동이체 걸어둔 건 어떻게 돼요?",
            "혹시 나중에 카드 찾으면 다시 쓸 수 있어요?",
        ),
        follow_a=(
            "재발급 카드는 영업일 기준 5일 이내에 등록된 주소로 배송됩니다.",
            "자동이체는 재발급 카드로 자동 변경되지만 일부 가맹점은 직접 바꾸셔야 합니다.",
            "분실 신고 후 찾으시면 앱에서 정지 해제 가능하지만 도난 건은 재발급을 권해 드립니다.",
        ),
        closing=(
            "분실 신고와 카드 정지 완료되었습니다. 재발급 카드는 곧 발송됩니다.",
            "정지 처리 완료됐고요, 부정 사용 건은 결과 나오는 대로 연락드리겠습니다.",
            "분실 접수 번호 문자로 보내드렸습니다. 많이 놀라셨을 텐데 빠르게 처리하겠습니다.",
            "도난 신고 처리되었습니다. 이상 거래 있으면 바로 알림 드리겠습니다, {name} 고객님.",
        ),
    ),
    "benefit_question": _TopicScript(
        opening=(
            "카드 혜택 좀 물어보려고요.",
            "이 카드로 {cat} 할인 되는지 궁금해서요.",
            "포인트 적립 기준이 어떻게 되는지 알고 싶어서 전화했어요.",
            "전월실적 조건 때문에 문의드려요.",
        ),
        problem=(
            "{cat}에서 결제하면 할인이 몇 퍼센트 되는 거예요? 지난달엔 적용이 안 된 것 같아서요.",
            "전월실적이 30만 원 넘어야 혜택 받는 거 맞죠? 할부로 산 것도 실적에 들어가나요?",
            "포인트 적립은 어디서 확인해요? 적립률이 가맹점마다 다른가요?",
            "해외에서 쓸 때도 적립되나요? 다음 달에 여행 가거든요.",
        ),
        response=(
            "네, 이 카드는 전월실적 30만 원 이상이면 {cat} 10% 할인이 적용되고 월 최대 1만 원까지입니다.",
            "할부 결제도 전월실적에 포함되지만 무이자 할부는 제외됩니다.",
            "포인트 적립 내역은 앱의 혜택 메뉴에서 확인하실 수 있고요, 적립률은 업종별로 다릅니다.",
            "해외 이용금액도 1% 적립되고요, 해외 결제 수수료는 별도로 청구됩니다.",
            "확인해 보니 지난달 실적이 기준에 조금 못 미쳐서 할인이 적용되지 않았습니다.",
        ),
        follow_q=(
            "그럼 이번 달 실적은 얼마나 채웠어요?",
            "할인 한도는 매달 초기화되나요?",
            "교통카드로 쓴 것도 적립돼요?",
        ),
        follow_a=(
            "현재 이번 달 이용금액은 {spent}으로 집계됩니다.",
            "네, 할인 한도는 매월 1일에 새로 적용됩니다.",
            "대중교통 이용금액은 전월실적에 포함되고 적립도 0.5% 됩니다.",
        ),
        closing=(
            "혜택 관련 상세 내용은 문자로 보내드리겠습니다.",
            "전월실적 꼭 확인하시고 할인 혜택 알뜰하게 챙기세요.",
            "적립 포인트는 결제대금 차감으로도 쓰실 수 있습니다. 도움이 되셨으면 좋겠습니다.",
            "더 많은 할인 혜택은 앱 이벤트 메뉴에서 확인하실 수 있습니다, {name} 고객님.",
        ),
    ),
    "payment_inquiry": _TopicScript(
        opening=(
            "이번 달 청구서 금액이 좀 이상해서요.",
            "결제일 변경 좀 하려고요.",
            "카드값 결제일이 언제인지 헷갈려서요.",
            "할부 결제한 게 제대로 나눠서 나가는지 확인하고 싶어요.",
            "이번 달 카드값을 못 낼 것 같아서요, 연체될까 봐 걱정돼서 전화했어요.",
        ),
        problem=(
            "{cat}에서 {amt} 결제한 걸 {inst}개월 할부로 했는데 청구서엔 일시불로 나와 있어요.",
            "결제일이 {d}일인데 월급날이 늦어져서요. 결제일을 바꿀 수 있나요?",
            "이번 달 청구 금액이 {spent}인데 생각한 것보다 너무 많아요. 청구서 내역 좀 확인해 주세요.",
            "통장에 잔액이 부족해서 결제가 안 됐을 것 같아요. 연체되면 신용점수 떨어지잖아요. 걱정돼서요.",
        ),
        response=(
            "확인해 보니 해당 건은 {inst}개월 할부로 정상 등록되어 있고 이번 달엔 첫 회차만 청구되었습니다.",
            "결제일은 매달 1일, 5일, 10일, 14일, 15일, 21일, 25일 중에서 변경 가능하십니다.",
            "이번 달 결제 예정 금액은 {spent}이고 결제일은 {d}일입니다.",
            "결제일 당일 밤까지 입금하시면 연체 처리되지 않습니다. 걱정 안 하셔도 됩니다.",
        ),
        follow_q=(
            "일부만 먼저 내도 되나요?",
            "청구서는 이메일로도 받을 수 있어요?",
            "할부 수수료는 얼마예요?",
        ),
        follow_a=(
            "네, 일부 결제하시고 나머지는 다음 달로 이월하실 수 있지만 수수료가 발생합니다.",
            "이메일 청구서로 변경해 드릴게요. 다음 달부터 적용됩니다.",
            "할부 수수료율은 개월 수에 따라 연 9.5%에서 19.5% 사이입니다.",
        ),
        closing=(
            "결제 관련 안내 문자로 보내드렸습니다.",
            "결제일 변경 처리 완료되었습니다. 다음 청구서부터 적용됩니다.",
            "청구 내역은 앱에서도 확인 가능하십니다. 연체 없도록 결제일 전에 미리 알림 드리겠습니다.",
            "할부 내역 정정 요청 접수되었습니다, {name} 고객님.",
        ),
    ),
    "limit_increase": _TopicScript(
        opening=(
            "한도 상향 좀 하고 싶어서요.",
            "카드 한도가 부족해서 한도 상향 문의드려요.",
            "이번에 큰 지출이 있어서 일시적으로 한도 상향 가능할까요?",
            "한도 증액 신청하려고요. 한도 상향이요.",
        ),
        problem=(
            "{cat}에서 {amt} 정도 결제해야 하는데 한도가 모자라요.",
            "이사하면서 가전이랑 가구를 사야 해서요. 한도 상향이 꼭 필요해요.",
            "연봉이 올라서 한도 좀 늘리고 싶은데 소득 서류 내야 하나요?",
            "해외여행 가는데 현지에서 한도 초과될까 봐 걱정돼서요. 임시 한도 상향 돼요?",
        ),
        response=(
            "네, 현재 한도는 {limit}이고 심사 후 한도 상향 가능 여부 안내드리겠습니다.",
            "확인 결과 바로 상향 가능한 한도가 있어서 오늘 적용해 드릴 수 있습니다.",
            "소득 증빙 서류 제출해 주시면 한도 상향 심사 진행해 드리겠습니다.",
            "일시 한도 상향은 최대 3개월까지 가능하고 앱에서 바로 신청하실 수 있습니다.",
        ),
        follow_q=(
            "심사는 얼마나 걸려요?",
            "한도 올리면 신용점수에 영향 있나요?",
            "한도 올리면 연회비도 올라요?",
        ),
        follow_a=(
            "심사는 영업일 기준 1~2일 정도 소요됩니다.",
            "한도 상향 심사는 신용점수에 영향이 없습니다.",
            "한도가 올라가도 연회비는 변동 없습니다.",
        ),
        closing=(
            "한도 상향 신청 접수되었습니다. 결과는 문자로 안내드릴게요.",
            "상향된 한도는 지금부터 바로 사용 가능하십니다.",
            "일시 한도 상향 처리 완료되었습니다.",
            "소득 서류는 앱으로 제출해 주시면 한도 상향 심사 빠르게 진행하겠습니다, {name} 고객님.",
        ),
    ),
    "address_change": _TopicScript(
        opening=(
            "주소 변경하려고 전화했어요.",
            "이사를 해서 청구서 받을 주소를 바꿔야 할 것 같아요.",
            "주소 변경 좀 부탁드릴게요.",
            "이사 가서 카드 배송지랑 집 주소 바꾸려고요.",
        ),
        problem=(
            "이번에 {city}로 이사했어요. 청구서가 예전 집으로 가고 있어서요.",
            "다음 달에 이사 가는데 미리 주소 변경해 둘 수 있나요?",
            "직장 주소도 바뀌었는데 같이 주소 변경 가능해요?",
            "이사하고 주소를 바꿨는데 재발급 카드가 옛날 주소로 배송될까 봐 걱정돼요.",
        ),
        response=(
            "네, 주소 변경은 본인 확인 후 바로 처리 가능합니다.",
            "앱이나 홈페이지에서도 주소 변경하실 수 있는데 지금 전화로 도와드리겠습니다.",
            "자택 주소와 직장 주소 모두 변경해 드릴게요.",
            "배송 중인 카드가 있으면 반송 후 새 주소로 다시 보내드리겠습니다.",
        ),
        follow_q=(
            "청구서는 다음 달부터 새 주소로 가요?",
            "이메일 청구서로 바꾸는 것도 가능해요?",
            "다른 카드도 한 번에 바뀌나요?",
        ),
        follow_a=(
            "네, 다음 청구서부터 변경된 주소로 발송됩니다.",
            "네, 이메일 청구서로 바꾸시면 이사 때마다 주소 변경 안 하셔도 됩니다.",
            "보유하신 모든 카드의 주소가 한 번에 변경됩니다.",
        ),
        closing=(
            "주소 변경 완료되었습니다. 이사 잘 마무리하세요.",
            "요청하신 주소 변경 처리됐습니다. 변경 내역은 문자로 보내드릴게요.",
            "주소 변경 접수 완료입니다. 이사 축하드립니다.",
            "자택 주소와 청구지 주소 모두 변경 완료되었습니다, {name} 고객님.",
        ),
    ),
}
_CARD_READ_TOPICS: Final = frozenset({"lost_card", "payment_inquiry"})
_VERIFY_ALWAYS: Final = frozenset({"lost_card", "cancellation_intent", "limit_increase", "address_change"})
_BIG_AMOUNT_TOPICS: Final = frozenset({"card_loan_inquiry", "limit_increase"})
_MAX_LINES: Final = 12
_DRAWS: Final = 72  # uniforms consumed per transcript, fixed so callers can rely on the stream position


def _has_final_consonant(syllable: str) -> bool:
    code = ord(syllable) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


def _won(amount: int, u: float) -> str:
    """Amounts the way they are said: "52,000원" or "5만 2천 원"."""
    man, rest = divmod(amount, 10_000)
    if u < 0.5 or man == 0 or rest % 1000:
        return f"{amount:,}원"
    if rest == 0:
        return f"{man:,}만 원"
    return f"{man:,}만 {rest // 1000}천 원"


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _render_card(card_number: str, u: float) -> str:
    """The PAN as STT writes it; ungrouped only when Luhn-valid, so a masker always recognises it."""
    digits = _digits(card_number)
    if len(digits) == 15:
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    if u < 0.4:
        return "-".join(groups)
    if u < 0.7 or not luhn_valid(digits):
        return " ".join(groups)
    return digits


def _render_phone(phone: str, u: float) -> str:
    digits = _digits(phone)
    if len(digits) != 11:
        return phone
    if u < 0.5:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if u < 0.8:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return digits


def _is_hangul(ch: str) -> bool:
    return "가" <= ch <= "힣"


def _stt_noise(line: str, u_kind: float, u_pos: float) -> str:
    """One spacing slip of the kind STT makes: a dropped or a spurious space between Hangul syllables."""
    n = len(line)
    if n < 4:
        return line
    if u_kind < 0.10:
        spaces = [i for i in range(1, n - 1) if line[i] == " " and _is_hangul(line[i - 1]) and _is_hangul(line[i + 1])]
        if spaces:
            i = spaces[int(u_pos * len(spaces))]
            return line[:i] + line[i + 1 :]
    elif u_kind < 0.17:
        i = 1 + int(u_pos * (n - 2))
        if _is_hangul(line[i - 1]) and _is_hangul(line[i]):
            return line[:i] + " " + line[i:]
    return line


def render_transcript(
    rng: np.random.Generator,
    topic: str,
    *,
    customer_name: str,
    phone: str,
    card_number: str,
    category_name_ko: str | None = None,
    amount_krw: int | None = None,
) -> str:
    """A raw call-centre dialogue (4-12 lines) that may contain the customer's PII, as STT output does.

    Lines carrying PII are never noised, so the masker sees them in the forms it recognises; the
    caller must pass the result through ``mask_pii`` before storing it.
    """
    script = _SCRIPTS.get(topic)
    if script is None:
        raise ValueError(f"unknown transcript topic {topic!r}; expected one of {TRANSCRIPT_TOPICS}")
    u = rng.random(_DRAWS).tolist()
    k = 0

    def take() -> float:
        nonlocal k
        k += 1
        return u[k - 1]

    last = customer_name[-1] if customer_name else "가"
    batchim = _has_final_consonant(last)
    big = topic in _BIG_AMOUNT_TOPICS
    u_amount = take()
    if amount_krw is not None:
        amount = amount_krw
    elif big:
        amount = int(10 ** (6 + u_amount)) // 100_000 * 100_000
    else:
        amount = int(10 ** (4 + 2 * u_amount)) // 1000 * 1000
    limit = int(10 ** (6.5 + take())) // 1_000_000 * 1_000_000
    spent = int(10 ** (5 + 1.2 * take())) // 1000 * 1000
    digits = _digits(card_number)
    ctx = {
        "name": customer_name,
        "n_igoyo": customer_name + ("이고요" if batchim else "고요"),
        "n_ieyo": customer_name + ("이에요" if batchim else "예요"),
        "n_rago": customer_name + ("이라고" if batchim else "라고"),
        "phone": _render_phone(phone, take()),
        "card": _render_card(card_number, take()),
        "last4": digits[-4:],
        "cat": category_name_ko or _pick(_DEFAULT_CATEGORIES, take()),
        "amt": _won(amount, take()),
        "limit": _won(limit, take()),
        "spent": _won(spent, take()),
        "m": str(1 + int(take() * 12)),
        "d": str(1 + int(take() * 27)),
        "inst": _pick(_INSTALLMENTS, take()),
        "city": _pick(_CITIES, take()),
    }
    lines: list[tuple[str, str]] = [
        (_AGENT, _pick(_GREETINGS, take())),
        (_CUSTOMER, _pick(script.opening, take())),
    ]
    verified = topic in _VERIFY_ALWAYS or take() < 0.8
    if verified:
        lines.append((_AGENT, _pick(_VERIFY_ASK, take())))
        lines.append((_CUSTOMER, _pick(_VERIFY_ANSWER, take())))
        lines.append((_AGENT, _pick(_VERIFY_OK, take())))
    else:
        lines.append((_AGENT, _pick(_AGENT_PROMPTS, take())))
    problem = int(take() * len(script.problem))
    u_response = take()
    # response[i] answers problem[i]; now and then the agent answers more generically.
    response = problem % len(script.response) if u_response < 0.85 else int(take() * len(script.response))
    lines.append((_CUSTOMER, script.problem[problem]))
    lines.append((_AGENT, script.response[response]))
    if topic in _CARD_READ_TOPICS and digits and take() < 0.5:
        lines.append((_AGENT, _pick(_CARD_ASK, take())))
        lines.append((_CUSTOMER, _pick(_CARD_READ, take())))
        lines.append((_AGENT, _pick(_CARD_CONFIRM, take())))
    thanks = take() < 0.75
    n_follow = int(take() * 3)
    q0 = int(take() * len(script.follow_q))
    for j in range(n_follow):
        if len(lines) + 2 + 1 + thanks > _MAX_LINES:
            break
        q = (q0 + j) % len(script.follow_q)
        lines.append((_CUSTOMER, script.follow_q[q]))
        lines.append((_AGENT, script.follow_a[q]))
    closing = _pick(script.closing, take())
    if "{name}" in closing and not verified:
        closing = script.closing[0]  # no verification happened, so the agent does not know the name
    lines.append((_AGENT, closing))
    if thanks:
        lines.append((_CUSTOMER, _pick(_THANKS, take())))

    out: list[str] = []
    for speaker, template in lines:
        u_filler, u_kind, u_pos = take(), take(), take()
        if "{" in template:
            text = template.format_map(ctx)
        else:
            text = _stt_noise(template, u_kind, u_pos)
            if text.startswith(("네", "아", "어")):
                pass  # already opens with a filler
            elif speaker == _CUSTOMER and u_filler < 0.35:
                text = _pick(_FILLERS, u_filler / 0.35) + text
            elif speaker == _AGENT and u_filler < 0.06:
                text = "네네, " + text
        out.append(speaker + text)
    return "\n".join(out)


# --- transfer memos ---------------------------------------------------------------------------------------

MEMO_KINDS: Final[tuple[str, ...]] = (
    "rent",
    "allowance",
    "utility",
    "loan_interest",
    "urgent_loan",
    "gift_wedding",
    "gift_birth",
    "dues",
    "salary",
    "misc",
    "tuition",
)
MEMO_MAX_CHARS: Final = 20
_MEMO_TEMPLATES: Final[dict[str, tuple[str, ...]]] = {
    "rent": ("{m}월 월세", "월세", "{m}월월세", "월세 {m}월분", "집세", "{m}월 방세", "{n} 월세"),
    "allowance": ("엄마 용돈", "용돈", "아빠용돈", "{m}월 용돈", "부모님 용돈", "할머니 용돈", "{n} 용돈"),
    "utility": ("관리비", "{m}월 관리비", "가스비", "전기세", "수도세", "관리비{m}월", "{m}월 공과금"),
    "loan_interest": ("대출이자", "이자", "{m}월 이자", "이자 입금", "{m}월분 이자", "{n} 이자"),
    "urgent_loan": ("급전", "빌린돈 갚음", "빌린돈", "돈 갚음", "급하게 빌린거", "{n} 빌린돈", "갚을게 ㅠ"),
    "gift_wedding": ("축의금", "축의금 {n}", "{n} 결혼축하", "결혼 축하해", "{n} 축의금"),
    "gift_birth": ("출산선물", "돌잔치", "출산축하", "{n} 돌잔치", "백일선물", "{n} 출산축하"),
    "dues": ("모임회비", "곗돈", "{m}월 회비", "동창회비", "계모임", "{m}월 곗돈", "산악회 회비"),
    "salary": ("급여", "알바비", "{m}월 급여", "{m}월 알바비", "인건비", "{n} 급여", "{m}월분 급여"),
    "misc": ("점심값", "더치페이", "N빵", "엔빵", "회식비", "택시비", "커피값", "{n} 점심", "저녁값 N빵"),
    "tuition": ("학원비", "{m}월 학원비", "피아노 학원비", "영어학원", "{m}월 교습비", "수학학원비"),
}
_MEMO_NO_NAME: Final[dict[str, tuple[str, ...]]] = {
    kind: tuple(t for t in templates if "{n}" not in t) for kind, templates in _MEMO_TEMPLATES.items()
}


def render_memo(rng: np.random.Generator, kind: str, *, counterpart_name: str | None, month: int) -> str:
    """A transfer memo as Koreans type it (at most 20 characters), sometimes naming the counterpart."""
    templates = _MEMO_TEMPLATES.get(kind) if counterpart_name else _MEMO_NO_NAME.get(kind)
    if templates is None:
        raise ValueError(f"unknown memo kind {kind!r}; expected one of {MEMO_KINDS}")
    if not 1 <= month <= 12:
        raise ValueError("month must lie between 1 and 12")
    u0, u1 = rng.random(2).tolist()
    memo = _pick(templates, u0).replace("{m}", str(month)).replace("{n}", counterpart_name or "")
    if u1 < 0.1:
        memo = memo.replace(" ", "")
    return memo[:MEMO_MAX_CHARS]


# --- merchant names ---------------------------------------------------------------------------------------

_WORDS: Final = (
    "한빛", "다온", "누리", "가람", "소담", "늘봄", "햇살", "바다", "하늘", "보람", "온누리", "새봄", "초록",
    "별빛", "달빛", "한울", "푸른솔", "미소", "행복", "라온", "도담", "다솜", "해든", "마루", "나래", "하람",
    "이음", "꽃길", "봄날", "숲속", "솔향", "청솔", "은하수", "무지개", "산들", "아름", "정다운", "샘터",
    "우정", "동백", "한결", "새솔", "그린", "제일", "중앙", "으뜸", "참좋은", "단골", "모아", "해오름",
)  # fmt: skip
_FOOD_WORDS: Final = (
    "할매", "원조", "옛날", "시골", "장터", "고향", "엄마손", "명가", "본가", "토담", "맛나", "대박",
    "한마당", "큰집", "소문난", "전통", "진미", "황금", "참맛", "돌담",
)  # fmt: skip
_EN_WORDS: Final = (
    "Blue Harbor", "Maple", "Sunrise", "Silver Birch", "Lucky Star", "Green Leaf", "Red Lantern",
    "Ocean View", "Little Sparrow", "Olive Tree", "Copper Kettle", "Harbor Light", "Old Mill", "Amber",
    "Cedar", "Willow", "Lotus", "Northwind", "Golden Pine", "Bluebell", "Stone Bridge", "Rosewood", "Seaside",
    "Wildflower",
)  # fmt: skip

# Per category: domestic templates ({w} a word, {f} a food word, {p} the place, {b} a fictional chain).
_MERCHANT_TEMPLATES: Final[dict[str, tuple[str, ...]]] = {
    "KOREAN": ("{w} 한식당", "{p} 국밥", "{f}식당", "{f} 칼국수", "{w}갈비", "{f} 순대국", "{p} 기사식당"),
    "JAPANESE": ("{w}스시", "{w} 라멘", "{f}돈까스", "스시{w}", "{w} 우동", "{p} 회전초밥"),
    "WESTERN": ("{w} 파스타", "{w} 스테이크하우스", "비스트로 {w}", "트라토리아 {w}", "{w} 브런치"),
    "CHINESE": ("{w}반점", "{f} 중화요리", "{w}각", "{p} 짬뽕", "{w} 마라탕"),
    "BAKERY": ("{w}베이커리", "{w} 제과점", "{f}빵집", "{b} {p}점", "브레드 {w}"),
    "CAFE": ("{w} 커피", "카페 {w}", "{w}로스터리", "{b} {p}점", "{w} 다방"),
    "FASTFOOD": ("{w}버거", "{w} 치킨", "{f} 떡볶이", "{b} {p}점", "{w} 김밥"),
    "BAR": ("{w}포차", "{w} 호프", "{w} 이자카야", "{w} 와인바", "{f} 주막"),
    "KARAOKE": ("{w}노래연습장", "{w} 코인노래방", "{p} 노래방", "{w} 뮤직스튜디오"),
    "DEPT_STORE": ("{b} {p}점",),
    "HYPERMARKET": ("{b} {p}점",),
    "SUPERMARKET": ("{w}마트", "{p} 식자재마트", "{w} 할인마트", "{b} {p}점"),
    "CONVENIENCE": ("{b} {p}점",),
    "HOUSEHOLD": ("{w}생활용품", "{w} 잡화점", "천원마트 {p}점", "{w} 리빙"),
    "BUTCHER": ("{w}정육점", "{p} 한우정육", "{f}축산", "{w} 미트"),
    "PRODUCE": ("{w}청과", "{w} 과일가게", "{p} 농산물", "{f} 채소가게", "{w} 수산"),
    "CLOTHING": ("{w} 의류", "{w}옷가게", "{e} Closet", "{w} 스튜디오", "{w} 아울렛"),
    "FASHION_ACC": ("{w} 잡화", "{e} 백앤슈즈", "{w} 액세서리", "{w} 모자가게"),
    "JEWELRY": ("{w}주얼리", "{w}금은방", "{p} 귀금속", "{w} 시계방"),
    "OPTICIAN": ("{w}안경", "{w}안경원", "{p} 렌즈샵"),
    "CINEMA": ("{b} {p}", "{w}시네마", "{p} 영화관"),
    "FITNESS": ("{w}휘트니스", "{p} 헬스클럽", "{w} 필라테스", "{w} 요가", "{w} 크로스핏"),
    "GOLF": ("{p} 골프클럽", "{w}스크린골프", "{w} 골프연습장", "{p} 컨트리클럽"),
    "BOOKSTORE": ("{w}서점", "{w}문고", "{p} 책방", "{w} 북카페"),
    "HOBBY": ("{w} 공방", "{w}화방", "{w} 보드게임카페", "{w} 피규어샵", "{w} 악기사"),
    "SPORTS_GOODS": ("{w}스포츠", "{w} 아웃도어", "{w} 자전거", "{p} 등산용품"),
    "FLORIST": ("{w}꽃집", "플라워 {w}", "{w} 화원", "{p} 꽃농원"),
    "HOTEL": ("호텔 {w}", "{p} {w}호텔", "{w} 스테이", "{w} 리조트", "{p} 비즈니스호텔"),
    "TRAVEL_AGENCY": ("{w}여행사", "{w}투어", "{w} 트래블", "{b}"),
    "AIRLINE": ("{b}",),
    "DUTY_FREE": ("{b} {p}점",),
    "TRANSIT": ("{p} 시내버스", "{p} 교통카드 충전", "{b}", "{p} 도시철도"),
    "TAXI": ("{w}콜택시", "{p} 개인택시", "{w} 운수", "{b}"),
    "HAIR_SALON": ("{w}헤어", "헤어살롱 {w}", "{w} 미용실", "{e} Hair"),
    "BEAUTY_SERVICE": ("{w}네일", "{w}피부관리실", "{w} 왁싱", "{w} 속눈썹", "{w} 에스테틱"),
    "COSMETICS": ("{w}코스메틱", "{b} {p}점", "{w} 화장품"),
    "LAUNDRY": ("{w}세탁소", "{w}빨래방", "{p} 크린세탁", "{w} 수선"),
    "INTERIOR": ("{w}인테리어", "{w}도배", "{w} 디자인", "{p} 집수리"),
    "TELECOM": ("{b} {p}대리점", "{b}"),
    "INSURANCE": ("{b}",),
    "UTILITIES": ("{p}도시가스", "{p} 상수도사업소", "{b}"),
    "ACADEMY": ("{w}수학학원", "{w}영어학원", "{w}피아노학원", "{w}태권도", "{w} 미술학원", "{p} 입시학원"),
    "LANGUAGE_SCHOOL": ("{w}어학원", "{w} 잉글리시", "{w}외국어학원", "{e} English", "{w} 중국어"),
    "KINDERGARTEN": ("{w}유치원", "{w}어린이집", "{p} {w}유치원"),
    "HOSPITAL": ("{p}{w}병원", "{w}요양병원", "{p}중앙병원", "{w}재활병원"),
    "CLINIC": (
        "{w}내과의원",
        "{w}이비인후과",
        "{w}정형외과",
        "{w}소아청소년과",
        "{w}피부과의원",
        "{w}한의원",
    ),
    "DENTAL": ("{w}치과", "{w}치과의원", "{p} {w}치과"),
    "PHARMACY": ("{w}약국", "{p}약국", "{w} 온누리약국"),
    "APPLIANCE": ("{w}전자", "{w}가전", "{b} {p}점"),
    "FURNITURE": ("{w}가구", "{w} 리빙", "{p} 가구단지", "{w} 침대"),
    "CAR_SALES": ("{w}모터스", "{p} {w}자동차", "{w} 오토"),
    "CAR_REPAIR": ("{w}카센터", "{w}자동차공업사", "{w}타이어", "{p} 자동차정비"),
    "GAS_STATION": ("{b} {p}주유소", "{p}{w}주유소", "{b} {p}충전소"),
    "ONLINE_MALL": ("{b}",),
    "DIGITAL_CONTENT": ("{b}",),
    "PET": ("{w}동물병원", "{w}펫샵", "{w} 애견미용", "{w} 펫푸드"),
    "BABY": ("{w}베이비", "{w} 유아용품", "{w} 키즈", "{b} {p}점"),
}
# Fictional chains and brands; none is a real company's name.
_BRANDS: Final[dict[str, tuple[str, ...]]] = {
    "BAKERY": ("빵굽는마을", "브레드하우스"),
    "CAFE": ("커피온", "빈스하루", "카페모아"),
    "FASTFOOD": ("버거하루", "치킨나라"),
    "DEPT_STORE": ("한빛백화점", "도담백화점", "누리백화점"),
    "HYPERMARKET": ("알뜰플러스", "모두마트", "온가족마트"),
    "SUPERMARKET": ("동네마트", "싱싱마트"),
    "CONVENIENCE": ("해피24", "올데이마트", "스마일25", "코너스토어"),
    "CINEMA": ("시네마하나", "무비온", "스크린나래"),
    "TRAVEL_AGENCY": ("하나로투어", "여행바람"),
    "AIRLINE": ("한빛항공", "Sky Pacific Air", "푸른하늘항공", "Blue Crane Airways", "제비항공"),
    "DUTY_FREE": ("한빛면세점", "Sky Duty Free", "누리면세점"),
    "TRANSIT": ("한빛교통", "누리버스"),
    "TAXI": ("바로택시", "콜하나"),
    "COSMETICS": ("뷰티하나", "코스메나래"),
    "TELECOM": ("하늘텔레콤", "누리통신", "이음모바일"),
    "INSURANCE": ("한빛생명", "푸른화재", "든든손해보험", "누리생명"),
    "UTILITIES": ("한빛전력", "누리에너지"),
    "APPLIANCE": ("전자나라", "가전하우스"),
    "GAS_STATION": ("한빛오일", "푸른에너지", "누리석유"),
    "ONLINE_MALL": ("빠른배송몰", "마켓하나", "오늘도착", "모두의장터", "알뜰장터", "새벽배송마켓"),
    "DIGITAL_CONTENT": ("스트림플러스", "뮤직하나", "웹툰나라", "게임온", "클라우드박스"),
    "BABY": ("아가방하나", "베이비누리"),
}
_EN_NOUNS: Final[dict[str, str]] = {
    "KOREAN": "Korean Kitchen", "JAPANESE": "Sushi Bar", "WESTERN": "Bistro", "CHINESE": "Noodle House",
    "BAKERY": "Bakery", "CAFE": "Coffee", "FASTFOOD": "Burger", "BAR": "Pub", "KARAOKE": "Karaoke",
    "DEPT_STORE": "Department Store", "HYPERMARKET": "Supercenter", "SUPERMARKET": "Market",
    "CONVENIENCE": "Mini Mart", "HOUSEHOLD": "Home Goods", "BUTCHER": "Butchery", "PRODUCE": "Farm Market",
    "CLOTHING": "Apparel", "FASHION_ACC": "Accessories", "JEWELRY": "Jewelers", "OPTICIAN": "Optical",
    "CINEMA": "Cinema", "FITNESS": "Fitness", "GOLF": "Golf Club", "BOOKSTORE": "Books", "HOBBY": "Crafts",
    "SPORTS_GOODS": "Sports", "FLORIST": "Flowers", "HOTEL": "Hotel", "TRAVEL_AGENCY": "Travel",
    "AIRLINE": "Airways", "DUTY_FREE": "Duty Free", "TRANSIT": "Transit", "TAXI": "Cab",
    "HAIR_SALON": "Hair Studio", "BEAUTY_SERVICE": "Nail & Spa", "COSMETICS": "Beauty", "LAUNDRY": "Laundry",
    "INTERIOR": "Interiors", "TELECOM": "Mobile", "INSURANCE": "Insurance", "UTILITIES": "Utilities",
    "ACADEMY": "Learning Center", "LANGUAGE_SCHOOL": "Language School", "KINDERGARTEN": "Kindergarten",
    "HOSPITAL": "Hospital", "CLINIC": "Medical Clinic", "DENTAL": "Dental", "PHARMACY": "Pharmacy",
    "APPLIANCE": "Electronics", "FURNITURE": "Furniture", "CAR_SALES": "Motors", "CAR_REPAIR": "Auto Repair",
    "GAS_STATION": "Gas", "ONLINE_MALL": "Online Store", "DIGITAL_CONTENT": "Digital", "PET": "Pet Supply",
    "BABY": "Baby",
}  # fmt: skip
MERCHANT_CATEGORY_CODES: Final[tuple[str, ...]] = tuple(_MERCHANT_TEMPLATES)
_OVERSEAS_PLACES: Final[dict[str, str]] = {
    "도쿄": "Tokyo", "오사카": "Osaka", "후쿠오카": "Fukuoka", "삿포로": "Sapporo", "교토": "Kyoto",
    "오키나와": "Okinawa", "뉴욕": "New York", "로스앤젤레스": "Los Angeles", "엘에이": "Los Angeles",
    "샌프란시스코": "San Francisco", "하와이": "Honolulu", "호놀룰루": "Honolulu", "괌": "Guam",
    "사이판": "Saipan", "파리": "Paris", "런던": "London", "로마": "Rome", "바르셀로나": "Barcelona",
    "프랑크푸르트": "Frankfurt", "방콕": "Bangkok", "다낭": "Da Nang", "하노이": "Hanoi",
    "호찌민": "Ho Chi Minh City", "나트랑": "Nha Trang", "싱가포르": "Singapore", "홍콩": "Hong Kong",
    "타이베이": "Taipei", "상하이": "Shanghai", "베이징": "Beijing", "세부": "Cebu", "마닐라": "Manila",
    "발리": "Bali", "시드니": "Sydney", "멜버른": "Melbourne", "밴쿠버": "Vancouver", "토론토": "Toronto",
    "두바이": "Dubai", "이스탄불": "Istanbul",
}  # fmt: skip
# Overseas merchants: airlines and chains keep their own pools; everything else is "{word} {noun}".
_OVERSEAS_TEMPLATES: Final = ("{e} {n}", "{e} {n} {c}", "{c} {e} {n}")


def merchant_name(rng: np.random.Generator, category_code: str, place_ko: str) -> str:
    """A plausible fictional merchant name for a category and a place (Korean district or foreign city)."""
    templates = _MERCHANT_TEMPLATES.get(category_code)
    if templates is None:
        raise ValueError(f"unknown merchant category {category_code!r}")
    u0, u1, u2 = rng.random(3).tolist()
    city = _OVERSEAS_PLACES.get(place_ko)
    if city is None and place_ko.isascii() and place_ko:
        city = place_ko
    if city is not None:
        if category_code == "AIRLINE":
            return _pick(_BRANDS["AIRLINE"], u1)
        e = _pick(_EN_WORDS, u1)
        return _pick(_OVERSEAS_TEMPLATES, u0).format(e=e, n=_EN_NOUNS[category_code], c=city)
    template = templates[int(u0 * len(templates))]
    brands = _BRANDS.get(category_code)
    return template.format(
        w=_pick(_WORDS, u1),
        f=_pick(_FOOD_WORDS, u1),
        e=_pick(_EN_WORDS, u1),
        b=_pick(brands, u2) if brands else "",
        p=_short_place(place_ko),
    )


@cache
def _short_place(place_ko: str) -> str:
    """Branch names drop the administrative suffix: 강남구 → 강남점, 수원시 → 수원점 (but 중구 stays)."""
    if len(place_ko) >= 3 and place_ko[-1] in "시군구도" and " " not in place_ko:
        return place_ko[:-1]
    return place_ko
