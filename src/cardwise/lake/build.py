"""Generate a lake and put it in place: the flow behind `cardwise generate` and `cardwise demo`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cardwise import __version__
from cardwise.lake.store import atomic_lake, check_writable, write_duckdb_catalog, write_tables
from cardwise.logging import get_logger
from cardwise.privacy.crypto import seal_identity_table
from cardwise.synth.generate import Step, generate
from cardwise.synth.presets import Preset

log = get_logger(__name__)


@dataclass(frozen=True)
class BuildResult:
    path: Path
    manifest: dict[str, object]
    seconds: float


def build_lake(
    preset: Preset, *, seed: int, out: Path, overwrite: bool, pan_key: str, step: Step = lambda _: None
) -> BuildResult:
    started = time.perf_counter()
    check_writable(out, overwrite)  # fail before minutes of work, not after
    lake = generate(preset, seed, pan_key=pan_key, step=step)
    # The analytics lake is pseudonymous: the identity table is sealed with the PII keys (docs/privacy.md).
    lake.tables["customer_identity"] = seal_identity_table(lake.tables["customer_identity"])
    step("writing parquet")
    with atomic_lake(out, overwrite=overwrite) as tmp:
        manifest = write_tables(
            lake.tables,
            tmp,
            {
                "generator": f"cardwise {__version__}",
                "preset": preset.name,
                "seed": seed,
                "customers": preset.n_customers,
                "start": preset.start.isoformat(),
                "end": preset.end.isoformat(),
            },
        )
    write_duckdb_catalog(out, out.with_suffix(".duckdb"))
    seconds = time.perf_counter() - started
    log.info(
        "lake written",
        extra={"lake.path": str(out), "preset": preset.name, "seed": seed, "duration_s": round(seconds, 2)},
    )
    return BuildResult(path=out, manifest=manifest, seconds=seconds)
