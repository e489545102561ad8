"""`cardwise recommend …` end to end on the small lake, and its one-line errors."""

from __future__ import annotations

from typer.testing import CliRunner

from cardwise.cli import app
from tests.recommend.conftest import RecommendDb

runner = CliRunner()


def _env(db: RecommendDb) -> dict[str, str]:
    return {
        "CARDWISE_DATA_DIR": str(db.settings.data_dir),
        "CARDWISE_DATABASE_URL": db.url,
        "CARDWISE_PAN_HMAC_KEY": db.settings.pan_hmac_key,
        "CARDWISE_LOG_LEVEL": "WARNING",
    }


def test_evaluate_prints_models_next_to_their_baselines(recommend_db: RecommendDb) -> None:
    result = runner.invoke(app, ["recommend", "evaluate", "--test-month", "2023-10"], env=_env(recommend_db))
    assert result.exit_code == 0, result.output
    assert "held out 2023-10 (trained through 2023-09)" in result.output
    for text in ("categories", "merchants", "card adoption", "popularity", "model"):
        assert text in result.output
    assert "model above the popularity baseline" in result.output
    assert "categories.all yes" in result.output and "merchants.all yes" in result.output


def test_errors_are_one_clear_line(recommend_db: RecommendDb) -> None:
    env = _env(recommend_db)
    cases = [
        (["recommend", "run", "--month", "Sept"], "month must look like 2023-09"),
        (["recommend", "run", "--month", "2031-01"], "is outside it"),
        (["recommend", "run", "--month", "2022-12"], "earlier lake months"),
        (["recommend", "evaluate", "--test-month", "2022-10"], "must be a lake month from"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
        assert "Traceback" not in result.output
