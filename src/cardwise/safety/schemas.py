"""Request and response bodies of the card-safety API. Validation happens here: bad input is a
422 with a message before any service runs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _hhmm(v: str) -> str:
    if not _HHMM.match(v):
        raise ValueError("time must be HH:MM between 00:00 and 23:59")
    return v


HHMM = Annotated[str, AfterValidator(_hhmm)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorizationIn(Strict):
    card_token: str = Field(
        min_length=16, max_length=64, pattern=r"^[0-9a-f]+$", description="The card's token (never the card number)."
    )
    amount_krw: int = Field(gt=0, le=100_000_000, description="Amount in KRW, a positive whole number.")
    merchant_id: int = Field(gt=0)
    timestamp: AwareDatetime = Field(description="When the card was presented, with a time zone.")
    channel: Literal["offline", "online", "overseas"]
    contactless: bool = False
    idempotency_key: str | None = Field(
        default=None, min_length=8, max_length=128, description="Or the Idempotency-Key header; retries must reuse it."
    )


class ReasonOut(BaseModel):
    code: str
    message_ko: str
    message_en: str


class AuthorizationOut(BaseModel):
    authorization_id: int
    decision: Literal["APPROVED", "DECLINED"]
    approved: bool
    reasons: list[ReasonOut]
    card_last4: str
    replayed: bool = Field(description="True when this is the stored answer to an earlier request with the same key.")
    anomaly_alert: bool = Field(
        default=False,
        description="Approved, but unlike the card holder's usual pattern: the customer has been alerted.",
    )


class WindowIn(Strict):
    days: list[int] = Field(min_length=1, max_length=7, description="Weekdays, 0 = Monday .. 6 = Sunday.")
    start: HHMM
    end: HHMM

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in v):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return sorted(set(v))


class ControlsIn(Strict):
    allowed_regions: list[str] | None = Field(
        default=None, max_length=60, description="Province or Seoul district codes, XX for overseas; null = anywhere."
    )
    blocked_windows: list[WindowIn] = Field(default_factory=list, max_length=14)
    blocked_categories: list[str] = Field(default_factory=list, max_length=60)
    max_amount_krw: int | None = Field(default=None, gt=0, le=100_000_000)
    block_online: bool = False
    block_overseas: bool = False
    block_contactless: bool = False


class ControlsOut(ControlsIn):
    card_id: int


class PauseIn(Strict):
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _order(self) -> PauseIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PauseOut(BaseModel):
    pause_id: int
    card_id: int
    starts_at: datetime
    ends_at: datetime
    status: str


class LostReportIn(Strict):
    kind: Literal["lost", "stolen"]


class LostReportOut(BaseModel):
    report_id: int
    card_id: int
    kind: str
    status: str
    reported_at: datetime
    closed_at: datetime | None
    resolution: str | None
    replacement_card_id: int | None


class CloseReportIn(Strict):
    reissue: bool = Field(description="True: close the old card and issue a new one; false: the card was found.")


class AnomalyIn(Strict):
    card_token: str = Field(min_length=16, max_length=64, pattern=r"^[0-9a-f]+$")
    category_code: str = Field(min_length=2, max_length=32)
    region_code: str = Field(min_length=2, max_length=8)
    amount_krw: int = Field(gt=0, le=100_000_000)
    timestamp: AwareDatetime
    channel: Literal["offline", "online", "overseas"] = "offline"


class AnomalyOut(BaseModel):
    anomaly: Literal["Y", "N"]
    score: float = Field(description="Negative log-likelihood under the mixture; higher is more unusual.")
    threshold: float
    reasons: list[ReasonOut]
