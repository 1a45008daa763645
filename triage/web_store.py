"""How `triage serve` reads the store without ever standing in an ingest's way.

DuckDB locks a store file per process: while the server holds a connection, `triage ingest`
cannot open it for writing. So the server holds connections only while requests are being
answered: requests that overlap share the database (each thread has its own connection, as
DuckDB wants), and the last one out closes them all. A writer that finds the store held
leaves a marker (store.writer_waiting): from then on new requests wait instead of opening,
the ones in flight finish, the store is let go, and the writer gets it. A request waits a
bounded time for the store (marker gone, no writer holding it), then gives up with StoreBusy,
which the pages show as "busy, retrying".
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from triage.exceptions import StoreBusy
from triage.lake import open_reader
from triage.store import Store, writer_waiting

BUSY_WAIT = 5.0  # seconds a request waits for the store before the page says it is busy


class StoreGate:
    def __init__(self, path: Path, busy_wait: float = BUSY_WAIT) -> None:
        self.path = path
        self.busy_wait = busy_wait
        self._lock = threading.Condition()
        self._in_flight = 0
        self._idle: list[Store] = []  # open connections no request is using

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """A connection to the store for one request, waiting (bounded) while a writer has
        it or wants it."""
        deadline = time.monotonic() + self.busy_wait
        store = self._admit(deadline)
        try:
            yield store
        finally:
            self._release(store)

    def _admit(self, deadline: float) -> Store:
        while True:
            with self._lock:
                if not writer_waiting(self.path):
                    self._in_flight += 1
                    if self._idle:
                        return self._idle.pop()
                    break
                # a writer waits: let the requests in flight finish and the store go
                self._lock.wait(timeout=0.05)
            if time.monotonic() >= deadline:
                raise StoreBusy(_busy_text(self.path, "an ingest is waiting for it"))
        try:
            return self._open(deadline)
        except BaseException:
            with self._lock:
                self._in_flight -= 1
                self._close_if_idle()
            raise

    def _open(self, deadline: float) -> Store:
        while True:
            try:
                store = open_reader(self.path)  # a lake's writers never wait for it
            except StoreBusy as busy:
                if time.monotonic() >= deadline:
                    raise StoreBusy(_busy_text(self.path, busy.holder)) from None
                time.sleep(0.1)
                continue
            # Many small requests at once: one thread each, not each a pool of threads
            # fighting for the same cores (the setting is the database's, in this process).
            store.con.execute("SET threads = 1")
            return store

    def _release(self, store: Store) -> None:
        with self._lock:
            self._in_flight -= 1
            self._idle.append(store)
            self._close_if_idle()
            self._lock.notify_all()

    def _close_if_idle(self) -> None:
        """With no request in flight, or a writer waiting, no connection stays open."""
        if self._in_flight == 0 or writer_waiting(self.path):
            for store in self._idle:
                with contextlib.suppress(Exception):
                    store.close()
            self._idle.clear()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return self._in_flight + len(self._idle)


def _busy_text(path: Path, holder: str) -> str:
    return f"the store {path.name} is busy ({holder}); this page tries again by itself"
