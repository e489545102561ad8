"""Delivery channels. Each carries the message's dedupe key so a receiver can drop a repeat
(the worker delivers at least once; the key makes it once at the receiver)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import httpx

from cardwise.config import Settings
from cardwise.logging import get_logger
from cardwise.privacy.masking import mask_pii

log = get_logger("cardwise.notify")


@dataclass(frozen=True)
class Outgoing:
    dedupe_key: str
    to_email: str | None
    to_phone: str | None
    subject: str
    body: str


class DeliveryError(Exception):
    """The channel did not take the message; the worker retries later."""


class Channel(Protocol):
    name: str

    def send(self, msg: Outgoing) -> str: ...


class ConsoleChannel:
    name = "console"

    def send(self, msg: Outgoing) -> str:
        log.info("notification", extra={"notify.key": msg.dedupe_key, "notify.body": mask_pii(msg.body)})
        return "logged"


class EmailChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, msg: Outgoing) -> str:
        if not msg.to_email:
            raise DeliveryError("the customer has no e-mail address")
        em = EmailMessage()
        em["From"], em["To"], em["Subject"] = self.sender, msg.to_email, msg.subject
        em["Message-ID"] = make_msgid(idstring=msg.dedupe_key.replace(":", "-"), domain="cardwise.example")
        em["X-Cardwise-Key"] = msg.dedupe_key
        em.set_content(msg.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.send_message(em)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp: {exc}") from exc
        return "accepted by smtp"


class SmsWebhookChannel:
    """An SMS gateway reached over HTTP (JSON body, Idempotency-Key header)."""

    name = "sms"

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=10)

    def send(self, msg: Outgoing) -> str:
        if not msg.to_phone:
            raise DeliveryError("the customer has no phone number")
        try:
            r = self.client.post(
                self.url, json={"to": msg.to_phone, "text": msg.body}, headers={"Idempotency-Key": msg.dedupe_key}
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"sms gateway: {exc}") from exc
        if r.status_code >= 300:
            raise DeliveryError(f"sms gateway answered {r.status_code}")
        return f"sms gateway {r.status_code}"


def channels_for(settings: Settings) -> dict[str, Channel]:
    console = ConsoleChannel()
    return {
        "console": console,
        "email": EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
        # Without a gateway configured, text messages are written to the log instead of being lost.
        "sms": SmsWebhookChannel(settings.sms_webhook_url) if settings.sms_webhook_url else console,
        "push": console,
    }
