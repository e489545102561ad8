"""Masking of personal data in Korean free text: call transcripts, transfer memos, log lines.

A full card number (PAN) or resident registration number (RRN) must never be stored, logged or shown
in clear (PCI DSS, PIPA). The patterns are tuned for Korean speech-to-text output: numbers read out with
spaces or hyphens, particles glued to digits ("…8530이고요"), names in address forms ("김민수 고객님").
Amounts, dates and times carry units (원, 만, 년, 월, 시) or commas and are left alone.

Detectors run in a fixed priority order and a later detector never overlaps an earlier one's span, so
a 13-digit number that is both a plausible RRN and Luhn-valid is masked as the (stricter) RRN.
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
_RRN_RE: Final = re.compile(r"(?<![0-9])[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[ -]?[0-9]{7}(?![0-9])")
# "주민번호 뒷자리는 1234567": the 7-digit tail alone still identifies together with a birth date.
_RRN_TAIL_RE: Final = re.compile(r"뒷\s?자리\s?(?:는|가|은)?\s?(?:요,?\s?)?(?P<v>[0-9]{7})(?![0-9])")
_PHONE_RE: Final = re.compile(
    r"(?<![0-9+])(?:"
    r"(?P<intl>\+82[ -]?(?:\(0\)\s?)?0?(?:1[016789]|2|[3-6][1-5]|70))[ .-]?[0-9]{3,4}[ .-]?[0-9]{4}"
    r"|(?P<mobile>01[016789]|070)[ .-]?[0-9]{3,4}[ .-]?[0-9]{4}"
    r"|(?P<land>02|0[3-6][1-5]|050[0-9]?)[ .)-][0-9]{3,4}[ .-][0-9]{4}"
    r")(?![0-9])"
)
_DIGIT_RUN_RE: Final = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")
# Any other grouping of a Luhn-valid 13-19 digit number (e.g. STT "9440 032368 698530").
_SEPARATED_RUN_RE: Final = re.compile(r"(?<![0-9])[0-9]{1,8}(?:[ -][0-9]{1,8}){1,6}(?![0-9])")
# A 13-19 digit number right after "카드(번호)" is a PAN even when Luhn fails: STT misreads one digit of a
# real number, and fifteen of its sixteen digits must not survive either.
_CARD_CTX_RE: Final = re.compile(r"카드[^0-9\n]{0,15}?(?P<v>(?<![0-9])[0-9]{2,19}(?:[ -][0-9]{1,8}){0,6})(?![0-9])")
_ACCOUNT_RE: Final = re.compile(r"(?<![0-9-])[0-9]{2,6}(?:-[0-9]{2,8}){2,3}(?![0-9]|-[0-9])")
_ACCOUNT_CTX_RE: Final = re.compile(
    r"계좌\s?(?:번호)?\s?(?:는|은|가|:)?\s?(?:요,?\s?)?(?P<v>[0-9]{2,14}(?:[ -][0-9]{2,8}){0,3})(?![0-9])"
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

# Cheap pre-filter: most log lines and memos contain none of these and skip every other pattern.
_QUICK_RE: Final = re.compile(r"[0-9@]|님|씨|고객|이름|성함|본인|저는")


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
    if not _QUICK_RE.search(text):
        return []
    spans = _Spans()
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            spans.add("email", m.start(), m.end())
    for start, end in _number_windows(text):
        _find_numbers(text, start, end, spans)
    _find_names(text, spans)
    return sorted(spans.items, key=lambda p: p.start)


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
        for group in ("intl", "mobile", "land"):
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


def _mask(kind: PiiKind, s: str) -> str:
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
