"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from cardwise.db import models  # noqa: F401
from cardwise.family import models as family_models  # noqa: F401
from cardwise.ingest import models as ingest_models  # noqa: F401
from cardwise.marketing import models as marketing_models  # noqa: F401
from cardwise.mlops import models as mlops_models  # noqa: F401
from cardwise.notify import models as notify_models  # noqa: F401
from cardwise.privacy import models as privacy_models  # noqa: F401
from cardwise.recommend import models as recommend_models  # noqa: F401
from cardwise.safety import models as safety_models  # noqa: F401
from cardwise.security import events_models as security_event_models  # noqa: F401
from cardwise.security import users as security_users  # noqa: F401
from cardwise.voc import models as voc_models  # noqa: F401
