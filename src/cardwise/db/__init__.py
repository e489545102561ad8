"""The relational store: SQLAlchemy 2 models, sessions and the Alembic migration history."""
