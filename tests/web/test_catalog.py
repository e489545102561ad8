"""The one message catalog: every msgid the pages use is translated in Korean and English, and the
committed .mo files are the compiled .po files."""

from __future__ import annotations

import re

from cardwise.web import catalog
from cardwise.web.i18n import translations


def test_catalog_is_complete_and_compiled() -> None:
    report = catalog.check()
    assert report.ok, "\n".join(report.lines())


def test_extraction_sees_templates_and_code() -> None:
    ids = {m.id for m in catalog.extract() if m.id}
    assert "Sign in" in ids  # templates/login.html and session_pages.py
    assert "Page not found" in ids  # N_ in app.py
    assert "My cards" in ids  # N_ in nav.py


def test_korean_is_not_the_english_text() -> None:
    ko, en = translations("ko"), translations("en")
    assert ko.gettext("Sign in") == "로그인"
    assert en.gettext("Sign in") == "Sign in"
    ko_catalog = {m.id: m.string for m in catalog._read("ko") if m.id}
    # Names such as "SQL (DuckDB)" may stay as they are; a phrase with lower-case English words may not.
    same = [k for k, v in ko_catalog.items() if k == v and re.search(r"\b[a-z]{3,}\b", k)]
    assert not same, f"Korean msgstr left in English: {same[:10]}"


def test_check_reports_a_missing_translation(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = catalog.extract

    def with_new_string():  # type: ignore[no-untyped-def]
        template = real()
        template.add("A string nobody translated")
        return template

    monkeypatch.setattr(catalog, "extract", with_new_string)
    report = catalog.check()
    assert not report.ok
    assert report.missing["ko"] == ["A string nobody translated"]
    assert report.missing["en"] == ["A string nobody translated"]
