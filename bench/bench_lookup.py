"""Lookup speed: `triage lookup ID` against grep -F (and zgrep) on the same data, one run.

    python bench/bench_lookup.py --lines 1000000 10000000 [--rounds 5] [--gz]

For each size: the store is built once with triage ingest (cached in bench/out/), then each
round times, in fresh processes: the start-up floor (python + import duckdb + a read-only
connect), `triage lookup ID --format json` for an id from the middle of the file, `grep -F
ID` on the raw file (from page cache, as the store is), and with --gz `zgrep -F` on its .gz.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import bench_file, store_for  # noqa: E402


def seconds(cmd: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed: {done.stderr.decode()[:200]}")
    return elapsed


def middle_id(data: Path) -> str:
    with data.open("rb") as fh:
        fh.seek(data.stat().st_size // 2)
        fh.readline()
        return json.loads(fh.readline())["requestId"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--gz", action="store_true", help="also time zgrep on a gzipped copy")
    args = ap.parse_args()
    py = sys.executable
    print(
        f"{'lines':>12}{'store MiB':>11}{'floor s':>9}{'lookup s':>10}{'grep -F s':>11}"
        f"{'zgrep s':>9}  lookup - floor"
    )
    for n in args.lines:
        data = bench_file(n)
        gz = bench_file(n, gz=True) if args.gz else None
        db = store_for(data)
        rid = middle_id(data)
        floor_cmd = [py, "-c", f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)"]
        lookup_cmd = [py, "-m", "triage", "--db", str(db), "lookup", rid, "--format", "json"]
        found = json.loads(subprocess.run(lookup_cmd, capture_output=True).stdout)
        assert found[0]["found"], "the benchmark id was not found"
        times: dict[str, list[float]] = {"floor": [], "lookup": [], "grep": [], "zgrep": []}
        for _ in range(args.rounds):
            times["floor"].append(seconds(floor_cmd))
            times["lookup"].append(seconds(lookup_cmd))
            times["grep"].append(seconds(["grep", "-F", rid, str(data)]))
            if gz:
                times["zgrep"].append(seconds(["zgrep", "-F", rid, str(gz)]))
        med = {k: statistics.median(v) if v else None for k, v in times.items()}
        zg = f"{med['zgrep']:>9.2f}" if med["zgrep"] is not None else f"{'-':>9}"
        print(
            f"{n:>12,}{db.stat().st_size / 2**20:>11,.0f}{med['floor']:>9.2f}"
            f"{med['lookup']:>10.2f}{med['grep']:>11.2f}{zg}  "
            f"{med['lookup'] - med['floor']:+.2f}"
        )


if __name__ == "__main__":
    main()
