"""A lake: the store's tables as plain Parquet files in a directory, partitioned by day.

    DIR/records/day=2026-11-10/b000003-0.parquet   every line: events, and rejects (kind 'reject')
    DIR/failed_requests/day=2026-11-10/...          the roll-ups the store keeps, per day where
    DIR/request_minutes/day=2026-11-10/...          they have a time
    DIR/request_index/b000003-0.parquet             the request-id index: a run sorted by hash
    DIR/source_lines/..., DIR/source_shapes/...     per source and batch
    DIR/_triage_manifest.json                       the sources, and every file of the lake

Hive's layout: DuckDB, Spark and Trino read it with no triage installed. The manifest is
what makes it a lake: it names every file that holds data and the sources they were read
from (identity, offsets, counts), and it is replaced in one rename, last, after the files of a
batch are in place (triage.lake_write). Triage reads only the files it names, so a reader
never sees half a batch, and a batch that was interrupted left files no manifest names, which
the next batch removes.

To triage's queries a lake is a store (triage.store.Store): one DuckDB connection in memory,
on which each table is a view over its files, allowed to read the lake's directory and nothing
else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from triage import interrupts
from triage.exceptions import StoreError, first_line
from triage.store import SCHEMA_VERSION, Store, check_rid_hash, migrate, open_store

MANIFEST = "_triage_manifest.json"
LAKE_FORMAT = 1
# The lake's tables, in the order a batch writes them; the first three are split by day.
TABLES = (
    "records",
    "failed_requests",
    "request_minutes",
    "request_index",
    "source_lines",
    "source_shapes",
)
NO_DAY = "__HIVE_DEFAULT_PARTITION__"  # rows without a time: Hive's and Spark's name for none


def default_lake_path() -> Path | None:
    """$TRIAGE_LAKE, when set: a lake instead of the DuckDB store."""
    env = os.environ.get("TRIAGE_LAKE")
    return Path(env).expanduser() if env else None


def read_manifest(lake: Path) -> dict | None:
    """The lake's manifest, or None for a directory no batch has written yet."""
    path = lake / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read the lake's manifest {path}: {exc.strerror}") from None
    try:
        manifest = json.loads(text)
        fmt = int(manifest["lake_format"])
    except (ValueError, KeyError, TypeError):
        raise StoreError(
            f"{path} is not a triage lake manifest; pass --lake with a triage lake, or a new "
            "directory"
        ) from None
    if fmt > LAKE_FORMAT or int(manifest.get("schema_version", 0)) > SCHEMA_VERSION:
        raise StoreError(f"the lake {lake} was written by a newer triage; upgrade triage")
    if int(manifest.get("schema_version", 0)) < SCHEMA_VERSION:
        raise StoreError(
            f"the lake {lake} was written by an older triage (schema version "
            f"{manifest.get('schema_version')}); write a new lake from the same logs with "
            "'triage --lake NEWDIR ingest PATH'"
        )
    return manifest


def open_reader(path: Path) -> Store:
    """A store or a lake (a directory), read-only: what `triage serve` shows either way."""
    return open_lake(path) if path.is_dir() else open_store(path, read_only=True)


def files_of(manifest: dict, table: str) -> list[dict]:
    return [f for f in manifest["files"] if f["table"] == table]


def open_lake(lake: Path | str) -> Store:
    """The lake at `lake` as a read-only store: its tables as views over the files its
    manifest names, its sources and the hash probe from the manifest."""
    lake = Path(lake).resolve()
    manifest = read_manifest(lake)
    if manifest is None:
        raise StoreError(
            f"no lake at {lake} (it has no {MANIFEST}); run 'triage --lake {lake} ingest PATH' "
            "first"
        )
    missing = [f["path"] for f in manifest["files"] if not (lake / f["path"]).is_file()]
    if missing:
        raise StoreError(
            f"the lake {lake} misses {len(missing)} of the files its manifest names (such as "
            f"{missing[0]}); restore them, or write a new lake from the logs"
        )
    con = duckdb.connect(":memory:")
    try:
        # Parquet is read by DuckDB itself: from the lake's directory, and nowhere else
        con.execute("SET allowed_directories = $dirs", {"dirs": [f"{lake}{os.sep}"]})
        interrupts.watch(con)
        store = Store(lake, con)
        store.run("configure_connection")
        migrate(store, None)  # every table, empty: what a table without files reads as
        for table in TABLES:
            _attach(store, lake, table, files_of(manifest, table))
        seed_sources(store, manifest["sources"])
        if manifest.get("rid_hash_probe"):
            store.run("set_rid_hash_probe", {"probe": manifest["rid_hash_probe"]})
        check_rid_hash(store, writable=False)
        store.run("table_macros")
    except duckdb.Error as exc:
        interrupts.forget(con)
        con.close()
        raise StoreError(
            f"cannot read the lake {lake}: {first_line(exc)}; a file it names is missing or "
            "damaged: run the last ingest again, or write a new lake from the logs"
        ) from None
    return store


def _attach(store: Store, lake: Path, table: str, files: list[dict]) -> None:
    """The table as a view over its files, or left as the empty table the schema made when
    there are none."""
    if not files:
        return
    con = store.con
    relation = con.read_parquet([str(lake / f["path"]) for f in files])
    # (rid_hash stays the BIGINT it is written as: a cast here would hide the row groups'
    # hash ranges from a lookup's filter, which would then read the whole index)
    if table == "failed_requests":
        # the view's rowid is the row id each row was written with (examples_at reads it)
        relation = relation.project("* EXCLUDE (row_id), row_id AS rowid")
    con.execute(f"DROP TABLE {table}")  # a name from TABLES, never from input
    relation.create_view(table)


def seed_sources(store: Store, sources: list[dict], *, first_new_id: int = 0) -> None:
    """A store that knows `sources` (a manifest's), and gives a new source an id above
    `first_new_id` (the lake's highest, or a range kept for one Spark task). (Rows as a
    parameter, not a registered Arrow table: registering one makes DuckDB import pandas,
    a quarter of a second, where it is installed.)"""
    if sources:
        store.run("seed_lake_sources", {"rows": sources})
    if first_new_id:
        store.run("advance_source_ids", {"n": first_new_id})
