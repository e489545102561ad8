"""The household report on the small lake, checked against plain SQL, and the `cardwise family` commands."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from cardwise.cli import app
from cardwise.db.migrate import upgrade
from cardwise.family.policy import DEFAULT_POLICY_PATH, load_policy
from cardwise.family.report import HORIZONS, household_report

runner = CliRunner()
DAY = date(2023, 10, 31)


def test_report_agrees_with_plain_sql(lake_con: duckdb.DuckDBPyConnection) -> None:
    report = household_report(lake_con, load_policy(), DAY)
    households, customers = lake_con.execute("SELECT count(*), sum(size) FROM households").fetchone()  # type: ignore[misc]
    assert report["households"] == households and report["customers"] == customers
    # Under the default policy every lake relation is allowed and no household has more than 6 members or two
    # spouses, so a household qualifies exactly when it has 2+ members and someone 50 or over on the day.
    (expected,) = lake_con.execute(
        """
        SELECT count(*) FROM (
            SELECT household_id FROM customers GROUP BY household_id
            HAVING count(*) >= 2 AND max(2023 - birth_year) >= 50
        )
        """
    ).fetchone()  # type: ignore[misc]
    assert report["qualifying_households"] == expected > 0
    types = report["by_household_type"]
    assert sum(t["qualifying"] for t in types.values()) == expected
    assert types["single"]["qualifying"] == 0 and "TOO_FEW_MEMBERS" in types["single"]["not_qualifying_reasons"]
    assert types["three_generations"]["qualifying_share"] == 1.0  # the grandparents are 66 or over
    for y in HORIZONS:
        assert sum(report["savings_bonus_pp"][f"year_{y}"].values()) == expected
    means = [report["mean_savings_bonus_pp"][f"year_{y}"] for y in HORIZONS]
    assert means == sorted(means) and means[0] >= 0.1  # benefits only grow with tenure
    by_threshold = list(report["qualifying_by_age_threshold"].values())
    assert by_threshold == sorted(by_threshold, reverse=True)
    assert report["qualifying_by_age_threshold"]["50"] == expected


def test_report_command_writes_json(small_lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "family.json"
    env = {"CARDWISE_DATA_DIR": str(tmp_path / "var"), "CARDWISE_LOG_FORMAT": "json"}
    result = runner.invoke(app, ["family", "report", "--lake", str(small_lake), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "households qualify (age 50+)" in result.output and "qualifying by age threshold" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["date"] == "2023-10-31" and data["policy_version"] == load_policy().version
    missing = runner.invoke(app, ["family", "report", "--lake", str(tmp_path / "nope")], env=env)
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    bad_day = runner.invoke(app, ["family", "report", "--lake", str(small_lake), "--date", "31/10/2023"], env=env)
    assert bad_day.exit_code == 2 and "not a date" in bad_day.output


def test_policy_check_command(tmp_path: Path) -> None:
    env = {"CARDWISE_DATA_DIR": str(tmp_path / "var")}
    ok = runner.invoke(app, ["family", "policy-check", str(DEFAULT_POLICY_PATH)], env=env)
    assert ok.exit_code == 0 and "age 50+" in ok.output and "2-6 members" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("threshold: 50", "threshold: old"))
    result = runner.invoke(app, ["family", "policy-check", str(bad)], env=env)
    assert result.exit_code == 2 and "age.threshold" in result.output and "Traceback" not in result.output
    # A bad configured policy stops every command at start, with the reason.
    result = runner.invoke(app, ["family", "check-grace"], env={**env, "CARDWISE_FAMILY_POLICY_PATH": str(bad)})
    assert result.exit_code == 2 and "invalid configuration" in result.output and "age.threshold" in result.output


def test_check_grace_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    upgrade(url)
    env = {"CARDWISE_DATA_DIR": str(tmp_path / "var"), "CARDWISE_DATABASE_URL": url}
    result = runner.invoke(app, ["family", "check-grace"], env=env)
    assert result.exit_code == 0, result.output
    assert "0 groups checked" in result.output
