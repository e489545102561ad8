"""`cardwise safety score --input FILE` on files the model was not built on."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from cardwise.cli import app
from cardwise.lake.store import connect
from cardwise.safety.anomaly import save, train

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(small_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("score")
    shutil.copytree(small_lake, root / "lake")
    con = connect(root / "lake")
    try:
        save(train(con, start=date(2022, 10, 1), end=date(2023, 4, 1), seed=2), root / "models")
    finally:
        con.close()
    return root


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_scores_a_file_with_only_card_time_amount_merchant(data_dir: Path, tmp_path: Path) -> None:
    con = connect(data_dir / "lake")
    rows = con.execute(
        """(SELECT card_id, ts AS timestamp, amount_krw, merchant_id, is_fraud FROM transactions
            WHERE ts >= DATE '2023-06-01' AND is_fraud)
           UNION ALL
           (SELECT card_id, ts, amount_krw, merchant_id, is_fraud FROM transactions
            WHERE ts >= DATE '2023-06-01' AND NOT is_fraud USING SAMPLE 3000 ROWS (reservoir, 1))"""
    ).fetchall()
    con.close()
    labels = [r[4] for r in rows]
    src = _write(
        tmp_path / "tx.csv",
        [
            {"card_id": r[0], "timestamp": r[1].isoformat(sep=" "), "amount_krw": r[2], "merchant_id": r[3]}
            for r in rows
        ],
    )
    result = runner.invoke(app, ["safety", "score", "--input", str(src)], env={"CARDWISE_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    with (tmp_path / "tx.scored.csv").open() as fh:
        scored = list(csv.DictReader(fh))
    assert len(scored) == len(rows)
    by_row = sorted(scored, key=lambda r: int(r["row_number"]))
    auc = roc_auc_score(labels, [float(r["score"]) for r in by_row])
    assert auc > 0.8
    assert {r["anomaly"] for r in scored} <= {"Y", "N"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"card_id": 1, "timestamp": "2023-06-01 12:00:00", "merchant_id": 1}], "a file needs customer_id or card_id"),
        (
            [
                {"card_id": 1, "timestamp": "2023-06-01 12:00:00", "amount_krw": 1000, "merchant_id": 1},
                {"card_id": 1, "timestamp": "2023-06-01 12:05:00", "amount_krw": -5, "merchant_id": 1},
            ],
            "row 2",
        ),
        (
            [{"customer_id": 1, "timestamp": "2023-06-01 12:00:00", "amount_krw": 1000, "merchant_id": 10**9}],
            "no category (unknown merchant_id)",
        ),
        ([{"customer_id": 1, "timestamp": "yesterday", "amount_krw": 1000, "merchant_id": 1}], "tx.csv"),
    ],
)
def test_bad_files_get_a_clear_error(
    data_dir: Path, tmp_path: Path, rows: list[dict[str, object]], message: str
) -> None:
    src = _write(tmp_path / "tx.csv", rows)
    result = runner.invoke(app, ["safety", "score", "--input", str(src)], env={"CARDWISE_DATA_DIR": str(data_dir)})
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
