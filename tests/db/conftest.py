from tests.db_fixtures import BACKENDS, db_url, engine  # noqa: F401
