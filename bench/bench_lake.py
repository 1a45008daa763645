"""Past one machine: ingest into a lake with DuckDB and with Spark, and answers from a lake.

    python bench/bench_lake.py [--lines 1000000] [--files 4] [--rounds 2] [--engines-only]

The data is the sample generator's bench shape spread over 14 days, split into --files
files (Spark spreads files over its cores, one task a share of them). Every figure is a
fresh process, the OS page cache warm; rounds alternate the runs; medians are shown.

1. Ingest, in one run against its peers on the same files: `grep -c` (reading the bytes),
   bare DuckDB (`CREATE TABLE AS SELECT * FROM read_ndjson(files, ignore_errors=true)`),
   `triage ingest` into a store, into a lake with DuckDB, and into a lake with Spark on 1 and
   2 local cores (`--engine spark --spark-master local[N]`). Spark's fixed cost (its JVM and
   session, a batch of one line) is measured apart: lines/s per core is given with and
   without it.
2. Answers from the store, the DuckDB lake and the Spark lake (each read by DuckDB): the
   weekly report, `errors`, and a lookup.
3. Size on disk per million lines.
4. The same lake answered by the two query engines: `errors`, `contract`, the weekly report
   and `incident --auto` with DuckDB and with `--engine spark --spark-master local[2]` (the
   big reads as Spark SQL), each a fresh process; Spark's fixed cost (its JVM and session, a
   `contract` on a lake of one line) apart; and whether the outputs are the same bytes.
   `--engines-only` writes the DuckDB lake and runs this section alone.

Nothing here is a test: the figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import OUT, bench_file  # noqa: E402

DAYS = 14
WEEK = "2026-W47"  # the data's last complete ISO week (14 days up to 2026-11-30)


def split(data: Path, files: int, lines: int) -> list[Path]:
    """`data` cut into `files` files of whole lines (made once, then reused)."""
    folder = OUT / f"lake-split-{lines}-{files}"
    parts = [folder / f"part-{i}.ndjson" for i in range(files)]
    if all(p.exists() for p in parts):
        return parts
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-lines // files)
    with data.open("rb") as src:
        for part in parts:
            tmp = part.with_name(part.name + ".tmp")
            with tmp.open("wb") as out:
                for _ in range(per):
                    line = src.readline()
                    if not line:
                        break
                    out.write(line)
            tmp.rename(part)
    return parts


def timed(cmd: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}")
    return seconds


TRIAGE = [sys.executable, "-m", "triage"]
BARE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
files = sys.argv[2:]
con.execute("CREATE TABLE t AS SELECT * FROM read_ndjson($f, ignore_errors = true)", {"f": files})
"""


def ingest_runs(parts: list[Path], tmp: Path) -> dict[str, list[str]]:
    files = [str(p) for p in parts]
    spark = ["ingest", "--engine", "spark", "--spark-master"]
    return {
        "grep -c": ["grep", "-c", '"statusCode":5', *files],
        "bare DuckDB read_ndjson": [sys.executable, "-c", BARE, str(tmp / "bare.duckdb"), *files],
        "triage ingest (store)": [*TRIAGE, "--db", str(tmp / "store.duckdb"), "ingest", *files],
        "triage ingest (lake, DuckDB)": [*TRIAGE, "--lake", str(tmp / "duck"), "ingest", *files],
        "triage ingest (lake, Spark local[1])": [
            *TRIAGE,
            "--lake",
            str(tmp / "spark1"),
            *spark,
            "local[1]",
            *files,
        ],
        "triage ingest (lake, Spark local[2])": [
            *TRIAGE,
            "--lake",
            str(tmp / "spark2"),
            *spark,
            "local[2]",
            *files,
        ],
    }


CORES = {
    "bare DuckDB read_ndjson": 2,
    "triage ingest (store)": 2,
    "triage ingest (lake, DuckDB)": 2,
    "triage ingest (lake, Spark local[1])": 1,
    "triage ingest (lake, Spark local[2])": 2,
}


def clear(tmp: Path) -> None:
    """What a round made: the stores (and their write-ahead logs) and the lakes."""
    for name in ("duck", "spark1", "spark2"):
        shutil.rmtree(tmp / name, ignore_errors=True)
    for name in ("bare.duckdb", "store.duckdb", "bare.duckdb.wal", "store.duckdb.wal"):
        (tmp / name).unlink(missing_ok=True)


def spark_overhead(tmp: Path, rounds: int) -> float:
    """Seconds a Spark batch costs whatever its size: the JVM, the session, the jobs."""
    one = tmp / "one.ndjson"
    one.write_text('{"timestamp":"2026-11-20T00:00:00Z","requestId":"x","statusCode":200}\n')
    times = []
    for _ in range(rounds):
        shutil.rmtree(tmp / "tiny", ignore_errors=True)
        times.append(
            timed(
                [
                    *TRIAGE,
                    "--lake",
                    str(tmp / "tiny"),
                    "ingest",
                    "--engine",
                    "spark",
                    "--spark-master",
                    "local[1]",
                    str(one),
                ]
            )
        )
    return statistics.median(times)


def engines(tmp: Path, rounds: int) -> None:
    """Section 4: the DuckDB lake's answers from the DuckDB engine and from Spark's."""
    lake = ["--lake", str(tmp / "duck")]
    spark = ["--engine", "spark", "--spark-master", "local[2]"]
    asks = {
        "errors": ["errors"],
        "contract": ["contract"],
        "report weekly": ["report", "weekly", "--week", WEEK],
        "incident --auto": ["incident", "--auto"],
    }
    tiny = ["--lake", str(tmp / "tiny"), "contract", *spark]
    fixed = statistics.median(timed([*TRIAGE, *tiny]) for _ in range(rounds))
    print(f"\n4. one lake, two query engines (seconds, medians; Spark's fixed cost {fixed:.1f} s)")
    print(f"   {'':20}{'DuckDB':>10}{'Spark':>10}{'Spark w/o fixed':>17}  same bytes")
    for ask, cmd in asks.items():
        duck, on_spark, outputs = [], [], set()
        for _ in range(rounds):
            for engine, into in (([], duck), (spark, on_spark)):
                started = time.perf_counter()
                done = subprocess.run([*TRIAGE, *lake, *cmd, *engine], capture_output=True)
                into.append(time.perf_counter() - started)
                if done.returncode:
                    sys.exit(f"failed: {ask} {engine}\n{done.stderr.decode()[-2000:]}")
                outputs.add(done.stdout)
        d, s = statistics.median(duck), statistics.median(on_spark)
        same = "yes" if len(outputs) == 1 else "NO"
        print(f"   {ask:20}{d:>10.2f}{s:>10.2f}{s - fixed:>17.2f}  {same}")


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--engines-only", action="store_true", help="section 4 alone")
    args = ap.parse_args()
    data = bench_file(args.lines, days=DAYS)
    parts = split(data, args.files, args.lines)
    mib = sum(p.stat().st_size for p in parts) / 2**20
    print(
        f"data: {args.lines:,} lines in {args.files} files, {mib:,.0f} MiB, {os.cpu_count()} cores"
    )
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-lake-"))
    try:
        if args.engines_only:
            timed(ingest_runs(parts, tmp)["triage ingest (lake, DuckDB)"])
            spark_overhead(tmp, 1)  # (the lake of one line the fixed cost is measured on)
            engines(tmp, args.rounds)
            return
        runs = ingest_runs(parts, tmp)
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            clear(tmp)
            for name, cmd in runs.items():
                seconds[name].append(timed(cmd))
        overhead = spark_overhead(tmp, args.rounds)
        print(f"\n1. ingest ({args.rounds} rounds, medians; Spark's fixed cost {overhead:.1f} s)")
        print(
            f"   {'':40} {'seconds':>8} {'lines/s':>10} {'per core':>9} {'per core w/o fixed':>19}"
        )
        for name, values in seconds.items():
            s = statistics.median(values)
            cores = CORES.get(name)
            per_core = f"{args.lines / s / cores:>9,.0f}" if cores else f"{'':>9}"
            net = ""
            if "Spark" in name and cores:
                net = f"{args.lines / (s - overhead) / cores:>19,.0f}"
            print(f"   {name:40} {s:>8.2f} {args.lines / s:>10,.0f} {per_core} {net}")

        where = {
            "store": ["--db", str(tmp / "store.duckdb")],
            "lake (DuckDB)": ["--lake", str(tmp / "duck")],
            "lake (Spark)": ["--lake", str(tmp / "spark2")],
        }
        rid = (
            subprocess.run(
                [*TRIAGE, *where["store"], "errors", "--format", "csv", "--limit", "1"],
                capture_output=True,
                text=True,
            )
            .stdout.splitlines()[1]
            .split(",")[-2]
            .split()[0]
        )
        asks = {
            "report weekly": ["report", "weekly", "--week", WEEK],
            "report weekly --format html": ["report", "weekly", "--week", WEEK, "--format", "html"],
            "errors": ["errors"],
            "lookup ID": ["lookup", rid],
        }
        floor = [sys.executable, "-c", "import duckdb; duckdb.connect()"]
        print("\n2. answers (seconds, medians of fresh processes; read by DuckDB)")
        print(f"   {'':30}" + "".join(f"{w:>16}" for w in where))
        times = {(a, w): [] for a in asks for w in where}
        floors = []
        for _ in range(max(3, args.rounds)):
            floors.append(timed(floor))
            for ask, cmd in asks.items():
                for w, opt in where.items():
                    times[ask, w].append(timed([*TRIAGE, *opt, *cmd]))
        for ask in asks:
            row = "".join(f"{statistics.median(times[ask, w]):>16.2f}" for w in where)
            print(f"   {ask:30}{row}")
        print(f"   (python + import duckdb: {statistics.median(floors):.2f} s)")

        print("\n3. size on disk, MiB per million lines")
        for name, path in (
            ("store", tmp / "store.duckdb"),
            ("lake (DuckDB)", tmp / "duck"),
            ("lake (Spark)", tmp / "spark2"),
            ("bare table", tmp / "bare.duckdb"),
        ):
            print(f"   {name:30} {size(path) / 2**20 / (args.lines / 1e6):>8.0f}")

        engines(tmp, args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
