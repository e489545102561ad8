"""The STT adapter: segments in time order, unreliable ones dropped, personal data masked before the
text leaves the adapter, the ingestion endpoint's body."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from cardwise.voc.stt import SttTranscript, ingest_body, render


def _seg(speaker: str, start: float, text: str, confidence: float | None = None) -> dict[str, object]:
    return {"speaker": speaker, "start_s": start, "end_s": start + 1, "text": text, "confidence": confidence}


def _call(segments: list[dict[str, object]]) -> SttTranscript:
    return SttTranscript.model_validate(
        {"customer_id": 7, "started_at": "2023-10-05T14:03:11+09:00", "channel": "phone", "segments": segments}
    )


def test_segments_become_masked_speaker_lines_in_time_order() -> None:
    call = _call(
        [
            _seg("customer", 4.3, "네, 저는 김민수이고요 번호는 010-1234-5678입니다."),
            _seg("agent", 0.0, "네,  카드와이즈\n고객센터입니다.", 0.97),
            _seg("customer", 10.0, "카드 해지하려고요", 0.2),
            _seg("customer", 12.5, "   "),
        ]
    )
    r = render(call)
    assert r.text == "상담사: 네, 카드와이즈 고객센터입니다.\n고객: 네, 저는 김○○이고요 번호는 010-****-5678입니다."
    assert (r.kept_segments, r.dropped_segments) == (2, 2)
    assert r.pii_masked == {"name": 1, "phone": 1}


def test_ingest_body_matches_the_endpoint_and_refuses_nothing_usable() -> None:
    call = _call([_seg("customer", 0, "카드론 한도 알려주세요", 0.9)])
    assert ingest_body(call) == {
        "customer_id": 7,
        "started_at": "2023-10-05T14:03:11+09:00",
        "channel": "phone",
        "text": "고객: 카드론 한도 알려주세요",
    }
    silent = _call([{"speaker": "customer", "start_s": 0, "end_s": 1, "text": "음", "confidence": 0.1}])
    assert ingest_body(silent) is None


@pytest.mark.parametrize(
    "segment",
    [
        {"speaker": "customer", "start_s": 5, "end_s": 1, "text": "x"},
        {"speaker": "robot", "start_s": 0, "end_s": 1, "text": "x"},
        {"speaker": "agent", "start_s": 0, "end_s": 1, "text": "x", "confidence": 1.5},
        {"speaker": "agent", "start_s": 0, "end_s": 1, "text": "x", "extra": True},
    ],
)
def test_malformed_segments_are_refused(segment: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _call([segment])


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        SttTranscript(customer_id=7, started_at=datetime(2023, 10, 5, 14, 3), segments=[])
