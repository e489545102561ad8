"""Benchmark: generate a preset's lake (default seed002) and print wall time and peak memory.

    .venv/bin/python bench/generate.py [--preset seed002] [--seed 42] [--keep DIR]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from cardwise.lake.build import build_lake
from cardwise.synth.presets import get_preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="seed002")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="write the lake here instead of a temporary directory")
    args = parser.parse_args()
    preset = get_preset(args.preset)
    tmp = Path(tempfile.mkdtemp(prefix="cardwise-bench-"))
    out = args.keep or tmp / "lake"
    steps: dict[str, float] = {}
    last = [time.perf_counter(), ""]

    def step(name: str) -> None:
        now = time.perf_counter()
        if last[1]:
            steps[str(last[1])] = round(now - float(last[0]), 2)
        last[:] = [now, name]
        print(f"  {name} …", flush=True)

    started = time.perf_counter()
    result = build_lake(
        preset, seed=args.seed, out=out, overwrite=args.keep is not None, pan_key="bench-key", step=step
    )
    wall = time.perf_counter() - started
    steps[str(last[1])] = round(time.perf_counter() - float(last[0]), 2)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = result.manifest["tables"]
    assert isinstance(counts, dict)
    size_mib = sum(f.stat().st_size for f in out.rglob("*.parquet")) / 2**20
    for name, secs in steps.items():
        print(f"{name:<32} {secs:>7.2f} s")
    print(f"{'total':<32} {wall:>7.2f} s, peak RSS {peak_mib:,.0f} MiB, lake {size_mib:,.0f} MiB")
    print(
        f"transactions {counts['transactions']:,} ({counts['transactions'] / wall:,.0f}/s), "
        f"customers {counts['customers']:,}, cards {counts['cards']:,}, merchants {counts['merchants']:,}"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    print(
        json.dumps(
            {
                "preset": preset.name,
                "wall_s": round(wall, 2),
                "peak_rss_mib": round(peak_mib),
                "transactions": counts["transactions"],
                "customers": counts["customers"],
                "cards": counts["cards"],
                "merchants": counts["merchants"],
                "lake_mib": round(size_mib, 1),
                "steps_s": steps,
            }
        )
    )


if __name__ == "__main__":
    main()
