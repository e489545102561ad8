#!/usr/bin/env bash
# Command 2: set everything up and run lint, type checks and the whole test suite.
# PostgreSQL tests run when CARDWISE_TEST_POSTGRES_URL is set (.ci/run sets it); SQLite always runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
exec .venv/bin/pytest "$@"
