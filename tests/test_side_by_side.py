"""A second triage command while another process holds the store: it waits (--wait) or
exits 3 with one line naming the holder; it never hangs or prints a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import assert_one_error_line, log_line, run_triage, write_lines


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


def test_wait_succeeds_once_the_holder_lets_go(held_store):
    db, holder = held_store
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "triage",
            "--db",
            str(db),
            "--wait",
            "30",
            "info",
            "--format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    assert waiting.poll() is None  # still waiting, not failed
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(timeout=30)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert b"waiting up to 30s" in err
    assert json.loads(out)["trace_events"] == 3


def test_a_second_ingest_waits_its_turn_and_adds_each_line_once(held_store, tmp_path):
    db, holder = held_store
    more = write_lines(tmp_path / "b.log", [log_line(i) for i in range(10, 15)])
    second = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "triage",
            "--db",
            str(db),
            "--wait",
            "30",
            "ingest",
            "--format",
            "json",
            str(more),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    holder.stdin.write("\n")
    holder.stdin.flush()
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert json.loads(out)["events"] == 5
