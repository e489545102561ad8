"""Settings: defaults, environment overrides, refusal of development secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cardwise.config import Settings


def test_defaults_point_at_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARDWISE_DATA_DIR", raising=False)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.data_dir == Path("var") and s.lake_dir == Path("var/lake")
    assert s.sqlalchemy_url.startswith("sqlite:///") and s.sqlalchemy_url.endswith("var/cardwise.db")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARDWISE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARDWISE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.lake_dir == tmp_path / "lake" and s.sqlalchemy_url == "postgresql+psycopg://u@h/db"


def test_production_refuses_the_development_key() -> None:
    with pytest.raises(ValidationError, match="CARDWISE_PAN_HMAC_KEY"):
        Settings(environment="production", _env_file=None)  # type: ignore[call-arg]
    assert Settings(environment="production", pan_hmac_key="s3cret", _env_file=None).pan_hmac_key == "s3cret"  # type: ignore[call-arg]
