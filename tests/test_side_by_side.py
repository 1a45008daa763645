"""A second triage command while another process holds the store: it waits (--wait) or
exits 3 with one line naming the holder; it never hangs or prints a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

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


def _big_log(path, first, n):
    with path.open("w") as out:
        for i in range(first, first + n):
            out.write(
                f'{{"timestamp":"2026-11-16T10:00:00Z","requestId":"r{i}","method":"GET",'
                f'"path":"/v1/incidents","statusCode":200,"pad":"{"x" * 200}"}}\n'
            )
    return path


@pytest.mark.slow
def test_a_long_ingest_lets_a_waiting_reader_in_between_files(tmp_path):
    db = tmp_path / "s.duckdb"
    small = write_lines(tmp_path / "a0.log", [log_line(i) for i in range(3)])
    assert run_triage("--db", db, "ingest", small).returncode == 0
    n = 400_000
    first = _big_log(tmp_path / "a1.log", 0, n)
    second = _big_log(tmp_path / "a2.log", n, n)
    ingest = subprocess.Popen(
        [sys.executable, "-m", "triage", "--db", str(db), "ingest", str(first), str(second)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TRIAGE_SHARE_AFTER": "0.2"},  # share after any file, not 5 s
    )
    time.sleep(0.5)  # the ingest holds the store, reading the first big file
    reader = run_triage("--db", db, "--wait", "60", "info", "--format", "json")
    still_ingesting = ingest.poll() is None
    ingest.communicate(timeout=120)
    assert ingest.returncode == 0
    assert reader.returncode == 0, reader.stderr
    facts = json.loads(reader.stdout)
    # the reader ran between the two files: it saw the first one whole, not the second
    assert facts["requests"] == n, facts
    assert still_ingesting
    final = json.loads(run_triage("--db", db, "info", "--format", "json").stdout)
    assert final["requests"] == 2 * n
