"""Text access logs (CLF, combined and their variants, logfmt) read into triage's flat record
by the SQL macros of queries/text_formats.sql, on a real ingest connection.

Each case asserts the whole record: a key left out of the expected dict must be null.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from triage import sql
from triage.ingest import _prepare
from triage.store import open_store

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
LONG_PATH = "/v1/search?q=" + "%E2%9C%93%20caf%C3%A9" * 75  # 1.5 KB, percent-encoded


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """The connection ingest parses with: its settings, the JSON macros and the text ones."""
    store = open_store(tmp_path_factory.mktemp("text") / "t.duckdb")
    _prepare(store)
    yield store.con
    store.close()


def record(con, line: str) -> dict | None:
    """text_record(line) as a dict without its null keys, after checking it is valid JSON."""
    text, valid = con.execute(
        "SELECT r, json_valid(r) FROM (SELECT text_record($line) AS r)", {"line": line}
    ).fetchall()[0]
    if text is None:
        return None
    assert valid, text
    return {k: v for k, v in json.loads(text).items() if v is not None}


CLF_CASES = {
    "common": (
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
        {
            "timestamp": "2000-10-10T20:55:36Z",
            "method": "GET",
            "path": "/apache_pb.gif",
            "status": 200,
            "bytes": 2326,
            "client_ip": "127.0.0.1",
            "text_format": "common",
        },
    ),
    "combined": (
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
        '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
        {
            "timestamp": "2000-10-10T20:55:36Z",
            "method": "GET",
            "path": "/apache_pb.gif",
            "status": 200,
            "bytes": 2326,
            "client_ip": "127.0.0.1",
            "referer": "http://www.example.com/start.html",
            "user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
            "text_format": "combined",
        },
    ),
    "vhost_combined with port": (
        "api.example.com:443 198.51.100.7 - - [16/Nov/2026:10:00:01 +0000] "
        f'"POST /v1/schedules?dry_run=1 HTTP/1.1" 201 512 "-" "{UA}"',
        {
            "timestamp": "2026-11-16T10:00:01Z",
            "method": "POST",
            "path": "/v1/schedules?dry_run=1",
            "status": 201,
            "bytes": 512,
            "client_ip": "198.51.100.7",
            "user_agent": UA,
            "host": "api.example.com",
            "text_format": "combined",
        },
    ),
    "vhost without port": (
        'api.example.com 198.51.100.7 - - [16/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 5',
        {
            "timestamp": "2026-11-16T10:00:01Z",
            "method": "GET",
            "path": "/",
            "status": 200,
            "bytes": 5,
            "client_ip": "198.51.100.7",
            "host": "api.example.com",
            "text_format": "common",
        },
    ),
    "nginx with X-Forwarded-For and request time": (
        '10.0.0.2 - - [16/Nov/2026:10:00:02 +0000] "GET /v1/schedules/42 HTTP/1.1" 502 157 '
        f'"https://app.example.com/" "{UA}" "203.0.113.9, 10.0.0.2" 0.012',
        {
            "timestamp": "2026-11-16T10:00:02Z",
            "method": "GET",
            "path": "/v1/schedules/42",
            "status": 502,
            "bytes": 157,
            "client_ip": "203.0.113.9",
            "referer": "https://app.example.com/",
            "user_agent": UA,
            "duration_ms": 12.0,
            "text_format": "combined",
        },
    ),
    "X-Forwarded-For '-' and more quoted fields": (
        '10.0.0.2 - - [16/Nov/2026:10:00:02 +0000] "GET /health HTTP/1.1" 200 2 '
        '"-" "kube-probe/1.30" "-" "req-7f3a" 1.005',
        {
            "timestamp": "2026-11-16T10:00:02Z",
            "method": "GET",
            "path": "/health",
            "status": 200,
            "bytes": 2,
            "client_ip": "10.0.0.2",
            "user_agent": "kube-probe/1.30",
            "duration_ms": 1005.0,
            "text_format": "combined",
        },
    ),
    "X-Forwarded-For 'unknown', with ports": (
        '10.0.0.2 - - [16/Nov/2026:10:00:02 +0000] "GET /a HTTP/1.1" 200 2 "-" "-" '
        '"unknown, 10.1.1.1"',
        {
            "timestamp": "2026-11-16T10:00:02Z",
            "method": "GET",
            "path": "/a",
            "status": 200,
            "bytes": 2,
            "client_ip": "10.0.0.2",
            "text_format": "combined",
        },
    ),
    "Apache %D: a bare integer has no known unit": (
        '192.0.2.10 - alice [16/Nov/2026:10:00:03 +0100] "DELETE /v1/keys/k_9 HTTP/1.1" 204 - '
        '"-" "python-requests/2.32.3" 48213',
        {
            "timestamp": "2026-11-16T09:00:03Z",
            "method": "DELETE",
            "path": "/v1/keys/k_9",
            "status": 204,
            "client_ip": "192.0.2.10",
            "user_agent": "python-requests/2.32.3",
            "duration_raw": "48213",
            "text_format": "combined",
        },
    ),
    "request line '-'": (
        '192.0.2.10 - - [16/Nov/2026:10:00:04 +0000] "-" 408 0 "-" "-"',
        {
            "timestamp": "2026-11-16T10:00:04Z",
            "status": 408,
            "bytes": 0,
            "client_ip": "192.0.2.10",
            "text_format": "combined",
        },
    ),
    "TLS handshake sent to a plain-HTTP port, as nginx writes it": (
        r'45.148.10.1 - - [16/Nov/2026:10:00:05 +0000] "\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03'
        r'\x03" 400 157 "-" "-"',
        {
            "timestamp": "2026-11-16T10:00:05Z",
            "status": 400,
            "bytes": 157,
            "client_ip": "45.148.10.1",
            "text_format": "combined",
        },
    ),
    "scanner junk with spaces in the request": (
        '45.148.10.1 - - [16/Nov/2026:10:00:05 +0000] "GET /a b c HTTP/1.1" 400 0 "-" "-"',
        {
            "timestamp": "2026-11-16T10:00:05Z",
            "status": 400,
            "bytes": 0,
            "client_ip": "45.148.10.1",
            "text_format": "combined",
        },
    ),
    "long percent-encoded path": (
        f'192.0.2.1 - - [16/Nov/2026:10:00:06 +0000] "GET {LONG_PATH} HTTP/2.0" 200 10 "-" "-"',
        {
            "timestamp": "2026-11-16T10:00:06Z",
            "method": "GET",
            "path": LONG_PATH,
            "status": 200,
            "bytes": 10,
            "client_ip": "192.0.2.1",
            "text_format": "combined",
        },
    ),
    'nginx \\xHH escapes and Apache \\" stay as written': (
        r'192.0.2.1 - - [16/Nov/2026:10:00:07 +0000] "GET /caf\xC3\xA9?q=\x22x\x22 HTTP/1.1" 404 9 '
        r'"-" "Bot \"quoted\" \\ \xFF"',
        {
            "timestamp": "2026-11-16T10:00:07Z",
            "method": "GET",
            "path": r"/caf\xC3\xA9?q=\x22x\x22",
            "status": 404,
            "bytes": 9,
            "client_ip": "192.0.2.1",
            "user_agent": r"Bot \"quoted\" \\ \xFF",
            "text_format": "combined",
        },
    ),
    "IPv6 client": (
        '2001:db8::5 - - [16/Nov/2026:10:00:08 +0000] "OPTIONS * HTTP/1.1" 200 0',
        {
            "timestamp": "2026-11-16T10:00:08Z",
            "method": "OPTIONS",
            "path": "*",
            "status": 200,
            "bytes": 0,
            "client_ip": "2001:db8::5",
            "text_format": "common",
        },
    ),
    "absolute-form target (a proxy request), HTTP/0.9": (
        '192.0.2.1 - - [16/Nov/2026:10:00:09 +0000] "GET http://example.com/x?y=1" 200 0',
        {
            "timestamp": "2026-11-16T10:00:09Z",
            "method": "GET",
            "path": "/x?y=1",
            "status": 200,
            "bytes": 0,
            "client_ip": "192.0.2.1",
            "text_format": "common",
        },
    ),
    "unreadable time is passed on (the line becomes a bad_timestamp)": (
        '192.0.2.1 - - [16/Foo/2026:10:00:09 +0000] "GET / HTTP/1.1" 200 0',
        {
            "timestamp": "16/Foo/2026:10:00:09 +0000",
            "method": "GET",
            "path": "/",
            "status": 200,
            "bytes": 0,
            "client_ip": "192.0.2.1",
            "text_format": "common",
        },
    ),
}


@pytest.mark.parametrize(("line", "expected"), CLF_CASES.values(), ids=CLF_CASES.keys())
def test_clf_and_combined_lines(con, line, expected):
    assert record(con, line) == expected


@pytest.mark.parametrize(
    ("offset", "utc"),
    [
        ("+0000", datetime(2023, 6, 10, 15, 36, 28, tzinfo=UTC)),
        ("+0330", datetime(2023, 6, 10, 12, 6, 28, tzinfo=UTC)),
        ("+0530", datetime(2023, 6, 10, 10, 6, 28, tzinfo=UTC)),
        ("-0930", datetime(2023, 6, 11, 1, 6, 28, tzinfo=UTC)),
        ("+1345", datetime(2023, 6, 10, 1, 51, 28, tzinfo=UTC)),
    ],
)
def test_clf_times_with_any_offset_are_the_right_instant(con, offset, utc):
    text = f"10/Jun/2023:15:36:28 {offset}"
    assert con.execute("SELECT clf_ts($t)", {"t": text}).fetchall()[0][0] == utc
    line = f'192.0.2.1 - - [{text}] "GET / HTTP/1.1" 200 0'
    stamp = record(con, line)["timestamp"]
    assert stamp == utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    # what the ingest statement makes of it
    assert con.execute("SELECT parse_ts($s)", {"s": stamp}).fetchall()[0][0] == utc


@pytest.mark.parametrize("text", ["", "10/Jun/2023:15:36:28", "2023-06-10T15:36:28Z", "junk"])
def test_clf_ts_is_null_for_anything_else(con, text):
    assert con.execute("SELECT clf_ts($t)", {"t": text}).fetchall()[0][0] is None


HEROKU = (
    'at=info method=GET path="/v1/schedules?page=2" host=api.example.com '
    'request_id=2b6e8f1c-5d3a-4a8e-9f1e-0c2d4b6a8e10 fwd="203.0.113.9, 10.0.0.1" dyno=web.1 '
    "connect=1ms service=23ms status=503 bytes=0 protocol=https"
)

LOGFMT_CASES = {
    "Heroku router with its syslog prefix": (
        "2026-11-10T09:00:00.123456+00:00 heroku[router]: " + HEROKU,
        {
            "timestamp": "2026-11-10T09:00:00.123456+00:00",
            "method": "GET",
            "path": "/v1/schedules?page=2",
            "status": 503,
            "client_ip": "203.0.113.9",
            "request_id": "2b6e8f1c-5d3a-4a8e-9f1e-0c2d4b6a8e10",
            "duration_ms": 23.0,
            "level": "info",
            "bytes": 0,
            "host": "api.example.com",
            "text_format": "logfmt",
        },
    ),
    "Heroku router through an RFC 5424 drain": (
        "<158>1 2026-11-10T09:00:00+05:30 host heroku router - " + HEROKU,
        {
            "timestamp": "2026-11-10T09:00:00+05:30",
            "method": "GET",
            "path": "/v1/schedules?page=2",
            "status": 503,
            "client_ip": "203.0.113.9",
            "request_id": "2b6e8f1c-5d3a-4a8e-9f1e-0c2d4b6a8e10",
            "duration_ms": 23.0,
            "level": "info",
            "bytes": 0,
            "host": "api.example.com",
            "text_format": "logfmt",
        },
    ),
    "Heroku router error, no prefix, empty dyno/connect/service": (
        'at=error code=H10 desc="App crashed" method=POST path="/v1/keys" host=api.example.com '
        'request_id=c0ffee fwd="198.51.100.4" dyno= connect= service= status=503 bytes= '
        "protocol=https",
        {
            "method": "POST",
            "path": "/v1/keys",
            "status": 503,
            "client_ip": "198.51.100.4",
            "request_id": "c0ffee",
            "level": "error",
            "message": "App crashed",
            "error_code": "H10",
            "host": "api.example.com",
            "text_format": "logfmt",
        },
    ),
    'Go service (logrus text), quoted values with spaces and \\"': (
        'time="2026-11-10T09:00:01+05:30" level=warning msg="slow \\"upstream\\" call" '
        "method=post path=/v1/runs status=201 duration=1.5s remote=10.0.0.7:51234 "
        'user_agent="Go-http-client/1.1" request_id=r-1',
        {
            "timestamp": "2026-11-10T09:00:01+05:30",
            "method": "POST",
            "path": "/v1/runs",
            "status": 201,
            "client_ip": "10.0.0.7",
            "user_agent": "Go-http-client/1.1",
            "request_id": "r-1",
            "duration_ms": 1500.0,
            "level": "warning",
            "message": 'slow "upstream" call',
            "text_format": "logfmt",
        },
    ),
    "go-kit ts, latency without a unit": (
        "ts=1762765200.25 level=info msg=handled latency=12 req_id=abc",
        {
            "timestamp": "1762765200.25",
            "request_id": "abc",
            "duration_raw": "12",
            "level": "info",
            "message": "handled",
            "text_format": "logfmt",
        },
    ),
    "log15 t and lvl, Go's composite duration, a repeated key": (
        't=2026-11-10T09:00:02Z lvl=eror msg="request failed" path=/a path=/b elapsed=1m2.5s '
        "status=500",
        {
            "timestamp": "2026-11-10T09:00:02Z",
            "path": "/a",
            "status": 500,
            "duration_ms": 62500.0,
            "level": "eror",
            "message": "request failed",
            "text_format": "logfmt",
        },
    ),
    "a quoted value that is not JSON keeps its \\xHH": (
        r'level=info msg="caf\xC3\xA9 \"ok\"" url="https://api.example.com/v1/x?y=1"',
        {
            "path": "/v1/x?y=1",
            "level": "info",
            "message": r'caf\xC3\xA9 "ok"',
            "text_format": "logfmt",
        },
    ),
    "an unterminated quote is kept as written": (
        'level=info msg="half status=200',
        {"status": 200, "level": "info", "message": '"half', "text_format": "logfmt"},
    ),
}


@pytest.mark.parametrize(("line", "expected"), LOGFMT_CASES.values(), ids=LOGFMT_CASES.keys())
def test_logfmt_lines(con, line, expected):
    assert record(con, line) == expected


@pytest.mark.parametrize(
    ("duration", "ms"),
    [("23ms", 23.0), ("1.5s", 1500.0), ("250us", 0.25), ("250µs", 0.25), ("250μs", 0.25),
     ("12ns", 12e-6),
     ("2h", 7.2e6), ("1m2.5s", 62500.0), (".5s", 500.0), ('"5 ms"', 5.0)],
)  # fmt: skip
def test_logfmt_durations_are_read_by_their_unit(con, duration, ms):
    got = record(con, f"level=info msg=done duration={duration}")
    assert got["duration_ms"] == pytest.approx(ms)
    assert "duration_raw" not in got


@pytest.mark.parametrize("duration", ["12", "0.25"])
def test_logfmt_durations_without_a_unit_are_kept_as_written(con, duration):
    got = record(con, f'level=info msg=done duration="{duration}"')
    assert got["duration_raw"] == duration
    assert "duration_ms" not in got


def test_a_logfmt_duration_that_is_no_number_is_no_duration(con):
    got = record(con, 'level=info msg=done duration="fast"')
    assert "duration_raw" not in got and "duration_ms" not in got


def test_logfmt_times_are_the_instant_the_ingest_statement_reads(con):
    for line, utc in [
        ("time=2026-11-10T09:00:00-09:30 level=info msg=x", datetime(2026, 11, 10, 18, 30)),
        ("ts=1762765200.25 level=info msg=x", datetime(2025, 11, 10, 9, 0, 0, 250000)),
        (
            "2026-11-10T09:00:00.5+05:30 app[web.1]: method=GET status=200",
            datetime(2026, 11, 10, 3, 30, 0, 500000),
        ),
    ]:
        stamp = record(con, line)["timestamp"]
        got = con.execute("SELECT parse_ts($s)", {"s": stamp}).fetchall()[0][0]
        assert got == utc.replace(tzinfo=UTC), line


@pytest.mark.parametrize(
    "line",
    [
        "hello world",
        "Starting server on port=8080",
        "retrying after error: status=503 attempt=2",  # prose first: not logfmt
        "a=1 b=2",  # pairs, but none triage reads
        "level=info",  # one pair
        "[INFO] 2026-11-10 started",
        '{"method": "GET", "status": 200, "note": "a=b c=d"}',
        '{"time": "[10/Oct/2000:13:55:36 -0700] \\"GET / HTTP/1.1\\" 200 1"}',
        '"status"=200 "method"=GET',
        '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" ok 12',
        "",
    ],
)
def test_lines_in_no_known_format_are_null(con, line):
    assert record(con, line) is None


NASTY = [
    '1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /\\" HTTP/1.1" 200 1 "\\\\" "a\tb\x01\x7f"',
    '1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /\u2028\U0001f600 HTTP/1.1" 200 1 '
    '"\x1b[31m" "\\"',
    'level=info msg="\\u0000 \\ud800 \\" \x02" path="/\\\\" status=200',
    'level=info msg="unterminated path=/x status=200 x="',
    'at=info method=GET path=/x\\ status="2\\"00" fwd="\\"1.2.3.4" dyno= connect= service=\\ms',
]


@pytest.mark.parametrize("line", NASTY)
def test_any_bytes_in_a_line_give_valid_json(con, line):
    assert record(con, line) is not None  # record() checks json_valid


def test_text_macros_are_defined_for_ingest_but_not_listed_as_runnable():
    q = sql.get("define_text_macros")
    assert q.file == "text_formats.sql" and q.description
    assert not sql.runnable(q)


def test_utc_iso_does_not_depend_on_the_session_time_zone(con):
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    try:
        got = record(con, '1.2.3.4 - - [10/Jun/2023:15:36:28 +0530] "GET / HTTP/1.1" 200 0')
    finally:
        con.execute("SET TimeZone = 'UTC'")
    at = datetime(2023, 6, 10, 15, 36, 28, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert got["timestamp"] == at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
