"""The API server of the HTTP benchmarks: one uvicorn process on the benchmark's database, started and
stopped around a block, so each benchmark measures a real server over real HTTP."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def api_server(database_url: str, data_dir: Path) -> Iterator[str]:
    """Yields the server's base URL once ``/healthz`` answers; the server stops when the block ends."""
    port = 8000 + random.randint(200, 700)
    env = {
        **os.environ,
        "CARDWISE_DATABASE_URL": database_url,
        "CARDWISE_SCHEDULER_ENABLED": "false",
        "CARDWISE_LOG_LEVEL": "WARNING",
        "CARDWISE_DATA_DIR": str(data_dir),
    }
    command = [sys.executable, "-m", "uvicorn", "cardwise.api:create_app", "--factory", "--port", str(port)]
    server = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    try:
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)
