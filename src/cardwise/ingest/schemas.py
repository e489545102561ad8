"""What clients post: events in batches (each validated on its own) and transcripts."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, IPvAnyAddress

MAX_EVENTS = 1_000
MAX_BODY_BYTES = 1_048_576


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(default=None, gt=0, le=2**62)
    ts: AwareDatetime = Field(description="The client's time, with a time zone.")
    event_type: Literal["login", "failed_login", "page_view", "logout"]
    page: str | None = Field(default=None, max_length=200, pattern=r"^/[\w\-/.]*$")
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[\w\-]+$")
    cookie_id: str = Field(min_length=1, max_length=64, pattern=r"^[\w\-]+$")
    device: Literal["android", "ios", "web"]
    ip: IPvAnyAddress


class EventRejection(BaseModel):
    index: int
    errors: list[str]


class EventsOut(BaseModel):
    accepted: int
    rejected: list[EventRejection]


class TranscriptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(gt=0, le=2**62)
    started_at: AwareDatetime
    channel: Literal["phone", "chat", "memo"]
    text: str = Field(min_length=1, max_length=20_000, description="Speech-to-text output; masked before storage.")


class TranscriptOut(BaseModel):
    transcript_id: int
    masked: bool = Field(description="Whether personal data was found and masked.")
