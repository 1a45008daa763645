"""Every supported log shape lands in the same normalised columns."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from tests.conftest import dict_rows, ingest, write_lines
from triage.store import open_store

T = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
EPOCH = int(T.timestamp())
_names = itertools.count()


def event_of(store, tmp_path, line: dict | str) -> dict:
    """Ingest one line from its own file; return its row of the events view."""
    path = write_lines(tmp_path / f"line{next(_names)}.log", [line])
    summary = ingest(store, path)
    assert summary["events"] == 1, summary
    [row] = dict_rows(
        store,
        "SELECT e.* FROM events e JOIN sources s USING (source_id) WHERE s.path = ?",
        [str(path)],
    )
    return row


def test_flat_camel_case_line_fills_every_column(store, tmp_path):
    e = event_of(
        store,
        tmp_path,
        {
            "timestamp": "2026-11-16T10:00:00.250Z",
            "service": "api-gateway",
            "requestId": "req-1",
            "method": "POST",
            "path": "/v1/incidents/inc_01jq5x/acknowledge",
            "statusCode": 201,
            "durationMs": 37.5,
            "orgId": "org_2abc123",
            "apiKeyId": "key_01abc",
            "userAgent": "terraform/1.9",
            "clientIp": "198.51.100.7",
            "level": "info",
        },
    )
    assert e["ts"] == datetime(2026, 11, 16, 10, 0, 0, 250000, tzinfo=UTC)
    assert (e["kind"], e["request_id"], e["service"]) == ("request", "req-1", "api-gateway")
    assert (e["method"], e["path"]) == ("POST", "/v1/incidents/inc_01jq5x/acknowledge")
    assert e["route"] == "/v1/incidents/{id}/acknowledge"
    assert (e["status"], e["duration_ms"]) == (201, 37.5)
    assert (e["org_id"], e["api_key_id"]) == ("org_2abc123", "key_01abc")
    assert (e["user_agent"], e["client_ip"]) == ("terraform/1.9", "198.51.100.7")
    assert e["level"] == "info"


def test_flat_snake_case_line_fills_every_column(store, tmp_path):
    e = event_of(
        store,
        tmp_path,
        {
            "timestamp": "2026-11-16T10:00:00Z",
            "request_id": "req-2",
            "method": "DELETE",
            "path": "/v1/oncall/schedules/42",
            "status_code": 404,
            "duration_ms": 8,
            "org_id": "org_9zz9",
            "api_key_id": "key_9",
            "user_agent": "curl/8",
            "client_ip": "::1",
        },
    )
    assert (e["kind"], e["request_id"], e["method"], e["status"]) == (
        "request",
        "req-2",
        "DELETE",
        404,
    )
    assert (e["route"], e["duration_ms"]) == ("/v1/oncall/schedules/{id}", 8)
    assert (e["org_id"], e["api_key_id"]) == ("org_9zz9", "key_9")
    assert (e["user_agent"], e["client_ip"]) == ("curl/8", "::1")


@pytest.mark.parametrize("key", ["requestId", "request_id", "req_id"])
def test_request_id_is_found_under_each_spelling(store, tmp_path, key):
    e = event_of(store, tmp_path, {"timestamp": "2026-11-16T10:00:00Z", key: "rid-7"})
    assert (e["request_id"], e["kind"]) == ("rid-7", "trace")


@pytest.mark.parametrize("key", ["statusCode", "status", "status_code"])
def test_status_is_found_under_each_spelling(store, tmp_path, key):
    e = event_of(store, tmp_path, {"timestamp": "2026-11-16T10:00:00Z", key: 503})
    assert (e["status"], e["kind"]) == (503, "request")


def test_status_written_as_text_is_still_a_number(store, tmp_path):
    e = event_of(store, tmp_path, {"timestamp": "2026-11-16T10:00:00Z", "statusCode": "404"})
    assert e["status"] == 404


def test_nested_shape_fills_columns(store, tmp_path):
    e = event_of(
        store,
        tmp_path,
        {
            "@timestamp": "2026-11-16T10:00:00+00:00",
            "level": "warn",
            "service": "api-gateway",
            "request": {
                "id": "req-3",
                "method": "PATCH",
                "path": "/v1/incidents/123/status",
                "user_agent": "sdk/2",
                "client_ip": "203.0.113.5",
            },
            "response": {"status": 409, "duration_ms": 91},
            "org": {"id": "org_2abc123"},
            "api_key_id": "key_3",
        },
    )
    assert (e["kind"], e["request_id"], e["method"]) == ("request", "req-3", "PATCH")
    assert (e["path"], e["route"]) == ("/v1/incidents/123/status", "/v1/incidents/{id}/status")
    assert (e["status"], e["duration_ms"], e["org_id"]) == (409, 91, "org_2abc123")
    assert (e["user_agent"], e["client_ip"], e["api_key_id"]) == ("sdk/2", "203.0.113.5", "key_3")


ERROR_BODY = {
    "statusCode": 400,
    "type": "invalid_request_error",
    "code": "invalid_timezone",
    "message": "Unknown time zone Europe/Pariss",
    "requestId": "req-body",
}
BASE = {
    "timestamp": "2026-11-16T10:00:00Z",
    "requestId": "req-e",
    "method": "POST",
    "path": "/v1/oncall/schedules",
    "statusCode": 400,
}


@pytest.mark.parametrize(
    "line",
    [
        {**BASE, "error": ERROR_BODY},
        {**BASE, "body": ERROR_BODY},
        {**BASE, "response": {"status": 400, "body": ERROR_BODY}},
        {**BASE, "response_body": json.dumps(ERROR_BODY)},
    ],
    ids=["error", "body", "response.body", "response_body-as-string"],
)
def test_error_body_is_read_wherever_it_sits(store, tmp_path, line):
    e = event_of(store, tmp_path, line)
    assert e["has_error_body"] is True
    assert (e["error_type"], e["error_code"]) == ("invalid_request_error", "invalid_timezone")
    assert e["error_message"] == "Unknown time zone Europe/Pariss"
    assert (e["error_status"], e["error_request_id"]) == ("400", "req-body")
    assert json.loads(e["raw"]) == line  # failures keep their line


@pytest.mark.parametrize(
    "fields",
    [
        {"errorType": "rate_limit_error", "errorCode": "too_many_requests"},
        {"error_type": "rate_limit_error", "error_code": "too_many_requests"},
    ],
    ids=["camelCase", "snake_case"],
)
def test_flattened_error_fields_are_read(store, tmp_path, fields):
    e = event_of(store, tmp_path, {**BASE, "statusCode": 429, **fields})
    assert (e["error_type"], e["error_code"]) == ("rate_limit_error", "too_many_requests")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"errorType": "rate_limit_error", "errorMessage": "slow down"}, "slow down"),
        ({"error_code": "too_many_requests", "error_message": "slow down"}, "slow down"),
        ({"errorType": "rate_limit_error", "errorMessage": 42}, "42"),
        ({"errorMessage": "a message names no error"}, None),
        ({"error": {"type": "rate_limit_error"}, "errorMessage": "beside a body"}, None),
        ({"error_type": "", "error_message": "an empty type names no error"}, None),
    ],
    ids=["camel", "snake", "number", "alone", "beside-a-body", "beside-an-empty-type"],
)
def test_a_flattened_error_message_is_read_beside_its_error(store, tmp_path, fields, message):
    e = event_of(store, tmp_path, {**BASE, "statusCode": 429, **fields})
    assert e["error_message"] == message


@pytest.mark.parametrize(
    "status, fields, source, failed",
    [
        (404, {"errorType": "invalid_request_error", "errorCode": "not_found"}, "fields", True),
        (200, {"error_type": "internal_error", "error_code": "boom"}, "fields", True),
        (422, {"error_type": "validation_error", "error_code": ""}, "fields", True),
        (200, {"error_type": "", "error_code": ""}, "none", False),
        (200, {"error_code": ""}, "none", False),
        (500, {}, "none", True),
        (400, {"error": {"type": "validation_error", "code": ""}}, "body", True),
        (201, {"error": {"type": "internal_error"}}, "body", True),
        (200, {"error": None}, "none", False),
    ],
    ids=["404-fields", "2xx-fields", "empty-code-beside-type", "empty-fields", "empty-code-alone",
         "5xx-nothing", "body", "2xx-body", "null-error"],
)  # fmt: skip
def test_error_source_and_failed_are_decided_once_at_ingest(
    store, tmp_path, status, fields, source, failed
):
    """A failure is an error status or error information of any kind, wherever the line
    carries it; flattened fields count on successes too (they were dropped there)."""
    e = event_of(store, tmp_path, {**BASE, "statusCode": status, **fields})
    assert (e["error_source"], e["failed"]) == (source, failed)
    if source == "fields":
        assert e["error_type"] == (fields.get("errorType") or fields.get("error_type"))
        assert e["error_code"] == fields.get("errorCode", fields.get("error_code"))
        assert e["has_error_body"] is False and e["raw"] is not None


def test_null_error_is_not_an_error_body(store, tmp_path):
    e = event_of(store, tmp_path, {**BASE, "statusCode": 200, "error": None})
    assert e["has_error_body"] is False
    assert (e["error_type"], e["error_code"]) == (None, None)


def test_docker_wrapper_record_is_read_from_the_log_string(store, tmp_path):
    inner = {
        "time": "2026-11-16T10:00:00.5Z",
        "level": "error",
        "service": "oncall-svc",
        "request_id": "req-d",
        "msg": "schedule not found",
    }
    e = event_of(
        store,
        tmp_path,
        {
            "log": json.dumps(inner) + "\n",
            "stream": "stderr",
            "time": "2026-11-16T11:11:11.123456789Z",
        },
    )
    assert e["ts"] == datetime(2026, 11, 16, 10, 0, 0, 500000, tzinfo=UTC)
    assert (e["kind"], e["request_id"], e["service"]) == ("trace", "req-d", "oncall-svc")
    assert (e["level"], e["message"]) == ("error", "schedule not found")


def test_docker_wrapper_time_is_used_when_the_record_has_none(store, tmp_path):
    inner = {"request_id": "req-w", "msg": "no time of its own"}
    e = event_of(
        store,
        tmp_path,
        {
            "log": json.dumps(inner) + "\n",
            "stream": "stdout",
            "time": "2026-11-16T10:00:00.123456789Z",
        },
    )
    assert e["ts"].replace(microsecond=0) == T
    assert e["request_id"] == "req-w"


def test_plain_text_docker_line_is_a_log_event_with_its_text(store, tmp_path):
    e = event_of(
        store,
        tmp_path,
        {"log": "listening on :8080\n", "stream": "stdout", "time": "2026-11-16T10:00:00Z"},
    )
    assert (e["kind"], e["message"], e["ts"]) == ("log", "listening on :8080", T)


@pytest.mark.parametrize(
    "text, reason",
    [
        (
            '{"time":"2026-11-16T10:00:00Z","requestId":"req-cut","method":"GET","sta',
            "invalid_json",
        ),
        ('[{"requestId":"req-arr","method":"GET","statusCode":200}]', "not_an_object"),
        ('  [{"requestId":"req-cut2"', "invalid_json"),
        ("[1, 2, 3]", "not_an_object"),
    ],
    ids=["cut-short", "array", "cut-short-array", "array-of-numbers"],
)
@pytest.mark.parametrize("field", ["log", "message"])
def test_wrapper_whose_record_is_broken_is_rejected_not_kept_as_text(
    store, tmp_path, field, text, reason
):
    """A lost request must not hide as a log message: the wrapped text is judged as the same
    text at top level would be, and the reject says it was inside a wrapper."""
    path = write_lines(
        tmp_path / "wrapped.log",
        [{field: text + "\n", "stream": "stdout", "time": "2026-11-16T10:00:00Z"}],
    )
    s = ingest(store, path)
    assert (s["events"], s["rejected_by_reason"]) == (0, {reason: 1}), s
    [row] = dict_rows(store, "SELECT reason, detail, raw FROM rejects")
    assert (row["reason"], row["detail"]) == (reason, "inside a container wrapper")
    assert json.loads(row["raw"])[field] == text + "\n"


@pytest.mark.parametrize(
    "text", ["[INFO] worker started", "[2026-11-16 10:00:00] nginx notice", "Traceback (most"]
)
def test_plain_text_in_a_wrapper_stays_a_log_event_even_with_brackets(store, tmp_path, text):
    e = event_of(
        store, tmp_path, {"log": text + "\n", "stream": "stderr", "time": "2026-11-16T10:00:00Z"}
    )
    assert (e["kind"], e["message"]) == ("log", text)


def test_cloudwatch_message_wrapper_record_is_read(store, tmp_path):
    inner = {
        "timestamp": "2026-11-16T10:00:00Z",
        "requestId": "req-cw",
        "method": "GET",
        "path": "/v1/users",
        "statusCode": 200,
    }
    e = event_of(store, tmp_path, {"message": json.dumps(inner), "timestamp": EPOCH * 1000})
    assert (e["kind"], e["request_id"], e["status"], e["ts"]) == ("request", "req-cw", 200, T)


def test_cloudwatch_wrapper_timestamp_is_used_when_the_record_has_none(store, tmp_path):
    inner = {"requestId": "req-cw2", "level": "info", "msg": "job done"}
    e = event_of(store, tmp_path, {"message": json.dumps(inner), "timestamp": EPOCH * 1000})
    assert (e["request_id"], e["ts"]) == ("req-cw2", T)


def test_cloudwatch_export_line_is_unwrapped(store, tmp_path):
    inner = {
        "timestamp": "2026-11-16T10:00:00Z",
        "requestId": "req-cw3",
        "method": "GET",
        "path": "/v1/users",
        "statusCode": 502,
    }
    e = event_of(
        store,
        tmp_path,
        {
            "logStreamName": "gateway/abc",
            "timestamp": EPOCH * 1000,
            "message": json.dumps(inner),
            "ingestionTime": EPOCH * 1000 + 5,
            "eventId": "3791",
        },
    )
    assert (e["kind"], e["request_id"], e["status"]) == ("request", "req-cw3", 502)


@pytest.mark.parametrize("message_first", [False, True], ids=["message-last", "message-first"])
def test_record_whose_message_holds_json_keeps_its_own_fields(store, tmp_path, message_first):
    message = {"message": json.dumps({"field": "timezone", "hint": "IANA name"})}
    line = {**message, **BASE} if message_first else {**BASE, **message}
    e = event_of(store, tmp_path, line)
    assert (e["kind"], e["request_id"], e["status"], e["ts"]) == ("request", "req-e", 400, T)


def test_log_line_whose_message_holds_json_keeps_its_service_and_level(store, tmp_path):
    e = event_of(
        store,
        tmp_path,
        {
            "time": "2026-11-16T10:00:00Z",
            "level": "error",
            "service": "notify-worker",
            "message": json.dumps({"to": "ops@example.org", "attempt": 3}),
        },
    )
    assert (e["ts"], e["service"], e["level"]) == (T, "notify-worker", "error")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("timestamp", "2026-11-16T10:00:00Z", T),
        ("timestamp", "2026-11-16T10:00:00.123Z", T.replace(microsecond=123000)),
        ("time", "2026-11-16T11:00:00+01:00", T),
        ("ts", "2026-11-16T05:00:00-05:00", T),
        ("@timestamp", "2026-11-16T10:00:00", T),  # naive means UTC
        ("timestamp", "2026-11-16 10:00:00", T),
        ("ts", EPOCH, T),
        ("ts", EPOCH * 1000, T),
        ("time", EPOCH * 1000 + 250, T.replace(microsecond=250000)),
        ("timestamp", str(EPOCH), T),
        ("timestamp", EPOCH + 0.5, T.replace(microsecond=500000)),
        ("ts", EPOCH * 1_000_000, T),
        ("ts", EPOCH * 1_000_000_000, T),
    ],
    ids=[
        "iso-Z",
        "iso-millis",
        "iso+01",
        "iso-05",
        "naive",
        "space",
        "epoch-s",
        "epoch-ms",
        "epoch-ms-frac",
        "epoch-s-text",
        "epoch-s-float",
        "epoch-us",
        "epoch-ns",
    ],
)
def test_timestamp_forms_are_read_as_utc(store, tmp_path, key, value, expected):
    e = event_of(store, tmp_path, {key: value, "msg": "hello"})
    assert e["ts"] == expected
    assert e["ts"].utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"requestId": "r", "method": "GET"}, "request"),
        ({"requestId": "r", "statusCode": 500}, "request"),
        ({"method": "GET", "path": "/v1/users"}, "request"),
        ({"requestId": "r", "msg": "calling db"}, "trace"),
        ({"msg": "worker started", "level": "info"}, "log"),
        ({"status": "ok", "msg": "health check"}, "log"),  # a word is not an HTTP status
    ],
    ids=["id+method", "id+status", "method-no-id", "id-only", "neither", "status-word"],
)
def test_line_kind_follows_its_fields(store, tmp_path, fields, kind):
    e = event_of(store, tmp_path, {"timestamp": "2026-11-16T10:00:00Z", **fields})
    assert e["kind"] == kind


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v1/incidents", "/v1/incidents"),
        ("/v1/incidents/inc_01jq5x?x=1", "/v1/incidents/{id}"),
        ("/v1/incidents/123/updates", "/v1/incidents/{id}/updates"),
        (
            "/v1/team/members/7d79b7b7-6944-408e-acc7-98e7e8a12c7a/role",
            "/v1/team/members/{id}/role",
        ),
        ("/v1/orgs/org_2abc123/users", "/v1/orgs/{id}/users"),
        (
            "/v1/oncall/schedules/sch_01ab/layers/9?cursor=abc",
            "/v1/oncall/schedules/{id}/layers/{id}",
        ),
        ("https://api.example.com/v1/incidents/inc_01jq5x?x=1#top", "/v1/incidents/{id}"),
        # ids in a row, each one whole segment; empty segments and a final '/' kept
        ("/v1/x/1/22/333/4444/55555", "/v1/x/{id}/{id}/{id}/{id}/{id}"),
        ("/v1/a//42//b/", "/v1/a//{id}//b/"),
        ("/v1/caf\u00e9/7/\u00fc", "/v1/caf\u00e9/{id}/\u00fc"),
        ("/v1/files/123.json", "/v1/files/123.json"),
        ("/v1/x/12ab", "/v1/x/12ab"),
        ("123/x", "123/x"),  # no '/' before it: no id segment
    ],
)
def test_route_replaces_ids_and_drops_the_query_string(store, tmp_path, path, route):
    e = event_of(
        store, tmp_path, {"timestamp": "2026-11-16T10:00:00Z", "method": "GET", "path": path}
    )
    assert (e["path"], e["route"]) == (path, route)


@pytest.mark.parametrize(
    ("given", "route"),
    [
        ("/v1/incidents/:incident_id", "/v1/incidents/:incident_id"),
        ("/v1/incidents?limit=50", "/v1/incidents"),
    ],
)
def test_route_given_in_the_log_is_used_as_is(store, tmp_path, given, route):
    e = event_of(
        store,
        tmp_path,
        {
            "timestamp": "2026-11-16T10:00:00Z",
            "method": "GET",
            "path": "/v1/incidents/inc_01jq5x",
            "route": given,
        },
    )
    assert e["route"] == route


@pytest.mark.parametrize("empty", [""])
def test_an_empty_timestamp_gives_way_to_the_next_time_field(store, tmp_path, empty):
    e = event_of(store, tmp_path, {"timestamp": empty, "time": "2026-11-16T10:00:00Z", "msg": "x"})
    assert e["ts"] == T


@pytest.mark.parametrize(
    "value, expected",
    [
        ("20261116", datetime(2026, 11, 16, tzinfo=UTC)),
        ("20261116100000", T),
        (str(EPOCH), T),
    ],
)
def test_digit_timestamps_in_basic_iso_form_are_dates_not_1970(store, tmp_path, value, expected):
    e = event_of(store, tmp_path, {"timestamp": value, "msg": "x"})
    assert e["ts"] == expected


@pytest.mark.parametrize("empty", [""])
def test_an_empty_request_id_gives_way_to_the_error_body_request_id(store, tmp_path, empty):
    e = event_of(
        store,
        tmp_path,
        {**BASE, "requestId": empty, "statusCode": 404,
         "error": {"type": "invalid_request_error", "code": "not_found", "requestId": "req-b"}},
    )  # fmt: skip
    assert e["request_id"] == "req-b"


def test_an_empty_request_id_is_no_id(store, tmp_path):
    e = event_of(store, tmp_path, {**BASE, "requestId": "", "statusCode": 200})
    assert e["request_id"] is None


# --- README "Log shapes recognised without configuration": every name, in its order ---------

# column -> the field names README lists for it, in the order it says they are tried, each
# with a value of its own. A dotted name is a nested field (request.url is {"request":
# {"url": ...}}); error.requestId stands for the error body's requestId.
README_NAMES = {
    "ts": [
        ("timestamp", "2026-11-16T10:00:00Z", T),
        ("@timestamp", "2026-11-16T11:00:00Z", T.replace(hour=11)),
        ("time", "2026-11-16T12:00:00Z", T.replace(hour=12)),
        ("ts", "2026-11-16T13:00:00Z", T.replace(hour=13)),
    ],
    "request_id": [
        ("requestId", "rid-a", "rid-a"),
        ("request_id", "rid-b", "rid-b"),
        ("req_id", "rid-c", "rid-c"),
        ("request.id", "rid-d", "rid-d"),
        ("request.requestId", "rid-e", "rid-e"),
        ("request.request_id", "rid-f", "rid-f"),
        ("error.requestId", "rid-g", "rid-g"),
    ],
    "method": [("method", "PUT", "PUT"), ("request.method", "PATCH", "PATCH")],
    "path": [
        ("path", "/v1/a", "/v1/a"),
        ("request.path", "/v1/b", "/v1/b"),
        ("url", "/v1/c", "/v1/c"),
        ("request.url", "/v1/d", "/v1/d"),
    ],
    "route": [("route", "/v1/r/:a", "/v1/r/:a"), ("request.route", "/v1/r/:b", "/v1/r/:b")],
    "status": [
        ("statusCode", 501, 501),
        ("status_code", 502, 502),
        ("status", 503, 503),
        ("response.status", 504, 504),
        ("response.statusCode", 505, 505),
        ("response.status_code", 506, 506),
    ],
    "duration_ms": [
        ("durationMs", 11, 11),
        ("duration_ms", 12, 12),
        ("response.duration_ms", 13, 13),
        ("response.durationMs", 14, 14),
    ],
    "org_id": [("orgId", "org_a1", "org_a1"), ("org_id", "org_b2", "org_b2"),
               ("org.id", "org_c3", "org_c3")],
    "api_key_id": [("apiKeyId", "key_a", "key_a"), ("api_key_id", "key_b", "key_b")],
    "user_agent": [
        ("userAgent", "ua/1", "ua/1"),
        ("user_agent", "ua/2", "ua/2"),
        ("request.user_agent", "ua/3", "ua/3"),
    ],
    "client_ip": [
        ("clientIp", "192.0.2.1", "192.0.2.1"),
        ("client_ip", "192.0.2.2", "192.0.2.2"),
        ("request.client_ip", "192.0.2.3", "192.0.2.3"),
    ],
    "message": [("msg", "m one", "m one"), ("message", "m two", "m two"),
                ("log", "m three", "m three")],
}  # fmt: skip
# What every line needs besides the names under test: a time, and for the HTTP columns a
# method (the top-level `url` is read as the path of request lines with a method).
BASE_FOR = {"ts": {"msg": "x"}, "method": {"timestamp": "2026-11-16T10:00:00Z"}}
BASE_HTTP = {"timestamp": "2026-11-16T10:00:00Z", "method": "GET"}


def events_of_lines(tmp_path, lines: list) -> list[dict]:
    """Ingest lines from one file into a store of their own; their events, in line order
    (each line is read on its own, so one file serves many independent checks)."""
    path = write_lines(tmp_path / "lines.log", lines)
    with open_store(tmp_path / "lines.duckdb") as s:
        assert ingest(s, path)["events"] == len(lines)
        return dict_rows(s, "SELECT * FROM events ORDER BY line_no")


def put(line: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        line = line.setdefault(key, {})
    line[leaf] = value


def names_line(column: str, names: list[tuple]) -> dict:
    line = json.loads(json.dumps(BASE_FOR.get(column, BASE_HTTP)))
    for name, value, _ in names:
        put(line, name, value)
    if "error" in line:  # an error body needs a type to be one
        line["error"]["type"] = "invalid_request_error"
    return line


NAME_CASES = [(column, i) for column, names in README_NAMES.items() for i in range(len(names))]


@pytest.fixture(scope="module")
def names_events(tmp_path_factory) -> dict[tuple[str, int], dict]:
    lines = [names_line(column, README_NAMES[column][i:]) for column, i in NAME_CASES]
    rows = events_of_lines(tmp_path_factory.mktemp("names"), lines)
    return dict(zip(NAME_CASES, rows, strict=True))


@pytest.mark.parametrize(
    ("column", "start"),
    [
        pytest.param(column, i, id=f"{column}-{names[i][0]}")
        for column, i in NAME_CASES
        for names in [README_NAMES[column]]
    ],
)
def test_each_readme_field_name_is_read_into_its_column_in_order(names_events, column, start):
    """A line holding the README's names for a column from `start` on, each with its own
    value: the column holds the value of the first of them. The last name, alone, is read;
    every earlier one wins over those after it."""
    names = README_NAMES[column][start:]
    e = names_events[(column, start)]
    assert e[column] == names[0][2], (names[0][0], e)


ALONE = [
    ({"url": "https://api.example.com/v1/incidents/42?x=1"}, "route", "/v1/incidents/{id}"),
    ({"request": {"url": "/v1/users/7"}}, "route", "/v1/users/{id}"),
    ({"request": {"route": "/v1/users/{user}?q=1"}}, "route", "/v1/users/{user}"),
    ({"response": {"statusCode": "404"}}, "status", 404),
    ({"response": {"durationMs": "7.5"}}, "duration_ms", 7.5),
    ({"org": {"id": "org_nested"}}, "org_id", "org_nested"),
]


def test_nested_and_alternative_names_alone(tmp_path):
    rows = events_of_lines(tmp_path, [{**BASE_HTTP, **fields} for fields, _, _ in ALONE])
    got = [(e["kind"], e[column]) for e, (_, column, _) in zip(rows, ALONE, strict=True)]
    assert got == [("request", value) for _, _, value in ALONE]


# --- route ids: long hex strings and ULIDs become {id}; words stay --------------------------

ID_SEGMENTS = [
    "0123456789abcdef",  # 16 hex digits: the shortest long hex
    "0123456789ABCDEF0123456789abcdef01234567",  # 40, mixed case (a sha1)
    "5d41402abc4b2a76b9719d911017c592",  # an md5
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",  # a ULID
    "01JQ5X8M3T9Z7K2B4C6D8E0F1G",  # another ULID
    "7d79b7b7-6944-408e-acc7-98e7e8a12c7a",
    "20261116",
]

WORD_SEGMENTS = [
    "acknowledge",
    "me",
    "v2",
    "deadbeef",  # hex, but 8 digits: a word, not a long hex id
    "facade",
    "0123456789abcde",  # 15 hex digits: one short of a long hex id
    "01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 characters: one short of a ULID
    "01ARZ3NDEKTSV4RRFFQ69G5FAVX",  # 27: one more than a ULID
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",  # 26 letters, but I, L, O, U are not in a ULID
    "escalation-policies",
    "on_call",  # a prefix and '_' but no digit: not a prefixed id
]
LOWER_ULID = "01arz3ndektsv4rrffq69g5fav"


def route_paths(segment: str) -> list[str]:
    return [f"/v1/x/{segment}", f"/v1/x/{segment}/events?cursor=9"]


@pytest.fixture(scope="module")
def routes(tmp_path_factory) -> dict[str, str]:
    """path -> route, for every path below, ingested once from one file."""
    paths = [p for seg in [*ID_SEGMENTS, *WORD_SEGMENTS, LOWER_ULID] for p in route_paths(seg)]
    rows = events_of_lines(
        tmp_path_factory.mktemp("routes"), [{**BASE_HTTP, "path": p} for p in paths]
    )
    assert [e["path"] for e in rows] == paths
    return {e["path"]: e["route"] for e in rows}


@pytest.mark.parametrize("segment", ID_SEGMENTS)
def test_long_hex_and_ulid_segments_become_id(routes, segment):
    assert [routes[p] for p in route_paths(segment)] == ["/v1/x/{id}", "/v1/x/{id}/events"]


def test_a_lower_case_ulid_becomes_id(routes):
    assert [routes[p] for p in route_paths(LOWER_ULID)] == ["/v1/x/{id}", "/v1/x/{id}/events"]


@pytest.mark.parametrize("segment", WORD_SEGMENTS)
def test_words_and_near_misses_stay_in_the_route(routes, segment):
    assert [routes[p] for p in route_paths(segment)] == [
        f"/v1/x/{segment}",
        f"/v1/x/{segment}/events",
    ]


def test_a_top_level_url_is_the_path_of_a_request_line_without_a_method(store, tmp_path):
    e = event_of(store, tmp_path, {"timestamp": "2026-11-16T10:00:00Z", "url": "/v1/x/42",
                                   "statusCode": 200})  # fmt: skip
    assert (e["path"], e["route"]) == ("/v1/x/42", "/v1/x/{id}")
