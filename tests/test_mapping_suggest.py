"""`triage mapping suggest`: a mapping proposed from a sample of the file, for each common
shape, that loads as a --mapping and makes ingest store the expected columns."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from tests.conftest import (
    assert_one_error_line,
    dict_rows,
    ingest,
    request_line,
    run_triage,
    write_lines,
)
from triage.mapping import load_mapping
from triage.suggest import CLF_FORMAT, CLIENT_IP_REGEX, URL_PATH_REGEX, render_toml, suggest_mapping

UUID1 = "6f1c2e3a-1b2c-4d5e-8f90-123456789abc"
UUID2 = "0b8e5d7c-2a3b-4c5d-9e6f-abcdefabcdef"
HEX1 = "8e4a8d5c3f2b1a09e8d7c6b5a4f3e2d1"
HEX2 = "1c9f2e7b6a5d4c3b2a1f0e9d8c7b6a5f"
T0 = datetime(2024, 5, 28, 13, 47, 25, tzinfo=UTC)


def envoy(i: int, rid: str) -> dict:
    line = {
        "start_time": f"2024-05-28T13:47:2{5 - i}.233Z",  # not in time order
        "method": "GET" if i else "POST",
        "path": f"/v1/pets/{i}?full=1",
        "protocol": "HTTP/1.1",
        "response_code": 503 if i else 200,
        "response_flags": "UH" if i else "-",
        "response_code_details": "via_upstream",
        "bytes_received": 0,
        "bytes_sent": 19,
        "duration": 12 + i,
        "upstream_service_time": None if i else "11",
        "x_forwarded_for": "203.0.113.9, 10.0.0.1",
        "user_agent": "curl/8.4.0",
        "request_id": rid,
        "authority": "api.example.com",
        "upstream_host": "10.0.3.4:8080",
        "upstream_cluster": "outbound|80||pets",
        "downstream_remote_address": "127.0.0.1:51234",
        "route_name": "default",
        "requested_server_name": None,
    }
    return dict(reversed(line.items())) if i % 2 else line  # key order differs


def api_gateway(i: int, rid: str) -> str:
    fields = {
        "requestId": rid,
        "ip": "198.51.100.7",
        "caller": "-",
        "user": "-",
        "requestTime": f"28/May/2024:13:47:2{5 + i} +0000",
        "requestTimeEpoch": 1716904045000 + 1000 * i,
        "httpMethod": "GET",
        "resourcePath": "/pets/{petId}",
        "status": "404" if i else "200",
        "protocol": "HTTP/1.1",
        "responseLength": "57",
        "responseLatency": 31 + i,
        "integrationLatency": 29,
        "extendedRequestId": "LJjpLFx9IAMFkQg=",
    }
    sep = ": " if i % 2 else ":"  # spacing after ':' varies
    return "{" + ",".join(f"{json.dumps(k)}{sep}{json.dumps(v)}" for k, v in fields.items()) + "}"


def nginx(i: int, rid: str) -> dict:
    return {
        "time_local": f"28/May/2024:15:47:2{5 + i} +0200",
        "time_iso8601": f"2024-05-28T15:47:2{5 + i}+02:00",
        "msec": f"{1716904045 + i}.000",
        "request": f"GET /v1/pets/{i}?q=1 HTTP/1.1",
        "status": 200,
        "body_bytes_sent": 512,
        "request_time": 0.041 + i,
        "upstream_response_time": "0.012, 0.004" if i else "-",
        "remote_addr": "198.51.100.7",
        "http_x_forwarded_for": "-",
        "http_user_agent": "Mozilla/5.0",
        "http_referer": "https://example.com/",
        "request_id": rid,
    }


def traefik(i: int, rid: str) -> dict:
    return {
        "StartUTC": f"2024-05-28T13:47:2{5 + i}.233123456Z",
        "StartLocal": f"2024-05-28T15:47:2{5 + i}.233123456+02:00",
        "RequestMethod": "GET",
        "RequestPath": f"/v1/pets/{i}",
        "RequestProtocol": "HTTP/2.0",
        "RequestHost": "api.example.com",
        "DownstreamStatus": 200,
        "OriginStatus": 200,
        "Duration": 12_500_000 + i * 1_000_000,
        "OriginDuration": 11_000_000,
        "ClientHost": "198.51.100.7",
        "ClientAddr": "198.51.100.7:52011",
        "RouterName": "pets@docker",
        "ServiceName": "pets@docker",
        "request_X-Request-Id": rid,
        "request_User-Agent": "curl/8.4.0",
        "level": "info",
        "msg": "",
        "time": "2024-05-28T13:48:00Z",
    }


def caddy(i: int, rid: str) -> dict:
    return {
        "level": "info",
        "ts": 1716904045.233 + i,
        "logger": "http.log.access",
        "msg": "handled request",
        "request": {
            "remote_ip": "10.0.0.1",
            "client_ip": "198.51.100.7",
            "proto": "HTTP/2.0",
            "method": "GET",
            "host": "api.example.com",
            "uri": f"/v1/pets/{i}?q=1",
            "headers": {"X-Request-Id": [rid], "User-Agent": ["curl/8.4.0"]},
        },
        "status": 200,
        "duration": 0.0125 + i,
        "size": 512,
        "bytes_read": 0,
        "resp_headers": {"Content-Type": ["application/json"]},
    }


def kong(i: int, rid: str) -> dict:
    return {
        "started_at": 1716904045233 + 1000 * i,
        "request": {
            "method": "GET",
            "uri": f"/v1/pets/{i}?q=1",
            "url": f"https://api.example.com:8443/v1/pets/{i}?q=1",
            "headers": {"x-request-id": rid, "user-agent": "curl/8.4.0"},
        },
        "response": {"status": 200, "headers": {"content-length": "512"}},
        "latencies": {"request": 13 + i, "proxy": 10, "kong": 3},
        "client_ip": "198.51.100.7",
        "service": {"name": "pets"},
        "route": {"paths": ["/v1/pets"], "name": "pets-route"},
    }


def gcp(i: int, rid: str) -> dict:
    return {
        "timestamp": f"2024-05-28T13:47:2{5 + i}.233123456Z",
        "httpRequest": {
            "requestMethod": "GET",
            "requestUrl": f"https://api.example.com/v1/pets/{i}?q=1",
            "status": 200,
            "latency": f"0.0{13 + i}000s",
            "remoteIp": "198.51.100.7",
            "userAgent": "curl/8.4.0",
            "requestSize": "120",
            "responseSize": "512",
        },
        "trace": f"projects/my-project/traces/{rid}",
        "spanId": "000000000000004a",
        "insertId": "1abc2def",
        "severity": "INFO",
        "jsonPayload": {"statusDetails": "response_sent_by_backend"},
        "resource": {"type": "http_load_balancer", "labels": {"project_id": "my-project"}},
    }


def ecs(i: int, rid: str) -> dict:
    dotted = {
        "@timestamp": f"2024-05-28T13:47:2{5 + i}.233Z",
        "http.request.method": "GET",
        "url.path": f"/v1/pets/{i}",
        "url.original": f"/v1/pets/{i}?q=1",
        "http.response.status_code": 200,
        "event.duration": 13_000_000 + i * 1_000_000,
        "client.ip": "198.51.100.7",
        "user_agent.original": "curl/8.4.0",
        "http.request.id": rid,
        "trace.id": HEX2,
        "service.name": "pets",
        "log.level": "info",
        "message": "request",
    }
    return dotted


def otel(i: int, rid: str) -> dict:
    return {
        "timeUnixNano": str(1716904045233000000 + i * 1_000_000_000),
        "observedTimeUnixNano": str(1716904046000000000 + i * 1_000_000_000),
        "severityText": "INFO",
        "http.request.method": "GET",
        "http.response.status_code": 200,
        "url.path": f"/v1/pets/{i}",
        "http.route": "/v1/pets/{id}",
        "client.address": "198.51.100.7",
        "user_agent.original": "curl/8.4.0",
        "trace_id": rid,
        "span_id": "00f067aa0ba902b7",
    }


def service(i: int, rid: str) -> dict:
    return {
        "time": f"2024-05-28T13:47:2{5 + i}.233Z",
        "level": "info",
        "msg": "request handled",
        "method": "GET",
        "status": 200,
        "path": f"/v1/pets/{i}",
        "duration": f"{12.5 + i}ms",
        "remote": "198.51.100.7:52011",
        "user-agent": "curl/8.4.0",
        "request_id": rid,
    }


# shape -> (line maker, {column: rule as the TOML writes it}, first line's stored columns)
SHAPES = {
    "envoy": (
        envoy,
        {
            "timestamp": "start_time",
            "request_id": "request_id",
            "method": "method",
            "path": "path",
            "status": "response_code",
            "duration_ms": {"field": "duration", "scale": 1},
            "client_ip": {"field": "x_forwarded_for", "regex": CLIENT_IP_REGEX},
        },
        (
            T0.replace(microsecond=233000),
            UUID1,
            "POST",
            "/v1/pets/0?full=1",
            200,
            12.0,
            "203.0.113.9",
        ),
    ),
    "api_gateway": (
        api_gateway,
        {
            "timestamp": {"field": "requestTime", "format": CLF_FORMAT},
            "request_id": "requestId",
            "method": "httpMethod",
            "path": "resourcePath",
            "route": "resourcePath",
            "status": "status",
            "duration_ms": {"field": "responseLatency", "scale": 1},
            "client_ip": "ip",
        },
        (T0, UUID1, "GET", "/pets/{petId}", 200, 31.0, "198.51.100.7"),
    ),
    "nginx": (
        nginx,
        {
            "timestamp": "time_iso8601",
            "request_id": "request_id",
            "method": {"field": "request", "regex": r"^(\S+) "},
            "path": {"field": "request", "regex": r"^\S+ (\S+)"},
            "status": "status",
            "duration_ms": {"field": "request_time", "scale": 1000},
            "client_ip": "remote_addr",
            "user_agent": "http_user_agent",
        },
        (T0, HEX1, "GET", "/v1/pets/0?q=1", 200, 41.0, "198.51.100.7"),
    ),
    "traefik": (
        traefik,
        {
            "timestamp": "StartUTC",
            "request_id": "request_X-Request-Id",
            "method": "RequestMethod",
            "path": "RequestPath",
            "status": "DownstreamStatus",
            "duration_ms": {"field": "Duration", "scale": 1e-6},
            "client_ip": "ClientHost",
            "user_agent": "request_User-Agent",
        },
        (T0.replace(microsecond=233123), UUID1, "GET", "/v1/pets/0", 200, 12.5, "198.51.100.7"),
    ),
    "caddy": (
        caddy,
        {
            "timestamp": "ts",
            "request_id": '$.request.headers."X-Request-Id"[0]',
            "method": "request.method",
            "path": "request.uri",
            "status": "status",
            "duration_ms": {"field": "duration", "scale": 1000},
            "client_ip": "request.client_ip",
            "user_agent": '$.request.headers."User-Agent"[0]',
        },
        (T0.replace(microsecond=233000), UUID1, "GET", "/v1/pets/0?q=1", 200, 12.5, "198.51.100.7"),
    ),
    "kong": (
        kong,
        {
            "timestamp": "started_at",
            "request_id": "request.headers.x-request-id",
            "method": "request.method",
            "path": "request.uri",
            "status": "response.status",
            "duration_ms": {"field": "latencies.request", "scale": 1},
            "client_ip": "client_ip",
        },
        (T0.replace(microsecond=233000), UUID1, "GET", "/v1/pets/0?q=1", 200, 13.0, "198.51.100.7"),
    ),
    "gcp": (
        gcp,
        {
            "timestamp": "timestamp",
            "request_id": {"field": "trace", "regex": r"/traces/([^/]+)$"},
            "method": "httpRequest.requestMethod",
            "path": {"field": "httpRequest.requestUrl", "regex": URL_PATH_REGEX},
            "status": "httpRequest.status",
            "duration_ms": {
                "field": "httpRequest.latency",
                "regex": r"^([0-9.]+)s$",
                "scale": 1000,
            },
            "client_ip": "httpRequest.remoteIp",
            "user_agent": "httpRequest.userAgent",
        },
        (T0.replace(microsecond=233123), HEX1, "GET", "/v1/pets/0?q=1", 200, 13.0, "198.51.100.7"),
    ),
    "ecs": (
        ecs,
        {
            "timestamp": "@timestamp",
            "request_id": ["http.request.id"],
            "method": ["http.request.method"],
            "path": ["url.path"],
            "status": ["http.response.status_code"],
            "duration_ms": {"field": ["event.duration"], "scale": 1e-6},
            "client_ip": ["client.ip"],
            "user_agent": ["user_agent.original"],
        },
        (T0.replace(microsecond=233000), UUID1, "GET", "/v1/pets/0", 200, 13.0, "198.51.100.7"),
    ),
    "otel": (
        otel,
        {
            "timestamp": "timeUnixNano",
            "request_id": "trace_id",
            "method": ["http.request.method"],
            "path": ["url.path"],
            "route": ["http.route"],
            "status": ["http.response.status_code"],
            "client_ip": ["client.address"],
        },
        (T0.replace(microsecond=233000), HEX1, "GET", "/v1/pets/0", 200, None, "198.51.100.7"),
    ),
    "service_log": (
        service,
        {
            "timestamp": "time",
            "request_id": "request_id",
            "method": "method",
            "path": "path",
            "status": "status",
            "duration_ms": {"field": "duration", "regex": r"^([0-9.]+)ms$", "scale": 1},
            "client_ip": {"field": "remote", "regex": CLIENT_IP_REGEX},
            "user_agent": "user-agent",
        },
        (T0.replace(microsecond=233000), UUID1, "GET", "/v1/pets/0", 200, 12.5, "198.51.100.7"),
    ),
}
IDS = {"nginx": (HEX1, HEX2), "gcp": (HEX1, HEX2), "otel": (HEX1, HEX2)}


def shape_file(tmp_path, shape: str):
    make = SHAPES[shape][0]
    ids = IDS.get(shape, (UUID1, UUID2))
    return write_lines(tmp_path / f"{shape}.log", [make(i, ids[i]) for i in range(2)])


def rule_as_written(rule) -> object:
    """A proposed rule in the form the mapping file gives it (a name, or a table)."""
    from triage.suggest import field_spec

    spec = field_spec(rule.source)
    extras = {"regex": rule.regex, "format": rule.format, "scale": rule.scale}
    shown = {k: v for k, v in extras.items() if v is not None}
    return {"field": spec, **shown} if shown else spec


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_gets_the_field_its_producer_documents(tmp_path, shape):
    found = suggest_mapping(str(shape_file(tmp_path, shape)))
    proposed = {column: rule_as_written(rule) for column, rule in found.rules.items()}
    expected = SHAPES[shape][1]
    assert {c: proposed.get(c) for c in expected} == expected


@pytest.mark.parametrize("shape", SHAPES)
def test_the_proposal_loads_and_ingest_stores_the_columns(store, tmp_path, shape):
    log = shape_file(tmp_path, shape)
    mapping = tmp_path / f"{shape}.toml"
    mapping.write_text(render_toml(suggest_mapping(str(log))))
    s = ingest(store, log, mapping=load_mapping(mapping))
    assert (s["requests"], s["rejected"]) == (2, 0), s
    first = dict_rows(
        store,
        "SELECT ts, request_id, method, path, status, duration_ms, client_ip FROM events "
        "WHERE line_no = 1",
    )[0]
    ts, *others = SHAPES[shape][2]
    assert first.pop("ts") == ts
    assert list(first.values()) == pytest.approx(others)


def test_every_column_says_on_how_many_lines_it_reads_a_value(tmp_path):
    lines = [envoy(i % 2, UUID1) for i in range(9)] + [{**envoy(0, UUID2), "duration": "?"}]
    log = write_lines(tmp_path / "envoy.log", lines)
    text = render_toml(suggest_mapping(str(log)))
    assert "# 10/10 lines: start_time (ISO-8601 time)\ntimestamp = 'start_time'\n" in text
    assert "# 9/10 lines: duration (durations in ms)\n" in text


def test_a_duration_without_a_unit_is_left_out_with_a_warning(tmp_path):
    lines = [{**service(i, UUID1), "duration": 1250 + i} for i in range(3)]
    found = suggest_mapping(str(write_lines(tmp_path / "svc.log", lines)))
    assert "duration_ms" not in found.rules
    [warning] = found.warnings
    assert "`duration` holds bare numbers" in warning and "scale" in warning
    assert "# warning: duration_ms: `duration` holds bare numbers" in render_toml(found)


def test_durations_in_several_units_cannot_have_one_scale(tmp_path):
    lines = [{**service(0, UUID1), "duration": d} for d in ("12ms", "1.5s", "250us")]
    found = suggest_mapping(str(write_lines(tmp_path / "svc.log", lines)))
    assert "duration_ms" not in found.rules
    assert any("mixes units (ms, s, us)" in w for w in found.warnings), found.warnings


def test_a_log_without_http_fields_warns_about_each_missing_column(tmp_path):
    lines = [{"when": "2024-05-28T13:47:25Z", "msg": "started", "pid": 4} for _ in range(3)]
    found = suggest_mapping(str(write_lines(tmp_path / "app.log", lines)))
    assert list(found.rules) == ["timestamp"]
    assert [w.split(":")[0] for w in found.warnings] == [
        "request_id", "method", "path", "status", "duration_ms"
    ]  # fmt: skip


def test_the_sample_spreads_through_a_large_file_and_reads_gzip(tmp_path):
    head = [{"msg": "starting", "n": i} for i in range(600)]
    tail = [envoy(i % 2, UUID1) for i in range(600)]
    plain = write_lines(tmp_path / "big.log", head + tail)
    assert "timestamp" in suggest_mapping(str(plain), 100).rules  # found past the head
    packed = tmp_path / "envoy.log.gz"
    packed.write_bytes(gzip.compress(shape_file(tmp_path, "envoy").read_bytes()))
    assert suggest_mapping(str(packed)).rules["status"].source.name == "response_code"


# ---- through the command line -----------------------------------------------------------


def test_suggest_prints_the_mapping_and_writes_it_with_o(tmp_path):
    log = shape_file(tmp_path, "envoy")
    shown = run_triage("mapping", "suggest", log)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.decode().startswith(f"# triage mapping proposed for {log}")
    out = tmp_path / "envoy.toml"
    written = run_triage("mapping", "suggest", log, "-o", out, "--lines", "50")
    assert written.returncode == 0, written.stderr
    assert written.stdout == b""
    assert out.read_text() == shown.stdout.decode()
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", log, "--mapping", out)
    assert proc.returncode == 0, proc.stderr


def test_suggest_warns_on_stderr_about_what_it_could_not_place(tmp_path):
    lines = [{"time": "2024-05-28T13:47:25Z", "msg": "x", "duration": 3} for _ in range(2)]
    proc = run_triage("mapping", "suggest", write_lines(tmp_path / "app.log", lines))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "warning: status: no field holds HTTP statuses" in err
    assert "warning: duration_ms: `duration` holds bare numbers" in err


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (None, ["missing.log", "No such file"]),
        (
            b'127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2\n',
            ["is a JSON object", "JSON lines"],
        ),
        (b"", ["no lines"]),
    ],
    ids=["missing", "not-json", "empty"],
)
def test_suggest_errors_are_one_line_usage_errors(tmp_path, content, fragments):
    log = tmp_path / "missing.log"
    if content is not None:
        log.write_bytes(content)
    proc = run_triage("mapping", "suggest", log)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert_one_error_line(proc.stderr.decode(), *fragments)


def test_suggest_refuses_a_line_count_below_one(tmp_path):
    proc = run_triage("mapping", "suggest", shape_file(tmp_path, "envoy"), "--lines", "0")
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr.decode(), "--lines")


# ---- the warning after an ingest --------------------------------------------------------


def own_shape(i: int) -> dict:
    """An in-house access log no producer documents: its time is under a name of its own."""
    return {"began": f"2024-05-28T13:47:{i % 60:02d}Z", "verb": "GET", "target": f"/v1/pets/{i}",
            "code": 503, "rid": UUID1}  # fmt: skip


def test_a_file_that_does_not_fit_gets_a_warning_naming_where_the_time_is(tmp_path):
    log = write_lines(tmp_path / "app.log", [own_shape(i) for i in range(1000)])
    db = tmp_path / "s.duckdb"
    proc = run_triage("--db", db, "ingest", log, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    expected = (
        f"`{log}`: 1,000 of 1,000 lines rejected (no_timestamp): the time looks like it is "
        f"in `began`; run `triage mapping suggest {log}`"
    )
    assert f"warning: {expected}\n" in proc.stderr.decode()
    [per_file] = json.loads(proc.stdout)["per_file"]
    assert per_file["warning"] == expected


def test_the_warning_says_what_it_found_when_no_field_is_a_time(tmp_path):
    lines = [{"rid": UUID1, "code": 404, "msg": "x"} for _ in range(3)]
    proc = run_triage(
        "--db", tmp_path / "s.duckdb", "ingest", write_lines(tmp_path / "a.log", lines)
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "(no_timestamp): no field looks like a time (found request_id in `rid`, status in "
        "`code`); run `triage mapping suggest"
    ) in proc.stderr.decode()


def test_a_file_of_text_is_said_not_to_be_json_lines(tmp_path):
    log = write_lines(tmp_path / "a.txt", ["hello world"] * 3 + [request_line(1)])
    proc = run_triage("--db", tmp_path / "s.duckdb", "ingest", log)
    assert proc.returncode == 0, proc.stderr
    assert (
        "rejected (unrecognised_text): it is not JSON lines or a text format triage knows; "
        "run `triage mapping suggest"
    ) in proc.stderr.decode()


def test_a_file_mostly_read_gets_no_warning(store, tmp_path):
    log = write_lines(tmp_path / "a.log", [request_line(i) for i in range(3)] + ["{broken"])
    s = ingest(store, log)
    assert s["rejected"] == 1
    assert s["per_file"][0]["warning"] is None


def test_commands_on_a_store_of_rejected_lines_name_the_main_reason(cli, tmp_path):
    log = write_lines(tmp_path / "app.log", [own_shape(0)] * 4 + ["{oops"])
    assert cli("ingest", log).exit_code == 0
    result = cli("errors")
    assert result.exit_code == 2
    assert_one_error_line(
        result.stderr,
        "5 lines ingested from 1 file, all rejected (main reason: no_timestamp 4, then "
        "invalid_json 1)",
        "'triage info'",
        "'triage mapping suggest FILE'",
    )
