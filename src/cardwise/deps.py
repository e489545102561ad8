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


async def _statement_sessions(request: Request) -> sessionmaker[Session]:
    """(async only so FastAPI does not hand this trivial lookup to the thread pool.)

    Sessions for services whose every write is one atomic statement on PostgreSQL (the
    authorization hot path): autocommit saves the BEGIN and COMMIT round trips. Elsewhere the
    sessions open a normal transaction."""
    state = request.app.state
    if getattr(state, "statement_sessions", None) is None:
        engine = get_engine(request)
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        state.statement_sessions = sessionmaker(engine, expire_on_commit=False)
    factory: sessionmaker[Session] = state.statement_sessions
    return factory


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
StatementSessionsDep = Annotated[sessionmaker[Session], Depends(_statement_sessions)]
