#!/usr/bin/env bash
# Loads dags/ with a real Apache Airflow (in its own virtual environment, .airflow-venv/) and runs the
# monthly DAG end to end on the small preset: VOC -> marketing -> recommendations -> retrain check -> drift.
# Called by .ci/run after the test suite; needs `bash scripts/bootstrap.sh` to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
UV="$(command -v uv || echo "$ROOT/.tools/bin/uv")"
AIRFLOW_VERSION=2.10.5
if [ ! -x .airflow-venv/bin/airflow ] || ! .airflow-venv/bin/airflow version 2>/dev/null | grep -qx "$AIRFLOW_VERSION"; then
  echo "airflow_check: installing apache-airflow $AIRFLOW_VERSION into .airflow-venv/"
  UV_PYTHON_DOWNLOADS=never "$UV" venv -q --python "$ROOT/.venv/bin/python" .airflow-venv
  VIRTUAL_ENV="$ROOT/.airflow-venv" "$UV" pip install -q "apache-airflow==$AIRFLOW_VERSION"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export AIRFLOW_HOME="$WORK/airflow" AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags" AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__UNIT_TEST_MODE=False AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING
export CARDWISE_DATA_DIR="$WORK/var" CARDWISE_PYTHON="$ROOT/.venv/bin/python" CARDWISE_LOG_LEVEL=WARNING
export CARDWISE_ENVIRONMENT=test CARDWISE_PAN_HMAC_KEY=airflow-check-key

.venv/bin/cardwise generate --preset small --seed 7 --out "$CARDWISE_DATA_DIR/lake" > /dev/null
.venv/bin/cardwise db upgrade > /dev/null
.venv/bin/cardwise db load > /dev/null
.airflow-venv/bin/airflow db migrate > /dev/null

errors="$(.airflow-venv/bin/airflow dags list-import-errors -o plain 2>/dev/null | grep -v '^No data found' || true)"
if [ -n "$errors" ]; then echo "airflow_check: import errors:"; echo "$errors"; exit 1; fi
dags="$(.airflow-venv/bin/airflow dags list -o plain 2>/dev/null | awk '{print $1}' | grep '^cardwise_' | sort | tr '\n' ' ')"
echo "airflow_check: DAGs loaded: $dags"
.airflow-venv/bin/airflow dags test cardwise_monthly 2023-11-02 > "$WORK/dag.log" 2>&1 || { tail -50 "$WORK/dag.log"; exit 1; }

# The run must have reached cardwise: every task recorded a successful job run.
.venv/bin/python - <<'PY'
from sqlalchemy import select
from cardwise.config import get_settings
from cardwise.db.engine import engine_for
from cardwise.mlops.models import JobRun
with engine_for(get_settings()).connect() as conn:
    runs = conn.execute(select(JobRun.job, JobRun.status).where(JobRun.trigger == "airflow")).all()
expected = ["drift", "marketing", "recommend", "retrain_check", "voc"]
assert sorted(runs) == [(j, "succeeded") for j in expected], runs
print("airflow_check: cardwise_monthly ran end to end:", ", ".join(f"{j} {s}" for j, s in runs))
PY
