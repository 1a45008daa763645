"""The 37 "bad inputs triage must survive" (docs reliability.md), one test each.

Every test writes real files under tmp_path, ingests them into a real store (the library, or
the CLI as a subprocess where the CLI is the contract), and checks (a) the specific outcome of
the bad input: an event with the right value, a reject with the right reason, a blank line, or
one clear per-file error; and (b) the accounting: lines = events + rejected + blank.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

import triage.ingest
from tests.conftest import (
    Watched,
    all_rows,
    append_lines,
    assert_one_error_line,
    ingest,
    log_line,
    one,
    request_line,
    run_triage,
    write_lines,
)
from tests.interrupting import Output, start, stop
from triage.store import open_store

T10 = datetime(2026, 11, 16, 10, 0, 0, tzinfo=UTC)
EPOCH_T10 = int(T10.timestamp())


def accounted(d: dict, *, lines: int, events: int, rejected: int = 0, blank: int = 0) -> dict:
    """The summary adds up, and to the numbers expected."""
    assert d["lines"] == d["events"] + d["rejected"] + d["blank"], d
    assert (d["lines"], d["events"], d["rejected"], d["blank"]) == (
        lines,
        events,
        rejected,
        blank,
    ), d
    assert d["files_failed"] == 0, d["errors"]
    return d


def rejects(store) -> list[tuple[int, str]]:
    return all_rows(store, "SELECT line_no, reason FROM rejects ORDER BY source_path, line_no")


def event_ids(store) -> list[str]:
    return [r for (r,) in all_rows(store, "SELECT request_id FROM events ORDER BY ts, line_no")]


def stored_once(store) -> int:
    """Records in the store, after checking that no line of any source is stored twice."""
    total, distinct = one(
        store, "SELECT count(*), count(DISTINCT (source_id, line_no)) FROM records"
    )
    assert total == distinct
    return total


def ts_of(store, request_id: str) -> datetime:
    (ts,) = one(store, "SELECT ts FROM events WHERE request_id = ?", [request_id])
    return ts.astimezone(UTC)


def gz(path: Path, lines, *, final_newline=True) -> Path:
    plain = write_lines(path.with_name(path.name + ".plain"), lines, final_newline=final_newline)
    path.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    return path


def zst(path: Path, data: bytes) -> Path:
    with pa.CompressedOutputStream(str(path), "zstd") as out:
        out.write(data)
    return path


def one_failed(d: dict, name: str) -> str:
    assert d["files_failed"] == 1, d
    assert len(d["errors"]) == 1 and name in d["errors"][0], d["errors"]
    assert "\n" not in d["errors"][0]
    return d["errors"][0]


# 1-4: lines broken by writers ---------------------------------------------------------------


def test_01_malformed_json_mid_file(store, tmp_path):
    f = write_lines(
        tmp_path / "a.log",
        [log_line(0), '{"timestamp": "2026-11-16T10:00:01Z", "requ', log_line(2)],
    )
    accounted(ingest(store, f), lines=3, events=2, rejected=1)
    assert rejects(store) == [(2, "invalid_json")]
    assert event_ids(store) == ["r0", "r2"]


def parse_record_body(store) -> str:
    return one(
        store,
        "SELECT macro_definition FROM duckdb_functions() WHERE function_name = 'parse_record'",
    )[0]


@pytest.mark.parametrize(
    "broken",
    [
        '{"timestamp": "2026-11-16T10:00:01Z", broken}',  # whole braces, broken inside
        '{"timestamp": "2026-11-16T10:00:01Z"}}',  # one brace too many
        '{"timestamp": "2026-11-16T10:00:01Z", "requ',  # cut off
        '{"timestamp": "2026-11-16T10:00:01Z", "requestId": "r1"} \t',  # whole, blanks after
    ],
)
def test_01b_broken_lines_among_many_good_ones(store, tmp_path, broken):
    # Thousands of lines around it, so the broken line shares its vector with good ones, and
    # a good line with blanks around it (valid JSON that does not end with its brace).
    good = [log_line(i) for i in range(5000)]
    good[3000] = "  " + json.dumps(log_line(3000)) + " \t"
    lines = good[:2500] + [broken] + good[2500:]
    f = write_lines(tmp_path / "a.log", lines)
    d = ingest(store, f)
    if broken.endswith("\t"):
        accounted(d, lines=5001, events=5001)
        assert one(store, "SELECT count(*) FROM events WHERE request_id = 'r1'")[0] == 2
    else:
        accounted(d, lines=5001, events=5000, rejected=1)
        assert rejects(store) == [(2501, "invalid_json")]
    assert stored_once(store) == 5001
    assert one(store, "SELECT count(*) FROM events WHERE request_id = 'r3000'")[0] == 1
    # a file broken inside its braces is read again, carefully; the next is read quickly
    assert "try" not in parse_record_body(store)


def test_02_partial_last_line_of_a_live_file(store, tmp_path):
    fragment = json.dumps(log_line(2))[:25]
    f = write_lines(tmp_path / "a.log", [log_line(0), log_line(1), fragment], final_newline=False)
    d = accounted(ingest(store, f), lines=2, events=2)
    assert d["pending_bytes"] == len(fragment)
    assert rejects(store) == []


def test_03_that_fragment_completed_later(store, tmp_path):
    whole = json.dumps(log_line(2))
    f = write_lines(tmp_path / "a.log", [log_line(0), log_line(1), whole[:25]], final_newline=False)
    ingest(store, f)
    with f.open("ab") as out:
        out.write(whole[25:].encode() + b"\n")
    d = accounted(ingest(store, f), lines=1, events=1)
    assert d["pending_bytes"] == 0
    assert all_rows(store, "SELECT line_no, request_id FROM events WHERE request_id = 'r2'") == [
        (3, "r2")
    ]
    assert stored_once(store) == 3 and rejects(store) == []


@pytest.mark.parametrize("how", ["gzip archive", "stdin", "plain file"])
def test_04_last_line_without_newline_in_a_finished_file(store, tmp_path, db_path, how):
    lines = [log_line(i) for i in range(3)]
    if how == "gzip archive":
        d = ingest(store, gz(tmp_path / "a.log.gz", lines, final_newline=False))
        accounted(d, lines=3, events=3)
        assert d["pending_bytes"] == 0
    elif how == "stdin":
        store.close()
        data = b"\n".join(json.dumps(x).encode() for x in lines)
        proc = run_triage("--db", db_path, "ingest", "-", "--format", "json", input=data)
        assert proc.returncode == 0, proc.stderr
        d = accounted(json.loads(proc.stdout), lines=3, events=3)
        assert d["pending_bytes"] == 0
        return
    else:
        # a plain file may still be written to: its last line waits, counted as pending
        f = write_lines(tmp_path / "a.log", lines, final_newline=False)
        d = accounted(ingest(store, f), lines=2, events=2)
        assert d["pending_bytes"] == len(json.dumps(lines[2]))
        return
    assert event_ids(store) == ["r0", "r1", "r2"]


# 5-10: encodings and odd bytes ----------------------------------------------------------------


def test_05_invalid_utf8_is_repaired_not_lost(store, tmp_path):
    bad = b'{"timestamp": "2026-11-16T10:00:01Z", "requestId": "r1", "msg": "caf\xe9 \xff"}'
    f = write_lines(tmp_path / "a.log", [log_line(0), bad, log_line(2)])
    d = accounted(ingest(store, f), lines=3, events=3)
    assert d["repaired"] == 1
    assert rejects(store) == []
    assert event_ids(store) == ["r0", "r1", "r2"]
    msg, raw, repaired = one(store, "SELECT message, raw, repaired FROM events WHERE line_no = 2")
    assert msg == "caf\N{REPLACEMENT CHARACTER} \N{REPLACEMENT CHARACTER}" and repaired
    assert "caf\\xE9 \\xFF" in raw  # the bytes as they were, escaped


def test_05b_invalid_utf8_that_is_not_json_after_repair_is_rejected(store, tmp_path):
    bad = b'{"timestamp": "2026-11-16T10:00:01Z", "requestId": "r1", "msg": "caf\xe9'
    f = write_lines(tmp_path / "a.log", [log_line(0), bad])
    accounted(ingest(store, f), lines=2, events=1, rejected=1)
    assert rejects(store) == [(2, "invalid_json")]


def test_06_utf16_file_with_bom(store, tmp_path):
    text = "\n".join(json.dumps(log_line(i)) for i in range(3)) + "\n"
    f = tmp_path / "a.log"
    f.write_bytes(text.encode("utf-16"))  # BOM + UTF-16LE
    d = ingest(store, f)
    assert d["files_failed"] == 0, d["errors"]
    # each line is a reject with a reason (the BOM line, once repaired, is no more JSON than
    # the rest, and UTF-16 reads as text in no known format): nothing becomes an event of
    # NULLs; the lone 0x00 after the last newline waits
    accounted(d, lines=3, events=0, rejected=3)
    assert d["rejected_by_reason"] == {"unrecognised_text": 3}, d
    assert d["pending_bytes"] == 1
    assert one(store, "SELECT count(*) FROM records WHERE kind <> 'reject'") == (0,)


def test_07_utf8_bom(store, tmp_path):
    f = write_lines(tmp_path / "a.log", [log_line(0), log_line(1)])
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    accounted(ingest(store, f), lines=2, events=2)
    assert event_ids(store) == ["r0", "r1"]
    assert ts_of(store, "r0") == T10


def test_08_crlf_blank_and_whitespace_only_lines(store, tmp_path):
    f = tmp_path / "a.log"
    f.write_bytes(
        json.dumps(log_line(0)).encode()
        + b"\r\n\r\n   \n\t\r\n"
        + json.dumps(request_line(1)).encode()
        + b"\r\n\n"
    )
    accounted(ingest(store, f), lines=6, events=2, blank=4)
    assert rejects(store) == []
    rows = all_rows(store, "SELECT request_id, line_no, status FROM events ORDER BY line_no")
    assert rows == [("r0", 1, None), ("r1", 5, 200)]


@pytest.mark.parametrize("where", ["line of NULs", "NULs before a line"])
def test_09_a_run_of_nul_bytes_is_one_reject(store, tmp_path, where):
    nuls = b"\x00" * 20_000
    middle = nuls if where == "line of NULs" else nuls + json.dumps(log_line(1)).encode()
    f = write_lines(tmp_path / "a.log", [log_line(0), middle, log_line(2)])
    d = accounted(ingest(store, f), lines=3, events=2, rejected=1)
    assert [line for line, _ in rejects(store)] == [2]
    # NUL bytes do not start like JSON: text in no known format
    assert set(d["rejected_by_reason"]) <= {"unrecognised_text", "invalid_utf8"}
    assert event_ids(store) == ["r0", "r2"]


def test_10_a_line_over_the_size_limit_is_too_long(store, tmp_path):
    huge = log_line(1, msg="x" * (triage.ingest.MAX_LINE_BYTES + 10))
    f = write_lines(tmp_path / "a.log", [log_line(0), huge, log_line(2)])
    accounted(ingest(store, f), lines=3, events=2, rejected=1)
    assert rejects(store) == [(2, "too_long")]
    assert event_ids(store) == ["r0", "r2"]
    (size,) = one(store, "SELECT octet_length(raw::BLOB) FROM rejects")
    assert size <= 64 * 1024


# 11-18: JSON edge cases ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [129, 1000, 100_000])
def test_11_nesting_deeper_than_128(store, tmp_path, depth):
    deep = (
        '{"timestamp": "2026-11-16T10:00:01Z", "requestId": "r1", "deep": '
        + "[" * depth
        + "]" * depth
        + "}"
    )
    f = write_lines(tmp_path / "a.log", [log_line(0), deep, log_line(2)])
    d = ingest(store, f)
    assert d["files_failed"] == 0, d["errors"]
    assert d["lines"] == 3 == d["events"] + d["rejected"] + d["blank"], d
    assert "r0" in event_ids(store) and "r2" in event_ids(store)
    # the deep line is an event, or a reject with a reason; never lost
    if d["rejected"]:
        assert rejects(store) == [(2, "invalid_json")]
    else:
        assert event_ids(store) == ["r0", "r1", "r2"]


@pytest.mark.parametrize("line", ["42", '["a", 1]', "null", '"text"', "true", "[]"])
def test_12_valid_json_that_is_not_an_object(store, tmp_path, line):
    f = write_lines(tmp_path / "a.log", [log_line(0), line, log_line(2)])
    accounted(ingest(store, f), lines=3, events=2, rejected=1)
    assert rejects(store) == [(2, "not_an_object")]


def test_13_duplicate_keys(store, tmp_path):
    dup = (
        '{"timestamp": "2026-11-16T10:00:01Z", "requestId": "first", "requestId": "second", '
        '"statusCode": 200, "statusCode": 500, "method": "GET", "path": "/v1/x"}'
    )
    f = write_lines(tmp_path / "a.log", [dup])
    accounted(ingest(store, f), lines=1, events=1)
    rid, status = one(store, "SELECT request_id, status FROM events")
    # the first occurrence wins for every key (DuckDB's reading), never NULL
    assert (rid, status) == ("first", 200)


def test_14_type_drift(store, tmp_path):
    lines = [
        request_line(0, statusCode="404", durationMs="12.5"),
        request_line(1, statusCode=404.0, durationMs=7),
        request_line(2, statusCode=404, durationMs=None),
    ]
    f = write_lines(tmp_path / "a.log", lines)
    accounted(ingest(store, f), lines=3, events=3)
    rows = all_rows(store, "SELECT request_id, status, duration_ms FROM events ORDER BY line_no")
    assert rows == [("r0", 404, 12.5), ("r1", 404, 7.0), ("r2", 404, None)]


@pytest.mark.parametrize("digits", ["12345678901234567890", "98765432109876543210"])
def test_15_twenty_digit_numeric_request_id(store, tmp_path, digits):
    line = f'{{"timestamp": "2026-11-16T10:00:00Z", "requestId": {digits}, "msg": "n"}}'
    f = write_lines(tmp_path / "a.log", [line])
    accounted(ingest(store, f), lines=1, events=1)
    assert one(store, "SELECT request_id FROM events") == (digits,)


def test_16_lone_surrogate(store, tmp_path):
    lone = '{"timestamp": "2026-11-16T10:00:01Z", "requestId": "r1", "msg": "a\\ud800b"}'
    f = write_lines(tmp_path / "a.log", [log_line(0), lone, log_line(2)])
    accounted(ingest(store, f), lines=3, events=2, rejected=1)
    assert rejects(store) == [(2, "invalid_json")]


def test_17_escaped_nul_inside_a_string(store, tmp_path):
    line = '{"timestamp": "2026-11-16T10:00:01Z", "requestId": "r1", "msg": "a\\u0000b"}'
    f = write_lines(tmp_path / "a.log", [log_line(0), line])
    accounted(ingest(store, f), lines=2, events=2)
    (msg,) = one(store, "SELECT message FROM events WHERE request_id = 'r1'")
    assert msg is not None and msg.startswith("a")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_18_nan_and_infinity(store, tmp_path, value):
    line = (
        '{"timestamp": "2026-11-16T10:00:01Z", "requestId": "r1", "method": "GET", '
        f'"path": "/v1/x", "statusCode": 200, "durationMs": {value}}}'
    )
    f = write_lines(tmp_path / "a.log", [log_line(0), line, log_line(2)])
    d = ingest(store, f)
    assert d["files_failed"] == 0, d["errors"]
    assert d["lines"] == 3 == d["events"] + d["rejected"] + d["blank"], d
    assert event_ids(store)[0] == "r0" and "r2" in event_ids(store)
    if d["rejected"]:
        assert rejects(store) == [(2, "invalid_json")]
    else:
        # accepted as JSON: the request is kept with its status and id
        assert one(store, "SELECT status FROM events WHERE request_id = 'r1'") == (200,)


def test_18_nan_duration_keeps_lookup_json_valid(tmp_path, db_path):
    rid = "11111111-1111-4111-8111-111111111111"
    line = (
        f'{{"timestamp": "2026-11-16T10:00:01Z", "requestId": "{rid}", "method": "GET", '
        '"path": "/v1/x", "statusCode": 500, "durationMs": NaN}'
    )
    f = write_lines(tmp_path / "a.log", [line])
    assert run_triage("--db", db_path, "ingest", f).returncode == 0
    proc = run_triage("--db", db_path, "lookup", rid, "--format", "json")
    assert proc.returncode == 0, proc.stderr

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    json.loads(proc.stdout, parse_constant=refuse)


# 19-20: time ---------------------------------------------------------------------------------


def test_19_mixed_naive_and_offset_timestamps(store, tmp_path):
    stamps = [
        "2026-11-16T10:00:00Z",
        "2026-11-16T10:00:00",
        "2026-11-16 10:00:00",
        "2026-11-16T12:00:00+02:00",
        "2026-11-16T05:00:00-05:00",
        "2026-11-16T15:30:00+0530",
        "2026-11-16T10:00:00.000+00:00",
    ]
    lines = [{"timestamp": s, "requestId": f"t{i}"} for i, s in enumerate(stamps)]
    f = write_lines(tmp_path / "a.log", lines)
    accounted(ingest(store, f), lines=len(stamps), events=len(stamps))
    for i, s in enumerate(stamps):
        assert ts_of(store, f"t{i}") == T10, s


@pytest.mark.parametrize(
    "value",
    [
        EPOCH_T10,
        EPOCH_T10 * 1000,
        EPOCH_T10 * 1_000_000,
        EPOCH_T10 * 1_000_000_000,
        float(EPOCH_T10),
        str(EPOCH_T10),
        str(EPOCH_T10 * 1000),
    ],
    ids=["s", "ms", "us", "ns", "s-float", "s-string", "ms-string"],
)
def test_20_epoch_seconds_vs_milliseconds(store, tmp_path, value):
    f = write_lines(tmp_path / "a.log", [{"ts": value, "requestId": "e"}])
    accounted(ingest(store, f), lines=1, events=1)
    assert ts_of(store, "e") == T10


# 21-25: compression ----------------------------------------------------------------------


def test_21_truncated_gz(store, tmp_path):
    good = write_lines(tmp_path / "good.log", [log_line(100)])
    data = gzip.compress(b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(200)))
    f = tmp_path / "a.log.gz"
    f.write_bytes(data[: len(data) // 2])
    d = ingest(store, good, f)
    one_failed(d, "a.log.gz")
    assert d["files"] == 1 and d["events"] == 1
    assert one(store, "SELECT count(*) FROM sources WHERE path LIKE '%a.log.gz'") == (0,)
    assert stored_once(store) == 1
    # tried again next run: still an error, then read in full once the archive is whole
    one_failed(ingest(store, f), "a.log.gz")
    f.write_bytes(data)
    accounted(ingest(store, f), lines=200, events=200)
    assert stored_once(store) == 201


def test_22_corrupt_gz(store, tmp_path):
    data = bytearray(
        gzip.compress(b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(200)))
    )
    for i in range(len(data) // 2, len(data) // 2 + 16):
        data[i] ^= 0xFF
    f = tmp_path / "a.log.gz"
    f.write_bytes(bytes(data))
    one_failed(ingest(store, f), "a.log.gz")
    assert stored_once(store) == 0
    assert one(store, "SELECT count(*) FROM sources") == (0,)
    one_failed(ingest(store, f), "a.log.gz")  # tried again, still nothing committed
    assert stored_once(store) == 0


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_23_gzip_or_zstd_without_extension(store, tmp_path, kind):
    data = b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(5))
    f = tmp_path / "archive"
    if kind == "gzip":
        f.write_bytes(gzip.compress(data))
    else:
        zst(f, data)
    accounted(ingest(store, f), lines=5, events=5)
    assert one(store, "SELECT compression FROM sources") == (kind,)
    assert event_ids(store) == [f"r{i}" for i in range(5)]


def test_24_concatenated_gzip_members(store, tmp_path):
    a = b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(3))
    b = b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(3, 7))
    f = tmp_path / "a.log.gz"
    f.write_bytes(gzip.compress(a) + gzip.compress(b))
    accounted(ingest(store, f), lines=7, events=7)
    assert event_ids(store) == [f"r{i}" for i in range(7)]


@pytest.mark.parametrize("kind", ["empty file", "empty .gz", "zero-byte .gz", "empty .zst"])
def test_25_empty_file_and_empty_gz(store, tmp_path, kind):
    if kind == "empty file":
        f = tmp_path / "a.log"
        f.write_bytes(b"")
    elif kind == "empty .gz":
        f = tmp_path / "a.log.gz"
        f.write_bytes(gzip.compress(b""))
    elif kind == "zero-byte .gz":
        f = tmp_path / "a.log.gz"
        f.write_bytes(b"")
    else:
        f = zst(tmp_path / "a.log.zst", b"")
    d = ingest(store, f)
    assert d["files_skipped"] == 1 and d["files_failed"] == 0, d
    assert d["per_file"][0]["detail"] == "empty"
    assert d["lines"] == d["events"] == d["rejected"] == d["blank"] == 0
    assert one(store, "SELECT count(*) FROM sources") == (0,)


# 26-33: files that move, shrink, reappear ---------------------------------------------------


def test_26_copytruncate_while_stopped(store, tmp_path):
    app = write_lines(tmp_path / "app.log", [log_line(i) for i in range(5)])
    accounted(ingest(store, app), lines=5, events=5)
    shutil.copy(app, tmp_path / "app.log.1")
    write_lines(app, [log_line(i) for i in range(100, 108)])  # truncated, then new content
    d = accounted(ingest(store, tmp_path), lines=8, events=8)
    by_path = {p["path"]: p for p in d["per_file"]}
    assert by_path[str(app)]["resumed_at"] == 0
    assert by_path[str(tmp_path / "app.log.1")]["status"] == "skipped"
    rows = all_rows(
        store, "SELECT min(line_no), max(line_no) FROM events WHERE request_id >= 'r100'"
    )
    assert rows == [(1, 8)]
    assert stored_once(store) == 13


@pytest.mark.parametrize("writer", ["O_APPEND writer", "writer at its old offset"])
def test_27_copytruncate_while_a_writer_goes_on(store, tmp_path, writer):
    app = write_lines(tmp_path / "app.log", [log_line(i) for i in range(5)])
    accounted(ingest(store, app), lines=5, events=5)
    old_size = app.stat().st_size
    shutil.copy(app, tmp_path / "app.log.1")
    with app.open("r+b") as f:
        f.truncate(0)
    new = b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(100, 106))
    if writer == "O_APPEND writer":
        with app.open("ab") as f:
            f.write(new)
        accounted(ingest(store, tmp_path), lines=6, events=6)
    else:
        # a writer without O_APPEND writes on at its offset: a hole of NULs, then its lines
        with app.open("r+b") as f:
            f.seek(old_size)
            f.write(new)
        d = ingest(store, tmp_path)
        assert d["files_failed"] == 0
        assert d["lines"] == 6 == d["events"] + d["rejected"] + d["blank"], d
        assert d["rejected"] <= 1  # the NUL run is one reject at most, never thousands
    ids = {r for (r,) in all_rows(store, "SELECT request_id FROM events")}
    assert {f"r{i}" for i in range(101, 106)} <= ids
    assert stored_once(store) == 11


def test_28_rename_rotation_with_a_glob(store, tmp_path):
    app = write_lines(tmp_path / "app.log", [log_line(i) for i in range(5)])
    accounted(ingest(store, app), lines=5, events=5)
    append_lines(app, [log_line(i) for i in range(5, 7)])  # written before the rotation
    app.rename(tmp_path / "app.log.1")
    write_lines(app, [log_line(i) for i in range(7, 10)])
    accounted(ingest(store, str(tmp_path / "app.log*")), lines=5, events=5)
    assert event_ids(store) == [f"r{i}" for i in range(10)]
    assert stored_once(store) == 10
    d = accounted(ingest(store, str(tmp_path / "app.log*")), lines=0, events=0)
    assert d["files_skipped"] == 2


def test_29_rotated_file_later_gzipped(store, tmp_path):
    app = write_lines(tmp_path / "app.log", [log_line(i) for i in range(5)])
    ingest(store, app)
    app.rename(tmp_path / "app.log.1")
    write_lines(app, [log_line(i) for i in range(5, 8)])
    ingest(store, str(tmp_path / "app.log*"))
    rotated = tmp_path / "app.log.1"
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress(rotated.read_bytes()))
    rotated.unlink()
    d = accounted(ingest(store, str(tmp_path / "app.log*")), lines=0, events=0)
    assert d["files_skipped"] == 2
    assert stored_once(store) == 8


def test_30_inode_reuse(store, tmp_path):
    app = write_lines(tmp_path / "app.log", [log_line(i) for i in range(10, 15)])
    ingest(store, app)
    size = app.stat().st_size
    app.unlink()
    write_lines(app, [log_line(i) for i in range(20, 25)])  # same size, other content
    assert app.stat().st_size == size
    accounted(ingest(store, app), lines=5, events=5)
    assert len(event_ids(store)) == 10
    assert one(store, "SELECT min(line_no) FROM events WHERE request_id >= 'r20'") == (1,)


@pytest.mark.parametrize(
    "differ",
    [
        "after the first KiB",
        pytest.param(
            "only in the middle",
            marks=pytest.mark.xfail(
                strict=True,
                reason="BUG: b.log, sharing a.log's first KiB and the 256 bytes before a.log's "
                "end, is taken for a.log grown (head hash and resume marker both match): its "
                "lines up to that offset, including its own line r200, are never read",
            ),
        ),
    ],
)
def test_31_two_files_with_identical_first_kib(store, tmp_path, differ):
    common = [log_line(i, pad="p" * 100) for i in range(12)]  # > 1 KiB
    assert len(b"\n".join(json.dumps(x).encode() for x in common)) > 1024
    if differ == "after the first KiB":
        a = common + [log_line(i) for i in range(100, 110)]
        b = common + [log_line(i) for i in range(200, 210)]
    else:
        tail = [log_line(i, pad="q" * 100) for i in range(300, 306)]  # > 256 bytes
        a = common + [log_line(100)] + tail
        b = common + [log_line(200)] + tail
    fa = write_lines(tmp_path / "a.log", a)
    fb = write_lines(tmp_path / "b.log", b)
    accounted(ingest(store, fa), lines=len(a), events=len(a))
    accounted(ingest(store, fb), lines=len(b), events=len(b))
    assert stored_once(store) == len(a) + len(b)
    assert "r200" in event_ids(store)


def test_32_file_vanishing_between_discovery_and_open(store, tmp_path, monkeypatch):
    write_lines(tmp_path / "a.log", [log_line(0)])
    gone = write_lines(tmp_path / "b.log", [log_line(1)])
    real = triage.ingest.discover

    def discover_then_delete(args):
        found = real(args)
        gone.unlink()
        return found

    monkeypatch.setattr(triage.ingest, "discover", discover_then_delete)
    d = ingest(store, tmp_path)
    one_failed(d, "b.log")
    assert d["files"] == 1 and d["events"] == 1
    assert d["lines"] == d["events"] + d["rejected"] + d["blank"]
    assert event_ids(store) == ["r0"]


@pytest.mark.parametrize("name", ["access[1].ndjson", "a*b.log", "what?.log", "[x]*?.log"])
def test_33_file_names_with_glob_characters(store, tmp_path, name):
    f = write_lines(tmp_path / name, [log_line(0), log_line(1)])
    # decoys a pattern reading of the name would match instead or as well
    for decoy in ["access1.ndjson", "aXb.log", "whatX.log", "x.log", "aab.log"]:
        write_lines(tmp_path / decoy, [log_line(9)])
    d = accounted(ingest(store, f), lines=2, events=2)
    assert [p["path"] for p in d["per_file"]] == [str(f)]
    assert event_ids(store) == ["r0", "r1"]


def test_34_a_new_field_appearing_across_files(store, tmp_path):
    a = write_lines(tmp_path / "a.log", [request_line(i) for i in range(3)])
    b = write_lines(
        tmp_path / "b.log",
        [
            request_line(i, region="eu", tenant={"id": 7}, statusCode="503", orgId="org_1")
            for i in range(3, 6)
        ],
    )
    accounted(ingest(store, a, b), lines=6, events=6)
    rows = all_rows(store, "SELECT request_id, status, org_id FROM events ORDER BY request_id")
    assert rows == [(f"r{i}", 200, None) for i in range(3)] + [
        (f"r{i}", 503, "org_1") for i in range(3, 6)
    ]


# 35-37: the CLI is the contract ------------------------------------------------------------


def holds_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def start_stdin_ingest(db: Path) -> subprocess.Popen:
    """A real `triage ingest -` that holds the store until its stdin is closed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage", "--db", str(db), "ingest", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not holds_open(proc.pid, db):
        assert proc.poll() is None and time.monotonic() < deadline, "ingest never opened the store"
        time.sleep(0.02)
    return proc


def test_35_a_second_process_while_ingest_holds_the_store(tmp_path):
    db = tmp_path / "s.duckdb"
    other = write_lines(tmp_path / "b.log", [log_line(1)])
    holder = start_stdin_ingest(db)
    waiting = None
    try:
        holder.stdin.write(json.dumps(log_line(0)).encode() + b"\n")
        busy = run_triage("--db", db, "ingest", other)
        assert busy.returncode == 3, busy.stderr
        assert_one_error_line(busy.stderr.decode(), "s.duckdb", f"process {holder.pid}")
        waiting = Watched("--db", db, "--wait", "60", "ingest", other)
        # it found the store held and waits: it has not failed, and has not run yet
        waiting.wait_for_stderr(
            f"waiting up to 60s for the store: it is in use by process {holder.pid}"
        )
        assert waiting.running() and holder.poll() is None
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0, holder.stderr.read()
        assert waiting.finish(timeout=60) == 0, waiting.stderr
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if waiting is not None:
            waiting.kill()
    with open_store(db) as s:
        assert sorted(event_ids(s)) == ["r0", "r1"]
        assert stored_once(s) == 2
        # the waiter's file went in after the holder's stdin: its source came second
        sources = all_rows(s, "SELECT path FROM sources ORDER BY source_id")
        assert [Path(p).name for (p,) in sources][-1] == "b.log", sources
        assert len(sources) == 2


def test_36_sigkill_mid_ingest(tmp_path):
    db = tmp_path / "s.duckdb"
    n = 60_000
    big = write_lines(tmp_path / "big.log", [request_line(i, msg="m" * 60) for i in range(n)])
    small = write_lines(tmp_path / "small.log", [log_line(i) for i in range(10**6, 10**6 + 5)])
    proc = start("--db", db, "ingest", small, big)
    output = Output(proc)
    # stopped while it is checked, so the kill lands while the big file is being read
    if not (output.wait_for(lambda o: holds_open(proc.pid, big)) and stop(proc)):
        output.finish()
        pytest.skip("the ingest finished before it could be killed")
    if not holds_open(proc.pid, big):
        proc.kill()
        output.finish()
        pytest.skip("the ingest was past the big file when next seen")
    proc.send_signal(signal.SIGKILL)
    output.finish()
    assert proc.returncode == -signal.SIGKILL
    rerun = run_triage("--db", db, "ingest", small, big, "--format", "json")
    assert rerun.returncode == 0, rerun.stderr
    d = json.loads(rerun.stdout)
    assert d["lines"] == d["events"] + d["rejected"] + d["blank"]
    with open_store(db) as s:
        assert stored_once(s) == n + 5
        assert one(s, "SELECT count(DISTINCT request_id) FROM events") == (n + 5,)


# Root reads a chmod 000 file through the capabilities CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH. Run as root (CI is), triage is started without them (setpriv, from
# util-linux, drops them from the bounding set): still uid 0, owner of everything under
# tmp_path, but the kernel now answers EACCES for the file whose mode is 000.
NO_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def without_root_overrides() -> list[str]:
    if os.geteuid() != 0:
        return []  # chmod 000 denies an ordinary user as it is
    if shutil.which("setpriv") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and needs setpriv (util-linux) for this test")
        pytest.skip("running as root without setpriv: cannot make chmod 000 deny root")
    return NO_DAC_OVERRIDE


@pytest.mark.parametrize("problem", ["missing path", "empty glob", "permission denied"])
def test_37_missing_path_empty_glob_permission_denied(tmp_path, problem):
    prefix = without_root_overrides() if problem == "permission denied" else []
    db = tmp_path / "s.duckdb"
    good = write_lines(tmp_path / "good.log", [log_line(0)])
    if problem == "missing path":
        bad, named = tmp_path / "nope.log", "nope.log"
    elif problem == "empty glob":
        bad, named = tmp_path / "nothing-*.log", "nothing-*.log"
    else:
        bad = write_lines(tmp_path / "locked.log", [log_line(1)])
        bad.chmod(0)
        named = "locked.log"
        # the control: under the same conditions the file really cannot be read
        denied = subprocess.run([*prefix, "cat", str(bad)], capture_output=True)
        assert denied.returncode != 0 and b"Permission denied" in denied.stderr, denied
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "triage", "--db", str(db), "ingest", str(good),
         str(bad), "--format", "json"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    d = json.loads(proc.stdout)
    assert d["files"] == 1 and d["files_failed"] == 1, d
    assert d["events"] == 1 and d["lines"] == d["events"] + d["rejected"] + d["blank"]
    assert len(d["errors"]) == 1 and named in d["errors"][0]
    if problem == "permission denied":
        assert "Permission denied" in d["errors"][0], d["errors"]
    assert "Traceback" not in proc.stderr.decode()
    named_lines = [ln for ln in proc.stderr.decode().splitlines() if named in ln]
    assert len(named_lines) == 1, proc.stderr
