from tests.notify.test_worker import smtp  # noqa: F401  (the real SMTP server fixture, shared)
from tests.safety.conftest import card, db, loaded_db  # noqa: F401
