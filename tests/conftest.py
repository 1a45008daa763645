"""Shared helpers: write log lines to real files, ingest them into a real DuckDB file under
tmp_path, run the CLI in-process (CliRunner) or as a real subprocess, and one store holding
the shipped sample logs for the whole session.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import cli as triage_cli
from triage.ingest import ingest_paths
from triage.store import open_store

REPO = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = REPO / "sample_logs"


def pytest_collection_modifyitems(items):
    """The longest files first: pytest-xdist hands whole files to its workers in the order
    they are collected (--no-loadscope-reorder; its own order puts files of many tests first),
    so a long file collected last runs alone at the end while the other cores idle (the Spark
    tests and the model-based ingest runs take a minute or two each)."""
    first = {"spark", "slow"}
    items.sort(key=lambda item: not any(item.iter_markers(name) for name in first))


def as_bytes(line: str | bytes | dict) -> bytes:
    """A log line as written: dicts as JSON, str as UTF-8, bytes as they are."""
    if isinstance(line, bytes):
        return line
    return (json.dumps(line) if isinstance(line, dict) else line).encode("utf-8")


def write_lines(path: Path, lines: Iterable[str | bytes | dict], *, final_newline=True) -> Path:
    """Write one line per item, each ended by a newline (the last one only if final_newline)."""
    encoded = [as_bytes(line) for line in lines]
    data = b"\n".join(encoded) + (b"\n" if encoded and final_newline else b"")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def append_lines(path: Path, lines: Iterable[str | dict]) -> Path:
    with path.open("ab") as f:
        f.write(b"".join(as_bytes(line) + b"\n" for line in lines))
    return path


def log_line(i: int, **fields) -> dict:
    """A trace-like line with a unique request id `r<i>` and a valid timestamp."""
    return {
        "timestamp": f"2026-11-16T10:{(i // 60) % 60:02d}:{i % 60:02d}Z",
        "requestId": f"r{i}",
        "msg": f"line {i}",
        **fields,
    }


def request_line(i: int, **fields) -> dict:
    """A flat camelCase access-log line (shape A) for request `r<i>`."""
    return {
        "timestamp": f"2026-11-16T10:{(i // 60) % 60:02d}:{i % 60:02d}Z",
        "requestId": f"r{i}",
        "method": "GET",
        "path": "/v1/incidents",
        "statusCode": 200,
        "durationMs": 12,
        **fields,
    }


def ingest(store, *paths, mapping=None) -> dict:
    """Ingest paths with the library and return the summary as a dict."""
    return ingest_paths(store, [str(p) for p in paths], mapping=mapping).as_dict()


def one(store, sql: str, params=None):
    return store.con.execute(sql, params or []).fetchone()


def all_rows(store, sql: str, params=None) -> list[tuple]:
    return store.con.execute(sql, params or []).fetchall()


def dict_rows(store, sql: str, params=None) -> list[dict]:
    cur = store.con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


FAILED_REQUEST_COLUMNS = (
    "source_id, line_no, ts, request_id, status, route, method, org_id, api_key_id, service, "
    "error_type, error_code, error_source, error_status, error_request_id, shape"
)
# what failed_requests computes of each copy, restated: a body id that is not a UUID, and one
# that differs from the line's id (false when either is missing)
FAILED_REQUEST_CHECKS = (
    "error_request_id IS NOT NULL AND try_cast(error_request_id AS UUID) IS NULL, "
    "error_request_id IS NOT NULL AND request_id IS NOT NULL AND error_request_id <> request_id"
)


def differences(con, recount: str, kept: str) -> list[tuple]:
    """Every row one query has more often than the other ('missing' from what triage kept,
    or 'extra' in it): none when what it kept is exact."""
    return con.execute(
        f"(SELECT 'missing', * FROM ({recount} EXCEPT ALL {kept})) "
        f"UNION ALL (SELECT 'extra', * FROM ({kept} EXCEPT ALL {recount}))"
    ).fetchall()


def failed_requests_drift(con) -> tuple[int, list[tuple]]:
    """failed_requests against a recount of the failed requests in records: how many it
    should hold, and every row that one side has more often than the other (none when the
    copy is exact)."""
    recount = (
        f"SELECT {FAILED_REQUEST_COLUMNS}, {FAILED_REQUEST_CHECKS} "
        "FROM records WHERE kind = 'request' AND failed"
    )
    copy = (
        f"SELECT {FAILED_REQUEST_COLUMNS}, body_id_not_uuid, body_id_differs FROM failed_requests"
    )
    (expected,) = con.execute(f"SELECT count(*) FROM ({recount})").fetchone()
    drift = differences(con, recount, copy)
    return expected, drift


def request_index_drift(con) -> tuple[int, list[tuple]]:
    """The request-id index (its sorted runs and its tail) against a recount of the rows that
    have a request id: how many entries it should hold, and every entry one side has more
    often than the other (none when the index is exact)."""
    recount = "SELECT rid_hash, source_id, line_no FROM records WHERE request_id IS NOT NULL"
    index = "SELECT * FROM (SELECT * FROM request_index UNION ALL SELECT * FROM request_index_tail)"
    (expected,) = con.execute(f"SELECT count(*) FROM ({recount})").fetchone()
    drift = differences(con, recount, index)
    return expected, drift


def request_minutes_drift(con) -> tuple[int, list[tuple]]:
    """request_minutes against a recount of the requests in records, per source, minute,
    method and route: how many requests it should count, and every key whose counts differ
    (none when the roll-up is exact). The minute is computed here from the epoch in Python's
    sense (floored), not with triage's macro."""
    recount = """
        SELECT source_id, floor(epoch_us(ts) / 60000000)::BIGINT AS minute, method, route,
               count(*) AS requests, count(*) FILTER (WHERE failed) AS failures,
               count(*) FILTER (WHERE status >= 500) AS server_errors
        FROM records WHERE kind = 'request' AND ts IS NOT NULL GROUP BY ALL"""
    rolled = """
        SELECT source_id, minute, method, route, sum(requests)::BIGINT AS requests,
               sum(failures)::BIGINT AS failures, sum(server_errors)::BIGINT AS server_errors
        FROM request_minutes GROUP BY ALL"""
    (expected,) = con.execute(f"SELECT coalesce(sum(requests), 0) FROM ({recount})").fetchone()
    drift = differences(con, recount, rolled)
    return int(expected), drift


def source_lines_drift(con) -> tuple[int, list[tuple]]:
    """source_lines against a recount of records per source, kind and reject reason: how
    many rows it should count, and every key whose counts or times differ (none when exact)."""
    recount = """
        SELECT source_id, kind, reject_reason, count(*) AS lines,
               count(*) FILTER (WHERE repaired) AS repaired, min(ts) AS first_ts,
               max(ts) AS last_ts
        FROM records GROUP BY ALL"""
    rolled = """
        SELECT source_id, kind, reject_reason, sum(lines)::BIGINT AS lines,
               sum(repaired)::BIGINT AS repaired, min(first_ts) AS first_ts,
               max(last_ts) AS last_ts
        FROM source_lines GROUP BY ALL"""
    (expected,) = con.execute("SELECT count(*) FROM records").fetchone()
    drift = differences(con, recount, rolled)
    return int(expected), drift


def source_shapes_drift(con) -> tuple[int, list[tuple]]:
    """source_shapes against a recount of records per source and shape (lines, and the
    durations without a knowable unit): how many rows it should count, and every key whose
    counts differ (none when exact). Its example value is any one of the source's."""
    recount = """
        SELECT source_id, shape, count(*) AS lines, count(duration_raw) AS unknown
        FROM records GROUP BY ALL"""
    rolled = """
        SELECT source_id, shape, sum(lines)::BIGINT AS lines,
               sum(unknown_unit_durations)::BIGINT AS unknown
        FROM source_shapes GROUP BY ALL"""
    (expected,) = con.execute("SELECT count(*) FROM records").fetchone()
    drift = differences(con, recount, rolled)
    return int(expected), drift


@pytest.fixture(scope="session", autouse=True)
def _own_cache_dir(tmp_path_factory):
    """triage keeps compiled templates in the user's cache directory: the suite's runs, in
    process and in the processes it starts, keep theirs in a directory of its own."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if saved is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "store" / "triage.duckdb"


@pytest.fixture
def store(db_path):
    with open_store(db_path) as s:
        yield s


@pytest.fixture
def cli(db_path):
    """Invoke `triage --db <db_path> ARGS...` in-process; stdout and stderr stay apart."""
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return runner.invoke(
            triage_cli, ["--db", str(db_path), *map(str, args)], input=input, env=env
        )

    return invoke


def run_triage(*args, input=None, env=None, cwd=None) -> subprocess.CompletedProcess:
    """Run `python -m triage ARGS...` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "triage", *map(str, args)],
        input=input,
        capture_output=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


class Watched:
    """`python -m triage ARGS...` as a real process whose stderr is read line by line as it
    comes, so a test can wait for what the process says (an observable state, not a sleep).
    Reader threads are daemons and every wait is bounded: a stuck process fails the test,
    it never hangs pytest."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "triage", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        self.pid = self.proc.pid
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._err: list[str] = []
        self._out: list[bytes] = []
        self._threads = [
            threading.Thread(target=self._read_err, daemon=True),
            threading.Thread(target=lambda: self._out.append(self.proc.stdout.read()), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read_err(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self._err.append(line)
            self._lines.put(line)
        self._lines.put(None)  # end of stderr

    def wait_for_stderr(self, fragment: str, timeout: float = 60) -> str:
        """The first stderr line holding fragment; fails if the process ends or time runs out
        first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no {fragment!r} on stderr in {timeout}s: {self.stderr}"
                ) from None
            if line is None:
                raise AssertionError(f"ended without {fragment!r} on stderr: {self.stderr}")
            if fragment in line:
                return line

    def running(self) -> bool:
        return self.proc.poll() is None

    def finish(self, timeout: float = 60) -> int:
        """Wait for the process to end (killed if it does not in time) and for its output."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for t in self._threads:
            t.join(timeout=10)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    @property
    def stdout(self) -> bytes:
        return b"".join(self._out)

    @property
    def stderr(self) -> str:
        return "".join(self._err)


def assert_one_error_line(stderr: str, *fragments: str) -> str:
    """Exactly one `Error: ...` line, no traceback, mentioning every fragment."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in errors[0], stderr
    return errors[0]


@pytest.fixture(scope="session")
def manifest() -> dict:
    return json.loads((SAMPLE_LOGS / "manifest.json").read_text())


@pytest.fixture(scope="session")
def sample_ingest(tmp_path_factory):
    """The shipped sample logs ingested once (as a directory) into a session store."""
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    with open_store(path) as s:
        summary = ingest(s, SAMPLE_LOGS)
    return path, summary


@pytest.fixture(scope="session")
def sample_store(sample_ingest):
    with open_store(sample_ingest[0], read_only=True) as s:
        yield s
