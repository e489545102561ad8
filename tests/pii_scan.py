"""The end-of-session scan: no card number (PAN) or resident registration number (RRN) in anything the
test suite made the platform write: every log line (all app logs go to the session log file, see
conftest.py), every log file an app wrote under a test's data dir, and every page or export a test
registered with :func:`register_output` or wrote under the session's ``produced`` directory.

Card numbers: 15–16 digits (alone or grouped by spaces or dashes) that pass the Luhn check, not part of a
longer number, a decimal fraction or a word. RRNs: ``YYMMDD-NNNNNNN`` (dash or space) with a real date and
a valid 7th digit (1–8).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cardwise.privacy.masking import luhn_valid

_PAN_RE = re.compile(r"(?<![0-9A-Za-z.])(?:[0-9][ -]?){14,15}[0-9](?![0-9A-Za-z])")
_RRN_RE = re.compile(r"(?<![0-9])([0-9]{2})([0-9]{2})([0-9]{2})[- ]([1-8])[0-9]{6}(?![0-9])")
SCANNED_SUFFIXES = (".jsonl", ".log", ".html", ".htm", ".json", ".csv", ".txt", ".md", ".eml")
_MAX_BYTES = 50 * 1024 * 1024

_registered: list[Path] = []


def register_output(path: Path) -> Path:
    """A page or export a test produced: scanned at the end of the session."""
    _registered.append(Path(path))
    return Path(path)


def registered_outputs() -> list[Path]:
    return list(_registered)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    text: str  # masked: the finding itself must not print the number


def _valid_date(yy: str, mm: str, dd: str) -> bool:
    month, day = int(mm), int(dd)
    if not 1 <= month <= 12:
        return False
    # Leap years of both centuries agree except 1900 vs 2000; accept Feb 29 when either allows it.
    days = max(calendar.monthrange(1900 + int(yy), month)[1], calendar.monthrange(2000 + int(yy), month)[1])
    return 1 <= day <= days


def find_card_numbers(text: str) -> list[str]:
    out = []
    for m in _PAN_RE.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if len(digits) in (15, 16) and luhn_valid(digits) and not re.search(r"[ -]{2}", m.group(0)):
            out.append(m.group(0))
    return out


def find_rrns(text: str) -> list[str]:
    return [m.group(0) for m in _RRN_RE.finditer(text) if _valid_date(m.group(1), m.group(2), m.group(3))]


def _mask(s: str) -> str:
    digits = [c for c in s if c.isdigit()]
    return "*" * (len(digits) - 4) + "".join(digits[-4:])


def scan_text(text: str, path: str = "<text>") -> list[Finding]:
    findings = []
    for i, line in enumerate(text.splitlines(), 1):
        if not any(c.isdigit() for c in line):
            continue
        findings += [Finding(path, i, "card number", _mask(s)) for s in find_card_numbers(line)]
        findings += [Finding(path, i, "resident registration number", _mask(s)) for s in find_rrns(line)]
    return findings


def scan_paths(paths: Iterable[Path]) -> tuple[int, list[Finding]]:
    """(files scanned, findings) over files and directories (recursively, text suffixes only)."""
    files: set[Path] = set()
    for p in paths:
        if p.is_dir():
            files.update(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SCANNED_SUFFIXES)
        elif p.is_file():
            files.add(p)
    findings: list[Finding] = []
    for f in sorted(files):
        try:
            if f.stat().st_size > _MAX_BYTES:
                continue
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        findings += scan_text(text, str(f))
    return len(files), findings


def app_log_files(base: Path) -> list[Path]:
    """Log files apps wrote under tests' data dirs (``<data_dir>/logs/*.jsonl``)."""
    return [p for p in base.rglob("logs/*.jsonl") if p.is_file()]
