"""One logger setup: ECS JSON lines on stderr and in size-rotated files, secrets and personal data redacted.

Every line is an Elastic Common Schema document (``@timestamp`` in UTC, ``log.level``, ``log.logger``,
``message``, ``ecs.version`` and whatever ECS fields the caller passes as ``extra``, e.g. ``event.action``,
``source.ip``, ``user.id``), written by the ``ecs-logging`` library. With a ``log_dir`` the same lines go to
``<log_dir>/cardwise.<host>.<pid>.jsonl`` as well: one file per process, so several server workers and the
scheduler never rotate each other's file; rotated files keep the ``.jsonl`` suffix
(``cardwise.<host>.<pid>.1.jsonl``) so ``read_json_auto('<log_dir>/*.jsonl')`` and the shipper see them.

Redaction happens twice on the way out, so a careless ``log.info(f"... {pan}")`` anywhere in the code base
still cannot write a card number, a resident registration number, a password or a token to disk:

- a filter on the handlers masks personal data in the message and in every ``extra`` value (nested too);
- the formatter masks the exception fields (``error.message``, ``error.stack_trace`` are only formatted there);

and both replace the value of any secret-looking key (``password``, ``authorization``, ``cookie``,
``token`` …) and anything that looks like a bearer token or JWT with ``[REDACTED]``.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ecs_logging

from cardwise.privacy.masking import mask_pii

REDACTED = "[REDACTED]"
# Keys whose values are credentials, wherever they appear (headers, bodies, extras).
_SECRET_KEY_RE = re.compile(
    r"(?:.*[_-])?(?:pass|password|passwd|secret|token|jwt|authorization|cookie|set-cookie|api[_-]?key|credentials?)",
    re.I,
)
# A bearer credential or a JWT (three base64url parts, the first two starting with '{"' encoded) in free text.
_SECRET_TEXT_RE = re.compile(
    r"(?i:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}|eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
)
_HANDLER_MARK = "_cardwise_handler"
FILE_PREFIX = "cardwise"


def redact_text(text: str) -> str:
    """``text`` with card, resident, phone and account numbers masked and bearer tokens or JWTs removed."""
    if "eyJ" in text or "earer" in text or "asic" in text:
        text = _SECRET_TEXT_RE.sub(REDACTED, text)
    # Fast path for the many short ASCII values of every line (methods, paths, addresses, logger names):
    # names need Hangul, e-mails an @, and every number the masking knows has at least 7 digits.
    if text.isascii() and "@" not in text and _SEVEN_DIGITS.match(text) is None:
        return text
    return mask_pii(text)


_SEVEN_DIGITS = re.compile(r"(?:[^0-9]*[0-9]){7}")


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` (str, dict, list …) with secrets replaced and personal data masked."""
    if key and _SECRET_KEY_RE.fullmatch(key.rpartition(".")[2]):
        return REDACTED if value not in (None, "", [], {}) else value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


if TYPE_CHECKING:
    from cardwise.config import Settings


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str | dict | list | tuple):
                setattr(record, key, redact(value, key))
        return True


_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class EcsFormatter(ecs_logging.StdlibFormatter):
    """ECS documents with Korean kept readable and every string redacted once more after formatting."""

    def __init__(self) -> None:
        # log.origin and process cost time on every line and say little in a JSON log store.
        super().__init__(exclude_fields=["log.origin", "process", "log.original"], ensure_ascii=False)

    def format_to_ecs(self, record: logging.LogRecord) -> dict[str, Any]:
        doc = super().format_to_ecs(record)
        # The filter has redacted the message and the extras; exceptions are only formatted here.
        for key in [k for k in doc if k == "error" or k.startswith("error.")]:
            doc[key] = redact(doc[key], key)
        return doc


def log_file_name(host: str | None = None, pid: int | None = None) -> str:
    host = re.sub(r"[^A-Za-z0-9-]", "-", host or socket.gethostname())[:40] or "host"
    return f"{FILE_PREFIX}.{host}.{pid or os.getpid()}.jsonl"


def _rotated_name(default_name: str) -> str:
    # RotatingFileHandler appends ".N"; move the number before the suffix so every file ends in .jsonl.
    stem, _, n = default_name.rpartition(".")
    base = stem.removesuffix(".jsonl")
    return f"{base}.{n}.jsonl"


class _SizeRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotates once the file has reached ``maxBytes``. The standard check formats every record a second
    time just to measure it (and stats the file); the size so far is enough for a log file."""

    def shouldRollover(self, record: logging.LogRecord) -> int:
        if self.stream is None:
            self.stream = self._open()
        return int(self.maxBytes > 0 and self.stream.tell() >= self.maxBytes)


def _file_handler(log_dir: Path, max_bytes: int, backups: int) -> logging.Handler:
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = _SizeRotatingFileHandler(
        log_dir / log_file_name(), maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
    )
    handler.namer = _rotated_name
    return handler


def configure_logging(
    level: str = "INFO",
    fmt: str = "json",
    *,
    log_dir: Path | None = None,
    max_bytes: int = 50 * 1024 * 1024,
    backups: int = 10,
) -> None:
    """The process's log setup (CLI, server workers): stderr, plus rotating ECS files under ``log_dir``.

    Replaces only handlers it installed itself, so a test harness's handlers (pytest's caplog, the
    test session's log file) survive a reconfiguration.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        handlers.append(_file_handler(log_dir, max_bytes, backups))
    for i, handler in enumerate(handlers):
        if fmt == "json" or i > 0:  # files are always JSON: they are parsed, shipped and purged by field
            handler.setFormatter(EcsFormatter())
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler.addFilter(RedactingFilter())
        setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level.upper())


def is_configured() -> bool:
    """True once :func:`configure_logging` (or a harness standing in for it) has set up the root logger."""
    return any(getattr(h, _HANDLER_MARK, False) or getattr(h, "_cardwise_harness", False) for h in _root_handlers())


def _root_handlers() -> list[logging.Handler]:
    return list(logging.getLogger().handlers)


def ecs_file_handler(path: Path) -> logging.Handler:
    """A plain (non-rotating) ECS file handler with the redaction filter, for harnesses such as the tests'
    session log; it is not replaced by :func:`configure_logging`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(EcsFormatter())
    handler.addFilter(RedactingFilter())
    handler._cardwise_harness = True  # type: ignore[attr-defined]
    return handler


def configure_logging_from(settings: Settings) -> None:
    """:func:`configure_logging` with the settings' level, format and log files."""
    configure_logging(
        settings.log_level,
        settings.log_format,
        log_dir=settings.log_dir,
        max_bytes=settings.log_file_max_mb * 1024 * 1024,
        backups=settings.log_file_backups,
    )


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


def log_extra(**fields: Any) -> dict[str, Any]:
    """Structured fields for ``logger.info(msg, extra=log_extra(...))``."""
    return fields
