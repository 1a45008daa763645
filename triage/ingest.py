"""Ingesting log files into the store, every line accounted for, each exactly once.

Python orchestrates: it finds the files, recognises ones it has seen (by content, not by
path: triage.sources), and streams their new bytes to DuckDB as Arrow batches of raw lines.
DuckDB parses, normalises and classifies them in one INSERT (queries/ingest.sql). A file's rows,
its rejects and its new offset commit in one transaction, so an interrupted ingest leaves the
store as it was before that file, and the next run picks the file up again. A source read again
from its first line (a new mapping, --reread) has its rows replaced in that same transaction.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from triage import sql
from triage.discover import discover
from triage.exceptions import TriageError, first_line
from triage.ingest_summary import FileResult, Summary
from triage.mapping import mapping_params, mapping_text
from triage.misfit import misfit_warning
from triage.reader import (
    HEAD_LEN,
    LINE_SCHEMA,
    LineReader,
    Opened,
    ReadError,
    needs_spooling,
    open_input,
    prefetched,
    read_head,
    sha256,
    spool,
    unspool,
)
from triage.redact import mask
from triage.sources import Start, plan_read, sources_with_older_rules
from triage.store import Store

MAX_LINE_BYTES = 1 << 20  # longer lines are rejected as too_long (their neighbours are kept)
# Rows whose request ids make a run of the request-id index of their own (schema.sql,
# migrate_to_v6): about eight of DuckDB's row groups, each then holding a narrow hash range.
INDEX_RUN_ROWS = 1 << 20
# The version of the rules the ingest query reads lines with: bump it when queries/ingest.sql
# reads lines differently. Each source remembers the version its rows were read with; sources
# read with an older one are listed by `triage info` and re-read by `triage ingest --reread`.
# 3: a flattened error message is read only beside its type or code; a line the general rule
# cannot read tries every shape in order, its block's marks aside.
PARSING_RULES = 3
# A plain file unchanged this long is finished: its last line is taken even without a newline
# (exports often end that way). A live file gets its newline long before.
FINISHED_AFTER_SECONDS = 300.0
REREAD_ON_REQUEST = "re-read from its first line"
REREAD_OLDER_RULES = "re-read with the current parsing rules"
# An ingest of many files lets waiting commands in between files once it has held the store
# this long (DuckDB locks a store for the whole time a process has it open): a reader waits
# about this long plus the file being read, and a long ingest pays a 0.3 s pause each time.
SHARE_AFTER_SECONDS = 5.0


def share_after() -> float:
    """Seconds an ingest holds the store before letting readers in: $TRIAGE_SHARE_AFTER."""
    return _seconds_setting("TRIAGE_SHARE_AFTER", SHARE_AFTER_SECONDS, "5 or 0.5")


def finished_after() -> float:
    """Seconds a plain file stays unchanged before it is finished: $TRIAGE_FINISHED_AFTER."""
    return _seconds_setting("TRIAGE_FINISHED_AFTER", FINISHED_AFTER_SECONDS, "300 or 60")


def _seconds_setting(name: str, default: float, examples: str) -> float:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise TriageError(
            f"{name}={text!r} is not a number of seconds; set it to one (such as "
            f"{examples}), or unset it"
        )
    return seconds


class AccountingError(Exception):
    """A file's lines and the rows made from them do not add up (its ingest is rolled back)."""


Progress = Callable[[int], None]


@dataclass(frozen=True)
class Reading:
    """How a run reads its files."""

    mapping: str | None = None  # --mapping's canonical text; None: each source's own
    final: bool = False  # plain files are finished: a last line without newline is taken
    finished_after: float = FINISHED_AFTER_SECONDS  # or unchanged for this long
    reread: str = ""  # why known sources are read again from line 1 ("": only a new mapping)


@dataclass(frozen=True)
class _Input:
    name: str
    only_sources: frozenset[int] | None = None  # re-read only if it still holds one of these


def input_sizes(names: list[str]) -> int:
    """Bytes on disk of the inputs, for a progress bar."""
    total = 0
    for name in names:
        if name != "-":
            with contextlib.suppress(OSError):
                total += os.path.getsize(name)
    return total


def ingest_paths(
    store: Store,
    args: list[str],
    *,
    mapping: dict | None = None,
    final: bool = False,
    reread: bool = False,
    progress: Progress | None = None,
    on_inputs: Callable[[list[str]], None] | None = None,
    share: bool = True,
) -> Summary:
    """Ingest every file named by args (files, directories, globs, '-' for stdin).

    mapping: a mapping's parameters (triage.mapping.load_mapping); without one, a known source
    is read with the mapping it was last read with. final: plain files are finished, their
    last line is taken even without a newline. reread: read the named files again from their
    first line, replacing their rows; with no args, every source read with older parsing
    rules whose file is still where it was read. share: let waiting readers in between
    files (a store no other process reads, a lake's staging, need not).
    """
    started = time.perf_counter()
    hold_for = share_after() if share else float("inf")
    how = Reading(
        mapping=mapping_text(mapping),
        final=final,
        finished_after=finished_after(),
        reread=(REREAD_ON_REQUEST if args else REREAD_OLDER_RULES) if reread else "",
    )
    if reread and not args:
        inputs, results, notes = _stale_inputs(store)
    else:
        found = discover(args)
        inputs = [_Input(name) for name in found.inputs]
        results = [FileResult(p.path, "error", str(p)) for p in found.problems]
        notes = []
    if on_inputs:
        on_inputs([i.name for i in inputs])
    _prepare(store)
    try:
        held_since = time.monotonic()
        for i, named in enumerate(inputs):
            if i and time.monotonic() - held_since > hold_for:
                # between files, nothing is uncommitted: let waiting readers in
                store.let_readers_in()
                _prepare(store)
                held_since = time.monotonic()
            results.append(ingest_one(store, named.name, how, progress, named.only_sources))
    except KeyboardInterrupt:
        return Summary(results, time.perf_counter() - started, interrupted=True, notes=notes)
    return Summary(results, time.perf_counter() - started, notes=notes)


def _stale_inputs(store: Store) -> tuple[list[_Input], list[FileResult], list[str]]:
    """The files of the sources read with older parsing rules, each to be re-read if it still
    holds that source; a source whose file is gone is named, with what to do."""
    stale = sources_with_older_rules(store, PARSING_RULES)
    if not stale:
        return [], [], ["nothing to re-read: every source was read with the current parsing rules"]
    by_path: dict[str, set[int]] = {}
    for source in stale:
        by_path.setdefault(source.path, set()).add(source.source_id)
    inputs, gone = [], []
    for path, ids in by_path.items():
        if path != "-" and os.path.isfile(path):
            inputs.append(_Input(path, frozenset(ids)))
        else:
            gone.append(
                FileResult(
                    path,
                    "skipped",
                    "no longer there to re-read (read with older parsing rules); name the "
                    "file that holds it now: triage ingest --reread PATH",
                    noted=True,
                )
            )
    return inputs, gone, []


def _prepare(store: Store) -> None:
    """The ingest connection's settings and macros (temporary: redone after reconnecting)."""
    store.run("configure_ingest")
    for name in sql.INGEST_MACROS:
        store.run(name)
    store.run("parse_records_quickly")


class _BrokenInside(Exception):
    """The quick reading failed on a line's input: most likely a line that looks like a whole
    JSON object is broken inside (queries/ingest.sql). A careful reading tells which."""


def ingest_one(
    store: Store,
    name: str,
    how: Reading,
    progress: Progress | None = None,
    only_sources: frozenset[int] | None = None,
) -> FileResult:
    try:
        spooled = spool(name) if needs_spooling(name) else None
    except OSError as exc:
        return FileResult(name, "error", f"{name}: {exc.strerror or exc}")
    try:
        try:
            return _ingest_input(store, name, spooled, how, progress, only_sources)
        except _BrokenInside:
            # Nothing of the file was kept: it is read again, each broken line rejected.
            store.run("parse_records_carefully")
            try:
                return _ingest_input(store, name, spooled, how, progress, only_sources, True)
            finally:
                store.run("parse_records_quickly")
    finally:
        unspool(spooled)


def _ingest_input(
    store: Store,
    name: str,
    spooled: str | None,
    how: Reading,
    progress: Progress | None,
    only_sources: frozenset[int] | None,
    careful: bool = False,
) -> FileResult:
    try:
        opened = open_input(name, spooled, final=how.final, finished_after=how.finished_after)
    except ReadError as exc:
        return FileResult(name, "error", str(exc))
    try:
        result = _ingest_opened(store, opened, how, progress, only_sources)
        result.warning = misfit_warning(name, result.lines - result.blank, result.rejected, spooled)
        return result
    except (ReadError, AccountingError) as exc:
        return FileResult(name, "error", str(exc))
    except duckdb.InvalidInputException as exc:
        if not careful:
            raise _BrokenInside from exc
        return _duckdb_failed(name, exc)
    except duckdb.Error as exc:
        return _duckdb_failed(name, exc)
    finally:
        opened.close()


def _duckdb_failed(name: str, exc: duckdb.Error) -> FileResult:
    quoted = mask(first_line(exc))  # it may quote a line of the log
    return FileResult(name, "error", f"{name}: DuckDB could not ingest it ({quoted})")


def _ingest_opened(
    store: Store,
    opened: Opened,
    how: Reading,
    progress: Progress | None,
    only_sources: frozenset[int] | None,
) -> FileResult:
    result = FileResult(opened.name, "ingested")
    head = read_head(opened)
    if not head:
        result.status, result.detail = "skipped", "empty"
        return result
    start = plan_read(store, opened, head, how.mapping, how.reread)
    if only_sources is not None and start.source_id not in only_sources:
        result.status, result.noted = "skipped", True
        result.detail = (
            "now holds other content than was read from it; name the file that holds that "
            "content now: triage ingest --reread PATH"
        )
        return result
    result.resumed_at = start.offset
    last_pos = opened.raw_position()

    def on_block(_n: int) -> None:
        nonlocal last_pos
        if progress:
            pos = opened.raw_position()
            progress(max(0, pos - last_pos))
            last_pos = pos

    reader = LineReader(
        opened, offset=start.offset, lines=start.lines, tail=start.tail, on_progress=on_block
    )
    con = store.con
    con.register("lines_in", pa.RecordBatchReader.from_batches(LINE_SCHEMA, _guarded(reader)))
    try:
        return _commit_new_lines(store, opened, head, start, reader, result)
    finally:
        con.unregister("lines_in")


def _commit_new_lines(
    store: Store,
    opened: Opened,
    head: bytes,
    start: Start,
    reader: LineReader,
    result: FileResult,
) -> FileResult:
    """One transaction: the new lines' rows, their rejects and the source's new offset (and,
    for a source read again from its first line, the removal of the rows they replace)."""
    con = store.con
    params = {**mapping_params(start.mapping), "max_line_bytes": MAX_LINE_BYTES}
    rules_version = PARSING_RULES if start.rules_version is None else start.rules_version
    source = {"mapping": start.mapping, "rules_version": rules_version}
    con.begin()
    try:
        if start.source_id is not None:
            source_id = start.source_id
            if start.reread:
                _forget_rows(store, source_id)
        else:
            row = {**_source_row(opened, head, reader, 0), **source}
            source_id = store.one("insert_source", row)[0]
        result.source_id = source_id
        store.run("ingest_lines", {**params, "source_id": source_id})  # Ctrl-C: see interruptible
        if reader.interrupted:
            raise KeyboardInterrupt
        if reader.error:
            raise reader.error
        result.lines = reader.lines - start.lines
        result.pending_bytes = reader.pending
        if result.lines == 0:
            con.rollback()
            result.status = "skipped"
            result.detail = "already ingested" if start.continues else "no complete line yet"
            return result
        rows = 0
        new_rows = {"source_id": source_id, "after_line": reader.lines - result.lines}
        for kind, reason, n, repaired in store.run("count_new_lines", new_rows).fetchall():
            rows += n
            if kind == "reject":
                result.rejected[reason] += n
                continue
            result.repaired += repaired
            if kind == "request":
                result.requests += n
            else:
                result.other_events += n
        result.blank = reader.blank
        if rows + result.blank != result.lines:
            # every line is a row or a blank line: anything else is a bug, never stored
            raise AccountingError(
                f"{opened.name}: {result.lines:,} lines read but {rows:,} rows and "
                f"{result.blank:,} blank lines made; nothing was stored from it "
                "(a bug in triage: please report it)"
            )
        _copy_apart(store, new_rows, rows)
        row = _source_row(opened, head, reader, start.blank + result.blank)
        store.run("update_source", {**row, **source, "source_id": source_id})
        con.commit()
    except BaseException:
        con.rollback()
        raise
    if start.reread:
        result.detail, result.noted = start.reread, True
    return result


def _forget_rows(store: Store, source_id: int) -> None:
    """A source's rows and every copy of them, before it is read again."""
    for name in (
        "forget_source_rows",
        "forget_source_failures",
        "forget_source_index",
        "forget_source_index_tail",
        "forget_source_minutes",
        "forget_source_lines",
        "forget_source_shapes",
    ):
        store.run(name, {"source_id": source_id})


def _copy_apart(store: Store, new_rows: dict, n_rows: int) -> None:
    """What is kept beside the rows just written (schema.sql: migrate_to_v5 to v9): their
    failed requests, their requests counted per minute, their shapes, and their request ids
    in the index: a
    sorted run of their own when they are INDEX_RUN_ROWS or more, else in the index's tail,
    which moves over as one sorted run once it holds that many."""
    store.run("copy_failed_requests", new_rows)
    store.run("roll_up_new_rows", new_rows)
    store.run("roll_up_new_shapes", new_rows)
    if n_rows >= INDEX_RUN_ROWS:
        store.run("index_new_rows", new_rows)
        return
    store.run("index_new_rows_in_tail", new_rows)
    if store.one("request_index_tail_rows")[0] >= INDEX_RUN_ROWS:
        store.run("merge_request_index_tail")


def _guarded(reader: LineReader):
    """Batches for DuckDB. A read failure or a Ctrl-C raised while DuckDB pulls a batch would
    reach the caller as a DuckDB error; they are kept on the reader and raised after."""
    try:
        yield from prefetched(reader.batches())
    except ReadError as exc:
        reader.error = exc
    except KeyboardInterrupt:
        reader.interrupted = True


def _source_row(opened: Opened, head: bytes, reader: LineReader, blank: int) -> dict:
    # The head that identifies a source never reaches past what was ingested from it.
    head_len = min(HEAD_LEN, len(head), reader.offset) or len(head)
    return {
        "path": opened.name,
        "compression": opened.compression,
        "head_len": head_len,
        "head_sha256": sha256(head[:head_len]),
        "tail_sha256": sha256(reader.tail),
        "bytes_consumed": reader.offset,
        "lines_consumed": reader.lines,
        "blank_lines": blank,
    }
