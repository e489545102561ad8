"""One logger setup: JSON lines on stderr, with card and resident numbers redacted on the way out.

Redaction happens in a filter on the handler, so a careless ``log.info(f"... {pan}")`` anywhere in
the code base still cannot write a card number to disk.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from cardwise.privacy.masking import mask_pii


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
        if isinstance(record.msg, str):
            record.msg = mask_pii(record.msg)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, mask_pii(value))
        return True


_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "@timestamp", "levelname": "log.level", "name": "log.logger"},
            json_ensure_ascii=False,
        )
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


def log_extra(**fields: Any) -> dict[str, Any]:
    """Structured fields for ``logger.info(msg, extra=log_extra(...))``."""
    return fields
