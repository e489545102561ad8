"""Shared fixtures: one small generated lake per test session, settings that point at tmp dirs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cardwise.config import Settings
from cardwise.lake.build import build_lake
from cardwise.lake.store import connect
from cardwise.synth.presets import get_preset

TEST_PAN_KEY = "test-pan-key"
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lake") / "lake"
    build_lake(get_preset("small"), seed=SMALL_SEED, out=out, overwrite=False, pan_key=TEST_PAN_KEY)
    return out


@pytest.fixture(scope="session")
def lake_con(small_lake: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(small_lake, include_restricted=True)
    yield con
    con.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "var", pan_hmac_key=TEST_PAN_KEY, scheduler_enabled=False)


def postgres_url() -> str | None:
    return os.environ.get("CARDWISE_TEST_POSTGRES_URL") or None


# --- logs and the end-of-session PAN/RRN scan (issue 11, tests/pii_scan.py) -----------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: schemathesis over the OpenAPI schema (time-boxed, in the normal suite)")


_SESSION_LOG: dict[str, Path] = {}


@pytest.fixture(scope="session", autouse=True)
def _session_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every log line of the whole session, as ECS JSON with the app's redaction, in one file that the
    scan reads at the end. A harness handler: `configure_logging` in a test or an app leaves it in place."""
    import logging

    from cardwise.logging import ecs_file_handler

    path = tmp_path_factory.getbasetemp() / "session-logs" / "session.jsonl"
    handler = ecs_file_handler(path)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    _SESSION_LOG["path"] = path
    yield path
    root.removeHandler(handler)
    handler.close()


@pytest.fixture(scope="session")
def produced_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a test writes pages and exports it produced, for the end-of-session scan."""
    return tmp_path_factory.getbasetemp() / "produced"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log, page or export of the session holds a card or resident number."""
    from tests.pii_scan import app_log_files, registered_outputs, scan_paths

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or "path" not in _SESSION_LOG:
        return
    base = factory.getbasetemp()
    targets = [_SESSION_LOG["path"], base / "produced", *registered_outputs(), *app_log_files(base)]
    scanned, findings = scan_paths(targets)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"PAN/RRN scan: {scanned} files (logs, pages, exports), {len(findings)} findings")
        for f in findings[:20]:
            reporter.write_line(f"  {f.kind} in {f.path}:{f.line} ({f.text})", red=True)
    if findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
