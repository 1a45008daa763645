"""A lake whose big reads run on Spark: the store of `errors|contract|report weekly|incident
--engine spark`.

To the query modules it is a store like any other (triage.store.Store): they run named
queries on it and read rows. A query that reads the lake's big tables (the lines, the
failures, the per-minute counts: triage.spark_sql.BIG_TABLES) runs on Spark SQL, transpiled
from its DuckDB text, over the Parquet files the manifest names; its rows come back as Arrow
into this store's DuckDB connection, as the temporary table the query stages, or as its
answer. Everything else (finishing a report from a few thousand staged rows, the catalogue's
checks) runs on that DuckDB connection, with the same text as the DuckDB engine, so the
output is the same, byte for byte. The staged tables a Spark query reads are handed to Spark
first (a few thousand rows).

pyspark is imported here only, and only for this engine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from triage import spark_sql, sql
from triage.exceptions import TriageError
from triage.lake import TABLES, files_of, open_lake, read_manifest
from triage.redact import mask
from triage.spark import cause
from triage.store import Store

# Queries that read a few rows by key, as lookup does: DuckDB reads them from the lake's files.
ON_DUCKDB = frozenset({"examples_at"})


@dataclass
class SparkStore(Store):
    spark: Any = None

    def run(self, name: str, params: dict | None = None) -> duckdb.DuckDBPyConnection:
        plan = None if name in ON_DUCKDB else spark_sql.spark_query(name)
        if plan is None:
            return super().run(name, params)
        q = sql.get(name)
        if self.on_sql:  # (--show-sql: the query's text, and what Spark was given)
            shown = f"{q.sql}\n-- run on Spark as:\n{plan.spark_sql}"
            self.on_sql(dataclasses.replace(q, sql=shown), params or {})
        self._hand_over(plan.reads)
        try:
            rows = self.spark.sql(plan.spark_sql, args=q.bind(params)).toArrow()
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("pyspark", "py4j"):
                raise
            raise TriageError(
                f"Spark could not run the query {name} ({mask(cause(exc))}); run again "
                "without --engine spark to answer from this machine"
            ) from None
        self.con.register("spark_rows", rows)
        if plan.stage:  # (a name from queries/, not from input)
            return self.con.execute(f"CREATE OR REPLACE TEMP TABLE {plan.stage} AS FROM spark_rows")
        return self.con.execute("FROM spark_rows")

    def _hand_over(self, tables: frozenset[str]) -> None:
        """The temporary tables a Spark query reads that an earlier query staged here."""
        for table in tables & sql.staged_tables():
            arrow = self.con.table(table).to_arrow_table()  # a name from queries/, not from input
            self.spark.createDataFrame(arrow).createOrReplaceTempView(table)


def open_spark_store(lake: Path, master: str) -> SparkStore:
    """The lake at `lake` read through Spark (`master`) for its big tables, through DuckDB
    for the rest."""
    from triage.spark import needs_pyspark, session

    needs_pyspark()
    store = open_lake(lake)
    manifest = read_manifest(Path(lake).resolve())
    assert manifest is not None  # open_lake refused a directory without one
    spark_store = SparkStore(store.path, store.con, rid_hash_ok=store.rid_hash_ok)
    try:
        spark_store.spark = session(master)
        _views(spark_store, Path(lake).resolve(), manifest)
    except TriageError:
        spark_store.close()
        raise
    except Exception as exc:
        spark_store.close()
        raise TriageError(
            f"Spark could not read the lake {lake} ({mask(cause(exc))}); run again without "
            "--engine spark to answer from this machine"
        ) from None
    return spark_store


def _views(store: SparkStore, lake: Path, manifest: dict) -> None:
    """The lake's tables as Spark views over the manifest's files, named as DuckDB names
    them (an empty table: DuckDB's empty table, with its columns), and the sources."""
    spark = store.spark
    for table in TABLES:
        files = files_of(manifest, table)
        if files:
            frame = spark.read.option("basePath", str(lake / table)).parquet(
                *[str(lake / f["path"]) for f in files]
            )
        else:  # the empty table the schema made, with the columns the files would have
            empty = store.con.table(table)  # a name from TABLES
            if table == "failed_requests":
                empty = empty.project("*, rowid AS row_id")
            frame = spark.createDataFrame(empty.to_arrow_table())
        frame.createOrReplaceTempView(table)
    spark.sql("SELECT * FROM records WHERE kind <> 'reject'").createOrReplaceTempView("events")
    spark.createDataFrame(store.con.table("sources").to_arrow_table()).createOrReplaceTempView(
        "sources"
    )
