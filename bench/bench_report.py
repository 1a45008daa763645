"""Weekly report speed on a large store: Markdown, JSON and HTML, each a fresh process.

    python bench/bench_report.py --lines 5000000 [--rounds 3]

The store is built once with triage ingest (cached in bench/out/). The report's queries
share one connection and stage the two weeks once, so its time should stay near that of
one group-by over the store; `triage errors` (one grouped scan) is timed alongside.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import bench_file, store_for  # noqa: E402


def seconds(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--week", default="2026-W45", help="the week the bench data falls in")
    args = ap.parse_args()
    db = store_for(bench_file(args.lines))
    base = [sys.executable, "-m", "triage", "--db", str(db)]
    jobs = {
        "floor (python + duckdb)": [
            sys.executable,
            "-c",
            f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)",
        ],
        "triage errors (one group-by)": [*base, "errors", "--format", "json"],
        "report weekly --format md": [
            *base,
            "report",
            "weekly",
            "--week",
            args.week,
            "--format",
            "md",
        ],
        "report weekly --format json": [
            *base,
            "report",
            "weekly",
            "--week",
            args.week,
            "--format",
            "json",
        ],
        "report weekly --format html": [
            *base,
            "report",
            "weekly",
            "--week",
            args.week,
            "--format",
            "html",
        ],
    }
    print(
        f"store: {db.name}, {args.lines:,} lines, {db.stat().st_size / 2**20:,.0f} MiB, "
        f"{args.rounds} rounds"
    )
    for name, cmd in jobs.items():
        times = [seconds(cmd) for _ in range(args.rounds)]
        print(f"{name:<32}{statistics.median(times):>8.2f} s")


if __name__ == "__main__":
    main()
