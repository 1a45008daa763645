"""Writing a lake (triage.lake): each ingest is a batch, staged, written, then named.

1. The lake is locked: one writer at a time (readers never wait: they read what the manifest
   names, and a batch never changes a file the manifest names).
2. What an interrupted batch left is removed: files no manifest names, and its staging.
3. The batch is staged in a DuckDB store of its own that knows the lake's sources, so that
   triage's ingest, unchanged, reads each file on from where the lake has it (nothing read
   twice) and accounts for every line, as it does into a store.
4. The staged tables are written as Parquet, a file per table and day, in the staging
   directory, then moved into place (the Spark engine writes them there with Spark).
5. The manifest is replaced in one rename: the files before, the new ones, the sources as
   the batch left them. Only now does any reader see the batch.

A source read again from its first line (--reread, a new mapping) has its rows in files of
earlier batches: those files are written again without them, and the manifest names the new
ones instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from triage.exceptions import StoreBusy, StoreError
from triage.ingest_summary import Summary
from triage.lake import LAKE_FORMAT, MANIFEST, NO_DAY, TABLES, read_manifest, seed_sources
from triage.store import SCHEMA_VERSION, Store, open_store, private_umask

LOCK = "_triage.lock"
_BATCH_FILE = re.compile(r"^b\d{6}-\d+\.parquet$")  # the files a batch places (part_path)
STAGING = "_staging"
# Rows per row group in records: a lookup reads one such group of a file, and a bloom filter
# on request_id per group tells Spark and Trino (and DuckDB) which groups hold an id.
ROW_GROUP_ROWS = 131_072
# Columns nearly every row gives a value of its own: no dictionary (it only grows the file,
# and beside request_id's bloom filter made writing a day's records 2.5 times slower).
UNIQUE_VALUES = frozenset(
    {
        "request_id",
        "raw",
        "path",
        "message",
        "error_message",
        "error_request_id",
        "client_ip",
        "duration_raw",
        "reject_detail",
        "ts",
        "line_no",
        "byte_offset",
        "rid_hash",
        "duration_ms",
        "row_id",
    }
)


class LakeWriter:
    """One batch of a lake: `with LakeWriter(lake) as batch`, then stage(), write_staged()
    (or files placed in batch.staging by another engine), commit()."""

    def __init__(
        self, lake: Path, *, wait: float = 0, on_wait: Callable[[str], None] | None = None
    ) -> None:
        self.lake = Path(lake).resolve()
        self.wait = wait
        self.on_wait = on_wait
        self.manifest: dict = {}
        self.number = 0
        self._lock_fd: int | None = None
        self._replaced: set[str] = set()  # files of earlier batches written again

    @property
    def staging(self) -> Path:
        return self.lake / STAGING / f"b{self.number:06d}"

    def __enter__(self) -> LakeWriter:
        private_umask.acquire()  # the lake holds customer traffic, as the store does
        try:
            try:
                self.lake.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot make the lake {self.lake}: {exc.strerror}; pass --lake with a "
                    "directory you can write"
                ) from None
            self._lock()
            manifest = read_manifest(self.lake)
            if manifest is None:
                self._refuse_foreign()
            self.manifest = manifest or _new_manifest()
            self.number = int(self.manifest["batches"]) + 1
            self._remove_leftovers()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError):
            shutil.rmtree(self.lake / STAGING)
        self._release()

    def _lock(self) -> None:
        try:
            fd = os.open(self.lake / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot write the lake {self.lake}: {exc.strerror}") from None
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._lock_fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StoreBusy(
                        f"the lake {self.lake} is being written by another ingest; wait for "
                        "it to finish, or pass --wait SECONDS"
                    ) from None
                if self.on_wait and not told:
                    self.on_wait(f"waiting up to {self.wait:g}s for another ingest of the lake")
                    told = True
                time.sleep(0.2)

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        private_umask.release()

    def _refuse_foreign(self) -> None:
        """A directory that holds anything but a lake's own files is someone else's: triage
        neither writes a lake into it nor removes a file of it."""
        own = {LOCK, STAGING, *TABLES}
        foreign = sorted(p.name for p in self.lake.iterdir() if p.name not in own)
        foreign += sorted(
            p.relative_to(self.lake).as_posix()
            for table in TABLES
            for p in (self.lake / table).rglob("*")
            if p.is_file() and not _BATCH_FILE.match(p.name)
        )
        if foreign:
            raise StoreError(
                f"{self.lake} is not a triage lake and not empty (it holds {foreign[0]}); pass "
                "--lake with a triage lake, or a new or empty directory"
            )

    def _remove_leftovers(self) -> None:
        """Files an interrupted batch wrote but no manifest names, and its staging."""
        named = {f["path"] for f in self.manifest["files"]}
        for table in TABLES:
            for path in sorted((self.lake / table).rglob("*.parquet")):
                if (
                    _BATCH_FILE.match(path.name)
                    and path.relative_to(self.lake).as_posix() not in named
                ):
                    path.unlink()
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.lake / STAGING)

    def stage(self) -> Store:
        """The batch's DuckDB store, knowing the lake's sources and its highest source id."""
        self.staging.mkdir(parents=True)
        store = open_store(self.staging / "batch.duckdb")
        seed_sources(store, self.manifest["sources"], first_new_id=_highest_id(self.manifest))
        return store

    def write_staged(self, store: Store) -> None:
        """The staged store's tables as Parquet files in the staging directory."""
        for table, day, reader in staged_parts(store):
            write_parquet(reader, part_path(self.staging, table, day, "part-0"), table)

    def commit(self, sources: list[dict]) -> dict:
        """Move the staged files into place and name them, with `sources` (every source of
        the lake, as the batch left them), in a new manifest. A source whose rows start again
        from its first line has its earlier rows dropped from the files that hold them."""
        restarted = _restarted_sources(self.manifest["sources"], self._staged_firsts())
        kept = self._without_sources(restarted)
        placed = self._place_staged()
        manifest = {
            **self.manifest,
            "batches": self.number,
            "sources": sources,
            "files": kept + placed,
        }
        _write_json_atomically(self.lake / MANIFEST, manifest)
        for path in self._replaced:
            with contextlib.suppress(FileNotFoundError):
                (self.lake / path).unlink()
        self.manifest = manifest
        return manifest

    def set_probe(self, probe: str) -> None:
        """The hash this batch's DuckDB gave the probe id: when an earlier batch's differs,
        no lookup can trust the stored hashes ('mixed': readers compare ids as text)."""
        known = self.manifest.get("rid_hash_probe")
        if known is None and not self.manifest["files"]:
            self.manifest["rid_hash_probe"] = probe
        elif known != probe:
            self.manifest["rid_hash_probe"] = "mixed"

    def _staged_files(self) -> Iterable[tuple[str, str | None, Path]]:
        for table in TABLES:
            for path in sorted((self.staging / table).rglob("*.parquet")):
                day = (
                    path.parent.name.removeprefix("day=")
                    if path.parent.name[:4] == "day="
                    else None
                )
                yield table, day, path

    def _staged_firsts(self) -> dict[int, int]:
        """The first line number each source has among the staged records."""
        firsts: dict[int, int] = {}
        for table, _day, path in self._staged_files():
            if table != "records":
                continue
            rows = pq.read_table(path, columns=["source_id", "line_no"])
            grouped = rows.group_by("source_id").aggregate([("line_no", "min")])
            for sid, first in zip(
                grouped["source_id"].to_pylist(), grouped["line_no_min"].to_pylist(), strict=True
            ):
                firsts[sid] = min(first, firsts.get(sid, first))
        return firsts

    def _without_sources(self, restarted: set[int]) -> list[dict]:
        """The manifest's files, each holding a restarted source written again without it."""
        kept = []
        for entry in self.manifest["files"]:
            if not restarted & set(entry["sources"]):
                kept.append(entry)
                continue
            self._replaced.add(entry["path"])
            table = pq.read_table(self.lake / entry["path"])
            mask = pc.invert(pc.is_in(table["source_id"], pa.array(sorted(restarted), pa.int64())))
            rest = table.filter(mask)
            if rest.num_rows:
                name = f"rewrite-{len(self._replaced)}"
                target = part_path(self.staging, entry["table"], entry.get("day"), name)
                write_parquet(
                    pa.RecordBatchReader.from_batches(rest.schema, rest.to_batches()),
                    target,
                    entry["table"],
                )
        return kept

    def _place_staged(self) -> list[dict]:
        placed = []
        counters: dict[tuple[str, str | None], int] = {}
        for table, day, path in self._staged_files():
            meta = pq.read_metadata(path)
            if meta.num_rows == 0:
                continue  # (Spark writes a file even for a table with no rows)
            n = counters.get((table, day), 0)
            counters[table, day] = n + 1
            final = part_path(self.lake, table, day, f"b{self.number:06d}-{n}")
            final.parent.mkdir(parents=True, exist_ok=True)
            sources = pq.read_table(path, columns=["source_id"])["source_id"]
            os.replace(path, final)
            placed.append(
                {
                    "table": table,
                    "day": day,
                    "path": final.relative_to(self.lake).as_posix(),
                    "rows": meta.num_rows,
                    "batch": self.number,
                    "sources": sorted(pc.unique(sources).to_pylist()),
                }
            )
        return placed


def _new_manifest() -> dict:
    return {
        "lake_format": LAKE_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "rid_hash_probe": None,
        "batches": 0,
        "sources": [],
        "files": [],
    }


def _highest_id(manifest: dict) -> int:
    return max((int(s["source_id"]) for s in manifest["sources"]), default=0)


def staged_parts(store: Store) -> Iterator[tuple[str, str | None, pa.RecordBatchReader]]:
    """A staged store's tables, a part per table and day, each as its rows in the order the
    lake keeps them (queries/lake.sql): what a batch writes, or a Spark task hands back."""
    store.run("define_lake_macros")
    for table, day, _count in store.run("lake_parts").fetchall():
        yield table, day, store.arrow(f"lake_{table}_of_day", {"day": day})


def staged_sources(store: Store) -> list[dict]:
    """Every source a staged store knows, as the manifest keeps them."""
    return store.rows("lake_sources")


def _restarted_sources(before: list[dict], firsts: dict[int, int]) -> set[int]:
    """Sources whose staged rows start at or before a line the lake already holds: read again
    from their first line, their earlier rows are replaced."""
    consumed = {int(s["source_id"]): int(s["lines_consumed"]) for s in before}
    return {sid for sid, first in firsts.items() if first <= consumed.get(sid, 0)}


def part_path(root: Path, table: str, day: str | None, name: str) -> Path:
    """Where a file of `table` for `day` goes: Hive's day=... directory for tables by day."""
    folder = root / table if day is None else root / table / f"day={day or NO_DAY}"
    return folder / f"{name}.parquet"


def write_parquet(reader: pa.RecordBatchReader, path: Path, table: str) -> None:
    """One Parquet file from Arrow batches: zstd, statistics and page indexes for every engine
    to skip by, and for records a bloom filter on request_id per row group."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blooms = {"request_id": {"ndv": ROW_GROUP_ROWS, "fpp": 0.01}} if table == "records" else None
    with pq.ParquetWriter(
        path,
        reader.schema,
        compression="zstd",
        use_dictionary=[name for name in reader.schema.names if name not in UNIQUE_VALUES],
        write_page_index=True,
        bloom_filter_options=blooms,
    ) as writer:
        for batch in reader:
            writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _write_json_atomically(path: Path, value: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(value, fh, indent=1, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def ingest_into_lake(
    lake: Path,
    args: list[str],
    *,
    wait: float = 0,
    on_wait: Callable[[str], None] | None = None,
    **how,
) -> Summary:
    """triage.ingest.ingest_paths, into a lake: one batch, staged, written and named. What
    finished before a Ctrl-C is committed, as a store keeps the files it finished."""
    from triage.ingest import ingest_paths

    with LakeWriter(lake, wait=wait, on_wait=on_wait) as batch:
        store = batch.stage()
        try:
            summary = ingest_paths(store, args, share=False, **how)
            batch.set_probe(store.one("rid_hash_probe")[0])
            batch.write_staged(store)
            sources = staged_sources(store)
        finally:
            store.close()
        batch.commit(sources)
    return summary
