"""Mapping files: reading a log that looks nothing like the Scaling API's own."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import (
    all_rows,
    assert_one_error_line,
    dict_rows,
    ingest,
    run_triage,
    write_lines,
)
from triage.exceptions import MappingError
from triage.mapping import load_mapping

NGINX_MAPPING = r"""
[fields]
timestamp = { field = "time_local", format = "%d/%b/%Y:%H:%M:%S %z" }
request_id = "http_x_request_id"
method = { field = "request", regex = '^(\S+) ' }
path = { field = "request", regex = '^\S+ (\S+)' }
status = "status"
duration_ms = { field = "request_time", scale = 1000 }
client_ip = "remote_addr"
"""

NGINX_LINES = [
    {
        "time_local": "16/Nov/2026:10:00:00 +0100",
        "request": "GET /v1/incidents/inc_01jq5x?x=1 HTTP/1.1",
        "status": "404",
        "request_time": "0.041",
        "http_x_request_id": "ngx-1",
        "remote_addr": "203.0.113.9",
    },
    {
        "time_local": "16/Nov/2026:10:00:02 +0100",
        "request": "POST /v1/incidents HTTP/2.0",
        "status": "201",
        "request_time": "0.250",
        "http_x_request_id": "ngx-2",
        "remote_addr": "198.51.100.1",
        "orgId": "org_2abc123",
    },
]


@pytest.fixture
def nginx_mapping(tmp_path):
    path = tmp_path / "nginx.toml"
    path.write_text(NGINX_MAPPING)
    return path


def events_by_request_id(store) -> dict[str, dict]:
    return {row["request_id"]: row for row in dict_rows(store, "SELECT * FROM events")}


def test_nginx_log_is_read_through_a_mapping(store, tmp_path, nginx_mapping):
    log = write_lines(tmp_path / "access.log", NGINX_LINES)
    s = ingest(store, log, mapping=load_mapping(nginx_mapping))
    assert (s["events"], s["requests"], s["rejected"]) == (2, 2, 0)
    e = events_by_request_id(store)["ngx-1"]
    assert e["ts"] == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    assert (e["method"], e["path"]) == ("GET", "/v1/incidents/inc_01jq5x?x=1")
    assert e["route"] == "/v1/incidents/{id}"
    assert (e["status"], e["client_ip"]) == (404, "203.0.113.9")
    assert e["duration_ms"] == pytest.approx(41.0)


def test_columns_a_mapping_leaves_out_are_still_detected(store, tmp_path, nginx_mapping):
    log = write_lines(tmp_path / "access.log", NGINX_LINES)
    ingest(store, log, mapping=load_mapping(nginx_mapping))
    e = events_by_request_id(store)["ngx-2"]
    assert (e["org_id"], e["method"], e["route"]) == ("org_2abc123", "POST", "/v1/incidents")


def test_mapped_column_takes_precedence_over_the_detected_one(store, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[fields]\nstatus = "upstream_status"\nrequest_id = "trace.id"\n')
    log = write_lines(
        tmp_path / "a.log",
        [
            {
                "timestamp": "2026-11-16T10:00:00Z",
                "requestId": "detected",
                "trace": {"id": "mapped"},
                "statusCode": 200,
                "upstream_status": "502",
            }
        ],
    )
    ingest(store, log, mapping=load_mapping(mapping))
    assert all_rows(store, "SELECT request_id, status FROM events") == [("mapped", 502)]


@pytest.mark.parametrize(
    "field",
    ['["labels", "app.kubernetes.io/name"]', '"meta.svc"', '"$.meta.svc"'],
    ids=["keys-with-dots", "dotted-path", "jsonpath"],
)
def test_field_can_be_named_by_path_keys_or_jsonpath(store, tmp_path, field):
    mapping = tmp_path / "m.toml"
    mapping.write_text(f"[fields]\nservice = {field}\n")
    log = write_lines(
        tmp_path / "a.log",
        [
            {
                "timestamp": "2026-11-16T10:00:00Z",
                "labels": {"app.kubernetes.io/name": "from-label"},
                "meta": {"svc": "from-meta"},
                "service": "detected",
            }
        ],
    )
    ingest(store, log, mapping=load_mapping(mapping))
    expected = "from-label" if field.startswith("[") else "from-meta"
    assert all_rows(store, "SELECT service FROM events") == [(expected,)]


def test_timestamp_not_matching_the_format_is_a_bad_timestamp(store, tmp_path, nginx_mapping):
    line = {**NGINX_LINES[0], "time_local": "2026-11-16T10:00:00Z"}
    log = write_lines(tmp_path / "access.log", [line, NGINX_LINES[1]])
    s = ingest(store, log, mapping=load_mapping(nginx_mapping))
    assert (s["events"], s["rejected_by_reason"]) == (1, {"bad_timestamp": 1})


def test_mapping_through_the_cli(tmp_path, nginx_mapping):
    log = write_lines(tmp_path / "access.log", NGINX_LINES)
    proc = run_triage(
        "--db", tmp_path / "s.duckdb", "ingest", log, "--mapping", nginx_mapping, "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["requests"], summary["rejected"]) == (2, 0)


BAD_MAPPINGS = {
    "unknown-column": ('[fields]\nhttp_status = "status"\n', "http_status"),
    "regex-without-group": (
        "[fields]\nmethod = { field = \"request\", regex = '^\\S+ ' }\n",
        "group",
    ),
    "not-toml": ("this is = = not toml\n", "TOML"),
}


@pytest.mark.parametrize("case", BAD_MAPPINGS, ids=list(BAD_MAPPINGS))
def test_bad_mapping_file_is_a_one_line_usage_error(tmp_path, case):
    text, fragment = BAD_MAPPINGS[case]
    mapping = tmp_path / "bad.toml"
    mapping.write_text(text)
    log = write_lines(tmp_path / "access.log", NGINX_LINES)
    db = tmp_path / "s.duckdb"
    proc = run_triage("--db", db, "ingest", log, "--mapping", mapping)
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr.decode(), "bad.toml", fragment)
    assert not db.exists()  # nothing was ingested without the mapping


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[other]\nx = 1\n", "[fields]"),
        ('[fields]\nstatus = "status"\n[extra]\nx = 1\n', "extra"),
        ('[fields]\nstatus = { field = "status", format = "%d" }\n', "timestamp only"),
        ('[fields]\nduration_ms = { field = "t", scale = "1000" }\n', "scale"),
        ('[fields]\nstatus = { field = "status", default = 200 }\n', "default"),
        ('[fields]\nmethod = { field = "request", regex = "(unclosed" }\n', "regular expression"),
        ("[fields]\nstatus = { regex = '(x)' }\n", "field name"),
        ('[fields]\nstatus = ""\n', "must be a name"),
        ("[fields]\nstatus = { field = 5 }\n", "not 5"),
        ('[fields]\nstatus = ["response", 3]\n', "must be a name"),
        ('[fields]\nstatus = "$.response[["\n', "not a JSONPath"),
        ('[fields]\nstatus = "$..status"\n', "one value, not a wildcard"),
    ],
    ids=[
        "no-fields",
        "extra-section",
        "format-not-ts",
        "scale-text",
        "unknown-key",
        "bad-regex",
        "no-field",
        "empty-field",
        "field-a-number",
        "key-list-with-a-number",
        "bad-jsonpath",
        "wildcard-jsonpath",
    ],
)
def test_load_mapping_errors_name_the_file_and_the_problem(tmp_path, text, fragment):
    mapping = tmp_path / "m.toml"
    mapping.write_text(text)
    with pytest.raises(MappingError) as exc:
        load_mapping(mapping)
    assert str(mapping) in str(exc.value)
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("method = { field = \"request\", regex = '^(\\S+)(?= )' }", "fields.method.regex"),
        ("method = { field = \"request\", regex = '^(\\S)\\1' }", "fields.method.regex"),
        ('timestamp = { field = "time_local", format = "%d/%b/%Y:%Q" }', "fields.timestamp"),
    ],
    ids=["lookahead", "backreference", "strptime-specifier"],
)
def test_mapping_duckdb_cannot_apply_is_a_usage_error(tmp_path, rule, fragment):
    mapping = tmp_path / "engine.toml"
    mapping.write_text(f"[fields]\n{rule}\n")
    log = write_lines(tmp_path / "access.log", NGINX_LINES)
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", log, "--mapping", mapping)
    assert proc.returncode == 2, proc.stderr
    assert_one_error_line(proc.stderr.decode(), "engine.toml", fragment)


def test_a_line_that_is_not_json_is_rejected_with_a_mapping_too(store, tmp_path, nginx_mapping):
    """A mapped field is looked up in JSON only: a broken line is a reject, not a failed file."""
    log = write_lines(tmp_path / "access.log", [NGINX_LINES[0], '{"not json', NGINX_LINES[1]])
    s = ingest(store, log, mapping=load_mapping(nginx_mapping))
    assert (s["files_failed"], s["requests"], s["rejected_by_reason"]) == (
        0,
        2,
        {"invalid_json": 1},
    )
