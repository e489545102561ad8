"""Cluster analysis: elbow, k by silhouette, profiles and block recommendations."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cardwise.cli import app
from cardwise.lake.store import connect
from cardwise.safety.clusters import elbow, run_clusters


def test_elbow_finds_the_knee() -> None:
    assert elbow([0.6, 0.1, 0.09, 0.08, 0.07, 0.06]) == 1
    assert elbow([0.5, 0.2, 0.1, 0.08, 0.07, 0.06]) == 2
    assert elbow([1.0, 0.9, 0.8, 0.7]) in (1, 2)  # a straight line has no real knee
    assert elbow([0.9, 0.1]) == 1


@pytest.fixture(scope="module")
def run(small_lake: Path):  # type: ignore[no-untyped-def]
    con = connect(small_lake)
    try:
        return run_clusters(con, start=date(2023, 7, 1), end=date(2023, 10, 1), seed=0)
    finally:
        con.close()


def test_run_is_consistent(run) -> None:  # type: ignore[no-untyped-def]
    assert 2 <= run.k <= 10 and run.silhouette_by_k[run.k] == max(run.silhouette_by_k.values())
    assert sum(p.size for p in run.profiles) == run.customers == len(run.members)
    assert 2 <= run.n_components <= len(run.explained_variance)
    inertia = [run.inertia_by_k[k] for k in sorted(run.inertia_by_k)]
    assert all(a >= b for a, b in itertools.pairwise(inertia))  # more clusters, tighter fit
    for p in run.profiles:
        assert abs(sum(p.age_bands.values()) - 1) < 0.01
        assert not set(p.recommended_blocks) & {c for c, _ in p.top_categories}


def test_recommendations_are_rarely_used_by_the_cluster(small_lake: Path, run) -> None:  # type: ignore[no-untyped-def]
    con = connect(small_lake)
    try:
        for p in run.profiles:
            members = [cid for cid, c in run.members.items() if c == p.cluster]
            for category in p.recommended_blocks:
                users = con.execute(
                    f"""SELECT count(DISTINCT customer_id) FROM transactions WHERE category_code = '{category}'
                        AND ts >= DATE '2023-07-01' AND ts < DATE '2023-10-01' AND NOT is_fraud
                        AND customer_id IN ({",".join(map(str, members))})"""
                ).fetchone()
                assert users is not None and users[0] / len(members) < 0.2
    finally:
        con.close()


def test_same_seed_same_run(small_lake: Path, run) -> None:  # type: ignore[no-untyped-def]
    con = connect(small_lake)
    try:
        again = run_clusters(con, start=date(2023, 7, 1), end=date(2023, 10, 1), seed=0)
    finally:
        con.close()
    assert again.summary() == run.summary() and again.members == run.members
    assert np.isfinite(list(run.silhouette_by_k.values())).all()


def test_cli_keeps_each_run(small_lake: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(small_lake, tmp_path / "lake")
    result = CliRunner().invoke(app, ["safety", "clusters"], env={"CARDWISE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    runs = list((tmp_path / "reports" / "clusters").glob("*.json"))
    assert len(runs) == 1
    saved = json.loads(runs[0].read_text())
    assert saved["k"] >= 2 and len(saved["members"]) == saved["customers"]
    bad = CliRunner().invoke(
        app,
        ["safety", "clusters", "--start", "2030-01-01", "--end", "2030-04-01"],
        env={"CARDWISE_DATA_DIR": str(tmp_path)},
    )
    assert bad.exit_code == 2 and "too few customers" in bad.output
