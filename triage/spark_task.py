"""What one Spark task does (triage.spark): ingest its files with triage's own DuckDB ingest,
into a staged store of its own, and hand the staged tables back as Arrow batches.

This module runs on Spark's executors and never imports pyspark: its batches are plain
pyarrow, one wide schema (TASK_SCHEMA's shape: which lake table a row belongs to, its day,
and a struct column per table, only that table's set), because a task returns one stream.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from triage.ingest_summary import FileResult
from triage.lake import TABLES
from triage.store import open_store

# Rows that are not a table's: the sources as the task left them, and what it did per file.
SOURCES = "sources"
RESULT = "_result"


def staged_schemas() -> dict[str, pa.Schema]:
    """The Arrow schema of each lake table and of the sources, as a staged store writes them."""
    with tempfile.TemporaryDirectory(prefix="triage-schema-") as tmp:
        store = open_store(Path(tmp) / "schema.duckdb")
        try:
            store.run("define_lake_macros")
            schemas = {
                table: store.arrow(f"lake_{table}_of_day", {"day": None}).schema for table in TABLES
            }
            schemas[SOURCES] = store.arrow("lake_sources").schema
        finally:
            store.close()
    return schemas


def task_schema(schemas: dict[str, pa.Schema]) -> pa.Schema:
    fields = [pa.field("lake_table", pa.string()), pa.field("day", pa.string())]
    fields += [pa.field(name, pa.struct(list(schema))) for name, schema in schemas.items()]
    return pa.schema([*fields, pa.field(RESULT, pa.string())])


def run_task(
    batches: Iterator[pa.RecordBatch], *, sources: list[dict], how: dict, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function: each input row names a group of files (paths, JSON) and the
    first source id kept for it; each group is staged and given back."""
    from triage.ingest import ingest_paths
    from triage.lake import seed_sources
    from triage.lake_write import staged_parts, staged_sources

    for batch in batches:
        for paths, first_id in zip(
            batch.column("paths").to_pylist(), batch.column("first_id").to_pylist(), strict=True
        ):
            with tempfile.TemporaryDirectory(prefix="triage-task-") as tmp:
                store = open_store(Path(tmp) / "task.duckdb")
                # one task, one core: Spark runs as many tasks as it has cores
                store.con.execute("SET threads = 1")
                try:
                    seed_sources(store, sources, first_new_id=first_id)
                    summary = ingest_paths(store, json.loads(paths), share=False, **how)
                    for table, day, reader in staged_parts(store):
                        yield from _rows(schema, table, day, reader)
                    changed = _changed_sources(sources, staged_sources(store))
                    yield from _rows(
                        schema, SOURCES, None, pa.Table.from_pylist(changed).to_batches()
                    )
                    yield _result(schema, summary.files, store.one("rid_hash_probe")[0])
                finally:
                    store.close()


def _rows(schema: pa.Schema, table: str, day: str | None, batches) -> Iterator[pa.RecordBatch]:
    struct = schema.field(table).type
    for batch in batches:
        n = batch.num_rows
        if not n:
            continue
        columns = []
        for field in schema:
            if field.name == "lake_table":
                columns.append(pa.array([table] * n, pa.string()))
            elif field.name == "day":
                columns.append(pa.array([day] * n, pa.string()))
            elif field.name == table:
                arrays = [batch.column(f.name).cast(f.type) for f in struct]
                columns.append(pa.StructArray.from_arrays(arrays, fields=list(struct)))
            else:
                columns.append(pa.nulls(n, field.type))
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def _result(schema: pa.Schema, files: list[FileResult], probe: str) -> pa.RecordBatch:
    """What the task did per file, and the hash its DuckDB gave the probe id (the ids' hashes
    in the lake are its)."""
    # (not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs, counting them)
    done = [{**vars(f), "rejected": dict(f.rejected)} for f in files]
    text = json.dumps({"files": done, "rid_hash_probe": probe})
    columns = [
        pa.array([RESULT if f.name == "lake_table" else text if f.name == RESULT else None], f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _changed_sources(before: list[dict], after: list[dict]) -> list[dict]:
    """The sources a task added or moved on: the others are the lake's, unchanged."""
    known = {s["source_id"]: s for s in before}
    return [s for s in after if known.get(s["source_id"]) != s]


def task_result(text: str) -> tuple[list[FileResult], str]:
    """A task's FileResults and hash probe, back from their JSON."""
    from collections import Counter

    result = json.loads(text)
    files = [FileResult(**{**f, "rejected": Counter(f["rejected"])}) for f in result["files"]]
    return files, result["rid_hash_probe"]
