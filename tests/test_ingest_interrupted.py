"""An ingest killed half-way leaves the store as it was before that file; a rerun finishes it.

The process is stopped once it has read a given share of the big file (its read position is
taken from /proc), so each case stops it at a different point of its work.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_LOGS, log_line, one, run_triage, write_lines
from tests.interrupting import Output, start, stop
from triage.store import open_store

N_LINES = 200_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="needs Linux /proc"),
]


@pytest.fixture(scope="module")
def big_log(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("generate", SAMPLE_LOGS / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    path = tmp_path_factory.mktemp("big") / "bench.ndjson"
    generate.write_bench(path, N_LINES)
    return path


def read_position(pid: int, path: Path) -> int | None:
    """How far process pid has read the file at path, or None while it has not opened it."""
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            if os.readlink(fd) == str(path):
                for line in Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().splitlines():
                    if line.startswith("pos:"):
                        return int(line.split()[1])
    except OSError:
        pass
    return None


# Where the ingest of the big file is stopped: after reading a share of it, or once it has
# all been read while DuckDB may still be inserting and committing it (the file is open until
# then). A share short of the whole must not have been overshot: nothing is committed yet.
POINTS = {"15%-read": 0.15, "half-read": 0.5, "read-not-committed": 1.0}


def start_ingest_and_stop_at(
    db: Path, paths: list[Path], big: Path, point: str, sig
) -> subprocess.CompletedProcess:
    """Run the ingest, and send sig once it has read the point's share of the big file. It is
    stopped while its read position is checked, so the signal lands where it was seen."""
    share = POINTS[point]
    proc = start("--db", db, "ingest", *paths)
    output = Output(proc)
    size = big.stat().st_size
    while True:
        reading = output.wait_for(lambda o: read_position(proc.pid, big) is not None)
        if not reading or not stop(proc):
            output.finish(timeout=60)
            pytest.skip("the ingest ended before it was seen reading the big file")
        pos = read_position(proc.pid, big)
        if pos is None or (share < 1 and pos >= size):  # it moved past between two looks
            proc.kill()
            output.finish()
            pytest.skip(f"the ingest was past {point} when next seen")
        if pos >= share * size:
            proc.send_signal(sig)
            proc.send_signal(signal.SIGCONT)
            break
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.002)
    out, err = output.finish(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def stored_events(db: Path) -> int:
    """Events in the store, after checking that no line of any source is stored twice."""
    with open_store(db) as s:
        total, distinct = one(
            s, "SELECT count(*), count(DISTINCT (source_id, line_no)) FROM events"
        )
    assert total == distinct
    return total


@pytest.mark.parametrize("point", POINTS)
def test_killed_ingest_is_finished_by_a_rerun_with_each_line_once(tmp_path, big_log, point):
    db = tmp_path / "s.duckdb"
    small = write_lines(tmp_path / "small.log", [log_line(i) for i in range(7)])
    assert run_triage("--db", db, "ingest", small).returncode == 0

    killed = start_ingest_and_stop_at(db, [big_log], big_log, point, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    kept = stored_events(db)
    assert kept in (7, 7 + N_LINES)  # the small file is intact; the big one all or nothing
    if point != "read-not-committed":
        assert kept == 7

    rerun = run_triage("--db", db, "ingest", small, big_log, "--format", "json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["events"] == 7 + N_LINES - kept
    assert stored_events(db) == 7 + N_LINES


@pytest.mark.parametrize("point", ["half-read", "read-not-committed"])
def test_ctrl_c_stops_the_ingest_rolls_back_the_file_and_exits_130(tmp_path, big_log, point):
    db = tmp_path / "s.duckdb"
    after = write_lines(tmp_path / "after.log", [log_line(i) for i in range(5)])
    stopped = start_ingest_and_stop_at(db, [big_log, after], big_log, point, signal.SIGINT)
    err = stopped.stderr.decode()
    assert "Traceback" not in err, err
    assert stopped.returncode == 130, err
    kept = stored_events(db)
    assert kept in (0, N_LINES)  # the big file all or nothing, and the next one never started
    if kept == 0:
        assert "interrupted" in err

    rerun = run_triage("--db", db, "ingest", big_log, after)
    assert rerun.returncode == 0, rerun.stderr
    assert stored_events(db) == N_LINES + 5
