"""`cardwise marketing …` end to end on the stored batch, and its one-line errors."""

from __future__ import annotations

from typer.testing import CliRunner

from cardwise.cli import app
from tests.marketing.conftest import MarketingDb

runner = CliRunner()


def _env(db: MarketingDb) -> dict[str, str]:
    return {
        "CARDWISE_DATA_DIR": str(db.settings.data_dir),
        "CARDWISE_DATABASE_URL": db.url,
        "CARDWISE_PAN_HMAC_KEY": db.settings.pan_hmac_key,
        "CARDWISE_LOG_LEVEL": "WARNING",
    }


def test_audience_counts_a_campaign(marketing_db: MarketingDb) -> None:
    result = runner.invoke(
        app,
        ["marketing", "audience", "--segment", "GROCERY", "--target-group", "credit", "--grades", "1,2"],
        env=_env(marketing_db),
    )
    assert result.exit_code == 0, result.output
    assert "customers: GROCERY grades 1,2 among credit in 2023-09" in result.output


def test_errors_are_one_clear_line(marketing_db: MarketingDb) -> None:
    env = _env(marketing_db)
    cases = [
        (["marketing", "run", "--month", "Sept"], "month must look like 2023-09"),
        (["marketing", "run", "--month", "2031-01"], "is outside it"),
        (["marketing", "audience", "--segment", "GROCERY", "--target-group", "gold"], "target_group must be one of"),
        (
            ["marketing", "audience", "--segment", "GROCERY", "--target-group", "credit", "--grades", "a"],
            "grades must be numbers",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
        assert "Traceback" not in result.output
