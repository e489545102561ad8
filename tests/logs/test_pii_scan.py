"""The end-of-session scan itself: it must find what it is there to find, and not cry wolf."""

from __future__ import annotations

from pathlib import Path

from tests.pii_scan import find_card_numbers, find_rrns, register_output, registered_outputs, scan_paths, scan_text


def test_finds_luhn_valid_card_numbers_in_every_written_form() -> None:
    for pan in ("4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005"):
        assert find_card_numbers(f"카드번호 {pan}이고요") == [pan]


def test_ignores_what_is_not_a_card_number() -> None:
    assert find_card_numbers("4111111111111112") == []  # Luhn fails
    assert find_card_numbers("****-****-****-1111") == []  # masked
    assert find_card_numbers('{"score": 0.4111111111111111}') == []  # a decimal fraction
    assert find_card_numbers("sha 9f4111111111111111ab") == []  # inside a hex word
    assert find_card_numbers("41111111111111110") == []  # 17 digits


def test_finds_resident_registration_numbers_with_a_real_date() -> None:
    assert find_rrns("주민번호 900101-1234567 입니다") == ["900101-1234567"]
    assert find_rrns("000229 4123456") == ["000229 4123456"]  # 2000 was a leap year
    assert find_rrns("901301-1234567") == []  # month 13
    assert find_rrns("900101-9234567") == []  # 7th digit out of range
    assert find_rrns("******-*******") == []


def test_scan_reports_file_and_line_without_printing_the_number(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    out.write_text("id,card\n1,****-****-****-1111\n2,4111 1111 1111 1111\n", encoding="utf-8")
    (tmp_path / "page.html").write_text("<p>900101-1234567</p>", encoding="utf-8")
    (tmp_path / "data.parquet").write_bytes(b"4111111111111111")  # binary: not a text suffix
    scanned, findings = scan_paths([tmp_path])
    assert scanned == 2
    assert [(Path(f.path).name, f.line, f.kind) for f in findings] == [
        ("export.csv", 3, "card number"),
        ("page.html", 1, "resident registration number"),
    ]
    assert all("4111 1111" not in f.text and "900101" not in f.text for f in findings)
    assert scan_text("nothing here 123") == []


def test_registered_outputs_are_scanned_at_the_end(tmp_path: Path) -> None:
    clean = register_output(tmp_path / "report.html")  # a clean page: the session-end scan reads it too
    clean.write_text("<p>카드 ****-****-****-1111</p>", encoding="utf-8")
    assert clean in registered_outputs()
    assert scan_paths(registered_outputs())[1] == []
