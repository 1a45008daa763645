"""Weekly report speed on a large store: Markdown, JSON and HTML, each a fresh process.

    python bench/bench_report.py [--lines 5000000] [--rounds 7]

The store holds two ISO weeks (2026-W45 and W46) of lines spread evenly, with a 20-minute
burst of failures on the last day, so the report has a previous week to compare with and
incidents to summarise; it is built once with triage ingest and cached in bench/out/. The
report's queries share one connection and stage the two weeks once, so its time should stay
near that of one group-by over the store: `triage errors` (one grouped scan) and the bare
start of Python with DuckDB are timed alongside. Each job runs in turn, round after round.
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

WEEK = "2026-W46"  # the second of the two weeks the data spans


def seconds(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    db = store_for(bench_file(args.lines, days=14))
    base = [sys.executable, "-m", "triage", "--db", str(db)]
    report = [*base, "report", "weekly", "--week", WEEK, "--format"]
    jobs = {
        "floor (python + duckdb)": [
            sys.executable,
            "-c",
            f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)",
        ],
        "triage errors (one group-by)": [*base, "errors", "--format", "json"],
        "report weekly --format md": [*report, "md"],
        "report weekly --format json": [*report, "json"],
        "report weekly --format html": [*report, "html"],
    }
    print(
        f"store: {db.name}, {args.lines:,} lines over two weeks, "
        f"{db.stat().st_size / 2**20:,.0f} MiB; report {WEEK}, {args.rounds} rounds"
    )
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(args.rounds):
        for name, cmd in jobs.items():
            times[name].append(seconds(cmd))
    print(f"{'':32}{'median':>8}{'min':>8}{'max':>8}")
    for name, ts in times.items():
        print(f"{name:<32}{statistics.median(ts):>8.2f}{min(ts):>8.2f}{max(ts):>8.2f}")


if __name__ == "__main__":
    main()
