"""What a user types wrong, or odd data, gets one line and a right answer, never a traceback:
the cases a review found (issue: corrections, item 7)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_one_error_line, request_line, run_triage, write_lines


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("usage")
    lines = [
        request_line(i, requestId=f"3f2b{i:04d}-0000-4000-8000-000000000000", statusCode=404)
        for i in range(5)
    ]
    log = write_lines(tmp / "app.log", lines)
    db = tmp / "usage.duckdb"
    done = run_triage("--db", db, "ingest", log)
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.parametrize(
    "args",
    [
        ["errors", "-o", "/missing/dir/x.csv", "--format", "csv"],
        ["report", "weekly", "--week", "2026-W47", "-o", "/missing/dir/r.md"],
        ["lookup", "3f2b0001-0000-4000-8000-000000000000", "-o", "/missing/dir/l.txt"],
    ],
)
def test_output_into_a_missing_folder_is_one_line(small_db, args):
    result = run_triage("--db", small_db, *args)
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr.decode(), "cannot write /missing/dir/", "folder")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["errors", "--since", "9999999d"], "longer than a century"),
        (["errors", "--since", "99999999999999999999999d"], "longer than a century"),
        (["lookup", "3f2b0001-0000-4000-8000-000000000000", "--window", "99999999d"], "century"),
    ],
)
def test_spans_too_long_are_one_line(small_db, args, fragment):
    result = run_triage("--db", small_db, *args)
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), fragment)


def test_one_grammar_of_spans_for_since_and_window(small_db):
    pinned = {"TRIAGE_NOW": "2026-11-16T10:01:33Z"}  # 90s before: 10:00:03
    since = run_triage("--db", small_db, "errors", "--since", "90s", "--format", "json", env=pinned)
    assert since.returncode == 0, since.stderr
    assert sum(r["count"] for r in json.loads(since.stdout)) == 2  # the 10:00:03 and :04 ones
    window = run_triage(
        "--db", small_db, "lookup", "3f2b0001-0000-4000-8000-000000000000", "--window", "2w"
    )
    assert window.returncode == 0, window.stderr
    assert "(±20160 min)".encode() in window.stdout  # two weeks either side


def test_a_bad_share_after_setting_is_one_line(small_db, tmp_path):
    log = write_lines(tmp_path / "more.log", [request_line(50)])
    result = run_triage("--db", small_db, "ingest", log, env={"TRIAGE_SHARE_AFTER": "abc"})
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "TRIAGE_SHARE_AFTER='abc'", "seconds")


def test_a_mapping_with_a_number_for_a_field_is_one_line(small_db, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text("[fields]\nstatus = { field = 5 }\n")
    log = write_lines(tmp_path / "more.log", [request_line(60)])
    result = run_triage("--db", small_db, "ingest", "--mapping", mapping, log)
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "fields.status", "not 5")


def test_a_ticket_word_after_a_label_is_not_an_id(small_db, tmp_path):
    ticket = tmp_path / "ticket.txt"
    ticket.write_text(
        "Hi, the request id was 3f2b0002-0000-4000-8000-000000000000 and it failed.\n"
        "Request-Id: missing on the second call, requestId is unknown.\n"
    )
    result = run_triage("--db", small_db, "lookup", "--ticket", ticket, "--format", "json")
    assert result.returncode == 0, result.stderr
    asked = [r["request_id"] for r in json.loads(result.stdout)]
    assert asked == ["3f2b0002-0000-4000-8000-000000000000"]


def test_a_labelled_non_uuid_id_is_still_found_in_a_ticket():
    from triage.lookup import ids_in_text

    text = "requestId: req-abc (from the SDK), X-Request-ID=abc123def; request id was lost"
    assert ids_in_text(text) == ["req-abc", "abc123def"]


@pytest.mark.parametrize("command", ["lookup", "summary", "reply"])
@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_id_is_no_id(small_db, command, empty):
    result = run_triage("--db", small_db, command, empty)
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "empty request id")


def test_a_line_dated_in_the_future_does_not_pick_the_report_week(tmp_path):
    lines = [request_line(i) for i in range(3)]  # 2026-11-16, week 47
    lines.append({**request_line(9), "timestamp": "2099-02-20T10:00:00Z"})
    lines += [
        {**request_line(20 + d), "timestamp": f"2026-11-{d:02d}T12:00:00Z"} for d in range(9, 24)
    ]
    db = tmp_path / "future.duckdb"
    assert run_triage("--db", db, "ingest", write_lines(tmp_path / "a.log", lines)).returncode == 0
    result = run_triage(
        "--db",
        db,
        "report",
        "weekly",
        "--format",
        "json",
        env={"TRIAGE_NOW": "2026-11-25T08:00:00Z"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["week"] == "2026-W47"


def test_ingest_json_keeps_a_path_with_a_colon_whole(tmp_path):
    missing = tmp_path / "logs:2026-11-16" / "app.log"
    db = tmp_path / "colon.duckdb"
    result = run_triage("--db", db, "ingest", "--format", "json", missing)
    assert result.returncode == 1
    [failed] = json.loads(result.stdout)["per_file"]
    assert failed["path"] == str(missing)
    assert failed["status"] == "error"
