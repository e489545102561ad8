"""The interface a speech-to-text engine feeds: one finished call as speaker-labelled segments.

The platform does not transcribe audio; the contact centre's STT engine (on-premises, as call audio
must not leave the company) posts each finished call to ``POST /v1/voc/transcripts`` or drops JSON
Lines files for ``cardwise voc ingest``. Each segment is one utterance of the agent or the customer.
Segments below the engine's confidence floor are dropped (an unreliable word is worse than none for
the keyword counts), the rest are joined as ``상담사: …`` / ``고객: …`` lines, and the text is masked
for personal data before it is stored or used. The raw text is never stored.

Example::

    {"call_id": "CC-20231005-000123", "customer_id": 1042, "started_at": "2023-10-05T14:03:11+09:00",
     "duration_s": 312, "channel": "phone", "engine": "stt-ko 4.2",
     "segments": [{"speaker": "agent", "start_s": 0.0, "end_s": 4.1, "text": "네, 카드와이즈 고객센터입니다.",
                   "confidence": 0.97},
                  {"speaker": "customer", "start_s": 4.3, "end_s": 9.8, "text": "카드 해지하려고 전화했어요.",
                   "confidence": 0.91}]}
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cardwise.privacy.masking import find_pii, mask_pii

MIN_CONFIDENCE = 0.5
SPEAKER_LABELS = {"agent": "상담사", "customer": "고객"}


class SttSegment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Literal["agent", "customer"]
    start_s: float = Field(ge=0, le=36_000)
    end_s: float = Field(ge=0, le=36_000)
    text: Annotated[str, Field(max_length=5000)]
    confidence: float | None = Field(default=None, ge=0, le=1, description="The engine's confidence, 0-1.")

    @model_validator(mode="after")
    def _ordered(self) -> SttSegment:
        if self.end_s < self.start_s:
            raise ValueError("end_s must not be before start_s")
        return self


class SttTranscript(BaseModel):
    """One finished call from the STT engine."""

    model_config = ConfigDict(extra="forbid")

    call_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
    customer_id: int = Field(gt=0, le=2**62)
    started_at: AwareDatetime
    duration_s: int = Field(ge=0, le=7200)
    channel: Literal["phone", "chat"] = "phone"
    language: Literal["ko"] = "ko"
    engine: Annotated[str | None, Field(max_length=64)] = None
    segments: Annotated[list[SttSegment], Field(max_length=2000)]


@dataclass(frozen=True)
class MaskedTranscript:
    text: str  # speaker-labelled lines, masked
    segments: int
    dropped_segments: int  # below the confidence floor
    pii_masked: dict[str, int]  # how many of each kind of personal data were masked
    content_hash: str  # of the masked text and the call's facts: a resend with other content is a conflict


def render(transcript: SttTranscript, *, min_confidence: float = MIN_CONFIDENCE) -> MaskedTranscript:
    """The transcript as masked, speaker-labelled lines in time order."""
    kept = [
        s
        for s in sorted(transcript.segments, key=lambda s: (s.start_s, s.end_s))
        if (s.confidence is None or s.confidence >= min_confidence) and s.text.strip()
    ]
    lines = [f"{SPEAKER_LABELS[s.speaker]}: {' '.join(s.text.split())}" for s in kept]
    raw = "\n".join(lines)
    found = Counter(m.kind for m in find_pii(raw))
    text = mask_pii(raw)
    facts = f"{transcript.customer_id}|{transcript.started_at.isoformat()}|{transcript.duration_s}|{transcript.channel}"
    return MaskedTranscript(
        text=text,
        segments=len(transcript.segments),
        dropped_segments=len(transcript.segments) - len(kept),
        pii_masked=dict(sorted(found.items())),
        content_hash=hashlib.sha256(f"{facts}\n{text}".encode()).hexdigest(),
    )
