"""Masking of personal data in Korean free text: call transcripts, transfer memos, log lines.

A full card number (PAN) or resident registration number (RRN) must never be stored, logged or shown
in clear (PCI DSS, PIPA). The patterns are tuned for Korean speech-to-text output: numbers read out with
spaces or hyphens, particles glued to digits ("…8530이고요"), names in address forms ("김민수 고객님").
Amounts, dates and times carry units (원, 만, 년, 월, 시) or commas and are left alone.

Detectors run in a fixed priority order and a later detector never overlaps an earlier one's span, so
a 13-digit number that is both a plausible RRN and Luhn-valid is masked as the (stricter) RRN.

Beyond the written forms, three spoken or informal forms are recognised:

- numbers read out in Sino-Korean digit words ("공일공 일이삼사 오육칠팔", "사오삼이 공일오일 …"),
  also mixed with digits and with 에 for the dash; they are masked in digit form ("010-****-5678");
- landline numbers without separators ("0212345678", "0311234567") and area codes in brackets;
- names outside an address form: after a role or kinship word ("예금주 김민수", "제 남편 김민수 명의로",
  "상담사 김민지였습니다") and in transfer memos ("정유민 용돈", "축의금 김민수", a memo that is only a name).
  Names without any such context ("김민수가 그러던데요") are still not recognised: telling them from
  ordinary words needs a dictionary or a tagger, which this module avoids so it stays fast enough to
  redact every log line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

PiiKind = Literal["email", "card", "rrn", "phone", "account", "name"]

NAME_MASK_CHAR: Final = "○"

# The most common Korean surnames (2015 census order, roughly); compound ones are tried first.
SINGLE_SURNAMES: Final[tuple[str, ...]] = tuple(
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우"
    "구민류나진지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹"
    "제모탁국어은편용예경봉사부"
)
COMPOUND_SURNAMES: Final[tuple[str, ...]] = ("황보", "남궁", "제갈", "선우", "독고")

# Words that look like "surname + syllables" in front of 님/씨/고객 or after 본인/저는 but are titles,
# kinship terms or ordinary card-company vocabulary. Checked exactly, optionally followed by a particle.
_STOP_WORDS_TEXT: Final = """
    선생 사장 부장 과장 차장 이사 전무 원장 회장 소장 국장 반장 방장 조장 주임 기사 박사 석사 변호사 여사
    사모 부모 어머 고모 이모 고모부 이모부 장모 장인 제수 서방 도련 조카 조상 예수 부처 하느 하나 성모
    천사 용사 공주 왕자 왕비 마음 주인 사부 선배 선수 기자 기장 구청장 도지사 지점장 지사장 지배인 연구원
    공무원 주무관 사용자 구독자 구매자 신청자 신청인 민원인 방문자 기부자 신부 신랑 도사 사원 차주
    임대인 임차인 임원 주주 조합원 채권자 채무자 진행자 남편 여러분 여보 안사람 안주인 전문가 전문의
    마스터 조교 부원 사돈 형수 고객 회원 상담사 상담원
    우리 모든 모두 여러 지금 정말 진짜 오늘 우선 기존 신규 우수 장기 우대 주요 기타 남은 전체 전부 연체
    장애인 노인 어르신 신용 소액 고령 고액 우량 주거래 차량 공동 기업 은행 모바일 오프라인 제휴 방문 전화
    문의 반가운 소중한 우수한 연회비 명의 배우자 부부 남성 여성 남자 여자 어린이 유료 정회원 구매
    한도 한국 국내 성실 성인 사용 이용 이탈 이번 이분 이쪽 그분 해당 일반 인증 이름 여부 소유 신청
    서명 정보 확인 본인 명의자 카드 신용카드 체크카드 가족 가족카드 분실 도난 정지 해지 탈회 결제 청구
    할부 연체자 소중 신규가입 장기고객 우수고객 기존고객 이용해 이용하신 신청하신 방문하신 문의하신
    전화주신 연락주신 사용하신 기다리신 주신 오신 계신 되신 하신 보내신 말씀하신 요청하신 주문하신
    이거 이게 이건 그거 저거 이렇게 그렇게 어떻게 정도 정확 정상 주소 변경 이사 전월 실적 적립 할인
    혜택 금리 대출 장기카드대출 카드론 상향 하향 안내 안녕 감사 고맙 죄송 수고 어서 환영 반갑
"""
_STOP_WORDS: Final[frozenset[str]] = frozenset(_STOP_WORDS_TEXT.split())
_PARTICLES: Final[tuple[str, ...]] = (
    "", "은", "는", "이", "가", "을", "를", "의", "도", "만", "로", "으로", "에", "에서", "에게", "과", "와",
    "이랑", "랑", "까지", "부터", "께", "께서", "요", "이요",
)  # fmt: skip

# "안녕 하세요 고객님" after an STT spacing slip: given names do not end like verbs.
_VERB_ENDINGS: Final = ("요", "다", "죠", "까")

# A name never starts or ends with the address word itself ("고객각고객님", "이고객님").
_NOT_NAME_EDGES: Final = ("고객", "회원", "님", "씨")

_CARD_LAST: Final = 4


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """Where one piece of personal data sits in a text; the value itself is deliberately not kept."""

    kind: PiiKind
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by every card scheme; only ASCII digit strings can be valid."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    double = False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if double:
            d = _LUHN_DOUBLE[d]
        total += d
        double = not double
    return total % 10 == 0


_LUHN_DOUBLE: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)

# --- patterns -------------------------------------------------------------------------------------------
# ASCII digits only: [0-9] rather than \d, which would also accept other scripts' digits.
_EMAIL_RE: Final = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# 4-4-4-4 (optionally a 1-3 digit fifth group for 17-19 digit PANs) and Amex 4-6-5: cards by their layout.
_CARD_GROUPED_RE: Final = re.compile(
    r"(?<![0-9])(?P<main>[0-9]{4}(?:[ -][0-9]{4}){3})(?P<tail>[ -][0-9]{1,3})?(?![0-9])"
    r"|(?<![0-9])[0-9]{4}[ -][0-9]{6}[ -][0-9]{5}(?![0-9])"
)
_RRN_RE: Final = re.compile(
    r"(?<![0-9])[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?:\s?-\s?|\s)?[0-9]{7}(?![0-9])"
)
# "주민번호 뒷자리는 1234567": the 7-digit tail alone still identifies together with a birth date.
_RRN_TAIL_RE: Final = re.compile(r"뒷\s?자리\s?(?:는|가|은)?\s?(?:요,?\s?)?(?P<v>[0-9]{7})(?![0-9])")
_PHONE_RE: Final = re.compile(
    r"(?<![0-9+])(?:"
    r"(?P<intl>\+82[ -]?(?:\(0\)\s?)?0?(?:1[016789]|2|[3-6][1-5]|70))[ .-]?[0-9]{3,4}[ .-]?[0-9]{4}"
    r"|(?P<mobile>01[016789]|070)[ .-]?[0-9]{3,4}[ .-]?[0-9]{4}"
    r"|(?P<land>02|0[3-6][1-5]|050[0-9]?)(?:\)\s?|[ .-])[0-9]{3,4}[ .-][0-9]{4}"
    # Landlines typed without separators: an area code, then 7 or 8 digits (9 to 11 in all).
    r"|(?P<compact>02|0[3-6][1-5])[0-9]{7,8}"
    r")(?![0-9])"
)
_DIGIT_RUN_RE: Final = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")
# Any other grouping of a Luhn-valid 13-19 digit number (e.g. STT "9440 032368 698530").
_SEPARATED_RUN_RE: Final = re.compile(r"(?<![0-9])[0-9]{1,8}(?:[ -][0-9]{1,8}){1,6}(?![0-9])")
# A 13-19 digit number right after "카드(번호)" is a PAN even when Luhn fails: STT misreads one digit of a
# real number, and fifteen of its sixteen digits must not survive either.
_CARD_CTX_RE: Final = re.compile(r"카드[^0-9\n]{0,15}?(?P<v>(?<![0-9])[0-9]{2,19}(?:[ -][0-9]{1,8}){0,6})(?![0-9])")
_ACCOUNT_RE: Final = re.compile(r"(?<![0-9-])[0-9]{2,6}(?:-[0-9]{2,8}){2,3}(?![0-9]|-[0-9])")
# An account number follows "계좌" or a bank's name ("신한 110 123 456789"); regional banks only with 은행.
_BANKS: Final = (
    "계좌|은행|뱅크|농협|신한|국민|우리|하나|기업|우체국|새마을금고|수협|신협|씨티"
    "|(?:SC제일|제일|산업|부산|대구|경남|광주|전북|제주)은행"
)
_ACCOUNT_CTX_RE: Final = re.compile(
    rf"(?:{_BANKS})(?:은행)?\s?(?:계좌)?\s?(?:번호)?\s?(?:는|은|가|:)?\s?(?:요,?\s?)?"
    r"(?P<v>[0-9]{2,14}(?:[ -][0-9]{2,8}){0,3})(?![0-9])"
)

_SINGLE = "".join(SINGLE_SURNAMES)
_COMPOUND = "|".join(COMPOUND_SURNAMES)
# Full names are mostly three syllables, so that length is tried first: "김민구요" is 김민구 + 요,
# not 김민 + 구요. A third syllable 이 in front of a copula is the copula's own 이:
# "김설이고요" is 김설 + 이고요.
_NOT_COPULA_I = r"(?!이(?:고요|구요|에요|요|라고|라구))"
_NAME = (
    rf"(?:(?:{_COMPOUND})[가-힣]{_NOT_COPULA_I}[가-힣]|(?:{_COMPOUND})[가-힣]"
    rf"|[{_SINGLE}][가-힣]{_NOT_COPULA_I}[가-힣]|[{_SINGLE}][가-힣]|[{_SINGLE}][가-힣]{{3}})"
)
_COPULA = r"(?:입니다|이에요|예요|이고요|고요|이구요|구요|인데요|이라고|라고|이라구|라구)"
_COPULA_OR_YO = rf"(?:{_COPULA}|이요|요)"
_BOUNDARY = r"(?:[\s.,!?~…]|$)"
_NAME_FULL_RE: Final = re.compile(_NAME)
# 김민수 고객님 / 김민수님 / 김민수 씨 / 김민수 회원님: the Hangul word right before one of these is checked.
_HONORIFIC_RE: Final = re.compile(r"고객님|회원님|고객|님|씨")
_MAX_NAME_LEN: Final = 4
_AFTER_GOGAEK: Final = frozenset("이은는을를의께에님")
# Introductions, each with a literal that must occur for the pattern to be worth running. Patterns
# start with their literal (the lookbehind follows it) so the regex engine can skip ahead to it.
_INTRO_RES: Final[tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]] = (
    # 제 이름은 김민수입니다
    (
        ("이름은", "성함은"),
        re.compile(rf"(?:제|저의|내)\s?(?:이름|성함)은\s?(?:요,?\s?)?(?P<v>{_NAME})(?={_COPULA_OR_YO}|{_BOUNDARY})"),
    ),
    # 저는 김민수이고요 (a copula is required: "저는 정말 …" is far more common than a name)
    (("저는",), re.compile(rf"저는(?<![가-힣]저는)\s?(?P<v>{_NAME})(?={_COPULA})")),
    # 본인 김민수입니다
    (("본인",), re.compile(rf"본인(?<![가-힣]본인)\s(?P<v>{_NAME})(?={_COPULA_OR_YO}|{_BOUNDARY})")),
)
_COPULA_OR_YO_RE: Final = re.compile(_COPULA_OR_YO)
# The answer to "성함이 어떻게 되세요?": a customer line that starts with a name and a copula.
_NAME_ANSWER_RE: Final = re.compile(
    rf"(?m)^(?:고객|손님)\s?:\s?(?:(?:네네|네|예|음|어|아)(?:[,.]\s?|\s))*(?P<v>{_NAME})(?={_COPULA_OR_YO})"
)
_NAME_QUESTION_RE: Final = re.compile(r"성\s?함|이\s?름")  # STT may split the word

# --- names outside an address form ---------------------------------------------------------------------
# Given names are built from a few hundred Sino-Korean syllables; a candidate whose given part uses any
# other syllable (어머니, 모임비, 공과금) is an ordinary word. Used where the context is weaker than an
# address form (memos), together with the stop words.
_GIVEN_SYLLABLES: Final = frozenset(
    "가각간갑강건걸결겸경계고곤공관광교구국군권귀규균근금기길나난남내녀노누늘다단담당대덕도동두득라란람랑래량"
    "려련렬령례로록룡루류륜률름리린림립마만매맹면명모목몽묘무문미민바박반방배백범별병보복본봉부분비빈빛사산삼"
    "상새샘생서석선설섭성세소솔송수숙순술승시식신실심아안애양어언엄업여연열염엽영예오옥온완왕요용우욱운웅"
    "원월위유육윤율융은을음응의이익인일임자장재저전정제조종주준중지진찬창채천철청초춘충치탁태택평표풍필하"
    "학한해행향허헌혁현형혜호홍화환활황회효후훈휘희"
)
# Words before a name: roles around an account or a call, and kin ("예금주 김민수", "제 남편 김민수 명의로").
_NAME_CONTEXT: Final = (
    "예금주|수취인|받는\\s?분|보내는\\s?분|명의자|입금자|송금인|가입자|소유자|대리인|담당자|상담사|상담원"
    "|남편|아내|와이프|부인|딸|아들|어머니|아버지|엄마|아빠|동생|누나|언니|오빠|형|친구|손자|손녀|며느리|사위"
)
# After the name: a copula (which may go on: 였습니다), or a particle and a word boundary, or a boundary.
_NAME_END: Final = (
    rf"(?:{_COPULA}|이었|였|이요|요"
    r"|(?:은|는|이|가|을|를|의|도|만|과|와|으로|로|에게|한테|이랑|랑|께서)?(?:[^가-힣]|$))"
)
_CONTEXT_NAME_RE: Final = re.compile(
    rf"(?<![가-힣])(?:{_NAME_CONTEXT})(?:님|분)?(?:은|는|이|가|께서)?\s(?P<v>{_NAME})(?={_NAME_END})"
)
_CONTEXT_LITERALS: Final = tuple(w.replace("\\s?", "") for w in _NAME_CONTEXT.split("|"))
# Transfer memos (적요): a name next to what the money is for, or a memo that is only a name.
_MEMO_WORDS: Final = (
    "용돈|월세|집세|방세|이자|축의금|결혼축하|결혼 축하|돌잔치|출산축하|출산선물|백일선물|생일|선물|급여|알바비|"
    "점심|저녁|회비|곗돈|빌린돈|입금|송금|이체|보냄|갚음|N빵|엔빵|더치페이|학원비|관리비|축하"
)
_MEMO_NAME: Final = rf"(?:(?:{_COMPOUND})[가-힣]{{1,2}}|[{_SINGLE}][가-힣]{{1,3}})"
_MEMO_NAME_BEFORE_RE: Final = re.compile(rf"(?<![가-힣])(?P<v>{_MEMO_NAME})\s?(?=(?:{_MEMO_WORDS}))")
_MEMO_NAME_AFTER_RE: Final = re.compile(rf"(?:{_MEMO_WORDS})\s?(?P<v>{_MEMO_NAME})(?![가-힣])")
# A memo that is nothing but a name: full names only (three syllables, or a compound surname).
_MEMO_ONLY_NAME_RE: Final = re.compile(rf"\s*(?P<v>(?:{_COMPOUND})[가-힣]{{1,2}}|[{_SINGLE}][가-힣]{{2}})\s*")
_MEMO_LITERALS_RE: Final = re.compile(_MEMO_WORDS)
_MEMO_MAX_CHARS: Final = 40
# Ordinary words that start with a surname syllable and occur right after a kin word or in memos.
_COMMON_WORDS_TEXT: Final = """
    이번 이제 이미 이거 이게 이런 이렇게 이번달 이달 정말 정도 지금 진짜 전부 전혀 전화 전에 조금
    한번 한테 한참 오늘 오랜만 오래 모두 모르 마음 마지막 주말 주로 명의 사용 사업 성인 유학 장기
    장애 임신 육아 남자 여자 연락 연체 하는 하고 하나 기억 기분 나이 나중 민원 방금 방문 배우자
    변경 소개 소득 손주 송금 신청 심부름 안경 안내 엄청 여행 연휴 예전 예약 용돈 우편 위해 은행
    인증 임시 장보기 정상 정보 제가 제일 조회 주소 주민 지갑 차량 채무 천천히 최근 추가 표시 하루
    한도 함께 허락 현금 황당 연결 확인 요청 부탁 상담 문의 변경 해지 신고 어머니 어머님 이모 이모님
    고모 고모님 사촌 조카 손자 손녀 남동생 여동생 매형 매제 형부 제부 장모 장모님 장인 숙모 외숙모
    삼촌 전기세 수도세 방세 공과금 인건비 모임비 반찬값 기름값 주유비 차량비 육아비 연회비 위로금
    조의금 부의금 사례비 노래방 여행비 안경값 양육비 우유값 석식비 하숙비 임대료 마트비 문화비 유류비
    장례비 구독료 전세금 보증금 명절비 엄마 백일 제사비 상환금 대출금 원리금 연체료 배달비 백일떡
    남은돈 생활비 회식비 식비 모임 선물 이자 급여 축하
"""
_COMMON_WORDS: Final[frozenset[str]] = frozenset(_COMMON_WORDS_TEXT.split())
_NAME_FINAL_NOT: Final = frozenset("면에서고며게데는을를로도만께요다죠까니네랑야해했된될할합")


def _plausible_context_name(candidate: str) -> bool:
    """A name after a role or kin word: not an ordinary word, and not ending like a verb or particle."""
    return not (
        _is_stop_word(candidate, strip_particles=True)
        or candidate in _COMMON_WORDS
        or candidate[:2] in _COMMON_WORDS
        or candidate[-1] in _NAME_FINAL_NOT
    )


def _plausible_memo_name(candidate: str) -> bool:
    keep = 2 if candidate[:2] in COMPOUND_SURNAMES and len(candidate) >= 3 else 1
    given = candidate[keep:]
    return (
        bool(given)
        and all(c in _GIVEN_SYLLABLES for c in given)
        and candidate not in _COMMON_WORDS
        and not _is_stop_word(candidate, strip_particles=False)
    )


# --- numbers read out in Korean digit words ----------------------------------------------------------------
_SPOKEN_DIGITS: Final = {
    "공": "0", "영": "0", "일": "1", "이": "2", "삼": "3", "사": "4", "오": "5", "육": "6", "륙": "6",
    "칠": "7", "팔": "8", "구": "9",
}  # fmt: skip
_SPOKEN_CHARS: Final = "0-9" + "".join(_SPOKEN_DIGITS)
# Digit words and digits, grouped by spaces, dashes, dots or a spoken dash (에), starting a word.
_SPOKEN_RUN_RE: Final = re.compile(rf"(?<![가-힣0-9])[{_SPOKEN_CHARS}](?:(?:[ .-]|에\s?)?[{_SPOKEN_CHARS}])*")
_SPOKEN_QUICK_RE: Final = re.compile(rf"[{''.join(_SPOKEN_DIGITS)}][{_SPOKEN_CHARS}\s.에-]{{5}}")
_SPOKEN_MIN_DIGITS: Final = 9
# A Sino-Korean positional number (일억 이천, 삼십만) is an amount, not a read-out number.
_POSITIONAL: Final = frozenset("십백천만억조")
# "…오육칠팔이에요": the last 이 may be the copula, not a 2.
_COPULA_AFTER_I_RE: Final = re.compile(r"에요|고요|구요|요|라고|라구|었|였|다|고|며|면")
_PHONE_DIGITS_RE: Final = re.compile(r"(?:01[016789]|070)[0-9]{7,8}|02[0-9]{7,8}|0[3-6][1-5][0-9]{7,8}")
_RRN_DIGITS_RE: Final = re.compile(r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[1-8][0-9]{6}")
_ACCOUNT_HINT_RE: Final = re.compile(rf"(?:{_BANKS})")


def _spoken_digits(s: str) -> str:
    return "".join(_SPOKEN_DIGITS.get(c, c) for c in s if c.isdigit() or c in _SPOKEN_DIGITS)


def _spoken_kind(digits: str, before: str) -> PiiKind | None:
    if _PHONE_DIGITS_RE.fullmatch(digits):
        return "phone"
    if _RRN_DIGITS_RE.fullmatch(digits):
        return "rrn"
    if 10 <= len(digits) <= 14 and _ACCOUNT_HINT_RE.search(before):
        return "account"
    if 13 <= len(digits) <= 19:
        return "card"
    if 10 <= len(digits) <= 14:
        return "account"
    return None


def _usual(kind: PiiKind | None, digits: str) -> int:
    """How typical a length is for a kind: 16-digit cards and 11-digit 010 mobiles are the norm."""
    if kind is None:
        return 0
    if kind == "card":
        return {16: 3, 15: 2}.get(len(digits), 1)
    if kind == "phone":
        return 3 if digits.startswith("010") and len(digits) == 11 else 2
    return 2 if kind == "rrn" else 1


def _find_spoken_numbers(text: str, spans: _Spans) -> None:
    for m in _SPOKEN_RUN_RE.finditer(text):
        run = m.group(0)
        if all(c.isdigit() or not c.strip() or c in ".-" for c in run):
            continue  # written digits: the number patterns above decide
        if text[m.end() : m.end() + 1] in _POSITIONAL:
            continue
        end = m.end()
        digits = _spoken_digits(run)
        before = text[max(0, m.start() - _CONTEXT_CHARS) : m.start()]
        kind = _spoken_kind(digits, before)
        if run.endswith("이") and _COPULA_AFTER_I_RE.match(text, end):
            # Read the last 이 as the copula only when that gives the more usual length; when both
            # readings are equally plausible the longer span is masked (one syllable too many is harmless).
            shorter = _spoken_kind(digits[:-1], before)
            if shorter is not None and _usual(shorter, digits[:-1]) > _usual(kind, digits):
                kind, end, digits = shorter, end - 1, digits[:-1]
        if kind is not None and len(digits) >= _SPOKEN_MIN_DIGITS:
            spans.add(kind, m.start(), end)


# Cheap pre-filter: most log lines contain none of these and skip every other pattern.
_QUICK_RE: Final = re.compile(
    r"[0-9@]|님|씨|고객|이름|성함|본인|저는|" + "|".join(_CONTEXT_LITERALS) + "|" + _MEMO_WORDS
)


def _is_stop_word(candidate: str, *, strip_particles: bool) -> bool:
    """True for titles, verb forms and ordinary words that look like "surname + syllables".

    ``strip_particles`` also catches a word with its particle ("본인 명의로"); it is used only where the
    candidate ends at a plain word boundary, because elsewhere it would drop real names (변경은, 장인은).
    """
    if (
        candidate in _STOP_WORDS
        or candidate.startswith(_NOT_NAME_EDGES)
        or candidate.endswith(_NOT_NAME_EDGES)
        or candidate.endswith(_VERB_ENDINGS)
    ):
        return True
    if strip_particles:
        for cut in range(len(candidate) - 1, 0, -1):
            if candidate[:cut] in _STOP_WORDS and candidate[cut:] in _PARTICLES:
                return True
    return False


def _digit_count(s: str) -> int:
    return sum(c.isdigit() for c in s)


class _Spans:
    """Accepted spans; a candidate overlapping an accepted span is dropped (earlier detectors win)."""

    def __init__(self) -> None:
        self.items: list[PiiMatch] = []

    def add(self, kind: PiiKind, start: int, end: int) -> None:
        for m in self.items:
            if start < m.end and m.start < end:
                return
        self.items.append(PiiMatch(kind, start, end))


def find_pii(text: str) -> list[PiiMatch]:
    """Personal data in ``text``, sorted by position, never overlapping."""
    spoken = _SPOKEN_QUICK_RE.search(text) is not None
    short = len(text) <= _MEMO_MAX_CHARS
    if not (_QUICK_RE.search(text) or spoken or short):
        return []
    spans = _Spans()
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            spans.add("email", m.start(), m.end())
    for start, end in _number_windows(text):
        _find_numbers(text, start, end, spans)
    if spoken:
        _find_spoken_numbers(text, spans)
    _find_names(text, spans)
    if short:
        _find_memo_names(text, spans)
    return sorted(spans.items, key=lambda p: p.start)


def _find_memo_names(text: str, spans: _Spans) -> None:
    """Names in a short free text such as a transfer memo."""
    m = _MEMO_ONLY_NAME_RE.fullmatch(text)
    if m is not None:
        if _plausible_memo_name(m.group("v")):
            spans.add("name", m.start("v"), m.end("v"))
        return
    if not _MEMO_LITERALS_RE.search(text):
        return
    for pattern in (_MEMO_NAME_BEFORE_RE, _MEMO_NAME_AFTER_RE):
        for m in pattern.finditer(text):
            if _plausible_memo_name(m.group("v")):
                spans.add("name", m.start("v"), m.end("v"))


# Digits joined by single separators: every number pattern matches inside one such cluster, and none
# needs fewer than 7 digits, so amounts, dates and times never reach the slower patterns.
_NUMBER_CLUSTER_RE: Final = re.compile(r"[0-9](?:[ .()-]?[0-9])*")
_MIN_PII_DIGITS: Final = 7
_CONTEXT_CHARS: Final = 20  # room for "카드번호는 요, " / "+82 (0) " in front of a cluster


def _number_windows(text: str) -> list[tuple[int, int]]:
    windows: list[tuple[int, int]] = []
    for m in _NUMBER_CLUSTER_RE.finditer(text):
        if m.end() - m.start() < _MIN_PII_DIGITS or _digit_count(m.group(0)) < _MIN_PII_DIGITS:
            continue
        start, end = max(0, m.start() - _CONTEXT_CHARS), min(len(text), m.end() + 2)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _find_numbers(text: str, pos: int, endpos: int, spans: _Spans) -> None:
    for m in _CARD_GROUPED_RE.finditer(text, pos, endpos):
        end = m.end()
        if m.group("tail") and not luhn_valid(re.sub(r"[^0-9]", "", m.group(0))):
            end = m.end("main")  # a trailing number after a 4-4-4-4 PAN is not part of it
        spans.add("card", m.start(), end)
    for m in _RRN_RE.finditer(text, pos, endpos):
        spans.add("rrn", m.start(), m.end())
    for m in _RRN_TAIL_RE.finditer(text, pos, endpos):
        spans.add("rrn", m.start("v"), m.end("v"))
    for m in _PHONE_RE.finditer(text, pos, endpos):
        spans.add("phone", m.start(), m.end())
    for m in _DIGIT_RUN_RE.finditer(text, pos, endpos):
        if luhn_valid(m.group(0)):
            spans.add("card", m.start(), m.end())
    for m in _SEPARATED_RUN_RE.finditer(text, pos, endpos):
        digits = re.sub(r"[^0-9]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            spans.add("card", m.start(), m.end())
    for m in _CARD_CTX_RE.finditer(text, pos, endpos):
        if 13 <= _digit_count(m.group("v")) <= 19:
            spans.add("card", m.start("v"), m.end("v"))
    for m in _ACCOUNT_RE.finditer(text, pos, endpos):
        if 10 <= _digit_count(m.group(0)) <= 14:
            spans.add("account", m.start(), m.end())
    for m in _ACCOUNT_CTX_RE.finditer(text, pos, endpos):
        if 10 <= _digit_count(m.group("v")) <= 14:
            spans.add("account", m.start("v"), m.end("v"))


def _is_hangul(ch: str) -> bool:
    return "가" <= ch <= "힣"


def _find_names(text: str, spans: _Spans) -> None:
    for m in _HONORIFIC_RE.finditer(text):
        after = text[m.end() : m.end() + 1]
        if m.group(0) == "고객" and _is_hangul(after or " ") and after not in _AFTER_GOGAEK:
            continue  # 고객센터, 고객정보: a compound noun, not an address
        end = m.start()
        if end > 0 and text[end - 1].isspace():
            end -= 1
        start = end
        while start > 0 and end - start <= _MAX_NAME_LEN and _is_hangul(text[start - 1]):
            start -= 1
        candidate = text[start:end]
        if (
            2 <= len(candidate) <= _MAX_NAME_LEN
            and _NAME_FULL_RE.fullmatch(candidate)
            and not _is_stop_word(candidate, strip_particles=False)
        ):
            spans.add("name", start, end)
    for literals, pattern in _INTRO_RES:
        if any(lit in text for lit in literals):
            for m in pattern.finditer(text):
                weak = _COPULA_OR_YO_RE.match(text, m.end("v")) is None
                if not _is_stop_word(m.group("v"), strip_particles=weak):
                    spans.add("name", m.start("v"), m.end("v"))
    if any(lit in text for lit in _CONTEXT_LITERALS):
        for m in _CONTEXT_NAME_RE.finditer(text):
            if _plausible_context_name(m.group("v")):
                spans.add("name", m.start("v"), m.end("v"))
    if _NAME_QUESTION_RE.search(text):
        for m in _NAME_ANSWER_RE.finditer(text):
            if _NAME_QUESTION_RE.search(text, max(0, m.start() - 120), m.start()) and not _is_stop_word(
                m.group("v"), strip_particles=False
            ):
                spans.add("name", m.start("v"), m.end("v"))


# --- replacements -----------------------------------------------------------------------------------------


def _mask_card(s: str) -> str:
    digits = re.sub(r"[^0-9]", "", s)
    return "****-****-****-" + digits[-_CARD_LAST:]


def _mask_rrn(s: str) -> str:
    return "*******" if _digit_count(s) == 7 else "******-*******"


def _mask_keep_last4(s: str, keep_prefix: int = 0) -> str:
    total = _digit_count(s)
    out: list[str] = []
    seen = 0
    for i, c in enumerate(s):
        if c.isdigit():
            seen += 1
            out.append(c if i < keep_prefix or seen > total - 4 else "*")
        else:
            out.append(c)
    return "".join(out)


def _mask_phone(s: str) -> str:
    m = _PHONE_RE.fullmatch(s)
    prefix = 0
    if m is not None:
        for group in ("intl", "mobile", "land", "compact"):
            if m.group(group) is not None:
                prefix = m.end(group)
                break
    return _mask_keep_last4(s, prefix)


def _mask_email(s: str) -> str:
    local, _, domain = s.partition("@")
    return f"{local[0]}***@{domain}"


def _mask_name(s: str) -> str:
    keep = 2 if len(s) >= 3 and s[:2] in COMPOUND_SURNAMES else 1
    return s[:keep] + NAME_MASK_CHAR * (len(s) - keep)


_SPOKEN_SEPARATOR_RE: Final = re.compile(r"(?:[ .-]|에\s?)+")


def _mask_spoken(kind: PiiKind, s: str) -> str:
    """A number read out in digit words, masked in digit form (the words would otherwise keep it)."""
    digits = _spoken_digits(s)
    if kind == "card":
        return "****-****-****-" + digits[-_CARD_LAST:]
    if kind == "rrn":
        return "******-*******"
    if kind == "phone":
        prefix = 2 if digits.startswith("02") else 3
        return f"{digits[:prefix]}-{'*' * (len(digits) - prefix - 4)}-{digits[-4:]}"
    groups = [g for g in _SPOKEN_SEPARATOR_RE.split(s) if g]
    return _mask_keep_last4("-".join(_spoken_digits(g) for g in groups))


def _mask(kind: PiiKind, s: str) -> str:
    if kind not in ("name", "email") and any(c in _SPOKEN_DIGITS for c in s):
        return _mask_spoken(kind, s)
    if kind == "card":
        return _mask_card(s)
    if kind == "rrn":
        return _mask_rrn(s)
    if kind == "phone":
        return _mask_phone(s)
    if kind == "account":
        return _mask_keep_last4(s)
    if kind == "email":
        return _mask_email(s)
    return _mask_name(s)


def _mask_once(text: str) -> str:
    matches = find_pii(text)
    if not matches:
        return text
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(_mask(m.kind, text[m.start : m.end]))
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)


def mask_pii(text: str) -> str:
    """``text`` with every detected card, RRN, phone, account, e-mail and addressed name masked.

    Masking repeats until nothing changes, so the result is a fixed point (idempotent) even when
    the digits a mask leaves visible (last four) would combine with neighbouring digits. Each round
    replaces at least one digit or letter, so the loop ends.
    """
    while True:
        masked = _mask_once(text)
        if masked == text:
            return masked
        text = masked
