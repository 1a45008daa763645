"""A finished file's last line is taken even without a newline (README "Ingest"): with
--final, or once the file has not changed for 5 minutes. A live file's incomplete last line
still waits. If a finished file grows after all, every byte still lands in exactly one line.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.conftest import (
    all_rows,
    as_bytes,
    assert_one_error_line,
    ingest,
    log_line,
    one,
    run_triage,
    write_lines,
)
from triage.ingest import FINISHED_AFTER_SECONDS, ingest_paths


def request_ids(store) -> list[str]:
    return [r for (r,) in all_rows(store, "SELECT request_id FROM events ORDER BY line_no")]


def final(store, *paths) -> dict:
    return ingest_paths(store, [str(p) for p in paths], final=True).as_dict()


def export(path, n: int):
    """An export of n lines whose last line has no newline."""
    return write_lines(path, [log_line(i) for i in range(n)], final_newline=False)


def age(path, seconds: float) -> None:
    """Make the file look unchanged for `seconds` (no sleeping)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def assert_each_line_once(store) -> None:
    total, distinct = one(
        store, "SELECT count(*), count(DISTINCT (source_id, line_no)) FROM records"
    )
    assert total == distinct


def test_a_live_files_last_line_still_waits_for_its_newline(store, tmp_path):
    s = ingest(store, export(tmp_path / "app.log", 3))
    assert (s["lines"], s["pending_bytes"]) == (2, len(as_bytes(log_line(2))))


def test_final_takes_the_last_line_without_newline(store, tmp_path):
    path = export(tmp_path / "app.log", 3)
    s = final(store, path)
    assert (s["lines"], s["events"], s["pending_bytes"]) == (3, 3, 0)
    assert request_ids(store) == ["r0", "r1", "r2"]
    assert final(store, path)["files_skipped"] == 1  # nothing left to take


def test_final_takes_the_line_a_live_ingest_left_waiting(store, tmp_path):
    path = export(tmp_path / "app.log", 3)
    ingest(store, path)
    s = final(store, path)
    last_line_at = path.stat().st_size - len(as_bytes(log_line(2)))
    assert (s["lines"], s["per_file"][0]["resumed_at"]) == (1, last_line_at)
    assert request_ids(store) == ["r0", "r1", "r2"]


def test_a_file_unchanged_for_five_minutes_is_finished(store, tmp_path):
    path = export(tmp_path / "app.log", 3)
    age(path, FINISHED_AFTER_SECONDS + 10)
    s = ingest(store, path)
    assert (s["lines"], s["pending_bytes"]) == (3, 0)


def test_a_file_changed_a_little_less_than_that_is_still_live(store, tmp_path):
    path = export(tmp_path / "app.log", 3)
    age(path, FINISHED_AFTER_SECONDS - 60)
    assert ingest(store, path)["lines"] == 2


def test_triage_finished_after_sets_how_long(tmp_path):
    path = export(tmp_path / "app.log", 3)
    age(path, 120)
    db = tmp_path / "s.duckdb"
    live = run_triage("--db", db, "ingest", path, "--format", "json")
    assert json.loads(live.stdout)["lines"] == 2
    done = run_triage(
        "--db", db, "ingest", path, "--format", "json", env={"TRIAGE_FINISHED_AFTER": "60"}
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["lines"] == 1


@pytest.mark.parametrize("value", ["soon", "-5", "inf"])
def test_a_bad_triage_finished_after_is_a_usage_error(tmp_path, value):
    path = export(tmp_path / "app.log", 1)
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", path,
                      env={"TRIAGE_FINISHED_AFTER": value})  # fmt: skip
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr.decode(), f"TRIAGE_FINISHED_AFTER={value!r}", "seconds")


def test_final_on_the_command_line(tmp_path):
    path = export(tmp_path / "app.log", 4)
    db = tmp_path / "s.duckdb"
    proc = run_triage("--db", db, "ingest", "--final", path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["lines"], summary["events"], summary["pending_bytes"]) == (4, 4, 0)
    assert "waiting" not in proc.stderr.decode()


def test_waiting_line_says_how_to_take_it(tmp_path):
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", export(tmp_path / "a.log", 2))
    assert proc.returncode == 0, proc.stderr
    assert "--final, or 5 minutes unchanged" in proc.stderr.decode()


# --- a finished file that grows after all ------------------------------------------------------


def test_a_newline_then_more_lines_after_final_add_only_the_new_lines(store, tmp_path):
    path = export(tmp_path / "app.log", 3)
    final(store, path)
    with path.open("ab") as f:
        f.write(b"\n" + as_bytes(log_line(3)) + b"\n" + as_bytes(log_line(4)) + b"\n")
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["blank"], s["rejected"]) == (2, 2, 0, 0)
    assert request_ids(store) == ["r0", "r1", "r2", "r3", "r4"]
    assert_each_line_once(store)


def test_a_line_appended_straight_after_the_taken_one_is_a_line_of_its_own(store, tmp_path):
    path = export(tmp_path / "app.log", 3)
    final(store, path)
    with path.open("ab") as f:  # no newline first: `cat a b` of exports without newlines
        f.write(as_bytes(log_line(3)) + b"\n")
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["rejected"]) == (1, 1, 0)
    assert request_ids(store) == ["r0", "r1", "r2", "r3"]
    stored = all_rows(store, "SELECT byte_offset FROM records ORDER BY line_no")
    assert stored[-1] == (len(path.read_bytes()) - len(as_bytes(log_line(3))) - 1,)


def test_only_a_newline_appended_adds_nothing_and_the_next_line_once(store, tmp_path):
    path = export(tmp_path / "app.log", 2)
    final(store, path)
    with path.open("ab") as f:
        f.write(b"\n")
    s = ingest(store, path)
    assert (s["lines"], s["blank"]) == (0, 0)
    with path.open("ab") as f:
        f.write(as_bytes(log_line(2)) + b"\n")
    assert ingest(store, path)["lines"] == 1
    assert request_ids(store) == ["r0", "r1", "r2"]
    assert_each_line_once(store)


def test_a_reread_keeps_the_last_line_a_final_ingest_took(store, tmp_path):
    path = export(tmp_path / "app.log", 3)
    final(store, path)
    s = ingest_paths(store, [str(path)], reread=True).as_dict()
    assert (s["lines"], s["pending_bytes"]) == (3, 0)
    assert request_ids(store) == ["r0", "r1", "r2"]


def test_a_line_cut_by_a_block_end_just_before_its_newline_keeps_it(store, tmp_path, monkeypatch):
    """After a final ingest, only the first bytes read may be the newline that ends the line
    taken then: a later block that starts with a newline ends the line the reader carries."""
    import triage.reader

    path = export(tmp_path / "app.log", 2)
    final(store, path)
    long_line = as_bytes(log_line(2, msg="x" * 200))
    with path.open("ab") as f:  # straight after the taken line, then one more line
        f.write(long_line + b"\n" + as_bytes(log_line(3)) + b"\n")
    monkeypatch.setattr(triage.reader, "BLOCK_SIZE", len(long_line))  # next block: "\n..."
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["rejected"]) == (2, 2, 0)
    assert request_ids(store) == ["r0", "r1", "r2", "r3"]
