"""The platform's scheduled jobs as Apache Airflow DAGs.

The same jobs the embedded scheduler runs (`cardwise.scheduler.JOBS`), for installations that run
Airflow. Airflow lives in its own virtual environment; each task runs `cardwise.scheduler.run_job`
inside cardwise's environment (ExternalPythonOperator), so the DAGs call exactly the functions the
CLI and the embedded scheduler call, and each run is recorded in cardwise's job_runs table.

Settings come from the environment as everywhere else (CARDWISE_DATA_DIR, CARDWISE_DATABASE_URL, …).
CARDWISE_PYTHON points at cardwise's interpreter (default: the repository's .venv).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow import DAG
from airflow.operators.python import ExternalPythonOperator

CARDWISE_PYTHON = os.environ.get(
    "CARDWISE_PYTHON", str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python")
)
START = pendulum.datetime(2023, 11, 1, tz="Asia/Seoul")
DEFAULTS = {"owner": "cardwise", "retries": 2, "retry_delay": timedelta(minutes=5)}


def run_cardwise_job(job_id: str) -> None:
    """Runs in cardwise's interpreter: imports stay inside (the function's source is shipped there)."""
    from cardwise.config import get_settings
    from cardwise.logging import configure_logging
    from cardwise.scheduler import run_job

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    run_job(settings, job_id, trigger="airflow")


def job_task(dag: DAG, job_id: str) -> ExternalPythonOperator:
    return ExternalPythonOperator(
        task_id=job_id,
        python=CARDWISE_PYTHON,
        python_callable=run_cardwise_job,
        op_args=[job_id],
        expect_airflow=False,
        do_xcom_push=False,
        dag=dag,
    )


def make_dag(dag_id: str, schedule: str, jobs: list[str], doc: str) -> DAG:
    dag = DAG(
        dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULTS,
        doc_md=doc,
        tags=["cardwise"],
    )
    previous = None
    for job_id in jobs:
        task = job_task(dag, job_id)
        if previous is not None:
            previous >> task
        previous = task
    return dag


# Same schedules as the embedded scheduler (Asia/Seoul), see cardwise.scheduler.JOBS.
ingest = make_dag("cardwise_ingest", "* * * * *", ["ingest"], "The platform's own data into the lake.")
compact = make_dag("cardwise_compact", "45 * * * *", ["compact"], "Merge the exporter's small files.")
switch_pauses = make_dag("cardwise_switch_pauses", "* * * * *", ["switch_pauses"], "Start and end card pauses.")
family_daily = make_dag("cardwise_family_daily", "10 2 * * *", ["family_daily"], "Family grace periods, invitations.")
# Monthly: VOC risk scores (they feed the single view), the marketing batch, recommendations, then the
# retrain check (new data may have arrived) and the drift report.
monthly = make_dag(
    "cardwise_monthly",
    "40 2 2 * *",
    ["voc", "marketing", "recommend", "retrain_check", "drift"],
    "VOC risk; segments, grades, life stage, triggers and single views; recommendations; retrain; drift.",
)
quarterly = make_dag("cardwise_clusters_quarterly", "0 3 1 1,4,7,10 *", ["clusters"], "Quarterly cluster analysis.")
hourly = make_dag("cardwise_retrain_check", "20 * * * *", ["retrain_check"], "Retrain models whose data grew.")
daily = make_dag("cardwise_daily", "40 4 * * *", ["drift", "retention"], "Input drift; delete what expired.")
ship_logs = make_dag("cardwise_ship_logs", "* * * * *", ["ship_logs"], "Log files to OpenSearch, when configured.")
