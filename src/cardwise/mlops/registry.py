"""The model registry: MLflow tracking and registry (a SQLite file under the data dir by default, any
MLflow server by `CARDWISE_MLFLOW_TRACKING_URI`).

Every training run logs its parameters, metrics, data window and row count, and its artifact (the
fitted object, joblib) becomes a version of a registered model. The serving version carries the
`champion` alias; the one it replaced keeps `previous`, so a rollback is one alias swap.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardwise.config import Settings

CHAMPION = "champion"
PREVIOUS = "previous"


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    run_id: str | None
    source: str
    aliases: tuple[str, ...]
    tags: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    created_ms: int = 0

    @property
    def data_rows(self) -> int | None:
        value = self.tags.get("data_rows_total")
        return int(value) if value is not None else None


def _is_missing(exc: Exception) -> bool:
    text = str(exc)
    return "RESOURCE_DOES_NOT_EXIST" in text or "not found" in text.lower() or "does not exist" in text.lower()


class Registry:
    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        from mlflow import MlflowClient

        self.uri = settings.mlflow_uri
        if self.uri.startswith("sqlite:///"):
            Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.artifacts = settings.mlflow_artifacts
        self.cache = settings.data_dir / "mlflow" / "cache"
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    @staticmethod
    def exists(settings: Settings) -> bool:
        """Whether a registry was ever written (so servers need not create one just to find it empty)."""
        uri = settings.mlflow_uri
        return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).exists()

    def _experiment_id(self, name: str) -> str:
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            return str(exp.experiment_id)
        location = (self.artifacts / name).as_uri()
        return str(self.client.create_experiment(name, artifact_location=location))

    def log_candidate(
        self,
        name: str,
        artifact: object,
        *,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
    ) -> VersionInfo:
        """Log a training run with its artifact and register it as a new version (no alias)."""
        import joblib
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.exceptions import MlflowException

        run = self.client.create_run(self._experiment_id(name), tags={"cardwise.model": name, **tags})
        run_id = run.info.run_id
        try:
            self.client.log_batch(
                run_id,
                metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()],
                params=[Param(k, str(v)) for k, v in params.items()],
                tags=[RunTag(k, str(v)) for k, v in tags.items()],
            )
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "model.joblib"
                joblib.dump(artifact, path)
                self.client.log_artifact(run_id, str(path), "model")
            self.client.set_terminated(run_id, "FINISHED")
        except Exception:
            self.client.set_terminated(run_id, "FAILED")
            raise
        try:
            self.client.create_registered_model(name)
        except MlflowException as exc:
            if "already exists" not in str(exc).lower() and "RESOURCE_ALREADY_EXISTS" not in str(exc):
                raise
        mv = self.client.create_model_version(
            name, f"{run.info.artifact_uri}/model", run_id=run_id, tags={k: str(v) for k, v in tags.items()}
        )
        return self.version(name, str(mv.version))

    def version(self, name: str, version: str) -> VersionInfo:
        mv = self.client.get_model_version(name, version)
        params: dict[str, str] = {}
        metrics: dict[str, float] = {}
        if mv.run_id:
            data = self.client.get_run(mv.run_id).data
            params, metrics = dict(data.params), dict(data.metrics)
        return VersionInfo(
            name=name,
            version=str(mv.version),
            run_id=mv.run_id,
            source=mv.source or "",
            aliases=tuple(getattr(mv, "aliases", []) or []),
            tags=dict(mv.tags or {}),
            params=params,
            metrics=metrics,
            created_ms=int(mv.creation_timestamp or 0),
        )

    def by_alias(self, name: str, alias: str) -> VersionInfo | None:
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version_by_alias(name, alias)
        except MlflowException as exc:
            if _is_missing(exc):
                return None
            raise
        return self.version(name, str(mv.version))

    def champion(self, name: str) -> VersionInfo | None:
        return self.by_alias(name, CHAMPION)

    def set_champion(self, name: str, version: str) -> VersionInfo | None:
        """Make ``version`` the champion; the one it replaces becomes ``previous``. Returns the old one."""
        old = self.champion(name)
        if old is not None and old.version != version:
            self.client.set_registered_model_alias(name, PREVIOUS, old.version)
        self.client.set_registered_model_alias(name, CHAMPION, version)
        return old

    def versions(self, name: str) -> list[VersionInfo]:
        found = self.client.search_model_versions(f"name = '{name}'")
        return sorted((self.version(name, str(mv.version)) for mv in found), key=lambda v: int(v.version))

    def models(self) -> list[str]:
        return sorted(m.name for m in self.client.search_registered_models())

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self.client.set_model_version_tag(name, version, key, value)

    def load(self, name: str, version: str) -> Any:
        """The fitted object of a version (downloaded once into the local cache)."""
        import joblib
        import mlflow

        info = self.version(name, version)
        target = self.cache / name / version
        path = target / "model.joblib"
        if not path.exists():
            target.mkdir(parents=True, exist_ok=True)
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=info.source, dst_path=str(target), tracking_uri=self.uri
            )
            found = next(Path(local).rglob("model.joblib"), None)
            if found is None:
                raise FileNotFoundError(f"{name} version {version} has no model.joblib artifact")
            if found != path:
                found.replace(path)
        return joblib.load(path)
