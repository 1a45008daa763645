"""Ingest speed and memory: triage against bare DuckDB read_ndjson and grep, same data, one run.

    python bench/bench_ingest.py --lines 1000000 [--rounds 3] [--gz | --broken]

Each measurement runs in a fresh process (so peak RSS is that job's alone), alternating
triage and bare read_ndjson round by round so that machine noise hits both alike. Bare is
`CREATE TABLE t AS SELECT * FROM read_ndjson(file)`: parsing with no accounting at all (with
--broken, where one line in 1,000 is cut in half, `ignore_errors=true`: bad lines become NULL
rows). grep -c is the floor: the time to scan the bytes once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import bench_file, broken_file, in_fresh_process  # noqa: E402


def worker(kind: str, data: str, db: str) -> None:
    """Run one job in this process and print its seconds and peak RSS as JSON."""
    started = time.perf_counter()
    if kind == "bare":
        import duckdb

        con = duckdb.connect(db)
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_ndjson($p, ignore_errors = $broken)",
            {"p": data, "broken": "broken" in Path(data).name},
        )
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.close()
    else:
        from triage.ingest import ingest_paths
        from triage.store import open_store

        store = open_store(db)
        summary = ingest_paths(store, [data]).as_dict()
        store.close()
        rows = summary["events"] + summary["rejected"]
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_rss": peak, "rows": rows}))


def run(kind: str, data: Path, tmp: Path) -> dict:
    return in_fresh_process(__file__, kind, data, tmp)


def grep_seconds(data: Path) -> float:
    cmd = ["zgrep" if data.suffix == ".gz" else "grep", "-c", '"statusCode":5', str(data)]
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gz", action="store_true", help="benchmark a gzipped file")
    ap.add_argument(
        "--broken", action="store_true", help="one line in 1,000 cut in half (as real logs have)"
    )
    ap.add_argument("--worker", nargs=3, metavar=("KIND", "DATA", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    data = broken_file(args.lines) if args.broken else bench_file(args.lines, args.gz)
    size = data.stat().st_size
    print(
        f"data: {data.name}, {args.lines:,} lines, {size / 2**20:,.0f} MiB, "
        f"{os.cpu_count()} cores, {args.rounds} rounds"
    )
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    results: dict[str, list[dict]] = {"bare": [], "triage": []}
    greps = []
    try:
        for _ in range(args.rounds):
            greps.append(grep_seconds(data))
            for kind in ("bare", "triage"):
                results[kind].append(run(kind, data, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bare = statistics.median(r["seconds"] for r in results["bare"])
    print(f"{'job':<28}{'median s':>10}{'lines/s':>14}{'vs bare':>9}{'peak RSS':>11}")
    print(
        f"{'grep -c (scan floor)':<28}{statistics.median(greps):>10.2f}"
        f"{args.lines / statistics.median(greps):>14,.0f}{'':>9}{'':>11}"
    )
    for kind, label in (("bare", "bare read_ndjson"), ("triage", "triage ingest")):
        secs = statistics.median(r["seconds"] for r in results[kind])
        peak = max(r["peak_rss"] for r in results[kind]) / 2**20
        print(
            f"{label:<28}{secs:>10.2f}{args.lines / secs:>14,.0f}{secs / bare:>8.2f}x"
            f"{peak:>8,.0f} MiB"
        )
    rows = {r["rows"] for r in results["triage"]}
    print(f"triage rows per run: {sorted(rows)} (expected {args.lines:,})")


if __name__ == "__main__":
    main()
