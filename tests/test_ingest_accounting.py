"""Every line is accounted for: an event, a reject with its reason, or a blank line."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.conftest import (
    all_rows,
    as_bytes,
    ingest,
    log_line,
    one,
    request_line,
    write_lines,
)
from triage.ingest import MAX_LINE_BYTES
from triage.reader import BLOCK_SIZE

TS = "2026-11-16T10:00:00Z"

# (line, what it must become): the expected outcome is part of the input's construction.
MIXED = [
    (request_line(1), "request"),
    (log_line(2), "trace"),
    ({"timestamp": TS, "msg": "worker started"}, "log"),
    ("", "blank"),
    ('{"timestamp": "2026-11-16T10:00:00Z", "msg": ', "invalid_json"),
    ("GET /v1/incidents 200", "unrecognised_text"),
    (request_line(3, statusCode=500, error={"type": "internal_error"}), "request"),
    ("[1, 2, 3]", "not_an_object"),
    ('"just a string"', "not_an_object"),
    ("   ", "blank"),
    # one invalid byte: repaired (U+FFFD) and kept, not a lost line
    (b'{"timestamp": "2026-11-16T10:00:00Z", "msg": "caf\xe9"}', "repaired log"),
    ({"msg": "no time at all"}, "no_timestamp"),
    ({"timestamp": "yesterday", "msg": "x"}, "bad_timestamp"),
    ("\t", "blank"),
    (log_line(4), "trace"),
]
REJECT_REASONS = {
    "invalid_json", "unrecognised_text", "not_an_object", "no_timestamp", "bad_timestamp"
}  # fmt: skip


def expected_offsets(lines) -> list[int]:
    offsets, at = [], 0
    for line in lines:
        offsets.append(at)
        at += len(as_bytes(line)) + 1
    return offsets


def count(outcome: str) -> int:
    return sum(1 for _, o in MIXED if o == outcome)


def test_mixed_file_counts_match_its_construction(store, tmp_path):
    path = write_lines(tmp_path / "mixed.log", [line for line, _ in MIXED])
    s = ingest(store, path)
    rejects = {r: count(r) for r in REJECT_REASONS}
    assert s["files"] == 1 and s["files_failed"] == 0
    assert s["lines"] == len(MIXED)
    assert s["blank"] == count("blank")
    assert s["requests"] == count("request")
    assert s["events"] == count("request") + count("trace") + count("log") + count("repaired log")
    assert s["repaired"] == count("repaired log")
    assert s["rejected_by_reason"] == rejects
    assert s["rejected"] == sum(rejects.values())
    assert s["lines"] == s["events"] + s["rejected"] + s["blank"]


def test_each_line_is_stored_at_its_line_number_and_byte_offset(store, tmp_path):
    lines = [line for line, _ in MIXED]
    path = write_lines(tmp_path / "mixed.log", lines)
    ingest(store, path)
    stored = {
        no: (off, kind)
        for no, off, kind in all_rows(
            store,
            "SELECT line_no, byte_offset, coalesce(reject_reason, "
            "CASE WHEN repaired THEN 'repaired ' ELSE '' END || kind) FROM records",
        )
    }
    expected = {
        no: (off, outcome)
        for no, (off, (_, outcome)) in enumerate(
            zip(expected_offsets(lines), MIXED, strict=True), start=1
        )
        if outcome != "blank"
    }
    assert stored == expected


def test_rejects_view_names_file_line_reason_and_keeps_the_raw_line(store, tmp_path):
    path = write_lines(tmp_path / "mixed.log", [line for line, _ in MIXED])
    ingest(store, path)
    got = all_rows(store, "SELECT source_path, line_no, reason, raw FROM rejects ORDER BY line_no")
    expected = [
        (str(path), no, outcome, as_bytes(line).decode())
        for no, (line, outcome) in enumerate(MIXED, start=1)
        if outcome in REJECT_REASONS
    ]
    assert got == expected


def test_a_repaired_line_keeps_its_raw_bytes_and_reads_with_u_fffd(store, tmp_path):
    path = write_lines(tmp_path / "mixed.log", [line for line, _ in MIXED])
    ingest(store, path)
    (no,) = [n for n, (_, o) in enumerate(MIXED, start=1) if o == "repaired log"]
    message, raw = one(store, "SELECT message, raw FROM events WHERE line_no = ?", [no])
    assert message == "caf\N{REPLACEMENT CHARACTER}"
    # the original bytes, escaped: \xE9 is the Latin-1 byte as it was written
    assert raw.endswith("caf\\xE9\\x22}")


def test_sources_row_records_how_far_the_file_was_read(store, tmp_path):
    path = write_lines(tmp_path / "mixed.log", [line for line, _ in MIXED])
    ingest(store, path)
    row = one(
        store,
        "SELECT compression, bytes_consumed, lines_consumed, blank_lines "
        "FROM sources WHERE path = ?",
        [str(path)],
    )
    assert row == ("none", path.stat().st_size, len(MIXED), count("blank"))


def test_per_file_summary_adds_up_to_the_totals(store, tmp_path):
    a = write_lines(tmp_path / "a.log", [log_line(i) for i in range(5)] + [""])
    b = write_lines(tmp_path / "b.log", [request_line(i) for i in range(7)] + ["nope"])
    s = ingest(store, a, b)
    per_file = {f["path"]: f for f in s["per_file"]}
    assert (per_file[str(a)]["lines"], per_file[str(a)]["events"], per_file[str(a)]["blank"]) == (
        6,
        5,
        1,
    )
    assert (
        per_file[str(b)]["lines"],
        per_file[str(b)]["requests"],
        per_file[str(b)]["rejected"],
    ) == (8, 7, 1)
    for key in ("lines", "events", "requests", "blank", "rejected"):
        assert s[key] == sum(f[key] for f in s["per_file"]), key


def padded_to(n_bytes: int, i: int) -> str:
    """A valid log line of exactly n_bytes bytes."""
    line = json.dumps(log_line(i, pad=""))
    line = line.replace('"pad": ""', '"pad": "' + "x" * (n_bytes - len(line)) + '"')
    assert len(line.encode()) == n_bytes
    return line


def test_line_over_one_mib_is_rejected_and_its_neighbours_kept(store, tmp_path):
    lines = [
        log_line(1),
        padded_to(MAX_LINE_BYTES, 2),
        padded_to(MAX_LINE_BYTES + 1, 3),
        log_line(4),
    ]
    path = write_lines(tmp_path / "long.log", lines)
    s = ingest(store, path)
    assert (s["events"], s["rejected_by_reason"]) == (3, {"too_long": 1})
    assert one(store, "SELECT line_no FROM rejects")[0] == 3
    assert [r for (r,) in all_rows(store, "SELECT request_id FROM events ORDER BY line_no")] == [
        "r1",
        "r2",
        "r4",
    ]


def test_line_longer_than_a_read_block_is_rejected_alone(store, tmp_path):
    path = write_lines(tmp_path / "huge.log", [log_line(1), padded_to(17 << 20, 2), log_line(3)])
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["rejected_by_reason"]) == (3, 2, {"too_long": 1})
    assert one(store, "SELECT line_no, byte_offset FROM rejects") == (
        2,
        len(json.dumps(log_line(1))) + 1,
    )


def test_crlf_line_endings_are_read_as_lines(store, tmp_path):
    lines = [json.dumps(log_line(i)) for i in range(4)]
    path = tmp_path / "windows.log"
    path.write_bytes(("\r\n".join(lines) + "\r\n\r\n").encode())
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["blank"], s["rejected"]) == (5, 4, 1, 0)


def test_byte_order_mark_does_not_cost_the_first_line(store, tmp_path):
    path = tmp_path / "bom.log"
    path.write_bytes(
        b"\xef\xbb\xbf" + b"".join(json.dumps(log_line(i)).encode() + b"\n" for i in range(3))
    )
    s = ingest(store, path)
    assert (s["events"], s["rejected"]) == (3, 0)


def test_empty_file_is_skipped_not_failed(store, tmp_path):
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    s = ingest(store, path)
    assert (s["files"], s["files_skipped"], s["files_failed"], s["lines"]) == (0, 1, 0, 0)


def test_file_of_blank_lines_only_counts_them(store, tmp_path):
    path = write_lines(tmp_path / "blank.log", ["", " ", "\t\t", ""])
    s = ingest(store, path)
    assert (s["lines"], s["blank"], s["events"], s["rejected"]) == (4, 4, 0, 0)


@pytest.mark.parametrize(
    "line",
    ["", " ", "\t", "\r", " \t\r ", "\x0c", " \x0b "],
    ids=["empty", "space", "tab", "cr", "mixed", "form-feed", "vertical-tab"],
)
def test_whitespace_only_line_is_blank(store, tmp_path, line):
    path = write_lines(tmp_path / "a.log", [log_line(1), line, log_line(2)])
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["blank"], s["rejected"]) == (3, 2, 1, 0)


@pytest.mark.parametrize(
    "line",
    ["hello", "- - -", "v", " vv "],
)
def test_line_of_plain_text_is_rejected_not_blank(store, tmp_path, line):
    path = write_lines(tmp_path / "a.log", [log_line(1), line, log_line(2)])
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["blank"], s["rejected_by_reason"]) == (
        3,
        2,
        0,
        {"unrecognised_text": 1},
    )


@pytest.mark.parametrize(
    "value", [10**23, "99999999999999999999999", -(10**23)], ids=["number", "text", "negative"]
)
def test_epoch_out_of_range_is_a_bad_timestamp_not_a_failed_file(store, tmp_path, value):
    path = write_lines(tmp_path / "a.log", [log_line(1), {"ts": value, "msg": "x"}, log_line(2)])
    s = ingest(store, path)
    assert (s["files_failed"], s["events"], s["rejected_by_reason"]) == (
        0,
        2,
        {"bad_timestamp": 1},
    ), s["errors"]


@pytest.mark.parametrize("value", ["infinity", "-infinity"])
def test_infinite_timestamp_is_a_bad_timestamp(store, tmp_path, value):
    path = write_lines(tmp_path / "a.log", [log_line(1), {"timestamp": value, "msg": "x"}])
    s = ingest(store, path)
    assert (s["events"], s["rejected_by_reason"]) == (1, {"bad_timestamp": 1})


@pytest.fixture(scope="module")
def multi_block_lines() -> list[bytes]:
    """Lines of varied length filling three read blocks: the boundaries fall inside lines."""
    lines, size, i = [], 0, 0
    while size < BLOCK_SIZE * 2 + 5000:
        lines.append(
            b'{"timestamp":"2026-11-16T10:00:00Z","requestId":"r%d","msg":"%s"}'
            % (i, b"p" * (i % 397))
        )
        size += len(lines[-1]) + 1
        i += 1
    return lines


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_lines_across_read_block_boundaries_are_cut_exactly(
    store, tmp_path, packed, multi_block_lines
):
    lines = multi_block_lines
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "big.log"
    path.write_bytes(gzip.compress(data, compresslevel=1) if packed else data)
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["rejected"]) == (len(lines), len(lines), 0)
    stored = all_rows(store, "SELECT line_no, byte_offset FROM records ORDER BY line_no")
    offsets = [0]
    for line in lines[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    assert stored == list(enumerate(offsets, start=1))


def test_blank_lines_are_counted_apart_from_rows_and_agree_with_them(store, tmp_path):
    """The reader counts blank lines on its own and the ingest query skips them: the two
    must agree on every kind of whitespace, or the file is refused (lines = rows + blank)."""
    lines = [
        request_line(1),
        "\x0b",
        "\x0c \t",
        " \r",
        "\u00a0",  # a no-break space is not blank: the line is text that is not JSON
        request_line(2),
    ]
    s = ingest(store, write_lines(tmp_path / "ws.log", lines))
    assert s["files_failed"] == 0, s["errors"]
    assert (s["lines"], s["blank"], s["events"], s["rejected"]) == (6, 3, 2, 1)
    assert one(store, "SELECT count(*) FROM records") == (3,)
    assert one(store, "SELECT blank_lines FROM sources") == (3,)
