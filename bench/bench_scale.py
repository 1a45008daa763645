"""Speed at scale: every target of a big store measured in one run, each against its floor or peer.

    python bench/bench_scale.py [--lines 5000000] [--rounds 5] [--ingest-rounds 1] [--reuse]

The data is the sample generator's bench shape spread over 28 days (ISO weeks 2026-W45 to W48,
with a 20-minute burst of failures on the last day), one line in 1,000 cut in half as a writer
killed mid-line leaves it. Made once and cached in bench/out/, like the store triage builds
from it (--reuse skips the ingest step and reads the cached store: to iterate on answers).

1. Ingest: `triage ingest` against bare DuckDB (`CREATE TABLE AS SELECT * FROM
   read_ndjson(file, ignore_errors=true)`), fresh processes, alternated; seconds, peak RSS.
2. Append: 1M more lines ingested into a copy of the big store against into an empty store.
3. Answers, each a fresh process (the OS page cache warm, DuckDB's cold), round after round:
   the floor (python + import duckdb + a read-only connect), then each command. The figure
   that counts is the command's median minus the floor's; `grep -F` on the raw file is the
   peer for a lookup.
4. Store size per million lines, against the bare table's.

Nothing here is a test: the targets are printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import OUT, broken_file, load_generator  # noqa: E402
from bench_ingest import run as run_ingest  # noqa: E402

DAYS = 28
LAST_WEEK = ("2026-W48", "2026-11-23", "2026-11-30")  # the data's last complete ISO week
DATA_END = "2026-11-30T00:00:00Z"  # "now" for --since 7d
APPEND_LINES = 1_000_000
MiB = 2**20

# The targets: seconds above the floor, or a ratio.
TARGETS = {
    "lookup ID": 0.10,
    "errors": 0.30,
    "errors --since 7d": 0.30,
    "report weekly md": 0.40,
    "report weekly json": 0.40,
    "report weekly html": 0.70,
    "incident --auto (a week)": 0.40,
}


def seconds(cmd: list[str], env: dict | None = None, ok: tuple[int, ...] = (0,)) -> float:
    """The command's wall time; NaN when it ended with an accepted non-zero exit (no answer)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:6])} failed: {done.stderr.decode()[:300]}")
    return elapsed if done.returncode == 0 else math.nan


def append_file() -> Path:
    """1M lines of the same shape with their own ids (another seed), made once."""
    path = OUT / f"bench-append-{APPEND_LINES}.ndjson"
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        load_generator().write_bench(tmp, APPEND_LINES, seed=2, days=1)
        tmp.rename(path)
    return path


def middle_id(data: Path) -> str:
    with data.open("rb") as fh:
        fh.seek(data.stat().st_size // 2)
        fh.readline()
        return json.loads(fh.readline())["requestId"]


def ingest_step(data: Path, store: Path, rounds: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="triage-scale-", dir=OUT))
    try:
        results: dict[str, list[dict]] = {"bare": [], "triage": []}
        for _ in range(rounds):
            for kind in ("bare", "triage"):
                results[kind].append(run_ingest(kind, data, tmp))
        bare_size = (tmp / "bare.duckdb").stat().st_size
        os.replace(tmp / "triage.duckdb", store)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    peak = {k: max(r["peak_rss"] for r in v) for k, v in results.items()}
    return {"seconds": med, "peak": peak, "bare_size": bare_size}


def append_step(store: Path) -> dict:
    extra = append_file()
    tmp = Path(tempfile.mkdtemp(prefix="triage-append-", dir=OUT))
    try:
        big, empty = tmp / "big.duckdb", tmp / "empty.duckdb"
        shutil.copyfile(store, big)
        cmd = [sys.executable, "-m", "triage", "--db"]
        on_big = seconds([*cmd, str(big), "ingest", str(extra)])
        on_empty = seconds([*cmd, str(empty), "ingest", str(extra)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"big": on_big, "empty": on_empty}


def answers_step(data: Path, store: Path, rounds: int) -> dict[str, float]:
    py = sys.executable
    base = [py, "-m", "triage", "--db", str(store)]
    week, since, until = LAST_WEEK
    rid = middle_id(data)
    jobs = {
        "floor": [py, "-c", f"import duckdb; duckdb.connect({str(store)!r}, read_only=True)"],
        "lookup ID": [*base, "lookup", rid, "--format", "json"],
        "errors": [*base, "errors", "--format", "json"],
        "errors --since 7d": [*base, "errors", "--since", "7d", "--format", "json"],
        "report weekly md": [*base, "report", "weekly", "--week", week, "--format", "md"],
        "report weekly json": [*base, "report", "weekly", "--week", week, "--format", "json"],
        "report weekly html": [*base, "report", "weekly", "--week", week, "--format", "html"],
        "incident --auto (a week)": [
            *base,
            "incident",
            "--auto",
            "--since",
            since,
            "--until",
            until,
            "--format",
            "md",
        ],
    }
    found = json.loads(subprocess.run(jobs["lookup ID"], capture_output=True).stdout)
    if not found or not found[0].get("found"):
        raise SystemExit(f"the benchmark id {rid} was not found in {store}")
    env = {**os.environ, "TRIAGE_NOW": DATA_END}
    times: dict[str, list[float]] = {name: [] for name in jobs}
    # a small store's burst may be under the detection threshold: "no burst" (2) is an answer
    ok = {"incident --auto (a week)": (0, 2), "grep -F ID": (0, 1)}
    for _ in range(rounds):
        for name, cmd in jobs.items():
            times[name].append(seconds(cmd, env, ok.get(name, (0,))))
    # grep, the peer of a lookup, runs after the answers: a data file bigger than the page
    # cache (21 GB at 50M lines) would evict the store between them
    grep = ["grep", "-F", rid, str(data)]
    times["grep -F ID"] = [seconds(grep, env, (0, 1)) for _ in range(rounds)]
    return {name: statistics.median(ts) for name, ts in times.items()}


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the answers")
    ap.add_argument("--ingest-rounds", type=int, default=1)
    ap.add_argument("--reuse", action="store_true", help="read the cached store, no ingest")
    args = ap.parse_args()
    data = broken_file(args.lines, days=DAYS)
    store = OUT / f"scale-{args.lines}.duckdb"
    millions = args.lines / 1e6
    print(
        f"data: {data.name}, {args.lines:,} lines over {DAYS} days, "
        f"{data.stat().st_size / MiB:,.0f} MiB; {os.cpu_count()} cores"
    )
    rows = [("measure", "triage", "floor or peer", "", "target")]
    bare_per_m = ""
    if not (args.reuse and store.exists()):
        ingest = ingest_step(data, store, args.ingest_rounds)
        t, b = ingest["seconds"]["triage"], ingest["seconds"]["bare"]
        peak, bare_peak = (ingest["peak"][k] / MiB for k in ("triage", "bare"))
        bare_per_m = f"bare {ingest['bare_size'] / MiB / millions:,.0f}"
        rows.append(("ingest (s)", f"{t:.1f}", f"bare {b:.1f}", f"{t / b:.2f}x", "<= 1.5x"))
        rows.append(
            ("ingest peak RSS (MiB)", f"{peak:,.0f}", f"bare {bare_peak:,.0f}", "", "< 1024")
        )
    per_m = store.stat().st_size / MiB / millions
    rows.append(("store (MiB per 1M lines)", f"{per_m:,.0f}", bare_per_m, "", ""))
    append = append_step(store)
    big, empty = append["big"], append["empty"]
    rows.append(
        (
            "append 1M lines (s)",
            f"{big:.1f}",
            f"empty store {empty:.1f}",
            f"{big / empty:.2f}x",
            "<= 1.2x",
        )
    )
    med = answers_step(data, store, args.rounds)
    floor = med.pop("floor")
    rows.append(("floor: python + duckdb + open (s)", f"{floor:.2f}", "", "", ""))
    grep = med.pop("grep -F ID")
    for name, secs in med.items():
        peer = f"grep -F {grep:.2f}" if name == "lookup ID" else ""
        if math.isnan(secs):
            rows.append((f"{name} (s)", "no burst", peer, "", ""))
        else:
            over = f"floor {secs - floor:+.2f}"
            rows.append((f"{name} (s)", f"{secs:.2f}", peer, over, f"floor +{TARGETS[name]:.2f}"))
    print_table(rows)


if __name__ == "__main__":
    main()
