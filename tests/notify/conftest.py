from tests.safety.conftest import card, db, loaded_db  # noqa: F401
