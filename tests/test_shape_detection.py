"""How lines find their shape: block marks from a sample, one test per line, a fallback."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from tests.conftest import dict_rows, ingest, request_line, write_lines
from triage import sql
from triage.shapes import SHAPES, block_flags

ENVOY = {
    "start_time": "2024-05-28T13:47:25.233Z",
    "method": "GET",
    "path": "/v1/schedules/123",
    "response_code": 503,
    "duration": 12,
    "request_id": "envoy-1",
}
TRAEFIK = {
    "StartUTC": "2024-05-28T13:47:26Z",
    "RequestMethod": "GET",
    "RequestPath": "/a/42",
    "DownstreamStatus": 404,
    "Duration": 1_234_567,
    "time": "2024-05-28T13:47:27Z",
    "level": "info",
    "msg": "",
}


def flags_of(lines: list) -> set[str]:
    mask = block_flags(pa.array([json.dumps(x) if isinstance(x, dict) else x for x in lines]))
    return {name for bit, name in enumerate(SHAPES) if mask >> bit & 1}


def test_python_and_sql_agree_on_the_shape_bits():
    con = duckdb.connect()
    con.execute(sql.get("define_shape_macros").sql)
    assert tuple(con.execute("SELECT shape_names()").fetchone()[0]) == SHAPES
    assert con.execute("SELECT any_shape()").fetchone()[0] == (1 << len(SHAPES)) - 1


def test_a_block_of_our_own_lines_is_marked_with_no_shape():
    assert flags_of([request_line(i) for i in range(200)]) == set()


def test_a_block_is_marked_with_the_shapes_its_sample_holds():
    assert flags_of([ENVOY] * 10 + [TRAEFIK] * 10) == {"envoy", "traefik"}
    wrapped = {"log": json.dumps(ENVOY) + "\n", "stream": "stdout", "time": "2024-05-28T13:47Z"}
    assert flags_of([wrapped]) == {"envoy"}
    assert flags_of(["not json", "{broken", "[1, 2]"]) == set()


def test_the_sample_spreads_over_the_block():
    # a block whose shape changes past its first lines (a second file concatenated)
    lines: list = [request_line(i) for i in range(1_000)] + [ENVOY] * 1_000
    assert flags_of(lines) == {"envoy"}


def test_a_line_of_a_shape_its_block_sample_missed_is_still_read(store, tmp_path):
    lines: list = [request_line(i) for i in range(5_000)]
    lines[3_001] = ENVOY
    lines[3_003] = TRAEFIK
    path = write_lines(tmp_path / "mixed.ndjson", lines)
    summary = ingest(store, path)
    assert (summary["rejected"], summary["requests"]) == (0, 5_000), summary["errors"]
    rows = dict_rows(
        store,
        "SELECT line_no, shape, status, duration_ms, route FROM records WHERE shape <> 'triage' "
        "ORDER BY line_no",
    )
    assert rows == [
        {"line_no": 3_002, "shape": "envoy", "status": 503, "duration_ms": 12.0,
         "route": "/v1/schedules/{id}"},
        {"line_no": 3_004, "shape": "traefik", "status": 404, "duration_ms": 1.234567,
         "route": "/a/{id}"},
    ]  # fmt: skip


def test_an_access_line_in_a_container_wrapper_is_read_in_its_text_format(store, tmp_path):
    # ingress-nginx under Kubernetes: combined lines inside the json-file driver's wrapper
    combined = (
        '10.0.0.5 - - [28/May/2024:17:17:28 +0530] "GET /api/v2/users/55 HTTP/1.1" 200 301 '
        '"-" "okhttp/4.12.0" "198.51.100.72" 0.034'
    )
    lines = [
        {"log": combined + "\n", "stream": "stdout", "time": "2024-05-28T11:47:28.5Z"},
        {"log": 'level=warn msg="cache cold" latency=12ms\n', "time": "2024-05-28T11:47:29Z"},
        {"log": "plain text, no format\n", "stream": "stderr", "time": "2024-05-28T11:47:30Z"},
    ]
    summary = ingest(store, write_lines(tmp_path / "pod.log", lines))
    assert (summary["events"], summary["requests"], summary["rejected"]) == (3, 1, 0)
    rows = dict_rows(
        store,
        "SELECT shape, strftime(ts, '%H:%M:%S') AS t, method, path, status, duration_ms, "
        "client_ip, level, message FROM records ORDER BY line_no",
    )
    assert rows[0] == {
        "shape": "combined", "t": "11:47:28", "method": "GET", "path": "/api/v2/users/55",
        "status": 200, "duration_ms": 34.0, "client_ip": "198.51.100.72", "level": None,
        "message": combined,
    }  # fmt: skip
    assert (rows[1]["shape"], rows[1]["level"], rows[1]["message"]) == (
        "logfmt",
        "warn",
        "cache cold",
    )
    assert (rows[2]["shape"], rows[2]["message"]) == ("triage", "plain text, no format")
