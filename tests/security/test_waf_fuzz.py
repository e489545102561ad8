"""Schemathesis fuzzes the whole OpenAPI schema of a small loaded app (SQLite, the small lake), through the
firewall and the real authentication: no 5xx, and every documented response conforms to its schema.

Deterministic (derandomized Hypothesis, no example database) and time-boxed by a small example count per
operation. Back-office operations run as an administrator, the rest as a customer of the lake.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import select

from cardwise.api import create_app
from cardwise.db.models import Customer
from cardwise.security.waf_rules import DEFAULT_RULES
from tests.auth_helpers import as_customer, as_staff
from tests.db_fixtures import loaded_database
from tests.security.waf_fixtures import make_settings

pytestmark = pytest.mark.fuzz
_HEADERS: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def fuzz_schema(tmp_path_factory: pytest.TempPathFactory, small_lake: Path) -> Iterator[Any]:
    directory = tmp_path_factory.mktemp("fuzz")
    rules = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    for rl in rules["rate_limits"]:
        rl["limit"] = "100000/minute"  # the fuzzer is one client sending hundreds of requests
    (directory / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    with ExitStack() as stack:
        url, engine = loaded_database("sqlite", directory, small_lake, stack)
        with engine.connect() as conn:
            customer = int(conn.execute(select(Customer.customer_id).order_by(Customer.customer_id)).scalars().first())
        cfg = make_settings(directory / "var", url, waf_rules_path=directory / "rules.yaml")
        _HEADERS["staff"] = as_staff("admin", settings=cfg)
        _HEADERS["customer"] = as_customer(customer, cfg)
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app(cfg))


MAX_EXAMPLES = 20


def _runner(operation: Any, headers: dict[str, str]) -> Any:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't minimise
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

    return run


def test_api_answers_without_5xx_and_as_documented(fuzz_schema: Any) -> None:
    """One Hypothesis run per operation (the pytest plugin's fixture loader does not work with this pytest);
    every operation's failure is collected, so one run reports them all."""
    failures: list[str] = []
    operations = 0
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        who = "staff" if "/backoffice" in operation.path else "customer"
        try:
            _runner(operation, _HEADERS[who])()
        except Exception as exc:
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations > 40
    assert failures == [], "\n\n".join(failures)
