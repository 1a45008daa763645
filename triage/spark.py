"""The Spark engine: a lake's batch ingested by Spark's executors (`ingest --engine spark`).

Spark spreads the input files over its executors; each task parses its files with triage's
own DuckDB ingest (triage.spark_task: one set of parsing rules, no second parser) into a
staged store of its own and returns the staged tables as Arrow batches, which Spark writes
as Parquet into the batch's staging directory with its own commit protocol. The driver then
moves the files into place and names them in the lake's manifest (triage.lake_write), as a
DuckDB batch does: a task Spark retries reads the same lines again into a new staged store,
and only the attempt Spark commits is written, so no line is doubled.

Files that share their first bytes (a log and its rotated copy) may be one source read on
from another: they go to one task, read in order, as one DuckDB ingest would read them.

pyspark is imported here only, and only for this engine: `pip install 'triage[spark]'`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from triage.discover import discover
from triage.exceptions import TriageError
from triage.ingest_summary import FileResult, Summary
from triage.lake import TABLES
from triage.lake_write import LakeWriter
from triage.reader import ReadError, open_input, read_head, sha256
from triage.redact import mask

# How each table's files are ordered, as the DuckDB engine writes them (queries/lake.sql).
ORDER = {
    "records": ["source_id", "line_no"],
    "failed_requests": ["ts", "source_id", "line_no"],
    "request_minutes": ["minute", "source_id", "method", "route"],
    "request_index": ["rid_hash", "source_id", "line_no"],
    "source_lines": ["source_id", "kind", "reject_reason"],
    "source_shapes": ["source_id", "shape"],
}
BY_DAY = ("records", "failed_requests", "request_minutes")


def needs_pyspark() -> None:
    """A clear error, not an ImportError, where pyspark is not installed."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        raise TriageError(
            "--engine spark needs pyspark, an optional extra: pip install 'triage[spark]' "
            "(and a Java 17 runtime), or ingest without --engine spark"
        )


def ingest_with_spark(
    lake: Path,
    args: list[str],
    *,
    master: str,
    wait: float = 0,
    on_wait: Callable[[str], None] | None = None,
    mapping: dict | None = None,
    final: bool = False,
    reread: bool = False,
    **_ignored,
) -> Summary:
    started = time.perf_counter()
    if not args or "-" in args:
        raise TriageError(
            "--engine spark reads files, directories or globs (not stdin, and not --reread "
            "without PATHS); name them, or ingest without --engine spark"
        )
    found = discover(args)
    results = [FileResult(p.path, "error", str(p)) for p in found.problems]
    how = {"mapping": mapping, "final": final, "reread": reread}
    with LakeWriter(lake, wait=wait, on_wait=on_wait) as batch:
        groups = _groups(found.inputs, final)
        if groups:
            try:
                results += _run(session(master), batch, groups, how)
            except Exception as exc:
                if type(exc).__module__.split(".")[0] not in ("pyspark", "py4j"):
                    raise
                raise TriageError(
                    f"Spark could not ingest the files ({mask(cause(exc))}); nothing of this "
                    "batch is in the lake: fix what it says and run the same command again"
                ) from None
    return Summary(results, time.perf_counter() - started)


def cause(exc: Exception) -> str:
    """The line that says what went wrong: a task's Python error (its traceback's last line)
    or Spark's own first line; where Spark did not start, what to check (its own words went
    to the JVM's stderr, which triage silences)."""
    if "JAVA_GATEWAY_EXITED" in str(exc):
        return (
            "Spark did not start: check --spark-master and that a Java 17 runtime is "
            "installed; TRIAGE_DEBUG=1 shows Spark's own words"
        )
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)]
    return (errors or lines or [type(exc).__name__])[-1 if errors else 0][:300]


def plan_tasks(groups: list[list[str]], slots: int, first: int) -> list[tuple[list[str], int]]:
    """Each task's files and the id its new sources count on from: a range of its own above
    `first` (the lake's highest), as long as its files (a file adds at most one source)."""
    shares = _shares(groups, slots)
    stride = 1 + max(len(share) for share in shares)
    return [(share, first + i * stride) for i, share in enumerate(shares)]


def _shares(groups: list[list[str]], slots: int) -> list[list[str]]:
    """The groups dealt out to at most `slots` tasks, biggest first to the least loaded (a
    task's start costs a Python worker and a staged store: one per core, not per file)."""
    load = [0] * max(1, min(slots, len(groups)))
    shares: list[list[str]] = [[] for _ in load]
    for size, group in sorted(((_size(g), g) for g in groups), key=lambda sg: -sg[0]):
        task = load.index(min(load))
        shares[task] += group
        load[task] += size
    order = {name: i for i, name in enumerate(n for g in groups for n in g)}
    return [sorted(share, key=order.__getitem__) for share in shares if share]


def _size(group: list[str]) -> int:
    """Bytes to read, and a byte a file: many empty or missing files are dealt out too."""
    return sum(1 + (os.path.getsize(name) if os.path.exists(name) else 0) for name in group)


def _groups(inputs: list[str], final: bool) -> list[list[str]]:
    """The inputs in groups of files sharing their first bytes, in the order given."""
    groups: dict[str, list[str]] = {}
    for name in inputs:
        try:
            opened = open_input(name, None, final=final, finished_after=float("inf"))
            try:
                head = read_head(opened)
            finally:
                opened.close()
        except (ReadError, OSError):
            head = name.encode()  # read (and reported) by its task, as DuckDB's engine would
        groups.setdefault(sha256(head[:256]), []).append(name)
    return list(groups.values())


def _run(spark, batch: LakeWriter, groups: list[list[str]], how: dict) -> list:
    from pyspark import StorageLevel
    from pyspark.sql.pandas.types import from_arrow_schema

    from triage.spark_task import (
        RESULT,
        SOURCES,
        run_task,
        staged_schemas,
        task_result,
        task_schema,
    )

    first = max((int(s["source_id"]) for s in batch.manifest["sources"]), default=0)
    plan = plan_tasks(groups, spark.sparkContext.defaultParallelism, first)
    tasks = [(json.dumps(paths), first_id) for paths, first_id in plan]
    schema = task_schema(staged_schemas())
    inputs = spark.createDataFrame(tasks, "paths string, first_id long").repartition(len(tasks))
    task = partial(run_task, sources=batch.manifest["sources"], how=how, schema=schema)
    staged = inputs.mapInArrow(task, from_arrow_schema(schema)).persist(StorageLevel.DISK_ONLY)
    try:
        results: list[FileResult] = []
        for row in staged.where(f"lake_table = '{RESULT}'").select(RESULT).collect():
            files, probe = task_result(row[0])
            results += files
            batch.set_probe(probe)
        changed = [
            row.asDict()
            for row in staged.where(f"lake_table = '{SOURCES}'").select(f"{SOURCES}.*").collect()
        ]
        for table in TABLES:
            rows = staged.where(staged.lake_table == table)
            columns = rows.select("day", f"{table}.*")
            target = str(batch.staging / table)
            if table in BY_DAY:
                writer = columns.sortWithinPartitions("day", *ORDER[table]).write.partitionBy("day")
            else:
                writer = columns.drop("day").sortWithinPartitions(*ORDER[table]).write
            if table == "records":
                writer = writer.option("parquet.bloom.filter.enabled#request_id", "true")
            writer.mode("overwrite").parquet(target)
    finally:
        staged.unpersist()
    known = {s["source_id"]: s for s in batch.manifest["sources"]}
    known.update({s["source_id"]: s for s in changed})
    batch.commit([known[k] for k in sorted(known)])
    return results


def _quiet_logs() -> str:
    """The JVM option that gives Spark triage's log settings (errors only), read before
    Spark says anything; none under TRIAGE_DEBUG."""
    if os.environ.get("TRIAGE_DEBUG"):
        return ""
    config = Path(__file__).with_name("spark-log4j2.properties")
    return f"-Dlog4j2.configurationFile={config.as_uri()}"


@contextlib.contextmanager
def _jvm_stderr_quiet():
    """The JVM Spark starts writes its start-up chatter (incubator modules, the default log
    level) to the stderr it inherits: it inherits /dev/null instead, unless TRIAGE_DEBUG is
    set. A failure reaches triage as an exception, said in one line."""
    from pyspark import SparkContext

    if os.environ.get("TRIAGE_DEBUG") or SparkContext._gateway is not None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _shuffle_partitions(master: str) -> str:
    """Spark's 200 shuffle partitions are sized for a cluster; on one machine (local[N]) a
    query's few thousand groups go faster in two per core (a fifth off a weekly report)."""
    m = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\d+)?\])?", master.strip())
    if not m:
        return "200"
    cores = (os.cpu_count() or 1) if m.group(1) in (None, "*") else int(m.group(1))
    return str(2 * cores)


def session(master: str):
    """A Spark session for triage: executors run this Python (where triage is installed),
    timestamps as Parquet's microseconds (what DuckDB writes and reads), zstd."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    with _jvm_stderr_quiet():
        spark = (
            SparkSession.builder.master(master)
            .appName("triage")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            .config("spark.sql.parquet.compression.codec", "zstd")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "131072")
            .config("spark.driver.extraJavaOptions", _quiet_logs())
            .config("spark.sql.shuffle.partitions", _shuffle_partitions(master))
            .getOrCreate()
        )
    spark.sparkContext.setLogLevel("FATAL")  # a failure is said once, as one line (_run)
    return spark
