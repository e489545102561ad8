"""`cardwise models …` and `cardwise jobs …` end to end, with one-line errors."""

from __future__ import annotations

from typer.testing import CliRunner

from cardwise.cli import app
from cardwise.config import Settings

runner = CliRunner()


def _env(s: Settings) -> dict[str, str]:
    return {
        "CARDWISE_DATA_DIR": str(s.data_dir),
        "CARDWISE_DATABASE_URL": s.sqlalchemy_url,
        "CARDWISE_PAN_HMAC_KEY": s.pan_hmac_key,
        "CARDWISE_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",  # Rich tables wrap cells in a narrow terminal
    }


def test_retrain_list_and_rollback(lc_settings: Settings) -> None:
    env = _env(lc_settings)
    first = runner.invoke(app, ["models", "retrain", "--model", "usage_drop"], env=env)
    assert first.exit_code == 0, first.output
    assert "usage_drop: first_champion" in first.output
    again = runner.invoke(app, ["models", "retrain", "--model", "usage_drop", "--if-needed"], env=env)
    assert "not_needed" in again.output
    listed = runner.invoke(app, ["models", "list"], env=env)
    assert listed.exit_code == 0 and "champion" in listed.output
    back = runner.invoke(app, ["models", "rollback", "usage_drop"], env=env)
    assert back.exit_code == 2 and "no previous champion" in back.output
    jobs = runner.invoke(app, ["jobs", "list"], env=env)
    assert jobs.exit_code == 0 and "retrain_check" in jobs.output


def test_errors_are_one_line(lc_settings: Settings) -> None:
    env = _env(lc_settings)
    for args, message in [
        (["models", "retrain", "--model", "crystal_ball"], "unknown model 'crystal_ball'"),
        (["models", "promote", "anomaly", "99"], "has no version 99"),
        (["jobs", "run", "nap"], "unknown job 'nap'"),
    ]:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
