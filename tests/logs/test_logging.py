"""Logs are JSON lines and never carry a card or resident registration number."""

from __future__ import annotations

import json
import logging

import pytest

from cardwise.logging import configure_logging


def test_json_and_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    log = logging.getLogger("cardwise.test")
    log.info("card %s used", "9440 0323 6869 8530", extra={"customer.rrn": "900101-1234567"})
    log.warning("plain message")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    assert lines[0]["log.level"] == "INFO" and lines[0]["log.logger"] == "cardwise.test"
    assert "9440 0323 6869 8530" not in lines[0]["message"] and lines[0]["message"].endswith("8530 used")
    assert "1234567" not in json.dumps(lines[0])
    assert lines[1]["message"] == "plain message"
