"""The Airflow DAGs run the same jobs as the embedded scheduler: every job of ``scheduler.JOBS`` is in a DAG
and every DAG task is a job. Read from the DAG file's source (Airflow itself is checked in CI by
scripts/airflow_check.sh, in its own environment)."""

from __future__ import annotations

import ast
from pathlib import Path

from cardwise.scheduler import JOBS

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "cardwise_dags.py"


def _dag_jobs() -> dict[str, list[str]]:
    dags: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(DAG_FILE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "make_dag":
            dag_id, _schedule, jobs = (ast.literal_eval(a) for a in node.args[:3])
            dags[dag_id] = list(jobs)
    return dags


def test_every_scheduled_job_is_in_a_dag_and_every_task_is_a_job() -> None:
    dags = _dag_jobs()
    assert len(dags) >= 5
    in_dags = {job for jobs in dags.values() for job in jobs}
    scheduled = {j.id for j in JOBS}
    assert scheduled - in_dags == set(), "jobs the Airflow installation would never run"
    assert in_dags - scheduled == set(), "DAG tasks that are no job"
