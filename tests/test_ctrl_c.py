"""Ctrl-C ends every command at any moment: exit 130, one line at most, no traceback, soon.

Each command is interrupted at moments chosen by what it has observably done: as triage's
own code starts, as the command line's imports get under way (the json extension module is
loaded: Python's start-up does not load it), once DuckDB's library is loaded (its import
swallows a Ctrl-C), as its first and its last query start (--show-sql prints each just
before it runs), and as its output appears. A moment the command had already passed when it
was stopped is not tested in that run, which must then have succeeded.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import sample_truth
from tests.conftest import run_triage
from tests.interrupting import (
    Output,
    assert_interrupted,
    children_of,
    send_stopped,
    start,
    started,
    stat_fields,
)
from triage.store import open_store

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")

COMMANDS = {
    "lookup": ["lookup", sample_truth.requests()[0].request_id],
    "errors": ["errors", "--by", "route,code"],
    "report-md": ["report", "weekly", "--week", "2026-W46"],
    "report-html": ["report", "weekly", "--week", "2026-W46", "--format", "html"],
    "incident": ["incident", "--auto"],
}
MOMENTS = ["start", "importing", "duckdb-loaded", "first-query", "last-query", "output"]
# the shared library whose loading marks a moment
LOADED = {"importing": "/_json.", "duckdb-loaded": "/_duckdb."}
QUERY = re.compile(rb"^-- [a-z_0-9]+ \([a-z_0-9]+\.sql:\d+\)$", re.M)


def loaded(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.fixture(scope="module")
def moments() -> list[str]:
    bare = subprocess.run(
        [sys.executable, "-c", "import sys; print('json' in sys.modules)"],
        capture_output=True,
        check=True,
    )
    if bare.stdout.strip() == b"True":  # a site hook here loads it: not a moment of ours
        return [m for m in MOMENTS if m != "importing"]
    return MOMENTS


def reach(proc: subprocess.Popen, output: Output, moment: str, queries: int) -> bool:
    """Wait for the moment; False if the command ended before it."""
    if moment == "start":
        return started(proc)
    if moment in LOADED:
        return output.wait_for(lambda o: loaded(proc.pid, LOADED[moment]))
    if moment == "output":
        return output.wait_for(lambda o: bool(o.out)) and proc.poll() is None
    wanted = 1 if moment == "first-query" else queries
    return output.wait_for(lambda o: len(QUERY.findall(o.err)) >= wanted)


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_at_any_moment_ends_the_command_with_130(sample_ingest, moments, command):
    args = ["--db", sample_ingest[0], *COMMANDS[command], "--show-sql"]
    whole = run_triage(*args)
    assert whole.returncode == 0, whole.stderr
    queries = len(QUERY.findall(whole.stderr))
    assert queries >= 2
    sql_lines = set(whole.stderr.splitlines())  # --show-sql's lines are not messages
    interrupted = 0
    for moment in moments:
        proc = start(*args)
        output = Output(proc)
        if reach(proc, output, moment, queries):
            workers = children_of(proc.pid)  # any child it started
            sent = send_stopped(proc)
        else:
            sent = False
        shown = len(output.err)
        out, err = output.finish()
        if not sent:  # it had ended before this moment: normally
            assert proc.returncode == 0, (moment, err)
            continue
        interrupted += 1
        said = b"\n".join(line for line in err[shown:].splitlines() if line not in sql_lines)
        assert_interrupted(proc, out, said)
        for pid in workers:  # stopped and reaped: no process, not even a zombie
            assert stat_fields(pid) is None, (moment, pid)
    assert interrupted >= 3  # at least start-up, the imports and DuckDB's


def test_an_ignored_ctrl_c_stays_ignored(sample_ingest):
    """Under nohup (or as a shell's background job) SIGINT is ignored: triage leaves it so."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage", "--db", str(sample_ingest[0]), "sql", "--show-sql",
         "SELECT sum(x) FROM range(100000000000) t(x)"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    try:
        output = Output(proc)
        assert output.wait_for(lambda o: b"range(" in o.err)  # past start-up and click
        status = Path(f"/proc/{proc.pid}/status").read_text()
        ignored = next(x for x in status.splitlines() if x.startswith("SigIgn:")).split()[1]
        assert int(ignored, 16) & (1 << (signal.SIGINT - 1))
    finally:
        proc.kill()
        proc.communicate()


def test_a_store_dropped_unclosed_lets_go_of_its_file(tmp_path):
    """Connections are watched for Ctrl-C weakly: a library user's store dropped without
    close() is closed as before, and another process can open the file."""
    store = open_store(tmp_path / "s.duckdb")
    del store
    result = run_triage("--db", tmp_path / "s.duckdb", "info")
    assert result.returncode == 0, result.stderr
