"""`cardwise voc …` end to end, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cardwise.cli import app
from tests.conftest import TEST_PAN_KEY
from tests.voc.conftest import VocDb

runner = CliRunner()


def _env(data_dir: Path, url: str | None = None) -> dict[str, str]:
    env = {"CARDWISE_DATA_DIR": str(data_dir), "CARDWISE_PAN_HMAC_KEY": TEST_PAN_KEY, "CARDWISE_LOG_LEVEL": "ERROR"}
    if url:
        env["CARDWISE_DATABASE_URL"] = url
    return env


def test_campaign_then_outcomes(voc_db: VocDb) -> None:
    env = _env(voc_db.settings.data_dir, voc_db.url)
    args = ["voc", "campaign", "--kind", "DELINQUENCY_CARE", "--month", "2023-09", "--control-share", "0.2"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "DELINQUENCY_CARE (연체 예방 결제일 안내) for 2023-09" in result.output
    assert "messages queued" in result.output
    campaign = int(result.output.split("campaign ")[1].split()[0])
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 2 and "exists already" in again.output
    result = runner.invoke(app, ["voc", "outcomes", "--campaign", str(campaign)], env=env)
    assert result.exit_code == 0, result.output
    assert "outcomes recorded; event rate treated" in result.output


def test_score_a_month_again(voc_db: VocDb) -> None:
    result = runner.invoke(app, ["voc", "score", "--month", "2023-09"], env=_env(voc_db.settings.data_dir, voc_db.url))
    assert result.exit_code == 0, result.output
    assert "customers scored at 2023-09" in result.output and "mean probability next month" in result.output


def test_errors_are_one_clear_line(voc_db: VocDb, tmp_path: Path) -> None:
    env = _env(voc_db.settings.data_dir, voc_db.url)
    empty = tmp_path / "var"
    (empty / "lake").mkdir(parents=True)
    (empty / "lake").rmdir()
    (empty / "lake").symlink_to(voc_db.settings.lake_dir, target_is_directory=True)
    cases = [
        (["voc", "score", "--month", "Sept"], env, "month must look like 2023-09"),
        (["voc", "score", "--month", "2031-01"], env, "outside it"),
        (["voc", "campaign", "--kind", "GOLD"], env, "campaign kind must be one of"),
        (["voc", "campaign", "--kind", "CHURN_DEFENCE", "--deciles", "a"], env, "deciles must be numbers"),
        (["voc", "outcomes", "--campaign", "99999"], env, "not found"),
        (["voc", "train", "--until", "2022-11"], env, "no labelled months"),
        (["voc", "evaluate", "--test-months", "2022-11"], env, "no labelled test month"),
        (["voc", "score", "--month", "2023-09"], _env(empty), "no VOC model"),
    ]
    for args, e, message in cases:
        result = runner.invoke(app, args, env=e)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_train_and_evaluate_without_a_database(small_lake: Path, tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    (data / "lake").symlink_to(small_lake, target_is_directory=True)
    env = _env(data)
    result = runner.invoke(app, ["voc", "train", "--seed", "3"], env=env)
    assert result.exit_code == 0, result.output
    assert "customer-months (2023-04..2023-09)" in result.output
    assert len(list((data / "models" / "voc").glob("*/model.joblib"))) == 1
    meta = json.loads(next((data / "models" / "voc").glob("*/meta.json")).read_text())
    assert meta["seed"] == 3 and meta["rows"] > 2000 and len(meta["features"]) > 90

    result = runner.invoke(app, ["voc", "evaluate"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report["targets"]) == {"churn", "complaint", "delinquency", "card_loan"}
    assert json.loads((data / "reports" / "voc.json").read_text()) == report
