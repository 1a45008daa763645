"""A second triage command while another process holds the store: it waits (--wait) or
exits 3 with one line naming the holder; it never hangs or prints a traceback."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Watched, assert_one_error_line, log_line, run_triage, write_lines


@pytest.fixture
def held_store(tmp_path):
    """A real store, then a process that holds it until told to let go."""
    db = tmp_path / "s.duckdb"
    log = write_lines(tmp_path / "a.log", [log_line(i) for i in range(3)])
    assert run_triage("--db", db, "ingest", log).returncode == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.readline(); c.close()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    yield db, holder
    if holder.poll() is None:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)


def test_without_wait_a_reader_exits_3_at_once_naming_the_holder(held_store):
    db, holder = held_store
    started = time.monotonic()
    result = run_triage("--db", db, "info")
    assert time.monotonic() - started < 10
    assert result.returncode == 3
    line = assert_one_error_line(result.stderr.decode(), f"process {holder.pid}", "--wait")
    assert "duckdb" in line  # what the holder is running, read from /proc


def test_wait_gives_up_after_the_time_given(held_store):
    db, _ = held_store
    started = time.monotonic()
    result = run_triage("--db", db, "--wait", "1", "errors")
    waited = time.monotonic() - started
    assert result.returncode == 3
    assert 1 <= waited < 20
    err = result.stderr.decode()
    assert "waiting up to 1s for the store" in err
    assert_one_error_line(err, "in use by")


def release(holder) -> None:
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.wait(timeout=30) == 0


def test_wait_succeeds_once_the_holder_lets_go(held_store):
    db, holder = held_store
    waiting = Watched("--db", db, "--wait", "30", "info", "--format", "json")
    try:
        # it found the store in use and said so: it is waiting, not failed, not done
        line = waiting.wait_for_stderr("waiting up to 30s for the store")
        assert f"process {holder.pid}" in line
        assert waiting.running() and holder.poll() is None
        release(holder)  # only now can it open the store
        assert waiting.finish(timeout=60) == 0, waiting.stderr
    finally:
        waiting.kill()
    assert json.loads(waiting.stdout)["trace_events"] == 3


def test_a_second_ingest_waits_its_turn_and_adds_each_line_once(held_store, tmp_path):
    db, holder = held_store
    more = write_lines(tmp_path / "b.log", [log_line(i) for i in range(10, 15)])
    second = Watched("--db", db, "--wait", "30", "ingest", "--format", "json", more)
    try:
        second.wait_for_stderr(
            f"waiting up to 30s for the store: it is in use by process {holder.pid}"
        )
        assert second.running() and holder.poll() is None  # waited while the store was held
        release(holder)
        assert second.finish(timeout=60) == 0, second.stderr
    finally:
        second.kill()
    assert json.loads(second.stdout)["events"] == 5
    final = json.loads(run_triage("--db", db, "info", "--format", "json").stdout)
    assert final["trace_events"] == 3 + 5


def open_fifo_for_writing(fifo: Path, ingest: Watched, timeout: float = 60) -> int:
    """The write end of fifo, once the ingest has opened it for reading (until then a
    non-blocking open fails with ENXIO); fails if the ingest ends or time runs out first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        assert ingest.running(), f"the ingest ended before reading {fifo.name}: {ingest.stderr}"
        assert time.monotonic() < deadline, f"the ingest never opened {fifo.name}"
        time.sleep(0.01)


def feed(fifo: Path, ingest: Watched, first: int, n: int) -> None:
    """Write n request lines (ids first..) to fifo once the ingest reads it, then close it."""
    fd = open_fifo_for_writing(fifo, ingest)
    try:
        data = b"".join(
            f'{{"timestamp":"2026-11-16T10:00:00Z","requestId":"r{i}","method":"GET",'
            f'"path":"/v1/incidents","statusCode":200}}\n'.encode()
            for i in range(first, first + n)
        )
        assert len(data) < 16384  # fits the pipe's buffer: the write cannot block
        assert os.write(fd, data) == len(data)
    finally:
        os.close(fd)


def test_a_long_ingest_lets_a_waiting_reader_in_between_files(tmp_path):
    """The ingest reads named pipes that the test feeds, so it holds the store for exactly as
    long as the test wants: while it waits for a pipe's first bytes it holds the store, and
    between two files it lets waiting readers in (TRIAGE_SHARE_AFTER=0: after every file).
    A waiting reader lands in one of those gaps (the ingest pauses 0.3 s, a waiter polls every
    0.2 s; it gets several gaps in case a busy machine makes it miss one): it sees the files
    fed before it whole, none after, while the ingest is still going."""
    db = tmp_path / "s.duckdb"
    small = write_lines(tmp_path / "a0.log", [log_line(i) for i in range(3)])
    assert run_triage("--db", db, "ingest", small).returncode == 0
    n, fifos = 50, [tmp_path / f"part{k}.ndjson" for k in range(4)]
    for fifo in fifos:
        os.mkfifo(fifo)
    ingest = Watched(
        "--db", db, "--wait", "60", "ingest", *fifos, env={"TRIAGE_SHARE_AFTER": "0"}
    )  # fmt: skip
    reader = None
    try:
        # the ingest holds the store (waiting for the first pipe): a reader is turned away
        deadline = time.monotonic() + 60
        while (busy := run_triage("--db", db, "info")).returncode != 3:
            assert busy.returncode == 0 and ingest.running(), busy.stderr
            assert time.monotonic() < deadline, "the ingest never took the store"
        assert_one_error_line(busy.stderr.decode(), f"process {ingest.pid}")
        reader = Watched("--db", db, "--wait", "30", "info", "--format", "json")
        reader.wait_for_stderr(
            f"waiting up to 30s for the store: it is in use by process {ingest.pid}"
        )
        for k, fifo in enumerate(fifos[:-1]):
            feed(fifo, ingest, k * n, n)
        # the last pipe is fed only once the reader is done: until then the ingest cannot end
        assert reader.finish(timeout=60) == 0, reader.stderr
        still_ingesting = ingest.running()
        feed(fifos[-1], ingest, (len(fifos) - 1) * n, n)
        assert ingest.finish(timeout=60) == 0, ingest.stderr
    finally:
        for proc in (reader, ingest):
            if proc is not None:
                proc.kill()
    facts = json.loads(reader.stdout)
    # the reader ran between two files: it saw some of them whole, and not the last one
    assert facts["requests"] in {k * n for k in range(1, len(fifos))}, facts
    assert facts["trace_events"] == 3
    assert still_ingesting
    final = json.loads(run_triage("--db", db, "info", "--format", "json").stdout)
    assert final["requests"] == len(fifos) * n
