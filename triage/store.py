"""The DuckDB store: where it lives, how a connection is opened, and its schema.

Every connection runs in UTC, with extension autoloading and remote filesystems off. Python
hands DuckDB Arrow data; DuckDB itself never opens a path a log line could name.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from triage import catalog, interrupts, labels, sql
from triage.exceptions import StoreBusy, StoreError, first_line
from triage.redact import mask

SCHEMA_VERSION = 9
REJECTS_SHOWN = 10

# Each step takes a store from version N-1 to N. Version 1 is the first schema.
MIGRATIONS = {
    1: "create_schema_v1",
    2: "migrate_to_v2",
    3: "migrate_to_v3",
    4: "migrate_to_v4",
    5: "migrate_to_v5",
    6: "migrate_to_v6",
    7: "migrate_to_v7",
    8: "migrate_to_v8",
    9: "migrate_to_v9",
}


def default_store_path() -> Path:
    """$TRIAGE_DB, else the XDG data directory (~/.local/share/triage/triage.duckdb)."""
    env = os.environ.get("TRIAGE_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "triage" / "triage.duckdb"


@contextlib.contextmanager
def interruptible():
    """Around each DuckDB statement: a Ctrl-C ends it as the KeyboardInterrupt it is (exit
    130), never as DuckDB's own error ('Query interrupted', 'Interrupted!') or a statement
    that starts or returns as if nothing happened (triage.interrupts)."""
    interrupts.check()
    try:
        yield
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except Exception as exc:
        interrupts.check()
        if isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower():
            raise KeyboardInterrupt from None
        raise
    interrupts.check()


@dataclass
class Store:
    path: Path
    con: duckdb.DuckDBPyConnection
    # Called with each named query and its parameters before it runs (for --show-sql).
    on_sql: Callable[[sql.Query, dict], None] | None = None
    # A writer keeps the process umask at 077 while open, so that the files DuckDB creates
    # later (the write-ahead log) are as private as the store; close() lets go of it.
    private_files: bool = False
    # Whether rid_hash was written by this DuckDB's hash(). A writer makes it so when it
    # opens the store; a reader of a store hashed by another DuckDB compares ids as text.
    rid_hash_ok: bool = True

    def run(self, name: str, params: dict | None = None) -> duckdb.DuckDBPyConnection:
        """Run a named query from queries/ with $params bound, never pasted."""
        q = sql.get(name)
        if self.on_sql:
            self.on_sql(q, params or {})
        with interruptible():
            return self.con.execute(q.sql, q.bind(params))

    def rows(self, name: str, params: dict | None = None) -> list[dict]:
        """A named query's rows as dicts keyed by column name."""
        cur = self.run(name, params)
        with interruptible():
            return sql.rows_of(cur)

    def arrow(self, name: str, params: dict | None = None, batch_rows: int = 131_072):
        """A named query's rows as a pyarrow RecordBatchReader of batch_rows rows a batch."""
        q = sql.get(name)
        if self.on_sql:
            self.on_sql(q, params or {})
        with interruptible():
            return self.con.sql(q.sql, params=q.bind(params)).to_arrow_reader(batch_rows)

    def one(self, name: str, params: dict | None = None) -> tuple:
        """The one row of a named query that always returns one (an aggregate)."""
        row = self.one_or_none(name, params)
        if row is None:
            raise AssertionError(f"query {name!r} returned no row")  # a bug in queries/
        return row

    def one_or_none(self, name: str, params: dict | None = None) -> tuple | None:
        """The first row of a named query, or None (the result is read to its end, as
        DuckDB wants)."""
        cur = self.run(name, params)
        with interruptible():
            rows = cur.fetchall()
        return rows[0] if rows else None

    def why_no_requests(self) -> str:
        """Why a store has no requests to show, and what to do: never "run ingest" to someone
        who did, only to find every line rejected or read as something else."""
        sources, lines, events, _, rejected, reasons = self.one("store_contents")
        if not sources:
            return f"the store {self.path} holds nothing yet; run 'triage ingest PATH' first"
        read = f"{lines:,} lines ingested from {sources} file{'s' if sources != 1 else ''}"
        if events == 0:
            main, *others = reasons or ["unknown"]
            also = f", then {', '.join(others)}" if others else ""
            return (
                f"{read}, all rejected (main reason: {main}{also}): no requests to show; see "
                "'triage info' for the lines and reasons, and 'triage mapping suggest FILE' "
                "for a --mapping that reads them"
            )
        return (
            f"{read}, but none is a request ({events:,} trace or log events, {rejected:,} "
            "rejected): no line has an HTTP method or status; see 'triage info', and pass a "
            "--mapping naming those fields ('triage mapping suggest FILE' proposes one)"
        )

    def examples_at(self, row_ids: list[int]) -> dict[int, str | labels.Shown]:
        """failed_requests row id to example (its request id, else where it was logged), for
        the few example rows a staged query picked."""
        if not row_ids:
            return {}
        found = self.run("examples_at", {"row_ids": sorted(set(row_ids))}).fetchall()
        return {row_id: labels.example(rid, place) for row_id, rid, place in found}

    def let_readers_in(self, pause: float = 0.3, wait: float = 600) -> None:
        """Close the store for a moment, so that commands waiting for it (--wait polls every
        0.2 s) can run, then take it back, waiting for them to finish (they are short).
        DuckDB locks a store for as long as one process has it open, not per transaction."""
        interrupts.forget(self.con)
        self.con.close()
        time.sleep(pause)
        deadline = time.monotonic() + wait
        while True:
            try:
                self.con = duckdb.connect(str(self.path))
                interrupts.watch(self.con)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise _open_error(self.path, exc) from None
                time.sleep(0.1)
        self.run("configure_connection")
        self.run("table_macros")  # as open_store: a connection's macros are its own

    def register_catalog(self) -> None:
        """Make the documented error catalogue joinable as catalog_types / catalog_codes."""
        for name, rows in catalog.tables().items():
            self.run(f"{name}_table", {"rows": rows})

    def close(self) -> None:
        interrupts.forget(self.con)
        self.con.close()
        if self.private_files:
            self.private_files = False
            private_umask.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _PrivateUmask:
    """umask 077 while any store is being opened or a writer is open; the user's umask after.

    Counted, because a process (a test, a library user) may hold several stores at once and
    close them in any order.
    """

    def __init__(self) -> None:
        self._holders = 0
        self._saved = 0

    def acquire(self) -> None:
        if self._holders == 0:
            self._saved = os.umask(0o077)
        self._holders += 1

    def release(self) -> None:
        self._holders -= 1
        if self._holders == 0:
            os.umask(self._saved)


private_umask = _PrivateUmask()

_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


def open_store(path: Path | str | None = None, *, read_only: bool = False) -> Store:
    """Open (and for writers, create or migrate) the store at `path`."""
    path = Path(path) if path is not None else default_store_path()
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}; run 'triage ingest PATH' first (or pass --db)")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_file() and path.stat().st_size == 0:
                path.unlink()  # an empty file (mktemp's, say): the store is made in its place
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror}; pass --db") from None
    # The store holds customer traffic: its files are readable by their owner only.
    private_umask.acquire()
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        private_umask.release()
        raise _open_error(path, exc) from None
    except duckdb.Error as exc:
        private_umask.release()
        raise StoreError(
            f"cannot open {path} as a DuckDB store ({first_line(exc)}); "
            "pass --db with a triage store, or a new path"
        ) from None
    if read_only:
        private_umask.release()
    interrupts.watch(con)
    store = Store(path, con, private_files=not read_only)
    store.run("configure_connection")
    version = _schema_version(store)
    if version is not None and version > SCHEMA_VERSION:
        store.close()
        raise StoreError(
            f"{path} has schema version {version}, newer than this triage "
            f"understands ({SCHEMA_VERSION}); upgrade triage"
        )
    if version is None:
        _refuse_foreign(store)
    if read_only:
        if version is None:
            store.close()
            raise StoreError(
                f"{path} is an empty DuckDB database, not a triage store yet; run "
                f"'triage --db {path} ingest PATH' to make it one"
            )
        if version < SCHEMA_VERSION:  # a reader cannot migrate it, and its queries need to
            store.close()
            raise StoreError(
                f"{path} was made by an older triage (schema version {version}); run "
                f"'triage --db {path} ingest' with any of its log files once to upgrade it "
                "(nothing is read twice)"
            )
    else:
        migrate(store, version)
    check_rid_hash(store, writable=not read_only)
    # (DuckDB binds a table macro's tables when it is made: only once the schema is current)
    store.run("table_macros")
    return store


def _refuse_foreign(store: Store) -> None:
    """A DuckDB database that holds anything but a triage store is someone else's: triage
    neither reads it as a store nor adds its tables into it."""
    objects = store.run("database_objects").fetchall()
    if not objects:
        return
    store.close()
    shown = ", ".join(f"{kind} {name}" for kind, name in objects)
    raise StoreError(
        f"{store.path} is a DuckDB database but not a triage store (it holds {shown}); "
        "pass --db with a triage store, or a path where none exists yet"
    )


def check_rid_hash(store: Store, *, writable: bool) -> None:
    """rid_hash values are comparable with this DuckDB's hash() only if it wrote them: after
    a DuckDB upgrade a writer hashes the ids again (once), a reader falls back to text."""
    probe = store.one("rid_hash_probe")[0]
    stored = store.one_or_none("stored_rid_hash_probe")
    if stored is not None and stored[0] == probe:
        return
    if not writable:
        store.rid_hash_ok = False
        return
    store.con.begin()
    store.run("rehash_request_ids")
    store.run("reindex_request_ids")
    store.run("set_rid_hash_probe", {"probe": probe})
    store.con.commit()


def _schema_version(store: Store) -> int | None:
    if not store.one("has_meta_table")[0]:
        return None
    row = store.one_or_none("schema_version")
    return int(row[0]) if row else None


def migrate(store: Store, version: int | None) -> None:
    current = version or 0
    for target in range(current + 1, SCHEMA_VERSION + 1):
        store.con.begin()
        store.run(MIGRATIONS[target])
        store.run("set_schema_version", {"version": str(target)})
        store.con.commit()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _open_error(path: Path, exc: duckdb.IOException) -> Exception:
    text = str(exc)
    if "lock" in text.lower():
        holder = _LOCK_HOLDER.search(text)
        who = _process(int(holder.group(1))) if holder else "another process"
        busy = StoreBusy(
            f"the store {path} is in use by {who}; wait for it to finish, or pass --wait SECONDS"
        )
        busy.holder = who
        return busy
    return StoreError(
        f"cannot open the store {path}: {first_line(exc)}; pass --db with a triage store, "
        "or a path where none exists yet"
    )


def _process(pid: int) -> str:
    """'process 123 (triage ingest big.log)': which program holds the store, where we can tell."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            args = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return f"process {pid}"
    if len(args) > 2 and args[1:3] == ["-m", "triage"]:
        args = ["triage", *args[3:]]
    elif args:
        args[0] = Path(args[0]).name
    command = " ".join(args)
    return f"process {pid} ({command[:80]})" if command else f"process {pid}"


# A writer that finds the store held waits at least this long, whatever --wait says: readers
# (a lookup, a page of `triage serve`) hold it for well under a second, and a server stands
# aside while a writer's marker is there (writer_waiting), so a cron ingest never fails on
# a page someone happened to load.
WRITER_GRACE = 5.0


def writer_marker(path: Path) -> Path:
    """The file a writer leaves beside the store while it waits for readers to let go."""
    return path.with_name(path.name + ".writer-waiting")


def writer_waiting(path: Path) -> bool:
    """Whether a live process waits to write the store (a marker left by one that was
    killed names a process that is gone, and is ignored)."""
    try:
        pid = int(writer_marker(path).read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_store_waiting(
    path: Path | str | None,
    *,
    read_only: bool,
    wait: float,
    on_wait: Callable[[str], None] | None = None,
) -> Store:
    """open_store, retrying for up to `wait` seconds while another process holds the store
    (a writer: at least WRITER_GRACE, with its marker out for readers that can stand aside)."""
    path = Path(path) if path is not None else default_store_path()
    deadline = time.monotonic() + (wait if read_only else max(wait, WRITER_GRACE))
    told = False
    marker = None
    try:
        while True:
            try:
                return open_store(path, read_only=read_only)
            except StoreBusy as busy:
                if time.monotonic() >= deadline:
                    raise
                if not read_only and marker is None:
                    marker = writer_marker(path)
                    with contextlib.suppress(OSError):
                        marker.write_text(f"{os.getpid()}\n", encoding="ascii")
                if on_wait and not told and wait > 0:
                    on_wait(f"waiting up to {wait:g}s for the store: it is in use by {busy.holder}")
                    told = True
                time.sleep(0.1)
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.unlink()


def describe(store: Store, *, parsing_rules: int) -> dict:
    """What `triage info` shows: which store, its schema, sources (with the mapping and the
    parsing rules each was read with: those older than `parsing_rules` are listed apart),
    counts and time range."""
    overview = store.run("store_overview")
    cols = [d[0] for d in overview.description]
    summary = dict(zip(cols, overview.fetchall()[0], strict=True))
    sources = [_source_facts(row) for row in store.rows("store_sources")]
    older = [s for s in sources if s["rules_version"] < parsing_rules]
    rejects = dict(store.run("rejects_by_reason").fetchall())
    sample = first_rejects(store, REJECTS_SHOWN)
    return {
        "store": str(store.path),
        "kind": "lake" if store.path.is_dir() else "store",
        "schema_version": _schema_version(store),
        **summary,
        "rejected_by_reason": rejects,
        "source_files": sources,
        "parsing_rules": parsing_rules,
        "read_with_older_rules": [
            {"source_id": s["source_id"], "path": s["path"], "rules_version": s["rules_version"]}
            for s in older
        ],
        "reread_hint": "run triage ingest --reread" if older else None,
        "rejects_sample": [
            {"source": p, "line": n, "byte_offset": o, "reason": r, "detail": d, "raw": mask(raw)}
            for p, n, o, r, d, raw in sample
        ],
    }


FIRST_LINES = 100_000  # where first_rejects looks first, in each file


def first_rejects(store: Store, limit: int) -> list[tuple]:
    """The first `limit` rejected lines by file and line, as the named query rejects_sample
    gives them, read from each file's first lines onward in ranges eight times wider each time
    until it has enough (or all of that file's): a few row groups, where rejects_sample reads
    every row (0.9 s warm at 50M lines). Sources that share a path (a file rotated and made
    again) are merged by line, as rejects_sample orders them."""
    found: list[tuple] = []
    sources = store.rows("sources_with_rejects")
    for _, same_path in itertools.groupby(sources, key=lambda source: source["path"]):
        need = limit - len(found)
        rows = [row for source in same_path for row in _first_rejects_of(store, source, need)]
        found += sorted(rows, key=lambda row: row[1])[:need]  # (line_no)
        if len(found) >= limit:
            break
    return found


def _first_rejects_of(store: Store, source: dict, need: int) -> list[tuple]:
    before = FIRST_LINES
    while True:
        params = {"source_id": source["source_id"], "before": before, "limit": need}
        rows = store.run("rejects_of_source_before", params).fetchall()
        if len(rows) == need or len(rows) == source["rejected"]:
            return rows
        if before > source["lines_consumed"]:
            return rows
        before *= 8


def _source_facts(row: dict) -> dict:
    """A source as info shows it: its mapping in short ("auto", or the columns it names),
    and in full."""
    from triage.mapping import mapping_columns  # (tomllib: only `info` needs it)

    text = row.pop("mapping")
    return {
        **row,
        "mapping": mapping_columns(text),
        "mapping_rules": json.loads(text) if text else None,
    }


def describe_range(store: Store) -> dict:
    """What time the store covers and when it was last fed."""
    row = store.one("store_range")
    return dict(zip(("first_event", "last_event", "last_ingested_at", "events"), row, strict=True))
