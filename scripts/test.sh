#!/usr/bin/env bash
# Command 2: set everything up and run lint, type checks and the whole test suite.
# PostgreSQL tests run when CARDWISE_TEST_POSTGRES_URL is set (.ci/run sets it); SQLite always runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The browser tests (tests/web, marker "browser") drive Debian's Chromium through Playwright; Playwright's own
# browser download is not used. Installed here when we can (with a Korean font for the screenshots); otherwise
# those tests skip and say why.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum >/dev/null) \
      || echo "chromium could not be installed: the browser tests will skip" >&2
  else
    echo "chromium is missing (apt-get install chromium as root): the browser tests will skip" >&2
  fi
fi
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
exec .venv/bin/pytest "$@"
