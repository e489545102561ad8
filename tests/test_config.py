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


def test_production_refuses_every_development_key() -> None:
    from cardwise.privacy.crypto import new_key

    secrets = {
        "pan_hmac_key": "s3cret",
        "pii_keys": [new_key()],
        "pii_index_key": "index-s3cret",
        "jwt_secret": "jwt-s3cret-of-at-least-thirty-two-chars",
    }
    env_names = {
        "pan_hmac_key": "CARDWISE_PAN_HMAC_KEY",
        "pii_keys": "CARDWISE_PII_KEYS",
        "pii_index_key": "CARDWISE_PII_INDEX_KEY",
        "jwt_secret": "CARDWISE_JWT_SECRET",
    }
    for left_at_default, name in env_names.items():
        others = {k: v for k, v in secrets.items() if k != left_at_default}
        with pytest.raises(ValidationError, match=name):
            Settings(environment="production", _env_file=None, **others)  # type: ignore[call-arg, arg-type]
    production = Settings(environment="production", _env_file=None, **secrets)  # type: ignore[call-arg, arg-type]
    assert production.pan_hmac_key == "s3cret"
