"""A real `triage serve` process for the tests, and plain HTTP requests to it.

The server is started on port 0 (any free port) and found by the address it prints, which
it prints only once its socket listens: a test never guesses a port or sleeps.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import Watched, run_triage


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Server:
    process: Watched
    host: str
    port: int
    link: str  # what it printed (with ?token= when it has one)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def get(self, path: str, *, method: str = "GET", headers: dict | None = None) -> Answer:
        con = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            con.request(method, path, headers=headers or {})
            response = con.getresponse()
            body = response.read().decode("utf-8", "replace")
            found = {k.lower(): v for k, v in response.getheaders()}
            return Answer(response.status, found, body)
        finally:
            con.close()


@contextlib.contextmanager
def serving(db: Path, *args: str, env: dict | None = None) -> Iterator[Server]:
    """`triage serve` on a store (or on a lake: a directory), on a free port."""
    where = "--lake" if db.is_dir() else "--db"
    process = Watched(where, db, "serve", "--port", "0", *args, env=env)
    try:
        line = process.wait_for_stderr("triage serve: ", timeout=120)
        m = re.search(r"(http://([^/\s]+):(\d+)/\S*)", line)
        assert m, line
        yield Server(process, m.group(2), int(m.group(3)), m.group(1))
    finally:
        process.kill()


def failing_ids(db: Path) -> list[str]:
    """Two failed requests of a store, as `errors` names them (its two biggest groups')."""
    done = run_triage("--db", db, "errors", "--format", "json", "--limit", "2")
    rows = json.loads(done.stdout)
    return [rows[0]["examples"][0], rows[1]["examples"][0]]
