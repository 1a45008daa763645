"""`-o FILE` on every command that writes one: the extension picks the format when --format is
not given, an existing file is never overwritten without --force, and the file is made for
sharing (the umask's mode, 0644 under umask 022) while the store stays private (0600)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys

import pytest

from tests.conftest import request_line, write_lines

RID = "55fbf2be-94b1-43c7-9665-ba6ae898d53b"  # a sample request (invalid_api_key)

# every command that takes -o, with the arguments it needs
COMMANDS = {
    "errors": ["errors"],
    "contract": ["contract"],
    "lookup": ["lookup", RID],
    "summary": ["summary", RID],
    "reply": ["reply", RID],
    "incident": ["incident", "--auto"],
    "report": ["report", "weekly", "--week", "2026-W46"],
}


def run_in(cwd, *args, umask=0o022):
    """triage as a real process with a given umask (set in the child before it starts)."""
    return subprocess.run(
        [sys.executable, "-m", "triage", *map(str, args)],
        capture_output=True,
        cwd=cwd,
        timeout=120,
        preexec_fn=lambda: os.umask(umask),
    )


@pytest.mark.parametrize(
    ("command", "name", "looks_like"),
    [
        ("errors", "e.csv", "csv"),
        ("errors", "e.json", "json"),
        ("errors", "e.md", "md"),
        ("report", "w.html", "html"),
        ("report", "w.json", "json"),
        ("lookup", "l.html", "html"),
        ("lookup", "l.json", "json"),
        ("incident", "i.html", "html"),
        ("summary", "s.html", "html"),
    ],
)
def test_the_extension_chooses_the_format(sample_ingest, tmp_path, command, name, looks_like):
    result = run_in(tmp_path, "--db", sample_ingest[0], *COMMANDS[command], "-o", name)
    assert result.returncode in (0, 1), result.stderr  # lookup: 1 is "some not found"
    text = (tmp_path / name).read_text()
    if looks_like == "csv":
        header = next(csv.reader(io.StringIO(text)))
        assert header[:3] == ["type", "code", "count"]
    elif looks_like == "json":
        json.loads(text)
    elif looks_like == "html":
        assert text.startswith("<!doctype html>")
    else:
        assert text.startswith("| type | code | count |"), text[:80]


def test_an_explicit_format_wins_over_the_extension(sample_ingest, tmp_path):
    result = run_in(tmp_path, "--db", sample_ingest[0], "errors", "--format", "json", "-o", "e.csv")
    assert result.returncode == 0, result.stderr
    json.loads((tmp_path / "e.csv").read_text())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_output_file_is_overwritten_without_force(sample_ingest, tmp_path, command):
    out = tmp_path / "out.txt"
    out.write_text("keep me\n")
    args = ("--db", sample_ingest[0], *COMMANDS[command], "-o", out.name)
    refused = run_in(tmp_path, *args)
    assert refused.returncode == 2
    assert b"exists; pass --force" in refused.stderr
    assert out.read_text() == "keep me\n"
    forced = run_in(tmp_path, *args, "--force")
    assert forced.returncode in (0, 1), forced.stderr
    assert out.read_text() != "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary file left


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_shared_files_follow_the_umask_and_the_store_stays_private(tmp_path, umask, mode):
    log = write_lines(tmp_path / "api.log", [request_line(1), request_line(2, statusCode=500)])
    db = tmp_path / "store.duckdb"
    made = run_in(tmp_path, "--db", db, "ingest", log, umask=umask)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    for args, name in ((["errors"], "errors.csv"), (["report", "weekly"], "week.html")):
        result = run_in(tmp_path, "--db", db, *args, "-o", name, umask=umask)
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def in_a_terminal(args, columns: int) -> str:
    """What triage prints to a real terminal (a pseudo-terminal) of `columns` columns."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage", *map(str, args)],
        stdout=follower,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    return out.decode().replace("\r\n", "\n")


def test_a_terminal_table_is_cut_to_the_terminals_width_and_says_so(sample_ingest):
    args = ("--db", sample_ingest[0], "errors", "--by", "code", "--limit", "5")
    piped = run_in(None, *args).stdout.decode()
    assert max(len(line) for line in piped.splitlines()) > 110  # the whole table is wide
    narrow = in_a_terminal(args, 110)
    lines = narrow.splitlines()
    assert lines[-1].startswith("(long values cut to fit 110 columns;")
    assert max(len(line) for line in lines[:-1]) <= 110
    assert "…" in narrow
    # a terminal wide enough shows the table as a pipe does, whole and without the note
    assert in_a_terminal(args, 400) == piped
    # and a pipe is never cut, whatever COLUMNS says
    env_narrow = subprocess.run(
        [sys.executable, "-m", "triage", *args],
        capture_output=True,
        env={**os.environ, "COLUMNS": "60"},
        timeout=120,
    )
    assert env_narrow.stdout.decode() == piped
