"""One settings object for the whole platform (env prefix ``CARDWISE_``).

Injected everywhere through :func:`get_settings`; tests build their own ``Settings`` instead of
mutating a global, so no test can leak configuration into another.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults that must never reach production: refused outside `development`.
_DEV_PAN_KEY = "dev-only-pan-tokenization-key-change-me"
# 32 bytes of url-safe base64, as `cardwise privacy new-key` prints; public, so refused in production.
_DEV_PII_KEY = "ZGV2LW9ubHktcGlpLWtleS0tY2hhbmdlLW1lLXBsZWE="
_DEV_PII_INDEX_KEY = "dev-only-pii-blind-index-key-change-me"
_DEV_JWT_SECRET = "dev-only-jwt-signing-secret-change-me-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARDWISE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"), description="Lake, SQLite database and model artifacts.")
    database_url: str | None = Field(default=None, description="Overrides the SQLite file under data_dir.")
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="Batch engine for the monthly marts: DuckDB in-process or Spark."
    )
    spark_master: str = Field(default="local[2]", description="Spark master URL (local[N] or a cluster).")
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    pg_pool_size: int = Field(default=16, ge=1, le=200, description="Non-blocking connections per server process.")
    scheduler_enabled: bool = Field(default=True, description="Run the embedded job scheduler in `serve`.")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_sender: str = "cardwise <no-reply@cardwise.example>"
    sms_webhook_url: str | None = Field(
        default=None, description="SMS gateway endpoint; messages go to the console if unset."
    )
    notify_max_attempts: int = Field(default=6, ge=1, le=50)
    notify_lease_seconds: float = Field(
        default=60, gt=0, description="How long a claimed message stays with one worker."
    )
    # Keyed HMAC for card-number tokens: a token cannot be linked to a truncated number without it.
    pan_hmac_key: str = _DEV_PAN_KEY
    # Encryption at rest of names, phones and e-mails (privacy/crypto.py): first key encrypts, all decrypt.
    pii_keys: list[str] = Field(default_factory=lambda: [_DEV_PII_KEY], min_length=1)
    # Blind-index key for equality lookups on encrypted columns (phone); not rotated with pii_keys.
    pii_index_key: str = _DEV_PII_INDEX_KEY
    dsr_deadline_days: int = Field(
        default=10, ge=1, le=90, description="Days to answer a data-subject request (PIPA: 10)."
    )
    retention_policy_path: Path | None = Field(
        default=None, description="Retention policy (YAML); the packaged privacy/retention.yaml when unset."
    )
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking and registry; a SQLite file under data_dir/mlflow when unset."
    )
    retrain_threshold_rows: int = Field(
        default=100_000, ge=1, description="New rows since the champion's training that trigger a challenger."
    )
    promote_margin: float = Field(
        default=0.002, ge=0, description="How much better a challenger must score on the primary metric."
    )
    drift_warn_psi: float = Field(default=0.1, gt=0, description="Population stability index that warns.")
    drift_alarm_psi: float = Field(default=0.25, gt=0, description="Population stability index that alarms.")
    # Identity (issue 11, docs/security.md): HS256 key of access tokens and session cookies; previous keys
    # still verify during a rotation.
    jwt_secret: str = Field(default=_DEV_JWT_SECRET, min_length=32)
    jwt_previous_secrets: list[str] = Field(default_factory=list, description="Old keys accepted while rotating.")
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    session_hours: int = Field(default=8, ge=1, le=7 * 24, description="Lifetime of a page session cookie.")
    cookie_secure: bool = Field(default=True, description="Session cookies only over HTTPS (and localhost).")
    lockout_threshold: int = Field(default=5, ge=1, le=100, description="Failed logins in a row that lock.")
    lockout_base_seconds: int = Field(default=60, ge=1, description="First lock; doubles on each later failure.")
    lockout_max_seconds: int = Field(default=3600, ge=1)
    demo_password: str | None = Field(default=None, description="Password of the demo users; random if unset.")
    family_policy_path: Path | None = Field(
        default=None,
        description="Family bundle policy (YAML); the packaged default (docs/family-bundle.md) when unset.",
    )
    # Firewall, security logs and the log search engine (issue 11, docs/logs-and-waf.md).
    waf_enabled: bool = Field(default=True, description="Run the firewall middleware (rules, limits, body size).")
    waf_rules_path: Path | None = Field(
        default=None, description="Firewall rules and alarm thresholds (YAML); the packaged default when unset."
    )
    waf_storage_url: str = Field(
        default="memory://",
        description="Rate-limit counters: memory:// per process, or redis://host:6379/0 shared by every worker.",
    )
    log_file_max_mb: int = Field(default=50, ge=1, le=10_000, description="Size at which a log file is rotated.")
    log_file_backups: int = Field(default=10, ge=1, le=1000, description="Rotated log files kept per process.")
    opensearch_url: str | None = Field(default=None, description="Ship the JSON log files to this OpenSearch.")
    elasticsearch_url: str | None = Field(default=None, description="Or to this Elasticsearch (same _bulk API).")
    log_index_prefix: str = Field(
        default="cardwise-logs", pattern=r"^[a-z0-9][a-z0-9_-]{0,60}$", description="Daily indices <prefix>-YYYY.MM.DD."
    )
    security_alarm_email: str | None = Field(
        default=None, description="Administrators' address for security alarms; the console channel when unset."
    )

    @field_validator("family_policy_path")
    @classmethod
    def _family_policy_loads(cls, v: Path | None) -> Path | None:
        """A bad policy file stops the CLI and the server at start, with every problem listed."""
        if v is not None:
            from cardwise.family.policy import PolicyError, load_policy

            try:
                load_policy(v)
            except PolicyError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("pii_keys")
    @classmethod
    def _pii_keys_decode(cls, v: list[str]) -> list[str]:
        from cardwise.privacy.crypto import decode_key

        for key in v:
            decode_key(key)  # ValueError with the reason
        return v

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.environment == "production" and self.pan_hmac_key == _DEV_PAN_KEY:
            raise ValueError("CARDWISE_PAN_HMAC_KEY must be set to a secret value in production")
        if self.environment == "production" and _DEV_PII_KEY in self.pii_keys:
            raise ValueError("CARDWISE_PII_KEYS must not contain the development key in production")
        if self.environment == "production" and self.pii_index_key == _DEV_PII_INDEX_KEY:
            raise ValueError("CARDWISE_PII_INDEX_KEY must be set to a secret value in production")
        if self.environment == "production" and self.jwt_secret == _DEV_JWT_SECRET:
            raise ValueError("CARDWISE_JWT_SECRET must be set to a secret value in production")
        if self.environment == "production" and not self.cookie_secure:
            raise ValueError("CARDWISE_COOKIE_SECURE cannot be turned off in production")
        return self

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def log_dir(self) -> Path:
        """JSON-lines log files (ECS fields), queryable locally with DuckDB and shipped when configured."""
        return self.data_dir / "logs"

    @property
    def log_search_url(self) -> str | None:
        """The search engine the log shipper writes to, if any."""
        return self.opensearch_url or self.elasticsearch_url

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def mlflow_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.data_dir / 'mlflow' / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifacts(self) -> Path:
        return (self.data_dir / "mlflow" / "artifacts").resolve()

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cardwise.db').resolve()}"


@cache
def get_settings() -> Settings:
    return Settings()
