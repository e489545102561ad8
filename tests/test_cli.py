"""The command line: clear one-line errors, never a traceback; lake commands end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cardwise.cli import app

runner = CliRunner()


def _env(tmp_path: Path) -> dict[str, str]:
    return {"CARDWISE_DATA_DIR": str(tmp_path / "var"), "CARDWISE_LOG_FORMAT": "json"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--preset", "huge"], "unknown preset 'huge'"),
        (["generate", "--customers", "-5"], "customers must be at least 10"),
        (["generate", "--seed", "-1"], "--seed must be zero or positive"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env=_env(tmp_path))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unwritable_directory(tmp_path: Path) -> None:
    # sysfs refuses new entries even to root, so this holds for every user.
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux sysfs")
    result = runner.invoke(app, ["generate", "--out", "/sys/kernel/cardwise-lake"], env=_env(tmp_path))
    assert result.exit_code == 2 and "cannot write to /sys/kernel" in result.output


def test_out_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    result = runner.invoke(app, ["generate", "--out", str(f)], env=_env(tmp_path))
    assert result.exit_code == 2 and "not a directory" in result.output


def test_generate_and_check_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "lake"
    result = runner.invoke(app, ["generate", "--customers", "40", "--out", str(out), "--seed", "3"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "40 customers" in result.output
    assert runner.invoke(app, ["lake", "check", str(out)], env=_env(tmp_path)).exit_code == 0
    again = runner.invoke(app, ["generate", "--customers", "40", "--out", str(out)], env=_env(tmp_path))
    assert again.exit_code == 2 and "--overwrite" in again.output
    (out / "cards" / "part-0.parquet").write_bytes(b"broken")
    bad = runner.invoke(app, ["lake", "check", str(out)], env=_env(tmp_path))
    assert bad.exit_code == 1 and "manifest hash" in bad.output


def test_installed_entry_point_has_no_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("cardwise")
    proc = subprocess.run(
        [str(exe), "generate", "--preset", "nope"],
        capture_output=True,
        text=True,
        env={**os.environ, **_env(tmp_path)},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown preset" in proc.stderr and "Traceback" not in proc.stderr


def test_invalid_environment_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lake", "schema"], env={**_env(tmp_path), "CARDWISE_PORT": "99999"})
    assert result.exit_code == 2 and "invalid configuration" in result.output
