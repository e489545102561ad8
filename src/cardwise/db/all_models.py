"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from cardwise.db import models  # noqa: F401
