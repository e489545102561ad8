"""The interface a speech-to-text engine feeds, and a reference adapter for engines that emit segments.

The platform does not transcribe audio: the contact centre's STT engine (on-premises, since call audio
must not leave the company) posts each finished call to ``POST /v1/voc/transcripts`` (the ingestion
domain): ``customer_id``, ``started_at`` with a time zone, ``channel`` (phone, chat, or memo for a
transfer memo) and ``text``. The text must be one utterance per line, each line starting with the
speaker, ``상담사:`` for the agent and ``고객:`` for the customer: the VOC analysis counts the customer's
own words fully and the agent's at half weight, and a line without a label counts as the customer's.
Numbers may be digits or read out in words; personal data need not be removed first, the platform masks
it before anything is stored. The exporter moves received transcripts to the lake's ``transcript_log``
within seconds; the monthly VOC run analyzes them with the lake's own transcripts.

Most engines emit timed segments with a speaker and a confidence. :func:`ingest_body` turns such output
into the request body: segments in time order, those below the engine's confidence floor dropped (an
unreliable word is worse than none for keyword counts), whitespace collapsed, and the text masked here
already, so it can cross the network without personal data.

Example segment output::

    {"customer_id": 1042, "started_at": "2023-10-05T14:03:11+09:00", "channel": "phone",
     "segments": [{"speaker": "agent", "start_s": 0.0, "end_s": 4.1, "text": "네, 카드와이즈 고객센터입니다.",
                   "confidence": 0.97},
                  {"speaker": "customer", "start_s": 4.3, "end_s": 9.8, "text": "카드 해지하려고 전화했어요.",
                   "confidence": 0.91}]}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cardwise.privacy.masking import find_pii, mask_pii

MIN_CONFIDENCE = 0.5
SPEAKER_LABELS = {"agent": "상담사", "customer": "고객"}
MAX_TEXT_CHARS = 20_000  # the ingestion endpoint's limit


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
    """One finished call as timed, speaker-labelled segments."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(gt=0, le=2**62)
    started_at: AwareDatetime
    channel: Literal["phone", "chat"] = "phone"
    segments: Annotated[list[SttSegment], Field(max_length=2000)]


@dataclass(frozen=True)
class RenderedTranscript:
    text: str  # speaker-labelled lines, masked
    kept_segments: int
    dropped_segments: int  # below the confidence floor or empty
    pii_masked: dict[str, int]  # how many of each kind of personal data were masked


def render(transcript: SttTranscript, *, min_confidence: float = MIN_CONFIDENCE) -> RenderedTranscript:
    """The call as masked ``상담사: …`` / ``고객: …`` lines in time order."""
    kept = [
        s
        for s in sorted(transcript.segments, key=lambda s: (s.start_s, s.end_s))
        if (s.confidence is None or s.confidence >= min_confidence) and s.text.strip()
    ]
    raw = "\n".join(f"{SPEAKER_LABELS[s.speaker]}: {' '.join(s.text.split())}" for s in kept)
    found = Counter(m.kind for m in find_pii(raw))
    return RenderedTranscript(
        text=mask_pii(raw)[:MAX_TEXT_CHARS],
        kept_segments=len(kept),
        dropped_segments=len(transcript.segments) - len(kept),
        pii_masked=dict(sorted(found.items())),
    )


def ingest_body(transcript: SttTranscript, *, min_confidence: float = MIN_CONFIDENCE) -> dict[str, Any] | None:
    """The JSON body for ``POST /v1/voc/transcripts``, or None when no segment is usable."""
    rendered = render(transcript, min_confidence=min_confidence)
    if not rendered.text:
        return None
    return {
        "customer_id": transcript.customer_id,
        "started_at": transcript.started_at.isoformat(),
        "channel": transcript.channel,
        "text": rendered.text,
    }
