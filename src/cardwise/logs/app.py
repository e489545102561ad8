"""Wiring of the firewall, the access log and the security-event store into the FastAPI app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from cardwise.config import Settings
from cardwise.db.engine import engine_for
from cardwise.logging import configure_logging_from, is_configured
from cardwise.logs.access import AccessLogMiddleware
from cardwise.security import events
from cardwise.security.alarms import AlarmEvaluator
from cardwise.security.waf import FirewallMiddleware
from cardwise.security.waf_rules import cached_rules


def _engine(app: FastAPI) -> Engine:
    # The same engine as the request sessions (cardwise.deps.get_engine), created on first use.
    state = app.state
    if getattr(state, "engine", None) is None:
        state.engine = engine_for(state.settings)
    engine: Engine = state.engine
    return engine


def install(app: FastAPI, settings: Settings) -> None:
    """Called by ``create_app``: firewall inside, access log outside (it logs the firewall's refusals)."""
    rules = cached_rules(settings.waf_rules_path)  # a bad rule file stops the app here, with every problem
    store = events.EventStore(
        lambda: _engine(app), on_batch=AlarmEvaluator(rules.spec.alarms, alarm_email=settings.security_alarm_email)
    )
    app.state.security_events = store
    app.add_middleware(FirewallMiddleware, settings=settings, store=store, rules=rules)
    app.add_middleware(AccessLogMiddleware)


def on_startup(app: FastAPI) -> Any:
    """Lifespan start: log files for server processes that were not set up by the CLI (uvicorn workers), and
    this app's store as the process default (scheduler jobs emit outside any request)."""
    settings: Settings = app.state.settings
    if not is_configured():
        configure_logging_from(settings)
    return events.install_default_store(app.state.security_events)


def on_shutdown(app: FastAPI, previous: Any) -> None:
    store: events.EventStore = app.state.security_events
    store.close()
    if events.default_store() is store:
        events.install_default_store(previous)


def install_cli_event_store(settings: Settings) -> None:
    """The CLI's process-default store (jobs run from `cardwise jobs run …` emit outside any request): the
    engine is made on the first event only, and pending events are written before the process exits."""
    import atexit

    engine: list[Engine] = []

    def factory() -> Engine:
        if not engine:
            engine.append(engine_for(settings))
        return engine[0]

    rules = cached_rules(settings.waf_rules_path)
    store = events.EventStore(
        factory, on_batch=AlarmEvaluator(rules.spec.alarms, alarm_email=settings.security_alarm_email)
    )
    previous = events.install_default_store(store)
    if previous is not None:
        previous.close()
    atexit.register(store.close)
