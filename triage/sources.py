"""Which stored source a file continues, and where and how its read starts.

A source is known by its content, not its path: a hash of its head, and a marker (a hash of the
bytes before where the last read stopped). It remembers the mapping and the version of the
parsing rules its rows were read with. A file is read on from where its source stopped, with
that source's mapping; or again from its first line, its rows to be replaced, when asked (a
different --mapping, --reread); or, when no source holds its content, from its first line as a
new source.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.reader import TAIL_LEN, Opened, sha256, skip_to
from triage.store import Store

REREAD_NEW_MAPPING = "re-read with the new mapping"


@dataclass
class Start:
    """Where a file's read starts, and the mapping its rows are read with."""

    source_id: int | None  # None: new content, for a new source
    offset: int = 0
    lines: int = 0
    blank: int = 0
    tail: bytes = b""  # the resume marker's bytes
    mapping: str | None = None  # the canonical mapping text (None: read without one)
    rules_version: int | None = None  # of the rows already kept; None: none are kept
    reread: str = ""  # why a known source is read again from its first line ("": it is not)

    @property
    def continues(self) -> bool:
        """Whether rows of this source are kept and the read adds to them."""
        return self.source_id is not None and not self.reread


def plan_read(store: Store, opened: Opened, head: bytes, given: str | None, reread: str) -> Start:
    """Where to read the file from, with which mapping: `given` is --mapping's canonical text
    (None: the source's own), `reread` why to read a known source again ("": only if its
    mapping changes). The stream is left at the start chosen."""
    match = _find_source(store, opened, head)
    if match is None:
        return Start(None, mapping=given or _mapping_last_used_at(store, opened.name))
    if given is not None and given != match.mapping:
        reread = REREAD_NEW_MAPPING
    if reread:
        if _took_an_unended_last_line(match) and opened.size == match.offset:
            opened.finished = True  # it was finished then, and has not changed since
        opened.stream.seek(0)
        return Start(match.source_id, mapping=given or match.mapping, reread=reread)
    return match


def _took_an_unended_last_line(match: Start) -> bool:
    """Whether the source's last read took a last line that had no newline (the file was
    finished): reading it again takes that line again, rather than wait for its newline."""
    return bool(match.tail) and not match.tail.endswith(b"\n")


def _find_source(store: Store, opened: Opened, head: bytes) -> Start | None:
    """The stored source this content continues, verified by its head and its resume marker.

    On a match the stream is left at the source's offset; otherwise at the content's start.
    """
    lengths = [n for (n,) in store.run("head_lengths").fetchall() if n <= len(head)]
    if not lengths:
        return None
    heads = [f"{n}:{sha256(head[:n])}" for n in lengths]
    rows = store.run("find_sources_by_head", {"heads": heads, "path": opened.name}).fetchall()
    for source_id, _p, _c, _hl, _hs, tail_sha, consumed, lines, blank, mapping, rules in rows:
        if opened.size is not None and opened.size < consumed:
            continue  # shorter than what we took from it: truncated or replaced
        marker = skip_to(opened, consumed)
        if len(marker) == min(TAIL_LEN, consumed) and sha256(marker) == tail_sha:
            return Start(source_id, consumed, lines, blank, marker, mapping, rules)
    opened.stream.seek(0)
    return None


def _mapping_last_used_at(store: Store, path: str) -> str | None:
    """New content at a path read before with a mapping (the file was rotated) is read with
    the same mapping: a cron job that runs `triage ingest logs/` must not lose it."""
    if path == "-":
        return None
    row = store.one_or_none("mapping_last_used_at", {"path": path})
    return row[0] if row else None


@dataclass(frozen=True)
class StaleSource:
    source_id: int
    path: str
    rules_version: int


def sources_with_older_rules(store: Store, rules_version: int) -> list[StaleSource]:
    """Sources whose rows were read with parsing rules older than `rules_version`."""
    rows = store.run("sources_with_older_rules", {"rules_version": rules_version}).fetchall()
    return [StaleSource(*row) for row in rows]
