"""The CLI contract: exit codes, one-line errors on stderr, data on stdout, the store file."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import (
    assert_one_error_line,
    ingest,
    log_line,
    one,
    request_line,
    run_triage,
    write_lines,
)
from triage.cli import cli as triage_cli
from triage.store import SCHEMA_VERSION, open_store

SUMMARY_KEYS = {
    "files",
    "files_skipped",
    "lines",
    "blank",
    "events",
    "requests",
    "rejected",
    "rejected_by_reason",
}


@pytest.fixture
def small_log(tmp_path):
    """7 requests, 5 trace lines, 2 rejected lines (one no_timestamp, one invalid_json), 1 blank."""
    return write_lines(
        tmp_path / "logs" / "app.log",
        [request_line(i) for i in range(7)]
        + [log_line(i) for i in range(10, 15)]
        + [{"msg": "no time"}, '{"not json', ""],
    )


def test_ingest_exits_0_with_the_summary_on_stderr_only(tmp_path, small_log):
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", small_log)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert "Error" not in err
    assert "15 read" in err and "12 events" in err and "2 rejected" in err


def test_ingest_format_json_prints_one_object_on_stdout(cli, small_log):
    result = cli("ingest", small_log, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert {k: summary[k] for k in SUMMARY_KEYS} == {
        "files": 1,
        "files_skipped": 0,
        "lines": 15,
        "blank": 1,
        "events": 12,
        "requests": 7,
        "rejected": 2,
        "rejected_by_reason": {"no_timestamp": 1, "invalid_json": 1},
    }
    assert "files: 1 read" in result.stderr  # the human summary stays on stderr


def test_ingest_json_summary_of_a_rerun_counts_the_skip(cli, small_log):
    assert cli("ingest", small_log).exit_code == 0
    result = cli("ingest", small_log, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["files"], summary["files_skipped"], summary["events"]) == (0, 1, 0)


def test_progress_bar_does_not_change_the_counts(cli, small_log):
    result = cli("ingest", small_log, "--progress", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"] == 12


def test_missing_path_exits_1_and_the_other_files_are_read(tmp_path, small_log):
    db = tmp_path / "s.duckdb"
    proc = run_triage("--db", db, "ingest", tmp_path / "nope.log", small_log, "--format", "json")
    assert proc.returncode == 1
    assert_one_error_line(proc.stderr.decode(), "nope.log")
    assert json.loads(proc.stdout)["events"] == 12


def test_glob_matching_nothing_exits_1(tmp_path):
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", tmp_path / "*.ndjson")
    assert proc.returncode == 1
    assert_one_error_line(proc.stderr.decode(), "*.ndjson")


def test_truncated_gzip_exits_1_and_is_read_in_full_once_fixed(tmp_path, small_log, cli, db_path):
    data = b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(100, 400))
    bad = tmp_path / "logs" / "old.log.1.gz"
    bad.write_bytes(gzip.compress(data)[:-30])
    proc = run_triage("--db", db_path, "ingest", tmp_path / "logs", "--format", "json")
    assert proc.returncode == 1
    assert_one_error_line(proc.stderr.decode(), "old.log.1.gz")
    first = json.loads(proc.stdout)
    assert (first["files"], first["files_failed"], first["events"]) == (1, 1, 12)

    bad.write_bytes(gzip.compress(data))
    result = cli("ingest", tmp_path / "logs", "--format", "json")
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout)
    assert (second["files"], second["files_skipped"], second["events"]) == (1, 1, 300)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_truncated_archive_is_one_clean_error_line(tmp_path, compression):
    data = b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(3000))
    path = tmp_path / "cut.log"
    if compression == "gzip":
        packed = gzip.compress(data)
    else:
        with pa.CompressedOutputStream(str(path), "zstd") as f:
            f.write(data)
        packed = path.read_bytes()
    path.write_bytes(packed[: len(packed) // 2])
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", path)
    assert proc.returncode == 1
    assert_one_error_line(proc.stderr.decode(), "cut.log", "truncated")


def test_rejected_lines_are_data_not_failures(cli, tmp_path):
    path = write_lines(tmp_path / "bad.log", ["nope", "[1]", {"msg": "x"}])
    result = cli("ingest", path, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rejected"] == 3
    assert "Error" not in result.stderr


def test_ingest_without_paths_is_a_usage_error(cli):
    result = cli("ingest")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_triage_db_environment_variable_chooses_the_store(tmp_path, small_log):
    db = tmp_path / "from-env.duckdb"
    proc = run_triage("ingest", small_log, env={"TRIAGE_DB": str(db)})
    assert proc.returncode == 0, proc.stderr
    info = run_triage("info", "--format", "json", env={"TRIAGE_DB": str(db)})
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["store"] == str(db)


def test_naive_timestamps_are_utc_whatever_the_machine_zone(tmp_path):
    db = tmp_path / "s.duckdb"
    log = write_lines(tmp_path / "a.log", [{"timestamp": "2026-11-16T10:00:00", "msg": "x"}])
    proc = run_triage("--db", db, "ingest", log, env={"TZ": "America/New_York"})
    assert proc.returncode == 0, proc.stderr
    with open_store(db, read_only=True) as s:
        assert one(s, "SELECT ts FROM events")[0] == datetime(2026, 11, 16, 10, tzinfo=UTC)


def test_new_store_file_is_readable_by_its_owner_only(cli, small_log, db_path):
    assert cli("ingest", small_log).exit_code == 0
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_store_files_on_disk_are_readable_by_their_owner_only(store, small_log, db_path):
    ingest(store, small_log)  # the store stays open: its write-ahead log is on disk
    files = sorted(db_path.parent.glob(db_path.name + "*"))
    assert len(files) >= 2, files
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {
        f.name: oct(0o600) for f in files
    }


def test_closing_stores_restores_the_process_umask(tmp_path):
    before = os.umask(0o022)
    try:
        first = open_store(tmp_path / "a.duckdb")
        second = open_store(tmp_path / "b.duckdb")
        first.close()
        second.close()
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)


def test_db_whose_directory_cannot_be_created_is_a_one_line_error(tmp_path, small_log):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    proc = run_triage("--db", blocker / "s.duckdb", "ingest", small_log)
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr.decode(), "not-a-dir", "--db")


def test_info_on_a_missing_store_says_to_run_ingest_first(tmp_path):
    proc = run_triage("--db", tmp_path / "none.duckdb", "info")
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr.decode(), "none.duckdb", "ingest")
    assert not (tmp_path / "none.duckdb").exists()


def test_info_after_ingest_shows_the_store_and_its_counts(cli, small_log, db_path):
    assert cli("ingest", small_log).exit_code == 0
    result = cli("info", "--format", "json")
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert (facts["store"], facts["schema_version"]) == (str(db_path), SCHEMA_VERSION)
    assert (
        facts["sources"],
        facts["requests"],
        facts["trace_events"],
        facts["log_events"],
        facts["rejected"],
        facts["blank_lines"],
    ) == (1, 7, 5, 0, 2, 1)
    assert facts["rejected_by_reason"] == {"invalid_json": 1, "no_timestamp": 1}
    text = cli("info")
    assert text.exit_code == 0, text.output
    assert str(db_path) in text.stdout
    assert any(f"schema version {SCHEMA_VERSION}" in line for line in text.stdout.splitlines())
    assert str(small_log) in text.stdout


def test_file_that_is_not_a_duckdb_store_is_a_one_line_error(tmp_path, small_log):
    db = tmp_path / "notes.duckdb"
    db.write_text("just some text\n")
    for args in (["info"], ["ingest", str(small_log)]):
        proc = run_triage("--db", db, *args)
        assert proc.returncode == 2, args
        assert_one_error_line(proc.stderr.decode(), "notes.duckdb")
    assert db.read_text() == "just some text\n"


def test_duckdb_database_that_is_not_a_triage_store_is_refused_by_info(tmp_path):
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    con.close()
    proc = run_triage("--db", db, "info")
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr.decode(), "other.duckdb", "not a triage store")


def test_store_from_a_newer_triage_is_refused(tmp_path, small_log):
    db = tmp_path / "future.duckdb"
    with open_store(db) as s:
        s.con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    for args in (["info"], ["ingest", str(small_log)]):
        proc = run_triage("--db", db, *args)
        assert proc.returncode == 2, args
        assert_one_error_line(proc.stderr.decode(), "99", "upgrade triage")


def test_store_held_by_another_process_exits_3_naming_it(tmp_path, small_log):
    db = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        proc = run_triage("--db", db, "ingest", small_log)
        assert proc.returncode == 3
        assert_one_error_line(proc.stderr.decode(), "busy.duckdb", f"process {holder.pid}")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_every_command_has_help():
    from click.testing import CliRunner

    runner = CliRunner()
    assert triage_cli.commands, "no commands registered"
    for name, command in triage_cli.commands.items():
        result = runner.invoke(triage_cli, [name, "--help"], prog_name="triage")
        assert result.exit_code == 0, (name, result.output)
        assert result.stdout.startswith(f"Usage: triage {name}"), result.stdout
        summary = " ".join(command.help.split("\n\n")[0].split()) if command.help else ""
        assert summary and summary in " ".join(result.stdout.split()), name


def test_top_level_help_lists_every_command():
    from click.testing import CliRunner

    result = CliRunner().invoke(triage_cli, ["--help"], prog_name="triage")
    assert result.exit_code == 0, result.output
    for name in triage_cli.commands:
        assert name in result.stdout


def test_python_dash_m_triage_runs(tmp_path):
    proc = run_triage("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().startswith("triage, version ")


def test_store_directory_is_created_when_missing(cli, small_log, db_path):
    assert not db_path.parent.exists()
    assert cli("ingest", small_log).exit_code == 0
    assert db_path.is_file()
