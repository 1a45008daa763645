"""Answers kept until the store changes.

Between two ingests a store does not change, and every page is a function of the store and
the page's address: the desk opening the same weekly report, errors table or request twice
gets the answer computed the first time. The store's version is its files' identity (size,
modification time, inode of the database and of its write-ahead log), read before the
answer is computed: an ingest changes it, and no answer computed before is served again.
Bounded by entries and bytes, least recently used out first.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024


def store_version(path: Path) -> tuple:
    """The identity of what a store's files hold now: the store and its write-ahead log, or
    a lake's manifest (a batch replaces it, never changes it in place)."""
    parts: list[tuple[int, int, int] | None] = []
    if path.is_dir():
        from triage.lake import MANIFEST

        names: tuple[Path, ...] = (path / MANIFEST,)
    else:
        names = (path, path.with_name(path.name + ".wal"))
    for name in names:
        try:
            st = os.stat(name)
        except FileNotFoundError:
            parts.append(None)
            continue
        parts.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(parts)


class AnswerCache:
    def __init__(self, path: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.path = path
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: OrderedDict[tuple, tuple[bytes, str, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def key(self, address: str) -> tuple:
        """The key of an address (path and query) as of the store's version now."""
        return (store_version(self.path), address)

    def get(self, key: tuple) -> tuple[bytes, str, int] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple, body: bytes, media_type: str, status: int) -> None:
        if len(body) > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (body, media_type, status)
            self._bytes += len(body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (old, _, _) = self._entries.popitem(last=False)
                self._bytes -= len(old)

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._entries), "hits": self.hits, "misses": self.misses}
