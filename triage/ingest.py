"""Ingesting log files into the store, every line accounted for, each exactly once.

Python orchestrates: it finds the files, recognises ones it has seen (by content, not by
path), and streams their new bytes to DuckDB as Arrow batches of raw lines. DuckDB parses,
normalises and classifies them in one INSERT (queries/ingest.sql). A file's rows, its rejects
and its new offset commit in one transaction, so an interrupted ingest leaves the store as it
was before that file, and the next run picks the file up again.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from triage.discover import discover
from triage.exceptions import TriageError, first_line
from triage.mapping import empty_params
from triage.misfit import misfit_warning
from triage.reader import (
    HEAD_LEN,
    LINE_SCHEMA,
    TAIL_LEN,
    LineReader,
    Opened,
    ReadError,
    needs_spooling,
    open_input,
    prefetched,
    read_head,
    sha256,
    skip_to,
    spool,
)
from triage.redact import mask
from triage.store import Store

MAX_LINE_BYTES = 1 << 20  # longer lines are rejected as too_long (their neighbours are kept)
# An ingest of many files lets waiting commands in between files once it has held the store
# this long (DuckDB locks a store for the whole time a process has it open): a reader waits
# about this long plus the file being read, and a long ingest pays a 0.3 s pause each time.
SHARE_AFTER_SECONDS = 5.0


def share_after() -> float:
    """Seconds an ingest holds the store before letting readers in: $TRIAGE_SHARE_AFTER."""
    text = os.environ.get("TRIAGE_SHARE_AFTER")
    if text is None:
        return SHARE_AFTER_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise TriageError(
            f"TRIAGE_SHARE_AFTER={text!r} is not a number of seconds; set it to one (such as "
            "5 or 0.5), or unset it"
        )
    return seconds


class AccountingError(Exception):
    """A file's lines and the rows made from them do not add up (its ingest is rolled back)."""


@dataclass
class FileResult:
    name: str
    status: str  # ingested | skipped | error
    detail: str = ""  # why skipped, or the error
    source_id: int | None = None
    resumed_at: int = 0  # byte offset the read started from
    lines: int = 0  # lines read this run (complete lines only)
    blank: int = 0
    requests: int = 0
    other_events: int = 0  # trace and log events
    repaired: int = 0  # events kept after replacing invalid UTF-8 bytes (counted in events)
    rejected: Counter = field(default_factory=Counter)
    pending_bytes: int = 0  # an incomplete last line left for a later run
    warning: str | None = None  # most lines rejected: why, and the next step (triage.misfit)

    @property
    def events(self) -> int:
        return self.requests + self.other_events


@dataclass
class Summary:
    files: list[FileResult]
    seconds: float
    interrupted: bool = False  # Ctrl-C: the file being read was rolled back, the rest kept

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "error"]

    def rejected_by_reason(self) -> dict[str, int]:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.rejected)
        return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_dict(self) -> dict:
        """The summary scripts read (`ingest --format json`); keys are stable."""
        lines = self._sum("lines")
        return {
            "files": sum(1 for f in self.files if f.status == "ingested"),
            "files_skipped": sum(1 for f in self.files if f.status == "skipped"),
            "files_failed": len(self.errors),
            "lines": lines,
            "blank": self._sum("blank"),
            "events": self._sum("events"),
            "requests": self._sum("requests"),
            "repaired": self._sum("repaired"),
            "rejected": sum(sum(f.rejected.values()) for f in self.files),
            "rejected_by_reason": self.rejected_by_reason(),
            "pending_bytes": self._sum("pending_bytes"),
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 3),
            "lines_per_second": round(lines / self.seconds) if self.seconds > 0 else None,
            "errors": [f"{f.detail}" for f in self.errors],
            "per_file": [
                {
                    "path": f.name,
                    "status": f.status,
                    "detail": f.detail,
                    "source_id": f.source_id,
                    "resumed_at": f.resumed_at,
                    "lines": f.lines,
                    "blank": f.blank,
                    "events": f.events,
                    "requests": f.requests,
                    "repaired": f.repaired,
                    "rejected": sum(f.rejected.values()),
                    "pending_bytes": f.pending_bytes,
                    "warning": f.warning,
                }
                for f in self.files
            ],
        }

    def as_text(self) -> str:
        """The human summary, for stderr."""
        d = self.as_dict()
        rate = f", {d['lines_per_second']:,} lines/s" if d["lines_per_second"] else ""
        events = f"{d['events']:,} events ({d['requests']:,} requests)"
        if d["repaired"]:
            clean = d["events"] - d["repaired"]
            events = (
                f"{d['events']:,} events ({d['requests']:,} requests; {clean:,} clean + "
                f"{d['repaired']:,} repaired)"
            )
        out = [
            f"files: {d['files']} read, {d['files_skipped']} skipped (already ingested or empty), "
            f"{d['files_failed']} failed",
            f"lines: {d['lines']:,} read = {events} "
            f"+ {d['rejected']:,} rejected + {d['blank']:,} blank, in {d['seconds']:.2f}s{rate}",
        ]
        if d["repaired"]:
            out.append(
                f"repaired: {d['repaired']:,} line{'s' if d['repaired'] != 1 else ''} with invalid "
                "UTF-8 bytes, replaced by U+FFFD (the raw bytes are kept)"
            )
        if d["rejected_by_reason"]:
            out.append(
                "rejected: "
                + ", ".join(f"{k} {v:,}" for k, v in d["rejected_by_reason"].items())
                + "  (details: triage info)"
            )
        if d["pending_bytes"]:
            out.append(
                f"waiting: {d['pending_bytes']:,} bytes of an incomplete last line "
                "(ingested once its newline arrives)"
            )
        out += [f"warning: {f.warning}" for f in self.files if f.warning]
        if self.interrupted:
            out.append(
                "interrupted: the file being read was rolled back; "
                "run the same command again to finish"
            )
        return "\n".join(out) + "\n"


Progress = Callable[[int], None]


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
    progress: Progress | None = None,
    on_inputs: Callable[[list[str]], None] | None = None,
) -> Summary:
    """Ingest every file named by args (files, directories, globs, '-' for stdin)."""
    started = time.perf_counter()
    hold_for = share_after()
    found = discover(args)
    if on_inputs:
        on_inputs(found.inputs)
    results = [FileResult(p.path, "error", str(p)) for p in found.problems]
    params = {**empty_params(), **(mapping or {}), "max_line_bytes": MAX_LINE_BYTES}
    _prepare(store)
    try:
        held_since = time.monotonic()
        for i, name in enumerate(found.inputs):
            if i and time.monotonic() - held_since > hold_for:
                # between files, nothing is uncommitted: let waiting readers in
                store.let_readers_in()
                _prepare(store)
                held_since = time.monotonic()
            results.append(ingest_one(store, name, params, progress))
    except KeyboardInterrupt:
        return Summary(results, time.perf_counter() - started, interrupted=True)
    return Summary(results, time.perf_counter() - started)


def _prepare(store: Store) -> None:
    """The ingest connection's settings and macros (temporary: redone after reconnecting)."""
    store.run("configure_ingest")
    store.run("define_shape_macros")
    store.run("define_ingest_macros")
    store.run("define_text_macros")


def ingest_one(
    store: Store, name: str, params: dict, progress: Progress | None = None
) -> FileResult:
    try:
        spooled = spool(name) if needs_spooling(name) else None
    except OSError as exc:
        return FileResult(name, "error", f"{name}: {exc.strerror or exc}")
    try:
        opened = open_input(name, spooled)
    except ReadError as exc:
        _cleanup(spooled)
        return FileResult(name, "error", str(exc))
    try:
        result = _ingest_opened(store, opened, params, progress)
        result.warning = misfit_warning(name, result.lines - result.blank, result.rejected, spooled)
        return result
    except (ReadError, AccountingError) as exc:
        return FileResult(name, "error", str(exc))
    except duckdb.Error as exc:
        quoted = mask(first_line(exc))  # it may quote a line of the log
        return FileResult(name, "error", f"{name}: DuckDB could not ingest it ({quoted})")
    finally:
        opened.close()
        _cleanup(spooled)


def _cleanup(path: str | None) -> None:
    if path:
        os.unlink(path)


@dataclass
class _Match:
    source_id: int
    bytes_consumed: int
    lines_consumed: int
    blank_lines: int
    tail: bytes


def _find_source(store: Store, opened: Opened, head: bytes) -> _Match | None:
    """The stored source this content continues, verified by its head and its resume marker.

    On a match the stream is left at the source's offset; otherwise at the content's start.
    """
    lengths = [n for (n,) in store.run("head_lengths").fetchall() if n <= len(head)]
    if not lengths:
        return None
    heads = [f"{n}:{sha256(head[:n])}" for n in lengths]
    rows = store.run("find_sources_by_head", {"heads": heads, "path": opened.name}).fetchall()
    for source_id, _p, _c, _hl, _hs, tail_sha, consumed, lines, blank in rows:
        if opened.size is not None and opened.size < consumed:
            continue  # shorter than what we took from it: truncated or replaced
        marker = skip_to(opened, consumed)
        if len(marker) == min(TAIL_LEN, consumed) and sha256(marker) == tail_sha:
            return _Match(source_id, consumed, lines, blank, marker)
    opened.stream.seek(0)
    return None


def _ingest_opened(
    store: Store, opened: Opened, params: dict, progress: Progress | None
) -> FileResult:
    result = FileResult(opened.name, "ingested")
    head = read_head(opened)
    if not head:
        result.status, result.detail = "skipped", "empty"
        return result
    match = _find_source(store, opened, head)
    start = match.bytes_consumed if match else 0
    result.resumed_at = start
    last_pos = opened.raw_position()

    def on_block(_n: int) -> None:
        nonlocal last_pos
        if progress:
            pos = opened.raw_position()
            progress(max(0, pos - last_pos))
            last_pos = pos

    reader = LineReader(
        opened,
        offset=start,
        lines=match.lines_consumed if match else 0,
        tail=match.tail if match else b"",
        on_progress=on_block,
    )
    con = store.con
    con.register("lines_in", pa.RecordBatchReader.from_batches(LINE_SCHEMA, _guarded(reader)))
    try:
        return _commit_new_lines(store, opened, head, match, reader, params, result)
    finally:
        con.unregister("lines_in")


def _commit_new_lines(
    store: Store,
    opened: Opened,
    head: bytes,
    match: _Match | None,
    reader: LineReader,
    params: dict,
    result: FileResult,
) -> FileResult:
    """One transaction: the new lines' rows, their rejects and the source's new offset."""
    con = store.con
    con.begin()
    try:
        if match:
            source_id = match.source_id
        else:
            source_id = store.one("insert_source", _source_row(opened, head, reader, 0))[0]
        result.source_id = source_id
        store.run("ingest_lines", {**params, "source_id": source_id})  # Ctrl-C: see interruptible
        if reader.interrupted:
            raise KeyboardInterrupt
        if reader.error:
            raise reader.error
        result.lines = reader.lines - (match.lines_consumed if match else 0)
        result.pending_bytes = reader.pending
        if result.lines == 0:
            con.rollback()
            result.status = "skipped"
            result.detail = "already ingested" if match else "no complete line yet"
            return result
        rows = 0
        for kind, reason, n, repaired in store.run(
            "ingest_counts", {"source_id": source_id, "after_line": reader.lines - result.lines}
        ).fetchall():
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
        blank_total = (match.blank_lines if match else 0) + result.blank
        store.run(
            "update_source",
            {**_source_row(opened, head, reader, blank_total), "source_id": source_id},
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


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
