# syntax=docker/dockerfile:1
# cardwise: one image for the API, the outbox worker, the scheduler and one-off commands (migrations, batches).
#   docker build -t cardwise:local .
#   docker run --rm -p 8000:8000 -e CARDWISE_PAN_HMAC_KEY=... cardwise:local          # serve on 0.0.0.0:8000
#   docker run --rm cardwise:local db upgrade                                          # any `cardwise` command
# No secret is baked in: CARDWISE_PAN_HMAC_KEY, CARDWISE_DATABASE_URL … come from the environment at run time.
ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: the locked dependencies and the project into /app/.venv --------------------------------------------
FROM ${PYTHON_IMAGE} AS build
# The same pinned uv as scripts/bootstrap.sh, from PyPI.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first (a layer that changes only with uv.lock), then the project itself, installed as a wheel
# (not editable) so the runtime stage needs no source tree.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src/ src/
RUN uv sync --frozen --no-dev --no-editable

# ---- runtime: the venv and a non-root user, nothing else --------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 cardwise \
 && useradd --system --uid 10001 --gid cardwise --home-dir /home/cardwise --create-home --shell /usr/sbin/nologin cardwise \
 && mkdir -p /data \
 && chown cardwise:cardwise /data
COPY --from=build --chown=cardwise:cardwise /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CARDWISE_DATA_DIR=/data \
    CARDWISE_PORT=8000
WORKDIR /home/cardwise
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["cardwise"]
CMD ["serve", "--host", "0.0.0.0"]
