"""The Spark engine (triage.spark, triage.spark_store), on a real Spark in local mode: the same
logs ingested by DuckDB into a store, by DuckDB into a lake and by Spark into a lake give the
same rows and byte-identical answers; a second Spark batch reads only what is new; the
commands whose big reads run as Spark SQL (--engine spark) print what the DuckDB engine
prints on the same lake, byte for byte.

Few tests, each Spark job a dozen seconds: the suite stays within CI's time."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from tests.conftest import append_lines, request_line, run_triage, write_lines
from tests.sample_truth import SAMPLE_LOGS
from tests.test_lake import lake_files, manifest_of, some_ids

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark

SPARK = ["--engine", "spark", "--spark-master", "local[2]"]


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    logs = root / "logs"
    shutil.copytree(SAMPLE_LOGS, logs)
    db, duck, spark = root / "store.duckdb", root / "duck-lake", root / "spark-lake"
    assert run_triage("--db", db, "ingest", logs).returncode == 0
    assert run_triage("--lake", duck, "ingest", logs).returncode == 0
    done = run_triage("--lake", spark, "ingest", *SPARK, logs, "--format", "json")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return root, logs, db, duck, spark, json.loads(done.stdout)


def counts(lake) -> list[tuple]:
    """Rows per day, kind, status, type and code, read as Spark or Trino would (no triage)."""
    return (
        duckdb.connect()
        .execute(
            f"""SELECT day, kind, status, error_type, error_code, count(*)
                FROM read_parquet('{lake}/records/*/*.parquet', hive_partitioning = true,
                                  hive_types = {{'day': VARCHAR}})
                GROUP BY ALL ORDER BY ALL"""
        )
        .fetchall()
    )


def test_spark_writes_the_lake_duckdb_writes(three):
    _, _, db, duck, spark, summary = three
    assert summary["files_failed"] == 0 and summary["lines"] > 18_000
    assert counts(spark) == counts(duck)
    # the ids were hashed by the tasks' DuckDB: lookups may use the index (not "mixed")
    assert manifest_of(spark)["rid_hash_probe"] == manifest_of(duck)["rid_hash_probe"] != "mixed"
    assert lake_files(spark) == {f["path"] for f in manifest_of(spark)["files"]}
    for command in (
        ["errors", "--format", "json"],
        ["errors", "--by", "route,status,org", "--format", "csv"],
        ["contract", "--format", "json"],
        ["report", "weekly", "--week", "2026-W46"],
        ["report", "weekly", "--week", "2026-W45", "--format", "html"],
        ["incident", "--auto"],
        ["lookup", *some_ids(db)[:4], "--format", "json"],
    ):
        outputs = [
            run_triage(*where, *command)
            for where in (["--db", db], ["--lake", duck], ["--lake", spark])
        ]
        assert [o.returncode for o in outputs] == [0, 0, 0], command
        assert outputs[2].stdout == outputs[1].stdout == outputs[0].stdout, command


def test_a_second_spark_batch_reads_only_what_is_new(three):
    """Lines already in the lake are not read again (else the counts would differ from the
    DuckDB lake's), the appended and the new file's are. (In this process: the Spark SQL test
    below reuses its session rather than start a JVM of its own.)"""
    from triage.spark import ingest_with_spark

    root, logs, _, duck, spark, _ = three
    before = counts(spark)

    append_lines(logs / "gateway-us.ndjson", [request_line(i, statusCode=503) for i in range(7)])
    write_lines(logs / "new.ndjson", [request_line(i, statusCode=404) for i in range(10, 15)])
    summary = ingest_with_spark(spark, [str(logs)], master="local[2]").as_dict()
    assert summary["files_failed"] == 0 and summary["lines"] == 12
    done = run_triage("--lake", duck, "ingest", logs, "--format", "json")
    assert json.loads(done.stdout)["lines"] == 12
    assert counts(spark) == counts(duck) != before
    assert lake_files(spark) == {f["path"] for f in manifest_of(spark)["files"]}
    same = [
        run_triage("--lake", lake, "errors", "--format", "json").stdout for lake in (duck, spark)
    ]
    assert same[0] == same[1]


def test_the_commands_answer_on_spark_sql_as_on_duckdb(three):
    """errors, contract, report weekly and incident with --engine spark: each query that
    reads the lake's lines or failures is run by Spark, transpiled from its DuckDB text; what
    they print is the DuckDB engine's output on the same lake, byte for byte. In this process
    (CliRunner), on the session the batch above started: a JVM is a dozen seconds."""
    from click.testing import CliRunner

    from triage.cli import cli

    spark = three[4]
    runner = CliRunner()
    for command in (
        # local days (local_time: lists bound as Spark parameters), routes' requests, a
        # filter, and one that matches nothing (its close values are read from the failures)
        ["errors", "--by", "day,route,code", "--tz", "Europe/Paris", "--status", "4xx"],
        ["errors", "--org", "org_nobody", "--format", "json"],
        ["contract", "--format", "json"],
        # two weeks' failures, per-minute counts, bursts and their incidents, data quality
        ["report", "weekly", "--week", "2026-W46", "--tz", "America/New_York"],
        ["incident", "--auto", "--format", "json"],
    ):
        on_duckdb = runner.invoke(cli, ["--lake", str(spark), *command])
        on_spark = runner.invoke(cli, ["--lake", str(spark), *command, *SPARK])
        assert on_duckdb.exit_code == 0, on_duckdb.output
        assert on_spark.exit_code == 0, on_spark.output
        assert on_spark.stdout == on_duckdb.stdout, command
        assert on_spark.stderr == on_duckdb.stderr, command
        assert on_duckdb.stdout.strip() or "org_nobody" in command


def test_spark_sql_reads_a_lake_duckdb_wrote_with_no_triage(three):
    """The lake is plain Parquet: Spark SQL, knowing nothing of triage or its manifest, counts
    the DuckDB lake's rows per day, kind, status, type and code as DuckDB does."""
    from triage.spark import session

    _, _, _, duck, _, _ = three
    spark = session("local[2]")  # (the session the batch above started, where it ran first)
    try:
        rows = spark.sql(
            f"""SELECT CAST(day AS STRING), kind, status, error_type, error_code, count(*)
                FROM parquet.`{duck}/records` GROUP BY ALL"""
        ).collect()
    finally:
        spark.stop()
    key = lambda row: tuple((v is None, v) for v in row)  # noqa: E731 (NULLs sort apart)
    assert sorted(map(tuple, rows), key=key) == sorted(counts(duck), key=key)
