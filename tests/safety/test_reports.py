"""Report files the back office reads: the anomaly score distribution and saved cluster runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cardwise.lake.store import connect
from cardwise.safety.anomaly import train
from cardwise.safety.clusters import ClusterRun, run_clusters, save_run
from cardwise.safety.reports import (
    anomaly_distribution,
    cluster_runs,
    load_run,
    read_distribution,
    refresh_distribution,
)


@pytest.fixture(scope="module")
def run(small_lake: Path) -> ClusterRun:
    con = connect(small_lake)
    try:
        return run_clusters(con, start=date(2023, 7, 1), end=date(2023, 10, 1), seed=0, k_range=range(2, 6))
    finally:
        con.close()


def test_the_distribution_counts_every_held_out_transaction(small_lake: Path, tmp_path: Path) -> None:
    con = connect(small_lake)
    try:
        model = train(con, start=date(2022, 10, 1), end=date(2023, 4, 1), seed=1)
        d = anomaly_distribution(con, model, month=date(2023, 9, 14))
        n, fraud = con.execute(
            "SELECT count(*), count(*) FILTER (is_fraud) FROM transactions WHERE month = '2023-09'"
        ).fetchall()[0]
        assert d["month"] == "2023-09" and d["transactions"] == n and d["fraud_count"] == fraud
        assert sum(d["normal"]) == n - fraud and sum(d["fraud"]) == fraud
        assert len(d["edges"]) == len(d["normal"]) + 1 and d["edges"] == sorted(d["edges"])
        assert d["edges"][0] <= d["threshold"] <= d["edges"][-1]
        assert 0 < d["alerts"] < n and d["alerts_fraud"] <= d["alerts"]
        # fraud sits to the right: its mean bin is above the ordinary transactions' mean bin
        mean_bin = [sum(i * c for i, c in enumerate(h)) / max(sum(h), 1) for h in (d["normal"], d["fraud"])]
        assert mean_bin[1] > mean_bin[0]

        assert read_distribution(tmp_path) is None
        refresh_distribution(con, model, tmp_path)
        stored = read_distribution(tmp_path)
        assert stored is not None and stored["month"] == "2023-10"
    finally:
        con.close()
    with pytest.raises(ValueError):
        con = connect(small_lake)
        try:
            anomaly_distribution(con, model, month=date(2030, 1, 1))
        finally:
            con.close()


def test_saved_runs_are_listed_newest_first_and_load_back(run: ClusterRun, tmp_path: Path) -> None:
    first, _ = save_run(run, tmp_path)
    second, _ = save_run(run, tmp_path)
    (tmp_path / "clusters" / "garbage.json").write_text("{not json")
    listed = cluster_runs(tmp_path)
    assert [r.run_id for r in listed] == [second, first]
    assert listed[0].k == run.k and listed[0].customers == run.customers
    back = load_run(tmp_path, first)
    assert back.k == run.k and back.members == run.members
    assert [p.recommended_blocks for p in back.profiles] == [p.recommended_blocks for p in run.profiles]
    assert back.inertia_by_k == run.inertia_by_k
    for bad in ("../../etc/passwd", "20990101T000000000000Z", ""):
        with pytest.raises(ValueError):
            load_run(tmp_path, bad)
