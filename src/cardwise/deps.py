"""Request dependencies shared by every domain's views."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cardwise.config import Settings
from cardwise.db.engine import engine_for


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """One engine per app, created on first use (the app can start without a database)."""
    state = request.app.state
    if getattr(state, "engine", None) is None:
        state.engine = engine_for(state.settings)
    engine: Engine = state.engine
    return engine


def _session(request: Request) -> Iterator[Session]:
    """A session per request. Write views commit explicitly before they answer (so an answer is
    never sent for work that was not stored); anything uncommitted is rolled back at the end."""
    factory = getattr(request.app.state, "session_factory", None)
    if factory is None:
        factory = request.app.state.session_factory = sessionmaker(get_engine(request), expire_on_commit=False)
    session: Session = factory()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
