"""Request dependencies shared by every domain's views."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cardwise.config import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
