"""Where ingest's time goes: each stage of `triage ingest` timed on its own, same file, one run.

    python bench/bench_ingest_stages.py [--lines 1000000] [--rounds 3] [--broken]

Each job runs in a fresh process, round after round, and each does a little more than the
one before, so a stage's cost is its job's median minus the previous job's:

1. read: the reader cuts the file into Arrow batches of lines (Python and Arrow, no DuckDB).
2. hand over: DuckDB counts the lines of those batches (the Arrow stream crossing into it).
3. parse and normalise: DuckDB runs the ingest query's SELECT on them (every line decoded,
   parsed, normalised, classified) and counts every column's values, writing nothing.
4. write: the whole `triage ingest` (the rows written to records, what is kept beside them:
   failed requests, the roll-ups, the request-id index; the commit), with each named query
   of it timed too.

Bare `CREATE TABLE t AS SELECT * FROM read_ndjson(file)` runs in the same rounds, for scale.
Nothing here is a test: it says where the time goes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import bench_file, broken_file, in_fresh_process  # noqa: E402

JOBS = ("read", "hand over", "parse and normalise", "ingest", "bare")


def worker(job: str, data: str, db: str) -> None:
    """Run one job in this process; print its seconds (and, for ingest, per query). Every
    job's clock starts once its modules are imported and its store is open: imports and
    creating a store are no stage of ingest."""
    import duckdb
    import pyarrow as pa

    from triage import sql
    from triage import store as store_module
    from triage.ingest import MAX_LINE_BYTES, _prepare, ingest_paths
    from triage.mapping import mapping_params
    from triage.reader import LINE_SCHEMA, LineReader, open_input, prefetched

    queries: dict[str, float] = {}
    if job == "bare":
        con = duckdb.connect(db)
        started = time.perf_counter()
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_ndjson($p, ignore_errors = true)", {"p": data}
        )
        con.close()
    elif job == "ingest":
        run = store_module.Store.run

        def timed(self, name, params=None):
            at = time.perf_counter()
            try:
                return run(self, name, params)
            finally:
                queries[name] = queries.get(name, 0.0) + time.perf_counter() - at

        store_module.Store.run = timed  # type: ignore[method-assign]
        store = store_module.open_store(db)
        started = time.perf_counter()
        ingest_paths(store, [data])
        store.close()
    else:
        store = store_module.open_store(db)
        started = time.perf_counter()
        opened = open_input(data)
        reader = LineReader(opened, offset=0, lines=0)
        if job == "read":
            for _ in reader.batches():
                pass
        else:
            _prepare(store)
            batches = prefetched(reader.batches())  # as ingest hands them over
            store.con.register("lines_in", pa.RecordBatchReader.from_batches(LINE_SCHEMA, batches))
            if job == "hand over":
                store.con.execute("SELECT count(*) FROM lines_in").fetchall()
            else:
                insert, select = sql.get("ingest_lines").sql.split("\n", 1)
                assert insert.startswith("INSERT INTO records")
                params = {**mapping_params(None), "max_line_bytes": MAX_LINE_BYTES, "source_id": 1}
                used = {k: v for k, v in params.items() if f"${k}" in select}
                # count(COLUMNS(*)): every column is computed (a bare count(*) lets DuckDB
                # skip the expressions it does not need)
                query = f"SELECT count(COLUMNS(*)) FROM ({select.rstrip().rstrip(';')})"
                store.con.execute(query, used).fetchall()
        opened.close()
        store.close()
    print(json.dumps({"seconds": time.perf_counter() - started, "queries": queries}))


def run(job: str, data: Path, tmp: Path) -> dict:
    return in_fresh_process(__file__, job, data, tmp)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--broken", action="store_true", help="one line in 1,000 cut in half")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    data = broken_file(args.lines) if args.broken else bench_file(args.lines)
    times: dict[str, list[float]] = {job: [] for job in JOBS}
    per_query: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="triage-stages-") as tmp:
        for _ in range(args.rounds):
            for job in JOBS:
                result = run(job, data, Path(tmp))
                times[job].append(result["seconds"])
                for name, seconds in result["queries"].items():
                    per_query.setdefault(name, []).append(seconds)
    median = {job: statistics.median(t) for job, t in times.items()}
    size = data.stat().st_size / 2**20
    print(f"data: {data.name}, {args.lines:,} lines, {size:,.0f} MiB; {args.rounds} rounds")
    print(f"{'stage':<28}{'seconds':>9}{'share':>8}")
    before = 0.0
    for job in JOBS[:4]:
        cost = median[job] - before
        stage = "write and commit" if job == "ingest" else job
        print(f"{stage:<28}{cost:>9.2f}{cost / median['ingest']:>8.0%}")
        before = median[job]
    print(f"{'whole ingest':<28}{median['ingest']:>9.2f}")
    ratio = median["ingest"] / median["bare"]
    print(f"{'bare read_ndjson':<28}{median['bare']:>9.2f}   (ingest {ratio:.2f}x)")
    print("\nthe ingest's named queries (median seconds, 0.05 s or more):")
    for name, seconds in sorted(per_query.items(), key=lambda kv: -statistics.median(kv[1])):
        if statistics.median(seconds) >= 0.05:
            print(f"  {name:<32}{statistics.median(seconds):>6.2f}")


if __name__ == "__main__":
    main()
