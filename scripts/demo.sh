#!/usr/bin/env bash
# Command 1: set everything up and run the demo platform on embedded defaults (files under var/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/cardwise demo "$@"
