"""Retrain when the data has grown, promote only a better model, roll back in one step (O1, O2).

`retrain_if_needed` counts the rows the model learns from; when they exceed the champion's count by
the threshold (default 100,000, see docs/model-lifecycle.md for how it was chosen) it trains a
challenger, scores champion and challenger on the same held-out month, and moves the `champion`
alias only when the challenger is better by the margin. Every decision is stored with both scores.
A training or evaluation that fails is recorded and changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.config import Settings
from cardwise.core.errors import Conflict, NotFound
from cardwise.db.engine import engine_for
from cardwise.lake.store import connect
from cardwise.logging import get_logger
from cardwise.mlops.managed import ManagedModel, managed_models
from cardwise.mlops.models import ModelDecision
from cardwise.mlops.registry import Registry, VersionInfo

log = get_logger(__name__)


@dataclass(frozen=True)
class Decision:
    model: str
    decision: str
    reason: str
    metric: str
    champion_version: str | None = None
    challenger_version: str | None = None
    champion_score: float | None = None
    challenger_score: float | None = None
    rows_at_champion: int | None = None
    rows_now: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _managed(settings: Settings, name: str) -> ManagedModel:
    models = managed_models(settings)
    if name not in models:
        raise NotFound(f"unknown model {name!r}; managed models: {', '.join(models)}")
    return models[name]


def _record(settings: Settings, d: Decision, margin: float, detail: dict[str, Any] | None = None) -> None:
    engine = engine_for(settings)
    try:
        with Session(engine) as session:
            session.add(
                ModelDecision(
                    model=d.model,
                    decision=d.decision,
                    metric=d.metric,
                    champion_version=d.champion_version,
                    challenger_version=d.challenger_version,
                    champion_score=d.champion_score,
                    challenger_score=d.challenger_score,
                    margin=margin,
                    rows_at_champion=d.rows_at_champion,
                    rows_now=d.rows_now,
                    reason=d.reason[:2000],
                    detail=detail or {},
                )
            )
            session.commit()
    finally:
        engine.dispose()
    log.info("model decision", extra={"model.name": d.model, "model.decision": d.decision, "reason": d.reason})


def retrain_if_needed(
    settings: Settings,
    name: str,
    *,
    force: bool = False,
    threshold: int | None = None,
    margin: float | None = None,
    seed: int = 0,
    managed: ManagedModel | None = None,
) -> Decision:
    managed = managed or _managed(settings, name)
    threshold = settings.retrain_threshold_rows if threshold is None else threshold
    margin = settings.promote_margin if margin is None else margin
    registry = Registry(settings)
    con = connect(settings.lake_dir)
    try:
        rows_now = managed.data_rows(con)
        champ = registry.champion(name)
        rows_at = champ.data_rows if champ else None
        base = Decision(
            model=name, decision="", reason="", metric=managed.metric, rows_now=rows_now, rows_at_champion=rows_at
        )
        if champ is not None and not force and rows_at is not None and rows_now - rows_at < threshold:
            return replace(
                base,
                decision="not_needed",
                reason=f"{rows_now - rows_at:,} new rows since the champion's training, threshold {threshold:,}",
                champion_version=champ.version,
            )
        started = time.perf_counter()
        try:
            trained = managed.train(con, seed=seed)
            challenger_scores = managed.evaluate(con, trained.artifact)
            holdout = managed.holdout(con)
        except Exception as exc:
            d = replace(
                base,
                decision="failed",
                reason=f"training failed, champion kept: {type(exc).__name__}: {exc}",
                champion_version=champ.version if champ else None,
            )
            _record(settings, d, margin)
            return d
        train_s = time.perf_counter() - started
        tags = {
            "data_window": f"{trained.window[0].isoformat()}..{trained.window[1].isoformat()}",
            "data_rows": str(trained.rows),
            "data_rows_total": str(rows_now),
            "holdout": f"{holdout[0].isoformat()}..{holdout[1].isoformat()}",
        }
        candidate = registry.log_candidate(
            name,
            trained.artifact,
            params=trained.params,
            metrics={**challenger_scores, "train_seconds": train_s},
            tags=tags,
        )
        new_score = challenger_scores[managed.metric]
        if champ is None:
            registry.set_champion(name, candidate.version)
            d = replace(
                base,
                decision="first_champion",
                reason="no champion yet: the first trained model serves",
                challenger_version=candidate.version,
                challenger_score=new_score,
            )
            _record(settings, d, margin, {"challenger": challenger_scores, **tags})
            return d
        try:
            champion_scores = managed.evaluate(con, registry.load(name, champ.version))
        except Exception as exc:
            # A champion that cannot be scored on today's held-out data is not kept over a working one.
            champion_scores = {managed.metric: float("-inf")}
            log.warning("champion could not be evaluated", extra={"model.name": name, "error": str(exc)})
        old_score = champion_scores[managed.metric]
        better = new_score >= old_score + margin
        scored = replace(
            base,
            champion_version=champ.version,
            challenger_version=candidate.version,
            champion_score=None if old_score == float("-inf") else old_score,
            challenger_score=new_score,
        )
        if better:
            registry.set_champion(name, candidate.version)
            registry.set_version_tag(name, candidate.version, "decision", "promoted")
            d = replace(
                scored,
                decision="promoted",
                reason=f"{managed.metric} {new_score:.4f} ≥ champion {old_score:.4f} + margin {margin}",
            )
        else:
            registry.set_version_tag(name, candidate.version, "decision", "rejected")
            d = replace(
                scored,
                decision="rejected",
                reason=f"{managed.metric} {new_score:.4f} < champion {old_score:.4f} + margin {margin}",
            )
        _record(settings, d, margin, {"challenger": challenger_scores, "champion": champion_scores, **tags})
        return d
    finally:
        con.close()


def promote(settings: Settings, name: str, version: str) -> Decision:
    """Make a registered version the champion by hand (recorded, with its logged score)."""
    registry = Registry(settings)
    metric = _managed(settings, name).metric
    try:
        target = registry.version(name, version)
    except Exception:
        raise NotFound(f"{name} has no version {version}") from None
    old = registry.set_champion(name, target.version)
    d = Decision(
        model=name,
        decision="manual_promote",
        reason=f"version {target.version} promoted by hand",
        metric=metric,
        champion_version=old.version if old else None,
        challenger_version=target.version,
        champion_score=old.metrics.get(metric) if old else None,
        challenger_score=target.metrics.get(metric),
    )
    _record(settings, d, 0.0)
    return d


def rollback(settings: Settings, name: str) -> Decision:
    """Put the previous champion back (one command)."""
    registry = Registry(settings)
    metric = _managed(settings, name).metric
    current = registry.champion(name)
    previous = registry.by_alias(name, "previous")
    if current is None or previous is None:
        raise Conflict(f"{name} has no previous champion to roll back to")
    registry.set_champion(name, previous.version)
    d = Decision(
        model=name,
        decision="rollback",
        reason=f"champion {current.version} rolled back to {previous.version}",
        metric=metric,
        champion_version=current.version,
        challenger_version=previous.version,
        champion_score=current.metrics.get(metric),
        challenger_score=previous.metrics.get(metric),
    )
    _record(settings, d, 0.0)
    return d


def load_champion(settings: Settings, name: str) -> tuple[VersionInfo, Any] | None:
    """The serving model, or None when the registry has no champion for it."""
    if not Registry.exists(settings):
        return None
    registry = Registry(settings)
    champ = registry.champion(name)
    if champ is None:
        return None
    return champ, registry.load(name, champ.version)


def decisions(session: Session, name: str | None = None, limit: int = 50) -> list[ModelDecision]:
    query = select(ModelDecision).order_by(ModelDecision.decision_id.desc()).limit(limit)
    if name:
        query = query.where(ModelDecision.model == name)
    return list(session.execute(query).scalars())
