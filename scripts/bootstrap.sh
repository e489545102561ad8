#!/usr/bin/env bash
# Creates .venv/ from uv.lock (exact versions) on any machine with Python 3.11+.
# uv itself is installed into .tools/ from PyPI when it is not on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if command -v uv >/dev/null 2>&1 && [ "$(uv --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
  UV=uv
else
  if [ ! -x .tools/bin/uv ]; then
    echo "bootstrap: installing uv $UV_VERSION into .tools/" >&2
    python3 -m venv .tools
    .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  UV=.tools/bin/uv
fi
export UV_PYTHON_DOWNLOADS=never  # use the machine's Python; never fetch a toolchain
"$UV" sync --frozen --quiet "$@"
