"""Signals from Korean call transcripts and transfer memos, by morphological analysis (kiwipiepy).

Every text is masked for personal data first (:func:`cardwise.privacy.masking.mask_pii`), whatever its
source claims, then each line is reduced to its content lemmas: nouns, verb and adjective stems,
roots, adverbs (못, 안 carry negation), with prefixes joined to their noun (불+친절 → 불친절). The
VOC dictionary (``lexicon.py``) is matched on those lemmas and on pairs of adjacent lemmas, so
"해지하려고요", "해지해 주세요" and "해지 접수" all count as 해지, and "화가 나서" as "화 나".

kiwipiepy ships its model inside the wheel: nothing is downloaded at run time, which matters on the
closed networks card companies run their analytics in (seed 001). Analysis is the slow step, so lines
are normalized (numbers and masked spans become placeholders) and each distinct line is analyzed
once per process; agent scripts and memos repeat a lot.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from cardwise.privacy.masking import mask_pii
from cardwise.voc.lexicon import (
    KEYWORD_GROUPS,
    MEMO_KINDS,
    MEMO_OTHER,
    MEMO_WORDS,
    MIN_TOPIC_SCORE,
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    STOP_NOUNS,
    TOPIC_WORDS,
    TOPICS,
    UNKNOWN_TOPIC,
    USER_NOUNS,
)

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

AGENT_WEIGHT: Final = 0.5  # the agent repeats the customer's topic; the customer's own words count fully
_AGENT_PREFIXES: Final = ("상담사", "상담원", "agent", "AGENT", "Agent")
_CUSTOMER_PREFIXES: Final = ("고객", "손님", "customer", "CUSTOMER", "Customer")
_SPEAKER_RE: Final = re.compile(r"^\s*([^:：]{1,12})\s*[:：]\s?(.*)$")
# Numbers, masked digits and masked names carry no vocabulary; one placeholder each keeps the cache small.
_NUMBER_RE: Final = re.compile(r"[0-9*](?:[0-9*,.\-]|\s(?=[0-9*]))*")
_MASKED_NAME_RE: Final = re.compile(r"[가-힣]○+")
# STT annotations such as [인식 불가], (잡음), <noise> are not words anyone said.
_ANNOTATION_RE: Final = re.compile(r"\[[^\]]*\]|\([^)]*\)|<[^>]*>")
_CONTENT_TAGS: Final = frozenset({"NNG", "NNP", "XR", "VV", "VA", "MAG", "MM", "SL"})
_NOUN_TAGS: Final = frozenset({"NNG", "NNP"})
_MAX_CACHE: Final = 500_000
MAX_KEYWORDS: Final = 5

CALL_SIGNAL_COLUMNS: Final[tuple[str, ...]] = (
    *(f"score_{t}" for t in TOPICS),
    *(f"mentions_{g}" for g in KEYWORD_GROUPS),
    "negative",
    "positive",
    "customer_lemmas",
)


@dataclass(frozen=True, slots=True)
class LineLemmas:
    lemmas: tuple[str, ...]
    nouns: tuple[str, ...]

    def units(self) -> frozenset[str]:
        """Lemmas and pairs of adjacent lemmas, each counted once per line."""
        pairs = (f"{a} {b}" for a, b in zip(self.lemmas, self.lemmas[1:], strict=False))
        return frozenset((*self.lemmas, *pairs))


EMPTY_LINE: Final = LineLemmas((), ())


def normalize(line: str) -> str:
    line = _ANNOTATION_RE.sub(" ", line)
    line = _MASKED_NAME_RE.sub(" ○ ", line)
    return _NUMBER_RE.sub("0", line).strip()


def split_speakers(text: str) -> list[tuple[bool, str]]:
    """(is_agent, utterance) per line; a line without a known speaker label counts as the customer's."""
    out: list[tuple[bool, str]] = []
    for raw in text.splitlines():
        m = _SPEAKER_RE.match(raw)
        if m is not None and m.group(1).strip().startswith(_AGENT_PREFIXES + _CUSTOMER_PREFIXES):
            out.append((m.group(1).strip().startswith(_AGENT_PREFIXES), m.group(2)))
        elif raw.strip():
            out.append((False, raw))
    return out


class TextAnalyzer:
    """Kiwi behind a cache of analyzed lines. One per process is enough; thread-safe."""

    def __init__(self, *, workers: int | None = None) -> None:
        self._workers = workers
        self._kiwi: Kiwi | None = None
        self._cache: dict[str, LineLemmas] = {}
        self._lock = threading.Lock()
        self.analyzed_lines = 0

    def _instance(self) -> Kiwi:
        if self._kiwi is None:
            from kiwipiepy import Kiwi

            kiwi = Kiwi(num_workers=self._workers) if self._workers else Kiwi()
            for noun in USER_NOUNS:
                kiwi.add_user_word(noun, "NNG", 0.0)
            self._kiwi = kiwi
        return self._kiwi

    def lines(self, lines: Sequence[str]) -> list[LineLemmas]:
        """Lemmas of each (already masked) line, in order."""
        keys = [normalize(line) for line in lines]
        with self._lock:
            todo = sorted({k for k in keys if k and k not in self._cache})
            if todo:
                if len(self._cache) + len(todo) > _MAX_CACHE:
                    self._cache.clear()
                for key, tokens in zip(todo, self._instance().tokenize(todo), strict=True):
                    self._cache[key] = _lemmas(tokens)
                self.analyzed_lines += len(todo)
            return [self._cache[k] if k else EMPTY_LINE for k in keys]


@cache
def default_analyzer() -> TextAnalyzer:
    """The process's analyzer: loading the model takes a second or more, its cache pays off across runs."""
    return TextAnalyzer()


def _lemmas(tokens: Iterable[object]) -> LineLemmas:
    lemmas: list[str] = []
    nouns: list[str] = []
    prefix = ""
    for t in tokens:
        form: str = t.form  # type: ignore[attr-defined]
        tag: str = t.tag.split("-")[0]  # type: ignore[attr-defined]
        if tag == "XPN":
            prefix += form
            continue
        if tag in _CONTENT_TAGS or (prefix and tag == "NNB"):
            lemma = prefix + form
            lemmas.append(lemma)
            if tag in _NOUN_TAGS or prefix:
                nouns.append(lemma)
        prefix = ""
    return LineLemmas(tuple(lemmas), tuple(nouns))


@dataclass(frozen=True)
class CallSignals:
    """What one transcript says, as numbers (and the topic it is most likely about)."""

    topic: str
    scores: dict[str, float]
    mentions: dict[str, int]
    negative: int
    positive: int
    customer_lemmas: int
    keywords: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return self.customer_lemmas > 0 or any(self.scores.values())

    @property
    def sentiment(self) -> float:
        """From -1 (only displeasure) to +1 (only thanks); 0 when neither is said."""
        return (self.positive - self.negative) / (self.positive + self.negative + 1)


def call_signals(speakers: Sequence[tuple[bool, LineLemmas]]) -> CallSignals:
    scores = dict.fromkeys(TOPICS, 0.0)
    mentions = dict.fromkeys(KEYWORD_GROUPS, 0)
    negative = positive = lemma_count = 0
    noun_counts: dict[str, int] = {}
    for is_agent, line in speakers:
        units = line.units()
        weight = AGENT_WEIGHT if is_agent else 1.0
        for topic, words in TOPIC_WORDS.items():
            for unit in units & words.keys():
                scores[topic] += weight * words[unit]
        if is_agent:
            continue
        lemma_count += len(line.lemmas)
        for group, group_words in KEYWORD_GROUPS.items():
            mentions[group] += len(units & group_words)
        negative += len(units & NEGATIVE_WORDS)
        positive += len(units & POSITIVE_WORDS)
        for noun in line.nouns:
            if len(noun) >= 2 and noun not in STOP_NOUNS:
                noun_counts[noun] = noun_counts.get(noun, 0) + 1
    best = max(TOPICS, key=lambda t: scores[t])
    topic = best if scores[best] >= MIN_TOPIC_SCORE else UNKNOWN_TOPIC
    keywords = tuple(sorted(noun_counts, key=lambda n: (-noun_counts[n], n))[:MAX_KEYWORDS])
    return CallSignals(
        topic=topic,
        scores={t: round(v, 2) for t, v in scores.items()},
        mentions=mentions,
        negative=negative,
        positive=positive,
        customer_lemmas=lemma_count,
        keywords=keywords,
    )


def analyze_transcript(analyzer: TextAnalyzer, text: str | None) -> CallSignals:
    """One transcript, masked then analyzed. Empty or unintelligible text gives all-zero signals."""
    parts = split_speakers(mask_pii(text or ""))
    lemmas = analyzer.lines([u for _, u in parts])
    return call_signals([(agent, line) for (agent, _), line in zip(parts, lemmas, strict=True)])


def transcripts_frame(analyzer: TextAnalyzer, calls: pd.DataFrame) -> pd.DataFrame:
    """Signals per transcript. ``calls`` needs transcript_id, customer_id, started_at, duration_s, text."""
    texts = [mask_pii(t) if isinstance(t, str) else "" for t in calls["text"].tolist()]
    parts = [split_speakers(t) for t in texts]
    flat = analyzer.lines([u for p in parts for _, u in p])
    signals: list[CallSignals] = []
    pos = 0
    for p in parts:
        lines = flat[pos : pos + len(p)]
        pos += len(p)
        signals.append(call_signals([(agent, line) for (agent, _), line in zip(p, lines, strict=True)]))
    out = pd.DataFrame(
        {
            "transcript_id": calls["transcript_id"].to_numpy(dtype=np.int64),
            "customer_id": calls["customer_id"].to_numpy(dtype=np.int64),
            "started_at": pd.to_datetime(calls["started_at"]).to_numpy(),
            "duration_s": calls["duration_s"].to_numpy(dtype=np.int64),
            "topic": [s.topic for s in signals],
        }
    )
    for t in TOPICS:
        out[f"score_{t}"] = np.array([s.scores[t] for s in signals], dtype=np.float64)
    for g in KEYWORD_GROUPS:
        out[f"mentions_{g}"] = np.array([s.mentions[g] for s in signals], dtype=np.int64)
    out["negative"] = np.array([s.negative for s in signals], dtype=np.int64)
    out["positive"] = np.array([s.positive for s in signals], dtype=np.int64)
    out["sentiment"] = np.array([s.sentiment for s in signals], dtype=np.float64)
    out["customer_lemmas"] = np.array([s.customer_lemmas for s in signals], dtype=np.int64)
    out["usable"] = np.array([s.usable for s in signals], dtype=bool)
    out["keywords"] = [" ".join(s.keywords) for s in signals]
    return out


def memo_kind(line: LineLemmas, memo: str) -> str:
    """The first kind whose word is among the memo's lemmas or, for compounds the analyzer splits
    (엔빵, 가스비, 계모임), written in the memo itself."""
    units = line.units()
    compact = memo.replace(" ", "")
    for kind in MEMO_KINDS:
        words = MEMO_WORDS[kind]
        if units & words or any(len(w) >= 2 and w in compact for w in words):
            return kind
    return MEMO_OTHER


def memos_frame(analyzer: TextAnalyzer, memos: pd.DataFrame) -> pd.DataFrame:
    """The kind of each transfer memo. ``memos`` needs memo_id, customer_id, ts, direction, amount_krw, memo."""
    texts = [mask_pii(m) if isinstance(m, str) else "" for m in memos["memo"].tolist()]
    kinds = [memo_kind(line, text) for line, text in zip(analyzer.lines(texts), texts, strict=True)]
    return pd.DataFrame(
        {
            "memo_id": memos["memo_id"].to_numpy(dtype=np.int64),
            "customer_id": memos["customer_id"].to_numpy(dtype=np.int64),
            "ts": pd.to_datetime(memos["ts"]).to_numpy(),
            "incoming": (memos["direction"] == "in").to_numpy(dtype=bool),
            "amount_krw": memos["amount_krw"].to_numpy(dtype=np.int64),
            "kind": kinds,
        }
    )
